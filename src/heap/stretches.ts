/**
 * The heap's placement index: every maximal stretch of free pages, in segregated lists by length
 * (TLSF's two-level index, over pages). The heap places every large run and every slab through
 * it (good fit: the first stretch of the smallest class whose every member is long enough), then
 * takes exactly those pages from the page allocator (`allocAt`). The page allocator's buddy
 * lists see the same free pages; this index only decides where. A run placed by length, not by
 * buddy order, leaves holes that later requests can fill: that is what lets exact runs use the
 * memory they free.
 *
 * Records, in the side table (relative page indices; layout.ts, SIDE_*):
 *   first page p of a stretch of L pages: [4p] = (p << 8) | FREE_KIND, [4p+1] = L,
 *                                         [4p+2] = next stretch of its class or -1, [4p+3] = previous or -1
 *   last page p + L - 1, when L > 1:      [4(p+L-1)] = (p << 8) | FREE_KIND, the rest 0
 *   every other page of the stretch:      all four words 0
 * So the stretch that ends just before a page, or starts at it, is found in O(1): freeing
 * coalesces with both neighbours at once.
 *
 * Index, FIT_WORDS Int32 words in the buffer after the class heads:
 *   [0]                       bit f set iff first level f has a non-empty class
 *   [1 + f]                   bit s set iff class (f, s) is non-empty
 *   [1 + FIT_LEVELS + c]      head of class c = f * FIT_SUB + s, or -1
 * Class of a length L: L itself below FIT_SUB (one class per length); above, f = log2(L) - 2 and
 * s = the FIT_SUB_LOG2 bits below L's top bit, so a class spans at most 1/8 of its lengths.
 */
import { AllocError } from "../errors.js";
import type { HeapCore } from "./core.js";
import { FIT_LEVELS, FIT_SUB, FIT_SUB_LOG2, FIT_WORDS, FREE_KIND } from "./layout.js";

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

// The index's sizes and FREE_KIND are in layout.ts, with every other byte of the heap's layout.
export { FIT_WORDS, FREE_KIND };

/** The class of a stretch of `pages` pages (>= 1). */
export function classOf(pages: number): number {
  if (pages < FIT_SUB) return pages;
  const top = 31 - Math.clz32(pages);
  return ((top - FIT_SUB_LOG2 + 1) << FIT_SUB_LOG2) | ((pages >>> (top - FIT_SUB_LOG2)) & (FIT_SUB - 1));
}

/** The smallest class whose every stretch holds at least `pages` pages. */
function classAtLeast(pages: number): number {
  if (pages < FIT_SUB) return pages;
  const top = 31 - Math.clz32(pages);
  return classOf(pages + (1 << (top - FIT_SUB_LOG2)) - 1);
}

/** Empties the index (a new heap: no stretch yet). */
export function clearIndex(h: HeapCore): void {
  h.i32.fill(0, h.fitBase, h.fitBase + 1 + FIT_LEVELS);
  h.i32.fill(-1, h.fitBase + 1 + FIT_LEVELS, h.fitBase + FIT_WORDS);
}

/** Lists free stretch [p, p + pages) (its neighbours are not free). */
function insert(h: HeapCore, p: number, pages: number): void {
  const side = h.side;
  const i32 = h.i32;
  const c = classOf(pages);
  const at = h.fitBase + 1 + FIT_LEVELS + c;
  const head = i32[at];
  side[(p << SideShift.PAGE) + Side.OWNER] = (p << 8) | FREE_KIND;
  side[(p << SideShift.PAGE) + Side.SIZE] = pages;
  side[(p << SideShift.PAGE) + Side.NEXT] = head;
  side[(p << SideShift.PAGE) + Side.PREV] = -1;
  if (head >= 0) side[(head << SideShift.PAGE) + Side.PREV] = p;
  i32[at] = p;
  const f = c >>> FIT_SUB_LOG2;
  i32[h.fitBase + 1 + f] |= 1 << (c & (FIT_SUB - 1));
  i32[h.fitBase] |= 1 << f;
  if (pages > 1) side[((p + pages - 1) << SideShift.PAGE) + Side.OWNER] = (p << 8) | FREE_KIND;
}

/** Unlists the stretch starting at `p` and clears its records. @returns its length. */
function remove(h: HeapCore, p: number): number {
  const side = h.side;
  const i32 = h.i32;
  const pages = side[(p << SideShift.PAGE) + Side.SIZE];
  const c = classOf(pages);
  const next = side[(p << SideShift.PAGE) + Side.NEXT];
  const prev = side[(p << SideShift.PAGE) + Side.PREV];
  if (prev >= 0) side[(prev << SideShift.PAGE) + Side.NEXT] = next;
  else {
    i32[h.fitBase + 1 + FIT_LEVELS + c] = next;
    if (next < 0) {
      const f = c >>> FIT_SUB_LOG2;
      const bits = i32[h.fitBase + 1 + f] & ~(1 << (c & (FIT_SUB - 1)));
      i32[h.fitBase + 1 + f] = bits;
      if (bits === 0) i32[h.fitBase] &= ~(1 << f);
    }
  }
  if (next >= 0) side[(next << SideShift.PAGE) + Side.PREV] = prev;
  side[(p << SideShift.PAGE) + Side.OWNER] = 0;
  side[(p << SideShift.PAGE) + Side.SIZE] = 0;
  side[(p << SideShift.PAGE) + Side.NEXT] = 0;
  side[(p << SideShift.PAGE) + Side.PREV] = 0;
  if (pages > 1) side[((p + pages - 1) << SideShift.PAGE) + Side.OWNER] = 0;
  return pages;
}

/** True when a free stretch starts at page `p`. */
function startsStretch(h: HeapCore, p: number): boolean {
  const owner = h.side[(p << SideShift.PAGE) + Side.OWNER];
  return (owner & 255) === FREE_KIND && owner >>> 8 === p;
}

/** Pages of the free stretch starting at `p`, or 0 when none starts there. */
export function stretchAt(h: HeapCore, p: number): number {
  return p < h.pageCount && startsStretch(h, p) ? h.side[(p << SideShift.PAGE) + Side.SIZE] : 0;
}

/** Pages [p, p + pages) became free: lists them, merged with the free stretches on both sides. */
export function releaseStretch(h: HeapCore, p: number, pages: number): void {
  const side = h.side;
  if (p > 0) {
    const before = side[((p - 1) << SideShift.PAGE) + Side.OWNER];
    if ((before & 255) === FREE_KIND) {
      const start = before >>> 8;
      pages += remove(h, start);
      p = start;
    }
  }
  const end = p + pages;
  if (end < h.pageCount && startsStretch(h, end)) pages += remove(h, end);
  insert(h, p, pages);
}

/** First page at or after relative page `p` whose address is a multiple of `alignPages` pages. */
function alignedFrom(h: HeapCore, p: number, alignPages: number): number {
  const absolute = h.firstPageNumber + p;
  return Math.ceil(absolute / alignPages) * alignPages - h.firstPageNumber;
}

/**
 * A free stretch that holds `pages` pages starting at a multiple of `alignPages` pages: the first
 * of the smallest class sure to hold them (O(1)); failing that, a walk of the classes that may
 * (only when memory is nearly out), so -1 means no stretch holds them.
 * @returns the stretch's first page, or -1.
 */
export function fitStretch(h: HeapCore, pages: number, alignPages: number): number {
  const i32 = h.i32;
  const want = pages + alignPages - 1;
  let c = classAtLeast(want);
  let f = c >>> FIT_SUB_LOG2;
  if (f < FIT_LEVELS) {
    let bits = i32[h.fitBase + 1 + f] & (-1 << (c & (FIT_SUB - 1)));
    if (bits === 0) {
      const levels = f + 1 < 32 ? i32[h.fitBase] & (-1 << (f + 1)) : 0;
      if (levels !== 0) {
        f = 31 - Math.clz32(levels & -levels);
        bits = i32[h.fitBase + 1 + f];
      }
    }
    if (bits !== 0) {
      c = (f << FIT_SUB_LOG2) | (31 - Math.clz32(bits & -bits));
      return i32[h.fitBase + 1 + FIT_LEVELS + c];
    }
  }
  // Bounded: no list holds more stretches than there are pages, so a longer walk is a loop.
  let guard = h.pageCount;
  for (let k = classOf(pages); k <= Math.min(c, FIT_LEVELS * FIT_SUB - 1); k++) {
    for (let p = i32[h.fitBase + 1 + FIT_LEVELS + k]; p >= 0; p = h.side[(p << SideShift.PAGE) + Side.NEXT]) {
      if (--guard < 0)
        throw new AllocError("CORRUPT", `free-stretch list ${k} loops (heap metadata damaged)`);
      if (alignedFrom(h, p, alignPages) + pages <= p + h.side[(p << SideShift.PAGE) + Side.SIZE]) return p;
    }
  }
  return -1;
}

/** The page where a run of `alignPages` alignment starts in the stretch `fitStretch` returned. */
export function placeIn(h: HeapCore, stretch: number, alignPages: number): number {
  return alignPages === 1 ? stretch : alignedFrom(h, stretch, alignPages);
}

/**
 * Takes pages [p, p + pages) out of the free stretch starting at `stretch` (which holds them);
 * what is left on either side stays listed.
 */
export function takeStretch(h: HeapCore, stretch: number, p: number, pages: number): void {
  const length = remove(h, stretch);
  if (p > stretch) insert(h, stretch, p - stretch);
  const end = p + pages;
  if (end < stretch + length) insert(h, end, stretch + length - end);
}

/**
 * Counts the stretches in the index's lists for `stats`, reading only heads and next links, and
 * stops past `limit` (a list that loops, or holds more than exist). @returns the count.
 */
export function countListed(h: HeapCore, limit: number): number {
  let n = 0;
  for (let c = 0; c < FIT_LEVELS * FIT_SUB; c++) {
    for (
      let p = h.i32[h.fitBase + 1 + FIT_LEVELS + c];
      p >= 0;
      p = h.side[(p << SideShift.PAGE) + Side.NEXT]
    ) {
      if (++n > limit) return n;
    }
  }
  return n;
}

/**
 * Verifies the index against `stretches` (first page -> length: the maximal runs of free pages,
 * as `check` found them in the page allocator): every class list holds exactly the stretches of
 * its class, each once, with sound back links and -1 at its end; an empty class's head is -1;
 * and the bitmap words are exactly those the non-empty classes give. Bounded: a list that loops
 * meets a stretch already listed. @returns null, or what is wrong.
 */
export function checkIndex(h: HeapCore, stretches: Map<number, number>): string | null {
  const i32 = h.i32;
  const side = h.side;
  const listed = new Set<number>();
  let top = 0;
  for (let f = 0; f < FIT_LEVELS; f++) {
    let bits = 0;
    for (let s = 0; s < FIT_SUB; s++) {
      const c = (f << FIT_SUB_LOG2) | s;
      let previous = -1;
      for (
        let p = i32[h.fitBase + 1 + FIT_LEVELS + c];
        p !== -1;
        p = side[(p << SideShift.PAGE) + Side.NEXT]
      ) {
        const pages = stretches.get(p);
        if (pages === undefined)
          return `free-stretch list ${c} holds page ${p}, which starts no free stretch`;
        if (classOf(pages) !== c) return `a free stretch of ${pages} pages is in list ${c}`;
        if (listed.has(p)) return `free stretch at page ${p} is listed twice (or its list loops)`;
        if (side[(p << SideShift.PAGE) + Side.PREV] !== previous)
          return `free stretch at page ${p} has a broken back link`;
        listed.add(p);
        previous = p;
      }
      if (previous !== -1) bits |= 1 << s;
    }
    if (i32[h.fitBase + 1 + f] !== bits)
      return `free-stretch bitmap ${f} is ${i32[h.fitBase + 1 + f]}, lists say ${bits}`;
    if (bits !== 0) top |= 1 << f;
  }
  if (i32[h.fitBase] !== top) return `free-stretch top bitmap is ${i32[h.fitBase]}, lists say ${top}`;
  if (listed.size !== stretches.size) return `${stretches.size - listed.size} free stretches are in no list`;
  return null;
}
