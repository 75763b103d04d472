/**
 * realloc's work, under the heap's lock: in place when the new size keeps the object's class,
 * or keeps, shrinks or (when the pages above are free) grows a large block's order; otherwise a
 * move: allocate, copy the smaller of the two requested sizes, free the old allocation.
 *
 * Growing a large block of order k in place to order k' needs the block to be aligned to the
 * larger size and the aligned blocks of orders k..k'-1 right above it to be free. Eager merging
 * makes that test exact: an aligned range is all free iff the free block holding its first page
 * has at least its order. The page allocator then frees the block and allocates it again at the
 * larger order at the same address (`allocAt`); it never touches the bytes, so they stay.
 */

import { orderForPages, pow2 } from "../page/order.js";
import type { HeapCore } from "./core.js";
import { LARGE, NOT_LIVE } from "./core.js";
import { TAG_LARGE } from "./layout.js";
import { setSlack, slabAlloc, slabFree } from "./slabs.js";

/** What `resize` returns when `ptr` is not a live allocation. */
export const RESIZE_NOT_LIVE = -1;

/**
 * Resizes the allocation at `ptr` to `size` (validated) bytes.
 * @returns its new pointer, null when there is no room (nothing changed), or RESIZE_NOT_LIVE.
 */
export function resize(h: HeapCore, ptr: number, size: number): number | null {
  const kind = h.locate(ptr);
  if (kind === NOT_LIVE) return RESIZE_NOT_LIVE;
  const page = h.locPage;
  const index = h.locIndex;
  const small = size <= h.maxSmall;
  if (kind >= 0 && small && h.bySize[(size + 7) >>> 3] === kind) {
    setSlack(h, kind, page, index, size);
    return ptr;
  }
  if (kind === LARGE && !small && resizeLarge(h, ptr, page, size)) return ptr;
  const keep = Math.min(h.requestedSize(kind, ptr), size);
  const moved = small ? slabAlloc(h, h.bySize[(size + 7) >>> 3], size) : (h.allocLarge(size, 1) ?? -1);
  if (moved < 0) return null;
  h.u8.copyWithin(moved, ptr, ptr + keep);
  if (kind >= 0) slabFree(h, kind, page, index);
  else h.freeLarge(ptr, page);
  return moved;
}

/** Resizes the large block at `ptr` (first page `page`) in place if it can. */
function resizeLarge(h: HeapCore, ptr: number, page: number, size: number): boolean {
  const pages = h.pages;
  const order = pages.orderOf(ptr);
  const want = orderForPages(Math.ceil(size / h.pageSize));
  const bytes = h.pageSize * pow2(want);
  if (want > order) {
    if (want > h.layout.maxOrder || ptr % bytes !== 0 || ptr + bytes > h.end) return false;
    for (let k = order; k < want; k++) {
      const b = pages.blockAt(ptr + h.pageSize * pow2(k));
      if (b === null || !b.free || b.order < k) return false;
    }
  }
  if (want !== order) {
    pages.free(ptr);
    pages.allocAt(ptr, pow2(want));
    pages.setTag(ptr, TAG_LARGE);
  }
  h.side[(page << 2) + 1] = size;
  return true;
}
