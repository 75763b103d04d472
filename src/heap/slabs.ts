/**
 * The slab hot paths: allocate an object of a class, free an object, and the slab lifecycle.
 * Layouts: the slab trailer in size-classes.ts, the side table and class lists in layout.ts.
 *
 * Invariants (checked by `check`):
 * - A class's list holds exactly its slabs that have a free object; allocation takes the list's
 *   head, so a slab that fills up is always the head when it leaves the list.
 * - A slab with every object free is in the list only as its head (at most one empty slab per
 *   class, kept so that a class that allocates and frees one object does not churn pages);
 *   any other slab that empties goes back to the page allocator at once, and the kept ones go
 *   back when the page allocator runs out of blocks (`trimEmpty`) or on `Heap.trim()`.
 * - In a threaded heap (threads.ts) the lists are the owning thread's, and a full slab is in its
 *   class's full list (where remote frees find it: remote.ts); in a one-thread heap it is in no list.
 * - The free count in the trailer's T_HEAD word is the number of set bits of the slab's bitmap;
 *   the hint is at most
 *   the index of the lowest bitmap word with a set bit.
 * - A free object's slack is FREE_SLACK (size-classes.ts), a live one's at most its class size:
 *   every path that frees an object writes it (the literal 0xffff: an imported constant costs a
 *   check at each use on these paths).
 * Only typed arrays and numbers are touched; nothing allocates a JS object.
 */
import { AllocError } from "../errors.js";
import type { HeapCore } from "./core.js";
import { collect, remoteFree } from "./remote.js";
import { remoteIndex, slackIndex, trailerIndex } from "./size-classes.js";
import { dropSlab, freeCount, push, relist, unlink } from "./slab-lists.js";
import { FREE_KIND } from "./stretches.js";
import { OP_NONE, S_SLABS } from "./threads.js";

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

/** An object of class `cls` for a request of `size` bytes; its address, or -1 when out of pages. */
export function slabAlloc(h: HeapCore, cls: number, size: number): number {
  let slab = h.i32[h.listBase + cls];
  if (slab < 0) {
    slab = refill(h, cls);
    if (slab < 0) return -1;
  }
  const i32 = h.i32; // after refill: under the page lock, a grown heap gets new views
  const base = h.firstPage + slab * h.pageSize;
  const t = (base + h.trailer[cls]) >>> 2;
  const head = i32[t];
  let w = head & 0xffff; // the hint (HINT_BITS)
  let bits = i32[t + TrailerWord.BITMAP + w];
  while (bits === 0) {
    // The free count said there is a free object: past the bitmap, the metadata is damaged.
    if (++w >= h.bitmapWords[cls]) throw damagedSlab(slab);
    bits = i32[t + TrailerWord.BITMAP + w];
  }
  const low = bits & -bits;
  i32[t + TrailerWord.BITMAP + w] = bits ^ low;
  const free = (head >>> 16) - 1;
  i32[t] = w | (free << 16);
  const index = (w << 5) + 31 - Math.clz32(low);
  h.u16[slackIndex(t, h.bitmapWords[cls]) + index] = h.size[cls] - size;
  if (free === 0) {
    const side = h.side;
    const s = slab << SideShift.PAGE;
    const next = side[s + Side.NEXT];
    i32[h.listBase + cls] = next;
    if (next >= 0) side[(next << SideShift.PAGE) + Side.PREV] = -1;
    side[s + Side.NEXT] = -1;
    if (h.fullBase >= 0) push(h, h.fullBase + cls, slab);
  }
  return base + index * h.size[cls];
}

/**
 * A slab of `cls` with a free object, for an empty list: one that other threads' frees refilled
 * (threaded heaps), else a new one. @returns it, at the head of the list, or -1 when out of pages.
 */
function refill(h: HeapCore, cls: number): number {
  if (h.threaded) {
    collect(h, cls);
    const slab = h.i32[h.listBase + cls];
    if (slab >= 0) return slab;
  }
  return newSlab(h, cls);
}

/**
 * Frees `ptr` if it is a live slab object, in one pass over the side table and the bitmap (the
 * free hot path). @returns false, changing nothing, for anything else: a large block, a pointer
 * that is not live, a non-pointer; the caller sorts those out.
 */
export function slabFreePtr(h: HeapCore, ptr: number): boolean {
  const off = ptr - h.firstPage;
  if (!(off >= 0 && ptr < h.freeEnd) || ptr >>> 0 !== ptr) return false; // freeEnd: 0 in guard mode
  const side = h.side;
  const owner = side[((off >>> h.pageShift) << SideShift.PAGE) + Side.OWNER];
  const kind = owner & 255;
  if (kind === 0 || kind >= FREE_KIND) return false; // free stretch or large block
  const cls = kind - 1;
  const slab = owner >>> 8;
  const rel = off - slab * h.pageSize;
  const index = Math.round(rel * h.recip[cls]);
  if (index * h.size[cls] !== rel || index >= h.objects[cls]) return false;
  const i32 = h.i32;
  const t = (ptr - rel + h.trailer[cls]) >>> 2;
  const w = index >>> 5;
  const word = i32[t + TrailerWord.BITMAP + w];
  const bit = 1 << (index & 31);
  if ((word & bit) !== 0) return false;
  // Another thread's slab, or an object another thread freed already: the slow path decides.
  if (
    h.threaded &&
    (h.ownerOf[slab] !== h.holder || (i32[((ptr - rel + h.remote[cls]) >>> 2) + w] & bit) !== 0)
  ) {
    return false;
  }
  i32[t + TrailerWord.BITMAP + w] = word | bit;
  const head = i32[t];
  const free = (head >>> 16) + 1;
  i32[t] = (w < (head & 0xffff) ? w : head & 0xffff) | (free << 16);
  h.u16[slackIndex(t, h.bitmapWords[cls]) + index] = 0xffff; // FREE_SLACK
  countFreed(h, cls, slab, free);
  return true;
}

/**
 * Frees object `index` of `slab` (class `cls`), which `locate` found live.
 * May give the slab's pages back to the page allocator.
 */
export function slabFree(h: HeapCore, cls: number, slab: number, index: number): void {
  const i32 = h.i32;
  const base = h.firstPage + slab * h.pageSize;
  const t = (base + h.trailer[cls]) >>> 2;
  const w = index >>> 5;
  i32[t + TrailerWord.BITMAP + w] |= 1 << (index & 31);
  const head = i32[t];
  const free = (head >>> 16) + 1;
  i32[t] = (w < (head & 0xffff) ? w : head & 0xffff) | (free << 16);
  h.u16[slackIndex(t, h.bitmapWords[cls]) + index] = 0xffff; // FREE_SLACK
  countFreed(h, cls, slab, free);
}

/**
 * Frees object `index` of `slab` (class `cls`), which `locate` found live: in this thread's
 * lists, or as a remote free when another thread owns the slab (threaded heaps).
 * @returns false, changing nothing, when another thread freed it first (a double free).
 */
export function freeObject(h: HeapCore, cls: number, slab: number, index: number): boolean {
  if (h.ownerOf[slab] === h.holder) {
    slabFree(h, cls, slab, index);
    return true;
  }
  return remoteFree(h, cls, slab, index);
}

/**
 * After an object of `slab` was freed, leaving `free` free objects: a slab that was full goes
 * back on its class's list; one that is now empty gives its pages back, unless it heads the list
 * (the one empty slab a class keeps: see the top of this file).
 */
function countFreed(h: HeapCore, cls: number, slab: number, free: number): void {
  if (free === 1) relist(h, h.listBase, h.fullBase, cls, slab);
  else if (free === h.objects[cls] && h.i32[h.listBase + cls] !== slab) {
    unlink(h, h.listBase + cls, slab);
    dropSlab(h, cls, slab);
  }
}

/**
 * Takes pages for a new slab of `cls` (under the page lock of a threaded heap, owned by this
 * thread), makes it the list's only member; -1 when out of pages.
 */
function newSlab(h: HeapCore, cls: number): number {
  h.pageLock();
  try {
    const slab = h.takeSlab(cls);
    if (slab < 0) return -1;
    const address = h.firstPage + slab * h.pageSize;
    const listed = h.i32[h.listBase + cls];
    if (listed >= 0) {
      // Making room for it took back remote frees into this class (threaded heaps): use those.
      h.releasePages(address, slab, h.slabPages[cls]);
      return listed;
    }
    const side = h.side;
    const owner = (slab << 8) | (cls + 1);
    const pages = h.slabPages[cls];
    for (let p = 0; p < pages; p++) side[((slab + p) << SideShift.PAGE) + Side.OWNER] = owner;
    initSlab(h, cls, slab);
    if (h.threaded) {
      h.ownerOf[slab] = h.holder;
      h.i32[h.slotAt + S_SLABS]++;
    }
    h.i32[h.listBase + cls] = slab;
    h.record(OP_NONE);
    return slab;
  } finally {
    h.pageUnlock();
  }
}

/** Writes the side record and trailer of a new slab: every object free, in no list. */
function initSlab(h: HeapCore, cls: number, slab: number): void {
  const side = h.side;
  const s = slab << SideShift.PAGE;
  const n = h.objects[cls];
  side[s + Side.NEXT] = -1;
  side[s + Side.PREV] = -1;
  const t = trailerIndex(h, cls, slab);
  const words = h.bitmapWords[cls];
  h.i32[t] = n << 16; // hint 0, every object free
  h.i32.fill(-1, t + TrailerWord.BITMAP, t + TrailerWord.BITMAP + words);
  if ((n & 31) !== 0) h.i32[t + words] = (1 << (n & 31)) - 1;
  const slack = slackIndex(t, words);
  h.u16.fill(0xffff, slack, slack + n); // FREE_SLACK
  if (h.threaded) {
    const r = remoteIndex(h, cls, slab);
    h.i32.fill(0, r, r + words);
  }
}

/**
 * Gives the empty slab that each class may keep at the head of its list back to the page
 * allocator. Called when the page allocator is out of blocks, and by `Heap.trim`.
 * @returns the number of slabs released.
 */
export function trimEmpty(h: HeapCore): number {
  let released = 0;
  for (let cls = 0; cls < h.classes.count; cls++) {
    const head = h.i32[h.listBase + cls];
    if (head >= 0 && freeCount(h, cls, head) === h.objects[cls]) {
      unlink(h, h.listBase + cls, head);
      dropSlab(h, cls, head);
      released++;
    }
  }
  return released;
}

/** The error of a slab whose free count and bitmap disagree. */
function damagedSlab(slab: number): AllocError {
  return new AllocError(
    "CORRUPT",
    `malloc: the slab at page ${slab} counts free objects its bitmap does not have (heap metadata damaged)`,
  );
}

/** Sets the slack of live object `index` of `slab` for a request of `size` bytes. */
export function setSlack(h: HeapCore, cls: number, slab: number, index: number, size: number): void {
  h.u16[slackIndex(trailerIndex(h, cls, slab), h.bitmapWords[cls]) + index] = h.size[cls] - size;
}
