/**
 * Single-byte damage to a heap's metadata, and what follows (a helper of damage.test.ts, not a
 * test file). A populated heap is saved once; each change copies it, opens the copy, changes one
 * random byte of its metadata (class heads, free-stretch index, page storage, side table or a slab
 * trailer) to another value, and then:
 * - `stats()` and `liveAllocations()` must return or throw CORRUPT (a bounded walk), never hang
 *   or throw anything else;
 * - if `check()` accepts the change, a short run of ordinary operations (malloc, calloc, realloc,
 *   free, usableSize) on blocks filled with byte patterns must never hand out memory that overlaps
 *   a live block or the metadata, never reject a live pointer, and never lose a live byte. A
 *   CORRUPT error at any point stops the run: detecting the damage late is allowed, a wrong
 *   answer is not.
 */

import { AllocError, Heap, TAG_SLAB } from "../../src/index.js";
import { pageStorageBytes } from "../../src/page/page-map.js";
import { xorshift } from "../prng.js";
import { fill, firstMismatch } from "./helpers.js";

/** Where the metadata lies: byte ranges per kind. */
export type Kind = "class heads" | "stretch index" | "page storage" | "side table" | "slab trailers";
const KINDS: Kind[] = ["class heads", "stretch index", "page storage", "side table", "slab trailers"];

interface Block {
  size: number;
  id: number;
}

/** A saved heap and its live blocks (each filled with its pattern). */
export interface Population {
  name: string;
  snapshot: ArrayBuffer;
  live: Map<number, Block>;
  ranges: Record<Kind, [number, number][]>;
  firstPage: number;
  end: number;
}

/** A heap of `bytes` with `pageSize` pages, populated with small and large blocks and holes. */
export function populate(name: string, bytes: number, pageSize: number, seed: number): Population {
  const buffer = new ArrayBuffer(bytes);
  const heap = new Heap(buffer, { pageSize });
  const rand = xorshift(seed);
  const live = new Map<number, Block>();
  const u8 = new Uint8Array(buffer);
  let id = 1;
  for (let i = 0; i < 600; i++) {
    const r = rand(20);
    const size = r === 0 ? 2049 + rand(4 * pageSize) : r < 3 ? rand(2048) : rand(256);
    const p = heap.malloc(size);
    if (p !== null) {
      live.set(p, { size, id });
      fill(u8, p, size, id++);
    }
    if (rand(3) === 0 && live.size > 0) {
      const victim = [...live.keys()][rand(live.size)];
      heap.free(victim);
      live.delete(victim);
    }
  }
  heap.check();
  const h = heap.core;
  const l = h.layout;
  const ranges: Record<Kind, [number, number][]> = {
    "class heads": [[l.start + 128, l.start + 128 + 4 * l.classCount]],
    "stretch index": [[l.fitOffset, h.fitBase * 4 + 4 * (1 + 23 + 23 * 8)]],
    "page storage": [[l.storageOffset, l.storageOffset + pageStorageBytes(l.storagePages, l.maxOrder)]],
    "side table": [[l.sideOffset, l.sideOffset + 16 * l.storagePages]],
    "slab trailers": [],
  };
  for (const b of h.pages.allocatedBlocks()) {
    if (b.tag >= TAG_SLAB && b.tag < TAG_SLAB + h.classes.count) {
      const cls = b.tag - TAG_SLAB;
      ranges["slab trailers"].push([b.address + h.trailer[cls], b.address + b.size]);
    }
  }
  return { name, snapshot: buffer.slice(0), live, ranges, firstPage: l.firstPage, end: h.end };
}

/** What the changes did. */
export interface DamageReport {
  changes: number;
  /** Changes `check()` accepted. */
  accepted: number;
  /** Accepted changes after which ordinary operations threw CORRUPT, or check() failed at the end. */
  caughtLater: number;
  /** Accepted changes after which liveAllocations() did not list exactly the live pointers. */
  listingDiffers: number;
  /** Overlaps, rejected live pointers, lost bytes, or errors other than CORRUPT: must be none. */
  problems: string[];
  /** Changes per kind, and how many of them check() accepted. */
  byKind: Record<Kind, { changes: number; accepted: number }>;
}

const isCorrupt = (e: unknown) => e instanceof AllocError && e.code === "CORRUPT";
const describe = (e: unknown) =>
  e instanceof AllocError ? `${e.code}: ${e.message}` : `${(e as Error)?.name}: ${(e as Error)?.message}`;

/** Makes `changes` seeded single-byte changes to copies of `pops` (in turn) and reports. */
export function damage(pops: Population[], changes: number, seed: number): DamageReport {
  const rand = xorshift(seed);
  const report: DamageReport = {
    changes,
    accepted: 0,
    caughtLater: 0,
    listingDiffers: 0,
    problems: [],
    byKind: Object.fromEntries(KINDS.map((k) => [k, { changes: 0, accepted: 0 }])) as DamageReport["byKind"],
  };
  for (let i = 0; i < changes; i++) {
    const pop = pops[i % pops.length];
    const kind = KINDS[rand(KINDS.length)];
    const ranges = pop.ranges[kind];
    const total = ranges.reduce((n, [a, b]) => n + b - a, 0);
    let k = rand(total);
    let at = -1;
    for (const [a, b] of ranges) {
      if (k < b - a) {
        at = a + k;
        break;
      }
      k -= b - a;
    }
    const delta = 1 + rand(255);
    report.byKind[kind].changes++;
    const where = `${pop.name} change ${i}: byte ${at} (${kind}) ^= ${delta}`;
    const outcome = afterChange(pop, at, delta, rand(2 ** 31));
    if (outcome.problem !== null) report.problems.push(`${where}: ${outcome.problem}`);
    if (outcome.accepted) {
      report.accepted++;
      report.byKind[kind].accepted++;
      if (outcome.caughtLater) report.caughtLater++;
      if (outcome.listingDiffers) report.listingDiffers++;
    }
  }
  return report;
}

interface Outcome {
  accepted: boolean;
  caughtLater: boolean;
  listingDiffers: boolean;
  problem: string | null;
}

function afterChange(pop: Population, at: number, delta: number, seed: number): Outcome {
  const out: Outcome = { accepted: false, caughtLater: false, listingDiffers: false, problem: null };
  const buffer = pop.snapshot.slice(0);
  const u8 = new Uint8Array(buffer);
  const heap = Heap.open(buffer);
  u8[at] ^= delta;
  for (const [name, f] of [
    ["stats", () => heap.stats()],
    ["liveAllocations", () => [...heap.liveAllocations()]],
  ] as const) {
    try {
      f();
    } catch (e) {
      if (!isCorrupt(e)) {
        out.problem = `${name}() threw ${describe(e)}`;
        return out;
      }
    }
  }
  try {
    heap.check();
  } catch (e) {
    if (!isCorrupt(e)) out.problem = `check() threw ${describe(e)}`;
    return out;
  }
  out.accepted = true;
  const live = new Map(pop.live);
  const problem = operate(heap, pop, live, u8, seed);
  if (problem === "corrupt") {
    out.caughtLater = true;
    return out;
  }
  if (problem !== null) {
    out.problem = problem;
    return out;
  }
  try {
    heap.check();
  } catch (e) {
    if (!isCorrupt(e)) out.problem = `check() threw ${describe(e)}`;
    out.caughtLater = true;
    return out;
  }
  try {
    const listed = [...heap.liveAllocations()];
    const ptrs = [...live.keys()].sort((a, b) => a - b);
    if (listed.length !== ptrs.length || listed.some((a, i) => a.ptr !== ptrs[i])) out.listingDiffers = true;
  } catch (e) {
    if (!isCorrupt(e)) out.problem = `liveAllocations() threw ${describe(e)}`;
    out.caughtLater = true;
  }
  return out;
}

/**
 * Ordinary operations on the damaged heap. @returns null when all went well, "corrupt" when the
 * heap threw CORRUPT, else what went wrong.
 */
function operate(
  heap: Heap,
  pop: Population,
  live: Map<number, Block>,
  u8: Uint8Array,
  seed: number,
): string | null {
  const rand = xorshift(seed);
  let nextId = 1 << 20;
  const pick = () => [...live.keys()][rand(live.size)];
  /** Null when the new block [p, p + size) touches no live block and no metadata, else why. */
  const place = (p: number, size: number): string | null => {
    if (p < pop.firstPage || p + size > pop.end) return `block ${p}+${size} is outside the pages`;
    const end = p + Math.max(size, 1);
    for (const [q, b] of live) {
      if (q < end && p < q + Math.max(b.size, 1)) return `block ${p}+${size} overlaps live ${q}+${b.size}`;
    }
    return null;
  };
  const verify = (p: number): string | null => {
    const b = live.get(p)!;
    const i = firstMismatch(u8, p, b.size, b.id);
    return i < 0 ? null : `live block ${p}+${b.size} lost byte ${i}`;
  };
  for (let op = 0; op < 24; op++) {
    const r = rand(100);
    let what = "";
    try {
      if (r < 40 || live.size === 0) {
        const big = rand(8) === 0;
        const size = big ? 2049 + rand(6 * heap.pageSize) : rand(600);
        const align = rand(10) === 0 ? 2 ** (4 + rand(10)) : undefined;
        const calloc = align === undefined && rand(8) === 0;
        what = calloc ? `calloc(1, ${size})` : `malloc(${size}, ${align})`;
        const p = calloc ? heap.calloc(1, size) : heap.malloc(size, align);
        if (p === null) continue;
        const bad = place(p, size) ?? (align !== undefined && p % align !== 0 ? `${p} misaligned` : null);
        if (bad !== null) return `${what}: ${bad}`;
        if (calloc && u8.subarray(p, p + size).some((x) => x !== 0)) return `${what}: not zeroed`;
        live.set(p, { size, id: nextId });
        fill(u8, p, size, nextId++);
      } else if (r < 70) {
        const p = pick();
        what = `free(${p})`;
        const lost = verify(p);
        if (lost !== null) return `before ${what}: ${lost}`;
        heap.free(p);
        live.delete(p);
      } else if (r < 90) {
        const p = pick();
        const old = live.get(p)!;
        const size = rand(6) === 0 ? 2049 + rand(6 * heap.pageSize) : rand(1200);
        what = `realloc(${p}, ${size})`;
        const lost = verify(p);
        if (lost !== null) return `before ${what}: ${lost}`;
        const q = heap.realloc(p, size);
        if (q === null) continue;
        live.delete(p);
        const bad = place(q, size);
        if (bad !== null) return `${what}: ${bad}`;
        const kept = Math.min(old.size, size);
        const i = firstMismatch(u8, q, kept, old.id);
        if (i >= 0) return `${what} -> ${q}: lost byte ${i}`;
        live.set(q, { size, id: nextId });
        fill(u8, q, size, nextId++);
      } else {
        const p = pick();
        what = `usableSize(${p})`;
        if (heap.usableSize(p) < live.get(p)!.size) return `${what} is below the requested size`;
      }
    } catch (e) {
      if (isCorrupt(e)) return "corrupt";
      return `${what} threw ${describe(e)}`;
    }
  }
  for (const p of live.keys()) {
    const lost = verify(p);
    if (lost !== null) return `at the end: ${lost}`;
  }
  return null;
}
