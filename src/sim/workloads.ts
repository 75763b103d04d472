/**
 * The built-in workloads: deterministic generators of operation lists (same parameters, same
 * operations). Each keeps the bytes it has asked for and not freed near a target share of memory;
 * it does not see the allocator, so a request may fail in the replay (and its free is skipped).
 *
 *   steady      block orders with P(k) = 2^-(k+1) (k <= 8), half of memory live, random frees
 *   fill-drain  single pages until memory is full, then free them all in random order; repeated
 *   kernel      a kernel-like mix: page-cache pages (reclaimed oldest first), slab pages of
 *               orders 0..3 (a tenth pinned for good), order-2 stacks, 2 MiB huge pages; 80% live
 *   small       objects of 8 B .. 16 KiB (most under 128 B) through a heap; 40% of memory live
 *   buffers     buffers of 1..63 whole pages (few of them powers of two), sizes spread evenly over
 *               the powers of two; half of memory live, random frees: what exact runs are for
 */
import { type OpList, OpListBuilder } from "./ops.js";
import { Rng } from "./random.js";

/** Parameters shared by every workload. */
export interface WorkloadParams {
  /** Bytes of memory the workload is sized for. */
  memory: number;
  /** Bytes per page (the unit of the page-sized workloads). */
  pageSize: number;
  /** Operations to generate. */
  ops: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

/** A built-in workload. */
export interface Workload {
  /** Its name on the command line. */
  readonly name: WorkloadName;
  /** One line saying what it does. */
  readonly description: string;
  /** The allocator it is meant for. */
  readonly target: "page" | "heap";
  /** Names of the tags its allocations carry (for map legends). */
  readonly tags: Record<number, string>;
  /** Generates its operations. */
  generate(params: WorkloadParams): OpList;
}

/** Names of the built-in workloads. */
export type WorkloadName = "steady" | "fill-drain" | "kernel" | "small" | "buffers";

/** A set of live slots with O(1) insert, random removal and oldest-first removal by kind. */
class LivePool {
  private readonly slots: number[] = [];
  private readonly bytes: number[] = [];
  total = 0;

  get size(): number {
    return this.slots.length;
  }

  add(slot: number, bytes: number): void {
    this.slots.push(slot);
    this.bytes.push(bytes);
    this.total += bytes;
  }

  /** Removes and returns the slot at index i (swapping the last one in). */
  takeAt(i: number): number {
    const slot = this.slots[i];
    this.total -= this.bytes[i];
    const last = this.slots.length - 1;
    this.slots[i] = this.slots[last];
    this.bytes[i] = this.bytes[last];
    this.slots.pop();
    this.bytes.pop();
    return slot;
  }
}

/**
 * A steady state at half of memory live: allocate a request `draw` makes (bytes, tag) while
 * fewer bytes than half of memory are live, else free a live block chosen at random.
 */
function halfLive(p: WorkloadParams, draw: (rng: Rng) => [bytes: number, tag: number]): OpList {
  const rng = new Rng(p.seed ?? 1);
  const out = new OpListBuilder();
  const pool = new LivePool();
  const target = p.memory * 0.5;
  let next = 0;
  while (out.length < p.ops) {
    if (pool.total < target || pool.size === 0) {
      const [bytes, tag] = draw(rng);
      out.alloc(next, bytes, tag);
      pool.add(next++, bytes);
    } else {
      out.free(pool.takeAt(rng.below(pool.size)));
    }
  }
  return out.build();
}

function steady(p: WorkloadParams): OpList {
  return halfLive(p, (rng) => {
    const r = rng.nextU32() | 0x100; // the lowest set bit is bit k with P = 2^-(k+1), k <= 8
    return [p.pageSize * 2 ** (31 - Math.clz32(r & -r)), 1];
  });
}

function fillDrain(p: WorkloadParams): OpList {
  const rng = new Rng(p.seed ?? 1);
  const out = new OpListBuilder();
  const pages = Math.max(1, Math.floor(p.memory / p.pageSize));
  const held: number[] = [];
  let next = 0;
  let cycle = 0;
  while (out.length < p.ops) {
    for (let i = 0; i < pages && out.length < p.ops; i++) {
      out.alloc(next, p.pageSize, 1 + (cycle % 2));
      held.push(next++);
    }
    for (let i = held.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [held[i], held[j]] = [held[j], held[i]];
    }
    while (held.length > 0 && out.length < p.ops) out.free(held.pop()!);
    held.length = 0;
    cycle++;
  }
  return out.build();
}

const CACHE = 1;
const SLAB = 2;
const STACK = 3;
const HUGE = 4;

function kernel(p: WorkloadParams): OpList {
  const rng = new Rng(p.seed ?? 1);
  const out = new OpListBuilder();
  const target = p.memory * 0.8;
  const cache: number[] = []; // page-cache slots, oldest first (a queue with a moving head)
  let cacheHead = 0;
  const others = new LivePool(); // slab, stack and huge allocations that may be freed
  const bytesOf = new Map<number, number>();
  let live = 0;
  let next = 0;
  const hugeOrder = Math.max(0, Math.round(Math.log2((2 << 20) / p.pageSize)));
  while (out.length < p.ops) {
    const cacheLive = cache.length - cacheHead;
    if (live < target || (cacheLive === 0 && others.size === 0)) {
      const kind = rng.weighted([0.55, 0.3, 0.1, 0.05]);
      let order = 0;
      let tag = CACHE;
      if (kind === 1) {
        tag = SLAB;
        order = rng.weighted([0.5, 0.25, 0.15, 0.1]);
      } else if (kind === 2) {
        tag = STACK;
        order = 2;
      } else if (kind === 3) {
        tag = HUGE;
        order = hugeOrder;
      }
      const bytes = p.pageSize * 2 ** order;
      out.alloc(next, bytes, tag);
      live += bytes;
      if (tag === CACHE) {
        cache.push(next);
      } else if (tag === SLAB && rng.next() < 0.1) {
        // pinned: a long-lived kernel object, never freed
      } else {
        others.add(next, bytes);
      }
      bytesOf.set(next++, bytes);
    } else {
      // Memory pressure: reclaim the oldest page-cache page, or free some other object.
      let slot: number;
      if (cacheLive > 0 && (others.size === 0 || rng.next() < 0.6)) {
        slot = cache[cacheHead++];
        if (cacheHead > 4096 && cacheHead * 2 > cache.length) {
          cache.splice(0, cacheHead);
          cacheHead = 0;
        }
      } else if (others.size > 0) {
        slot = others.takeAt(rng.below(others.size));
      } else {
        break; // only pinned blocks left: nothing can be freed
      }
      out.free(slot);
      live -= bytesOf.get(slot)!;
      bytesOf.delete(slot);
    }
  }
  return out.build();
}

function small(p: WorkloadParams): OpList {
  const rng = new Rng(p.seed ?? 1);
  const out = new OpListBuilder();
  const pool = new LivePool();
  const target = p.memory * 0.4;
  let next = 0;
  while (out.length < p.ops) {
    if (pool.total < target || pool.size === 0) {
      const band = rng.weighted([0.7, 0.25, 0.05]);
      const bytes =
        band === 0 ? rng.between(8, 128) : band === 1 ? rng.between(129, 1024) : rng.between(1025, 16384);
      out.alloc(next, bytes, band + 1);
      pool.add(next++, bytes);
    } else {
      out.free(pool.takeAt(rng.below(pool.size)));
    }
  }
  return out.build();
}

function buffers(p: WorkloadParams): OpList {
  return halfLive(p, (rng) => {
    const band = rng.below(6); // pages in [2^band, 2^(band+1) - 1]: 1, 2..3, 4..7, .., 32..63
    return [p.pageSize * rng.between(2 ** band, 2 ** (band + 1) - 1), band + 1];
  });
}

/** Every built-in workload by name. */
export const WORKLOADS: Readonly<Record<WorkloadName, Workload>> = {
  steady: {
    name: "steady",
    description: "steady state: orders with P(k) = 2^-(k+1), half of memory live, random frees",
    target: "page",
    tags: { 1: "block" },
    generate: steady,
  },
  "fill-drain": {
    name: "fill-drain",
    description: "fill memory with single pages, then free them all in random order; repeated",
    target: "page",
    tags: { 1: "even cycle", 2: "odd cycle" },
    generate: fillDrain,
  },
  kernel: {
    name: "kernel",
    description: "kernel-like mix: page cache, slab pages (some pinned), stacks, 2 MiB huge pages; 80% live",
    target: "page",
    tags: { [CACHE]: "page cache", [SLAB]: "slab", [STACK]: "stack", [HUGE]: "huge page" },
    generate: kernel,
  },
  small: {
    name: "small",
    description: "small objects (8 B .. 16 KiB, most under 128 B) through a heap; 40% of memory live",
    target: "heap",
    tags: { 1: "8..128 B", 2: "129..1024 B", 3: "1..16 KiB" },
    generate: small,
  },
  buffers: {
    name: "buffers",
    description:
      "buffers of 1..63 whole pages (mostly not a power of two), half of memory live, random frees",
    target: "page",
    tags: {
      1: "1 page",
      2: "2..3 pages",
      3: "4..7 pages",
      4: "8..15 pages",
      5: "16..31 pages",
      6: "32..63 pages",
    },
    generate: buffers,
  },
};

/** True when `name` is a built-in workload. */
export function isWorkloadName(name: string): name is WorkloadName {
  return Object.hasOwn(WORKLOADS, name);
}
