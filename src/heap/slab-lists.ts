/**
 * The slab lists of the heap's classes (slabs.ts states their invariants): list primitives over
 * the side table's link words, and giving a slab's pages back. A list is named by the Int32
 * index of its head word: one of the header's class heads in a one-thread heap, one of a
 * thread slot's (threads.ts) in a threaded heap.
 */
import type { HeapCore } from "./core.js";
import { poison } from "./guard.js";
import { SIDE_NEXT, SIDE_PREV, SIDE_SHIFT } from "./layout.js";
import { trailerIndex } from "./size-classes.js";
import { S_SLABS } from "./threads.js";

/** The free count of `slab` (class `cls`), from its trailer's first word (size-classes.ts). */
export function freeCount(h: HeapCore, cls: number, slab: number): number {
  return h.i32[trailerIndex(h, cls, slab)] >>> 16;
}

/** Sets the free count of `slab` (class `cls`), keeping its hint. */
export function setFreeCount(h: HeapCore, cls: number, slab: number, free: number): void {
  const t = trailerIndex(h, cls, slab);
  h.i32[t] = (h.i32[t] & 0xffff) | (free << 16);
}

/**
 * A full slab got a free object: it leaves the full list (`full` >= 0, threaded heaps) and
 * becomes the head of the list at `lists` (dropping an empty head first).
 */
export function relist(h: HeapCore, lists: number, full: number, cls: number, slab: number): void {
  const side = h.side;
  if (full >= 0) unlink(h, full + cls, slab);
  let head = h.i32[lists + cls];
  if (head >= 0 && freeCount(h, cls, head) === h.objects[cls]) {
    unlink(h, lists + cls, head);
    dropSlab(h, cls, head);
    head = h.i32[lists + cls];
  }
  side[(slab << SIDE_SHIFT) + SIDE_NEXT] = head;
  side[(slab << SIDE_SHIFT) + SIDE_PREV] = -1;
  if (head >= 0) side[(head << SIDE_SHIFT) + SIDE_PREV] = slab;
  h.i32[lists + cls] = slab;
}

/** Puts `slab` at the head of the list whose head word is `at`. */
export function push(h: HeapCore, at: number, slab: number): void {
  const side = h.side;
  const head = h.i32[at];
  side[(slab << SIDE_SHIFT) + SIDE_NEXT] = head;
  side[(slab << SIDE_SHIFT) + SIDE_PREV] = -1;
  if (head >= 0) side[(head << SIDE_SHIFT) + SIDE_PREV] = slab;
  h.i32[at] = slab;
}

/** Takes `slab` out of the list whose head word is `at`. */
export function unlink(h: HeapCore, at: number, slab: number): void {
  const side = h.side;
  const next = side[(slab << SIDE_SHIFT) + SIDE_NEXT];
  const prev = side[(slab << SIDE_SHIFT) + SIDE_PREV];
  if (prev < 0) h.i32[at] = next;
  else side[(prev << SIDE_SHIFT) + SIDE_NEXT] = next;
  if (next >= 0) side[(next << SIDE_SHIFT) + SIDE_PREV] = prev;
}

/** Gives an unlisted slab's pages back to the page allocator (clearing its side records). */
export function dropSlab(h: HeapCore, cls: number, slab: number): void {
  const pages = h.slabPages[cls];
  const address = h.firstPage + slab * h.pageSize;
  if (h.guard) poison(h.u8, address, pages * h.pageSize); // its trailer too: free memory is all poison
  h.pageLock();
  try {
    const owner = h.ownerOf[slab];
    if (owner > 0) h.i32[h.slotsBase + h.slotWords * (owner - 1) + S_SLABS]--;
    h.releasePages(address, slab, pages);
  } finally {
    h.pageUnlock();
  }
}
