/**
 * Walking a heap's blocks and slab objects for the read-only views (inspect.ts) and the invariant
 * check (check.ts). Not on a hot path: O(heap).
 *
 * Damaged metadata. Every walk here is bounded by what it walks over (pages, objects, classes)
 * and checks each value it follows before using it, so bytes that are not a heap give CORRUPT,
 * never a hang or another error: a block length past the end, a tag that names no class, a slab
 * of the wrong length, a list longer than what it lists (one that loops).
 */
import { AllocError, showAddress } from "../errors.js";
import { ALLOCATED, FREE, NIL, ORDER_MASK, RUN } from "../page/page-map.js";
import type { HeapCore } from "./core.js";
import { SIDE_NEXT, SIDE_SHIFT, TAG_LARGE, TAG_SLAB } from "./layout.js";
import { FREE_SLACK, slackIndex, T_BITMAP } from "./size-classes.js";
import { countListed } from "./stretches.js";
import { S_LISTS } from "./threads.js";

/** @throws AllocError CORRUPT with `message`, as every heap check reports. */
export const corrupt = (message: string): never => {
  throw new AllocError("CORRUPT", `heap check: ${message}`);
};

/**
 * Calls `visit(page, pages, free, tag)` for each block and run of the page allocator in address
 * order, from the state bytes, checking each length before stepping over it: O(blocks), bounded
 * by the page count whatever the bytes say. The tag is 0 for a free block.
 */
export function eachBlock(
  h: HeapCore,
  visit: (page: number, pages: number, free: boolean, tag: number) => void,
): void {
  const map = h.pages.map;
  const base = h.pages.slotOf(h.firstPage);
  const maxOrder = h.layout.maxOrder;
  for (let p = 0; p < h.pageCount; ) {
    const slot = base + p;
    const state = map.state[slot];
    const order = state & ORDER_MASK;
    const kind = state & (ALLOCATED | FREE);
    let pages = 0;
    if (kind === ALLOCATED && order === RUN) pages = map.prevOf(slot);
    else if ((kind === ALLOCATED || kind === FREE) && order <= maxOrder) pages = 2 ** order;
    else corrupt(`page ${p} starts no block (state ${state})`);
    if (!(pages >= 1 && pages <= h.pageCount - p)) corrupt(`the block at page ${p} has ${pages} pages`);
    const free = kind === FREE;
    visit(p, pages, free, free ? 0 : map.tagOf(slot));
    p += pages;
  }
}

/**
 * Walks the blocks (`eachBlock`), calling `visit(page, pages, cls)` for each allocated one (cls
 * -1 for a large block), then checks that every list holds no more than the walk found: each
 * order's free list exactly its free blocks, each class's slab list at most its slabs, the
 * free-stretch lists exactly the free stretches. So a list that loops, or leads elsewhere, is
 * CORRUPT here too, not only in `check`. Fills `freeByOrder` (free blocks per order).
 */
export function walk(
  h: HeapCore,
  freeByOrder: number[],
  visit: (page: number, pages: number, cls: number) => void,
): void {
  const slabs = new Int32Array(h.classes.count);
  let stretches = 0;
  let freeEnd = -1;
  eachBlock(h, (page, pages, free, tag) => {
    if (free) {
      freeByOrder[Math.log2(pages)]++;
      if (page !== freeEnd) stretches++;
      freeEnd = page + pages;
      return;
    }
    const cls = classOfBlock(h, page, pages, tag);
    if (cls >= 0) slabs[cls]++;
    visit(page, pages, cls);
  });
  const map = h.pages.map;
  for (let order = 0; order < freeByOrder.length; order++) {
    let n = 0;
    for (let slot = map.head(order); slot !== NIL && n <= freeByOrder[order]; slot = map.nextOf(slot)) n++;
    if (n !== freeByOrder[order])
      corrupt(`the free list of order ${order} does not hold its ${freeByOrder[order]} free blocks`);
  }
  for (const base of listBases(h)) {
    for (let cls = 0; cls < slabs.length; cls++) {
      let n = 0;
      for (let s = h.i32[base + cls]; s >= 0 && n <= slabs[cls]; s = h.side[(s << SIDE_SHIFT) + SIDE_NEXT])
        n++;
      if (n > slabs[cls]) corrupt(`a list of class ${cls} holds more than its ${slabs[cls]} slabs, or loops`);
    }
  }
  if (countListed(h, stretches) !== stretches)
    corrupt(`the free-stretch lists do not hold the ${stretches} free stretches`);
}

/**
 * The Int32 index of the first head of every set of class lists: the header's, or in a threaded
 * heap each slot's lists of slabs with a free object and of full slabs.
 */
function listBases(h: HeapCore): number[] {
  if (!h.threaded) return [h.listBase];
  const bases: number[] = [];
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s + S_LISTS;
    bases.push(at, at + h.classes.count);
  }
  return bases;
}

/** Whether object `i` of the slab at `address` (class `cls`) was freed by another thread. */
export function remotelyFreed(h: HeapCore, cls: number, address: number, i: number): boolean {
  if (!h.threaded) return false;
  return (h.i32[((address + h.remote[cls]) >>> 2) + (i >>> 5)] & (1 << (i & 31))) !== 0;
}

/** The class of a slab block's tag, checked against its length; a large block is -1. */
export function classOfBlock(h: HeapCore, page: number, pages: number, tag: number): number {
  if (tag === TAG_LARGE) return -1;
  const cls = tag - TAG_SLAB;
  if (!(cls >= 0 && cls < h.classes.count)) corrupt(`the block at page ${page} has tag ${tag}`);
  if (pages !== h.slabPages[cls]) corrupt(`the slab of class ${cls} at page ${page} has ${pages} pages`);
  return cls;
}

/**
 * Calls `visit(ptr, requested)` for each live object of the slab of class `cls` at `address`.
 * @throws AllocError CORRUPT for a live object whose slack exceeds its size.
 */
export function eachObject(
  h: HeapCore,
  cls: number,
  address: number,
  visit: (ptr: number, requested: number) => void,
): void {
  const t = (address + h.trailer[cls]) >>> 2;
  const slackAt = slackIndex(t, h.bitmapWords[cls]);
  const size = h.size[cls];
  for (let i = 0; i < h.objects[cls]; i++) {
    if ((h.i32[t + T_BITMAP + (i >>> 5)] & (1 << (i & 31))) !== 0 || remotelyFreed(h, cls, address, i))
      continue;
    const slack = h.u16[slackAt + i];
    // Threaded heaps: another thread's malloc between clearing the bit and writing the slack.
    if (slack === FREE_SLACK && h.threaded) continue;
    if (slack > size) corrupt(`live object ${showAddress(address + i * size)} has slack ${slack}`);
    visit(address + i * size, size - slack);
  }
}
