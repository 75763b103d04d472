/**
 * Exact runs beyond a single free block: growing a run in place over the free pages after it,
 * and the search for a run spread over several adjacent free blocks.
 *
 * Both rely on one fact of eager merging: the page after the end of any allocation is the first
 * page of a block (a block containing it and starting earlier would contain the allocation's last
 * page too). So the free memory after a page is a chain of free blocks, each starting where the
 * one before ends, and it is walked block by block, not page by page. The walks go by slot: the
 * pages of contiguous memory are consecutive slots, and `slotAfter` says where memory stops.
 *
 * Costs. `growRun` is O(blocks it claims + maxOrder). `findRun` runs only when no single free
 * block can hold the run: it looks at every free block once, skips those that are not the first
 * of their stretch of adjacent free blocks (O(maxOrder) each), and walks each stretch once:
 * O(free blocks * maxOrder) when nothing fits.
 */
import { type ConstrainedTarget, takeAligned, takeBelow } from "./constrained.js";
import { pow2 } from "./order.js";
import { FREE, ORDER_MASK, type PageMap } from "./page-map.js";

/** Free pages in the chain of free blocks starting at slot `slot`, counted until `enough`. */
function freePagesFrom(map: PageMap, slot: number, enough: number): number {
  let pages = 0;
  while (pages < enough && slot >= 0) {
    const state = map.state[slot];
    if ((state & FREE) === 0) break; // allocated, or not managed
    const n = pow2(state & ORDER_MASK);
    pages += n;
    slot = map.slotAfter(slot, n);
  }
  return pages;
}

/**
 * Takes the free pages [from, from + count) (slots) out of the free set. `first` is the slot of
 * a free block at or before `from` whose chain of free blocks covers the range. The blocks that
 * overlap the range are unlinked; their parts outside it go back as maximal aligned blocks.
 */
function claimFree(map: PageMap, first: number, from: number, count: number): void {
  const end = from + count;
  let slot = first;
  while (slot < end) {
    const k = map.state[slot] & ORDER_MASK;
    const next = slot + pow2(k); // contiguous: the caller walked this chain
    if (next > from) {
      map.unlink(slot, k);
      map.state[slot] = 0;
      // The parts of this block outside the range are a prefix or a suffix of an aligned free
      // block: they go back as its maximal aligned blocks, which merge with nothing.
      if (slot < from) map.pushPrefix(slot, k, from - slot);
      if (next > end) map.pushSuffix(slot, k, end - slot);
    }
    slot = next;
  }
}

/**
 * Takes a run of `count` pages (validated; `order` holds it) aligned to 2^alignOrder pages and
 * ending at or below `limit` (bytes): the smallest free block of at least `order` that meets the
 * constraints, its tail freed, in O(maxOrder); only when there is none, a search across
 * adjacent free blocks (`findRun`). @returns its slot, allocated with `tag`, or -1.
 */
export function takeRun(
  a: ConstrainedTarget,
  count: number,
  order: number,
  alignOrder: number,
  limit: number | undefined,
  tag: number,
): number {
  const map = a.map;
  let slot: number;
  if (limit === undefined && alignOrder <= order) slot = map.take(order, tag);
  else if (limit === undefined) slot = takeAligned(a, order, alignOrder);
  else slot = takeBelow(a, order, alignOrder, limit);
  if (slot >= 0) map.trimRun(slot, order, count);
  else {
    slot = findRun(a, count, pow2(alignOrder), limit ?? Number.POSITIVE_INFINITY);
    if (slot < 0) return -1;
    map.setRun(slot, count);
  }
  map.setTag(slot, tag);
  return slot;
}

/**
 * Resizes the live allocation at `slot` (a block or a run) to `count` pages (validated) in place;
 * it is a run afterwards. @returns false, changing nothing, when it would grow over pages that
 * are not free.
 */
export function resizeRun(a: ConstrainedTarget, slot: number, count: number): boolean {
  const map = a.map;
  const old = map.pagesOf(slot);
  if (count === old) return true;
  if (count > old) return growRun(a, slot, old, count);
  map.setRun(slot, count);
  map.releasePages(slot + count, old - count);
  return true;
}

/**
 * Grows the live allocation at `slot` from `old` to `count` pages in place, if the pages after
 * it are free; it becomes (or stays) a run. @returns false, changing nothing, when they are not.
 */
function growRun(a: ConstrainedTarget, slot: number, old: number, count: number): boolean {
  const map = a.map;
  const from = map.slotAfter(slot, old);
  const need = count - old;
  if (from < 0 || freePagesFrom(map, from, need) < need) return false;
  claimFree(map, from, from, need);
  map.setRun(slot, count);
  return true;
}

/**
 * Takes the `count` pages at `address` (page-aligned) as a run when all of them are free: the
 * free block holding `address` is found by climbing its aligned candidates (free blocks are
 * aligned), then the chain of free blocks from it must cover the run. O(maxOrder + blocks).
 * @returns the run's slot (state and tag are the caller's to set), or -1 when a page is not free.
 */
export function takeRunAt(a: ConstrainedTarget, address: number, count: number): number {
  const map = a.map;
  for (let k = 0; k <= a.maxOrder; k++) {
    const bytes = a.pageSize * pow2(k);
    const head = Math.floor(address / bytes) * bytes;
    const slot = a.slotOf(head);
    if (slot < 0) return -1;
    const state = map.state[slot];
    if (state === 0) continue;
    if ((state & FREE) === 0 || head + pow2(state & ORDER_MASK) * a.pageSize <= address) return -1;
    const skip = (address - head) / a.pageSize;
    if (freePagesFrom(map, slot, skip + count) < skip + count) return -1;
    claimFree(map, slot, slot + skip, count);
    return slot + skip;
  }
  return -1;
}

/** True when the page before the free block at `address` is free: it is not a stretch's first block. */
function followsFreePage(a: ConstrainedTarget, address: number): boolean {
  const page = address / a.pageSize;
  for (let k = 0; k <= a.maxOrder && page % pow2(k) === 0 && page >= pow2(k); k++) {
    const slot = a.slotOf(address - pow2(k) * a.pageSize);
    if (slot >= 0 && a.map.state[slot] === (FREE | k)) return true;
  }
  return false;
}

/**
 * Finds `count` contiguous free pages starting at a multiple of `alignPages` pages and ending at
 * or below `limit` (bytes), anywhere, across as many adjacent free blocks as it takes, and takes
 * them as a run: the lowest aligned start of the first stretch of free pages that has room.
 * @returns the run's slot (state and tag are the caller's to set), or -1 when no such run exists.
 */
export function findRun(a: ConstrainedTarget, count: number, alignPages: number, limit: number): number {
  const map = a.map;
  for (let order = 0; order <= a.maxOrder; order++) {
    for (let slot = map.head(order); slot >= 0; slot = map.nextOf(slot)) {
      const address = a.addressOf(slot);
      if (followsFreePage(a, address)) continue;
      const page = address / a.pageSize;
      const start = Math.ceil(page / alignPages) * alignPages;
      const need = start - page + count;
      if ((start + count) * a.pageSize > limit) continue;
      if (freePagesFrom(map, slot, need) >= need) {
        claimFree(map, slot, slot + (start - page), count);
        return slot + (start - page);
      }
    }
  }
  return -1;
}
