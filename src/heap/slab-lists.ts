/**
 * The slab lists of the heap's classes (slabs.ts states their invariants): list primitives over
 * the side table's link words, and giving a slab's pages back. A list is named by the Int32
 * index of its head word: one of the header's class heads in a one-thread heap, one of a
 * thread slot's (threads.ts) in a threaded heap.
 */
import type { HeapCore } from "./core.js";
import { poison } from "./guard.js";
import { trailerIndex } from "./size-classes.js";
import { S_SLABS } from "./threads.js";

/**
 * The side record's words (layout.ts: SIDE_*, SIDE_SHIFT) and the trailer's bitmap word
 * (size-classes.ts: T_BITMAP), as const enums that compile to literals on these hot paths: an
 * imported constant costs a hole check at each use. test/heap/layout-names.test.ts checks that
 * they equal the originals.
 */
// biome-ignore lint/suspicious/noConstEnum: inlined as literals by tsc and esbuild, which the hot paths need
export const enum Side {
  OWNER = 0,
  SIZE = 1,
  NEXT = 2,
  PREV = 3,
}
/** Page p's side record starts at Int32 index p << SideShift.PAGE (SIDE_SHIFT). */
// biome-ignore lint/suspicious/noConstEnum: as above
export const enum SideShift {
  PAGE = 2,
}
/** The trailer's bitmap word (T_BITMAP). */
// biome-ignore lint/suspicious/noConstEnum: as above
export const enum TrailerWord {
  BITMAP = 1,
}

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
  side[(slab << SideShift.PAGE) + Side.NEXT] = head;
  side[(slab << SideShift.PAGE) + Side.PREV] = -1;
  if (head >= 0) side[(head << SideShift.PAGE) + Side.PREV] = slab;
  h.i32[lists + cls] = slab;
}

/** Puts `slab` at the head of the list whose head word is `at`. */
export function push(h: HeapCore, at: number, slab: number): void {
  const side = h.side;
  const head = h.i32[at];
  side[(slab << SideShift.PAGE) + Side.NEXT] = head;
  side[(slab << SideShift.PAGE) + Side.PREV] = -1;
  if (head >= 0) side[(head << SideShift.PAGE) + Side.PREV] = slab;
  h.i32[at] = slab;
}

/** Takes `slab` out of the list whose head word is `at`. */
export function unlink(h: HeapCore, at: number, slab: number): void {
  const side = h.side;
  const next = side[(slab << SideShift.PAGE) + Side.NEXT];
  const prev = side[(slab << SideShift.PAGE) + Side.PREV];
  if (prev < 0) h.i32[at] = next;
  else side[(prev << SideShift.PAGE) + Side.NEXT] = next;
  if (next >= 0) side[(next << SideShift.PAGE) + Side.PREV] = prev;
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
