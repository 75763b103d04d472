/**
 * Exact runs beyond a single free block: growing a run in place over the free pages after it,
 * and the search for a run spread over several adjacent free blocks.
 *
 * Both rely on one fact of eager merging: the page after the end of any allocation is the first
 * page of a block (a block containing it and starting earlier would contain the allocation's last
 * page too). So the free memory after a page is a chain of free blocks, each starting where the
 * one before ends, and it is walked block by block, not page by page. Addresses are bytes; the
 * walks go through `slotOf`, which also answers whether the memory continues (sections).
 *
 * Costs. `growRun` is O(blocks it claims + maxOrder). `findRun` runs only when no single free
 * block can hold the run: it looks at every free block once, skips those that are not the first
 * of their stretch of adjacent free blocks (O(maxOrder) each), and walks each stretch once:
 * O(free blocks * maxOrder) when nothing fits.
 */
import type { ConstrainedTarget } from "./constrained.js";
import { pow2 } from "./order.js";
import { FREE, ORDER_MASK } from "./page-map.js";

/** Free pages in the chain of free blocks starting at `address` (bytes), counted until `enough`. */
function freePagesFrom(a: ConstrainedTarget, address: number, enough: number): number {
  const map = a.map;
  let pages = 0;
  while (pages < enough) {
    const slot = a.slotOf(address);
    if (slot < 0) break;
    const state = map.state[slot];
    if ((state & FREE) === 0) break; // allocated, or not managed
    const n = pow2(state & ORDER_MASK);
    pages += n;
    address += n * a.pageSize;
  }
  return pages;
}

/**
 * Takes the free pages [from, from + count pages) out of the free set. `first` is the start of
 * a free block at or before `from` whose chain of free blocks covers the range. The blocks that
 * overlap the range are unlinked; their parts outside it go back as maximal aligned blocks.
 * @returns the slot of `from`, whose state the caller sets.
 */
function claimFree(a: ConstrainedTarget, first: number, from: number, count: number): number {
  const map = a.map;
  const end = from + count * a.pageSize;
  let address = first;
  let headStart = -1;
  while (address < end) {
    const slot = a.slotOf(address);
    const k = map.state[slot] & ORDER_MASK;
    const next = address + pow2(k) * a.pageSize;
    if (next > from) {
      if (headStart < 0) headStart = address;
      map.unlink(slot, k);
      map.state[slot] = 0;
    }
    address = next;
  }
  const fromSlot = a.slotOf(from);
  if (headStart < from) map.releasePages(a.slotOf(headStart), (from - headStart) / a.pageSize);
  if (address > end) map.releasePages(a.slotOf(end), (address - end) / a.pageSize);
  return fromSlot;
}

/**
 * Grows the live allocation at `slot` from `old` to `count` pages in place, if the pages after
 * it are free; it becomes (or stays) a run. @returns false, changing nothing, when they are not.
 */
export function growRun(a: ConstrainedTarget, slot: number, old: number, count: number): boolean {
  const from = a.addressOf(slot) + old * a.pageSize;
  const need = count - old;
  if (freePagesFrom(a, from, need) < need) return false;
  claimFree(a, from, from, need);
  a.map.setRun(slot, count);
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
    const need = (address - head) / a.pageSize + count;
    if (freePagesFrom(a, head, need) < need) return -1;
    return claimFree(a, head, address, count);
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
      if (freePagesFrom(a, address, need) >= need) {
        return claimFree(a, address, start * a.pageSize, count);
      }
    }
  }
  return -1;
}
