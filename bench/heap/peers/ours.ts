/** buddy-alloc's Heap over a plain ArrayBuffer (no lock), or a SharedArrayBuffer (lock per operation). */
import { Heap, TAG_LARGE } from "../../../src/index.js";
import type { RoundResult } from "../efficiency.js";
import type { EfficiencyPeer, Peer } from "./peer.js";

function create(buffer: ArrayBuffer | SharedArrayBuffer): Peer<number> {
  const heap = new Heap(buffer);
  return {
    subject: { malloc: (size) => heap.malloc(size), free: (ptr) => heap.free(ptr) },
    footprint: () => {
      const s = heap.stats();
      return s.slabBytes + s.largeBytes + (heap.core.firstPage - heap.start);
    },
    metadataBytesPerPage: heap.stats().metadataBytesPerPage,
    verifyDrained: () => {
      heap.check();
      heap.trim();
      const s = heap.stats();
      return s.liveAllocations === 0 && s.freeBytes === s.pageBytes
        ? null
        : `${s.liveAllocations} live, ${s.freeBytes} of ${s.pageBytes} B free`;
    },
  };
}

export const createOurs = (poolBytes: number) => create(new ArrayBuffer(poolBytes));
export const createOursShared = (poolBytes: number) => create(new SharedArrayBuffer(poolBytes));

/**
 * The efficiency workload's view of a Heap over a plain ArrayBuffer of `arenaBytes`, default
 * options: its metadata lives in the buffer and counts against the arena. Heap.realloc keeps only
 * minAlign when it moves a block; a realloc whose new pointer misses the block's alignment is
 * redone as an aligned malloc plus a free (counted; with no room for that, the misaligned block
 * is kept and counted as such).
 */
export function createOursEfficiency(arenaBytes: number): EfficiencyPeer<number> {
  const heap = new Heap(new ArrayBuffer(arenaBytes));
  const minAlign = heap.minAlign;
  const counters = { reallocRealigned: 0, reallocMisalignedKept: 0 };
  return {
    subject: {
      malloc: (size, align) => heap.malloc(size, align),
      realloc: (ptr, size, align) => {
        const p = heap.realloc(ptr, size);
        if (p === null || align <= minAlign || p % align === 0) return p;
        const q = heap.malloc(size, align);
        if (q === null) {
          counters.reallocMisalignedKept++;
          return p;
        }
        heap.free(p);
        counters.reallocRealigned++;
        return q;
      },
      free: (ptr) => heap.free(ptr),
    },
    breakdown: (round) => oursBreakdown(heap, arenaBytes, round),
    counters: () => {
      const c = { ...counters };
      for (const k of Object.keys(counters) as (keyof typeof counters)[]) counters[k] = 0;
      return c;
    },
    drain: (handles, trim) => {
      for (const p of handles) heap.free(p as number);
      heap.check();
      if (trim) heap.trim();
      const s = heap.stats();
      return s.liveAllocations === 0 && (!trim || s.freeBytes === s.pageBytes)
        ? null
        : `${s.liveAllocations} live, ${s.freeBytes} of ${s.pageBytes} B free`;
    },
  };
}

/**
 * The arena at the failure point, from `heap.stats()`: requested bytes, what rounding to size
 * classes and to page blocks lost, the free objects in slabs, the metadata (slab
 * trailers; header, page storage and side table before the first page) and the free pages the
 * failing request could not use; `unaccounted` is whatever of the arena those do not cover.
 * The large blocks' rounding is split (from `liveAllocations()`) into rounding the request up to
 * whole pages and the block's pages beyond those (a power-of-two block's rounding).
 */
function oursBreakdown(heap: Heap, arenaBytes: number, round: RoundResult): Record<string, number | string> {
  const s = heap.stats();
  const before = s.heapBytes - s.pageBytes;
  let slabRounding = 0;
  let slabRequested = 0;
  let slabObjects = 0;
  let emptySlabClasses = 0;
  for (const c of s.classes) {
    slabRounding += c.wastedBytes;
    slabRequested += c.requestedBytes;
    slabObjects += c.liveObjects;
    if (c.slabs > 0 && c.freeObjects >= c.objectsPerSlab) emptySlabClasses++;
  }
  let largePageRounding = 0;
  for (const a of heap.liveAllocations()) {
    if (a.tag === TAG_LARGE)
      largePageRounding += Math.max(1, Math.ceil(a.size / heap.pageSize)) * heap.pageSize - a.size;
  }
  const parts = {
    requested: s.usedBytes,
    slabRounding,
    largePageRounding,
    largeBeyondPages: s.large.wastedBytes - largePageRounding,
    slabFreeObjects: s.slabFreeBytes,
    slabTrailers: s.metadataBytes - before,
    metadataBeforePages: before,
    freePages: s.freeBytes,
  };
  const sum = Object.values(parts).reduce((a, b) => a + b, 0);
  const f = round.failure;
  let failedIn: string;
  let neededPages: number;
  // realloc picks its class by size alone (minAlign); malloc by size and alignment
  const a = f.op === "malloc" ? Math.max(f.align, heap.minAlign) : heap.minAlign;
  const cls =
    f.size <= heap.maxSmall ? s.classes.find((c) => c.size >= f.size && c.size % a === 0) : undefined;
  if (cls) {
    failedIn = `slab ${cls.size}`;
    neededPages = cls.slabBytes / heap.pageSize;
  } else {
    failedIn = "large";
    neededPages = Math.max(1, Math.ceil(f.size / heap.pageSize));
  }
  return {
    ...parts,
    unaccounted: arenaBytes - sum,
    requestedCheck: s.usedBytes - round.requestedBytes,
    slabRequested,
    largeRequested: s.large.requestedBytes,
    slabObjects,
    largeBlocks: s.large.count,
    slabBytes: s.slabBytes,
    largeBytes: s.large.blockBytes,
    emptySlabClasses,
    largestFreeBlock: s.pages.largestFreeBlock,
    freeBlocksByOrder: s.pages.freeBlocksByOrder
      .map((n, k) => (n ? `${k}:${n}` : ""))
      .filter(Boolean)
      .join(" "),
    failedIn,
    neededPages,
  };
}
