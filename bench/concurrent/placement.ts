/**
 * The placement measurement: one thread, one seeded stream of requests, run through
 * ConcurrentBuddy and through the single-threaded BuddyAllocator (smallest free order first, LIFO,
 * eager merging: the reference for compact placement), side by side.
 *
 * The stream: orders 0..maxRequestOrder with P(k) = 2^-(k+1) (the rest at maxRequestOrder), a
 * live target as a fraction of the pages. It fills up to the target, then churns for `ops`
 * operations: below the target it allocates, at or above it frees one held block picked at
 * random. The random numbers (orders and picks) are the same for both allocators; what each
 * holds may differ once one of them fails a request. Fragmentation is `stats().fragmentation`
 * (1 - largest free block / free bytes), averaged over `samples` points of the churn.
 */

import { ConcurrentBuddy } from "../../src/concurrent/concurrent-buddy.js";
import { BuddyAllocator } from "../../src/page/buddy-allocator.js";
import type { AllocatorStats } from "../../src/page/types.js";

/** Parameters of the stream. Sizes in bytes. */
export interface PlacementOptions {
  size: number;
  pageSize: number;
  maxOrder: number;
  /** Largest order requested (the tail of the distribution lands there). */
  maxRequestOrder: number;
  /** Requests of this order and above (up to maxRequestOrder) count as "big". */
  bigFrom: number;
  /** Live target, as a fraction of the pages (0..1). */
  target: number;
  /** Churn operations after the fill. */
  ops: number;
  /** Fragmentation samples over the churn. */
  samples: number;
  seed: number;
  /** ConcurrentBuddy's tree variant. */
  variant: "packed" | "node";
}

/** The default stream of the placement table: 64 MiB, 4 KiB pages, maxOrder 10, orders 0..8. */
export const PLACEMENT_DEFAULTS: PlacementOptions = {
  size: 64 * 2 ** 20,
  pageSize: 4096,
  maxOrder: 10,
  maxRequestOrder: 8,
  bigFrom: 6,
  target: 0.5,
  ops: 200_000,
  samples: 100,
  seed: 0x2545f491,
  variant: "packed",
};

/** What one allocator did with the stream. */
export interface PlacementRun {
  /** Mean of stats().fragmentation over the churn samples. */
  fragmentation: number;
  /** stats().fragmentation at the end of the stream. */
  finalFragmentation: number;
  /** Allocation requests, fill and churn. */
  requests: number;
  /** Requests that returned null. */
  failed: number;
  /** Requests of order >= bigFrom. */
  bigRequests: number;
  /** Of those, how many returned null. */
  bigFailed: number;
  /** Free pages at the end. */
  freePages: number;
}

/** The calls the stream makes. */
export interface Placer {
  allocOrder(order: number): number | null;
  free(address: number): void;
  stats(): AllocatorStats;
}

/** A fresh ConcurrentBuddy (one handle, thread id 0) for the stream. */
export function concurrentPlacer(o: PlacementOptions): ConcurrentBuddy {
  return ConcurrentBuddy.create({
    size: o.size,
    pageSize: o.pageSize,
    maxOrder: o.maxOrder,
    variant: o.variant,
    threadId: 0,
  });
}

/**
 * A fresh ConcurrentBuddy driven through two handles (thread ids 0 and 1, both in this thread):
 * one allocates, the other frees, as when workers free blocks another worker allocated. The
 * allocating handle never sees those frees in its hints, only what it gathers from the tree.
 */
export class CrossPlacer implements Placer {
  readonly allocator: ConcurrentBuddy;
  private readonly freer: ConcurrentBuddy;

  constructor(o: PlacementOptions) {
    this.allocator = concurrentPlacer(o);
    this.freer = ConcurrentBuddy.open(this.allocator.buffer, { threadId: 1 });
  }

  allocOrder(order: number): number | null {
    return this.allocator.allocOrder(order);
  }

  free(address: number): void {
    this.freer.free(address);
  }

  stats(): AllocatorStats {
    return this.allocator.stats();
  }
}

/** A fresh BuddyAllocator over the same memory. */
export function pagePlacer(o: PlacementOptions): BuddyAllocator {
  const a = new BuddyAllocator({ pageSize: o.pageSize, maxOrder: o.maxOrder });
  a.addRegion(0, o.size);
  return a;
}

/** Runs the stream through `a` (which must be empty) and frees what it still holds at the end. */
export function runPlacement(a: Placer, o: PlacementOptions): PlacementRun {
  const pages = o.size / o.pageSize;
  const targetPages = Math.floor(pages * o.target);
  const held = new Float64Array(pages);
  const heldOrder = new Int8Array(pages);
  let count = 0;
  let live = 0;
  let x = o.seed | 0 || 1;
  const run: PlacementRun = {
    fragmentation: 0,
    finalFragmentation: 0,
    requests: 0,
    failed: 0,
    bigRequests: 0,
    bigFailed: 0,
    freePages: 0,
  };
  const every = Math.max(1, Math.floor(o.ops / o.samples));
  let sampled = 0;
  let churned = -1;
  while (churned < o.ops) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (live < targetPages) {
      const bits = (x >>> 1) | (1 << o.maxRequestOrder);
      const order = 31 - Math.clz32(bits & -bits);
      const address = a.allocOrder(order);
      run.requests++;
      if (order >= o.bigFrom) run.bigRequests++;
      if (address === null) {
        run.failed++;
        if (order >= o.bigFrom) run.bigFailed++;
      } else {
        held[count] = address;
        heldOrder[count++] = order;
        live += 2 ** order;
      }
    } else {
      const at = (x >>> 8) % count;
      a.free(held[at]);
      live -= 2 ** heldOrder[at];
      held[at] = held[--count];
      heldOrder[at] = heldOrder[count];
    }
    if (churned < 0 && live >= targetPages) churned = 0;
    if (churned >= 0) {
      churned++;
      if (churned % every === 0 && sampled < o.samples) {
        run.fragmentation += a.stats().fragmentation;
        sampled++;
      }
    }
  }
  run.fragmentation /= Math.max(1, sampled);
  const end = a.stats();
  run.finalFragmentation = end.fragmentation;
  run.freePages = end.freePages;
  for (let i = 0; i < count; i++) a.free(held[i]);
  return run;
}

/** Both allocators on the same stream. */
export interface PlacementPair {
  target: number;
  concurrent: PlacementRun;
  page: PlacementRun;
  /** ConcurrentBuddy with allocations and frees on two handles (CrossPlacer). */
  cross: PlacementRun;
}

/** Runs the stream at each live target through a fresh ConcurrentBuddy and a fresh BuddyAllocator. */
export function comparePlacement(targets: number[], base: Partial<PlacementOptions> = {}): PlacementPair[] {
  return targets.map((target) => {
    const o: PlacementOptions = { ...PLACEMENT_DEFAULTS, ...base, target };
    const c = concurrentPlacer(o);
    const concurrent = runPlacement(c, o);
    const x = new CrossPlacer(o);
    const cross = runPlacement(x, o);
    for (const a of [c, x.allocator]) {
      a.check();
      if (a.stats().freePages !== a.pages) throw new Error("ConcurrentBuddy not whole after the stream");
    }
    return { target, concurrent, page: runPlacement(pagePlacer(o), o), cross };
  });
}

/** The placement results as a Markdown table. */
export function placementTable(pairs: PlacementPair[], o: Partial<PlacementOptions> = {}): string {
  const p = { ...PLACEMENT_DEFAULTS, ...o };
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? "1.00" : "inf") : (a / b).toFixed(2));
  const lines = [
    `Placement, one thread (${p.size / 2 ** 20} MiB, ${p.pageSize}-byte pages, maxOrder ${p.maxOrder}, ` +
      `orders 0..${p.maxRequestOrder} with P(k) = 2^-(k+1), ${p.ops} churn ops, seed ${p.seed}, ${p.variant} tree):`,
    "",
    "| live | allocator | fragmentation (mean) | at end | failed requests | failed big (order " +
      `${p.bigFrom}..${p.maxRequestOrder}) |`,
    "|--:|--|--:|--:|--:|--:|",
  ];
  for (const { target, concurrent: c, page: g, cross } of pairs) {
    const live = `${Math.round(target * 100)}%`;
    const row = (name: string, r: PlacementRun) =>
      `| ${live} | ${name} | ${r.fragmentation.toFixed(3)} | ${r.finalFragmentation.toFixed(3)} | ` +
      `${r.failed} of ${r.requests} | ${r.bigFailed} of ${r.bigRequests} |`;
    lines.push(row("ConcurrentBuddy", c), row("BuddyAllocator", g));
    lines.push(
      `| ${live} | ratio | ${ratio(c.fragmentation, g.fragmentation)} | ` +
        `${ratio(c.finalFragmentation, g.finalFragmentation)} | ${ratio(c.failed, g.failed)} | ` +
        `${ratio(c.bigFailed, g.bigFailed)} |`,
    );
    lines.push(row("ConcurrentBuddy, frees on a 2nd handle", cross));
  }
  lines.push(
    "",
    "ratio: ConcurrentBuddy / BuddyAllocator (one handle). The last row of each target frees every " +
      "block through a second handle (another thread's frees): the allocating handle learns of them " +
      "only by gathering its region.",
  );
  return lines.join("\n");
}
