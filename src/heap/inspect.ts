/**
 * Read-only views of a heap: stats and the live allocations (the invariant check is check.ts).
 * Not on a hot path: they walk the page allocator's blocks and every slab's bitmap (walk.ts),
 * O(heap), and check what they need to stay bounded and meaningful (block structure, tags, slab
 * sizes, slacks, list lengths), so damaged bytes give CORRUPT.
 */
import type { BuddyAllocator } from "../page/buddy-allocator.js";
import { statsFromFreeBlocks } from "../page/stats.js";
import type { HeapCore } from "./core.js";
import { SIDE_SHIFT, SIDE_SIZE, TAG_LARGE, TAG_SLAB } from "./layout.js";
import { S_CLAIM, threadOfSlot } from "./threads.js";
import type { ClassStats, HeapStats, LiveAllocation } from "./types.js";
import { eachObject, walk } from "./walk.js";

/** The live allocations in address order. */
export function liveAllocationsOf(h: HeapCore): LiveAllocation[] {
  const out: LiveAllocation[] = [];
  walk(h, new Array<number>(h.layout.maxOrder + 1).fill(0), (page, _, cls) => {
    const address = h.firstPage + page * h.pageSize;
    // The slot's current own handle, or its last one (threads.ts): a dead thread's blocks stay
    // under its id, recovered or not, until another handle claims the slot (and adopts them).
    const o = h.threaded ? h.ownerOf[page] : 0;
    const claimAt = h.slotsBase + h.slotWords * (o - 1) + S_CLAIM;
    const thread = o > 0 ? threadOfSlot(Atomics.load(h.i32, claimAt), o - 1) : h.threaded ? -1 : 0;
    if (cls < 0)
      out.push({
        ptr: address,
        size: h.side[(page << SIDE_SHIFT) + SIDE_SIZE] >>> 0,
        tag: TAG_LARGE,
        thread,
      });
    else eachObject(h, cls, address, (ptr, size) => out.push({ ptr, size, tag: TAG_SLAB + cls, thread }));
  });
  return out;
}

/** The heap's figures. */
export function statsOf(h: HeapCore): HeapStats {
  const c = h.classes;
  const classes: ClassStats[] = [];
  for (let i = 0; i < c.count; i++) {
    classes.push({
      size: c.size[i],
      slabBytes: h.pageSize * c.slabPages[i],
      objectsPerSlab: c.objects[i],
      slabs: 0,
      liveObjects: 0,
      freeObjects: 0,
      requestedBytes: 0,
      wastedBytes: 0,
    });
  }
  const large = { count: 0, requestedBytes: 0, blockBytes: 0, wastedBytes: 0 };
  const freeBlocksByOrder = new Array<number>(h.layout.maxOrder + 1).fill(0);
  let slabBytes = 0;
  let slabOverhead = 0;
  walk(h, freeBlocksByOrder, (page, pages, k) => {
    const bytes = pages * h.pageSize;
    if (k < 0) {
      large.count++;
      large.requestedBytes += h.side[(page << SIDE_SHIFT) + SIDE_SIZE] >>> 0;
      large.blockBytes += bytes;
      return;
    }
    const s = classes[k];
    s.slabs++;
    slabBytes += bytes;
    slabOverhead += bytes - c.objects[k] * c.size[k];
    eachObject(h, k, h.firstPage + page * h.pageSize, (_, requested) => {
      s.liveObjects++;
      s.requestedBytes += requested;
    });
  });
  large.wastedBytes = large.blockBytes - large.requestedBytes;
  let used = large.requestedBytes;
  let live = large.count;
  let wasted = large.wastedBytes;
  let slabFree = 0;
  for (const s of classes) {
    s.freeObjects = s.slabs * s.objectsPerSlab - s.liveObjects;
    s.wastedBytes = s.liveObjects * s.size - s.requestedBytes;
    used += s.requestedBytes;
    live += s.liveObjects;
    wasted += s.wastedBytes;
    slabFree += s.freeObjects * s.size;
  }
  const l = h.layout;
  const a = h.pages;
  // The page allocator's figures from the same walk (its own `stats()` follows its free lists).
  const pages = statsFromFreeBlocks(
    freeBlocksByOrder,
    a.totalPages,
    h.pageSize,
    a.map.byteLength + a.directory.byteLength,
  );
  return {
    heapBytes: h.end - l.start,
    pageBytes: h.end - l.firstPage,
    liveAllocations: live,
    usedBytes: used,
    freeBytes: pages.freeBytes,
    slabFreeBytes: slabFree,
    slabBytes,
    largeBytes: large.blockBytes,
    wastedBytes: wasted,
    metadataBytes: l.firstPage - l.start + slabOverhead,
    metadataBytesPerPage: (l.firstPage - l.start) / ((l.maxEnd - l.firstPage) / l.pageSize),
    classes,
    large,
    pages,
  };
}

/** The read-only part of a heap's page allocator that a memory map draws (sim/heap-target.ts). */
export type PageBlocks = Pick<BuddyAllocator, "freeBlocks" | "allocatedBlocks" | "regions">;

/**
 * @internal The page blocks of `heap` (a Heap: its free blocks, its slabs and large blocks as
 * tagged blocks, its regions), for tools that draw the heap, without the rest of its internals.
 */
export function pageBlocksOf(heap: { readonly core: HeapCore }): PageBlocks {
  return heap.core.pages;
}
