/**
 * realloc's work, under the heap's lock: in place when the new size keeps the object's class,
 * or when a large block's run can shrink (its tail is freed) or grow (the pages right after it
 * are free: the page allocator's `resize`, which never touches the bytes); otherwise a move:
 * allocate, copy the smaller of the old usable size and the new size, free the old allocation.
 */

import { pow2 } from "../page/order.js";
import type { HeapCore } from "./core.js";
import { LARGE, NOT_LIVE } from "./core.js";
import { LARGE_KIND, SIDE_OWNER, SIDE_SHIFT, SIDE_SIZE } from "./layout.js";
import { freeObject, setSlack, slabAlloc } from "./slabs.js";
import { releaseStretch, stretchAt, takeStretch } from "./stretches.js";
import { OP_NONE, OP_RESIZE } from "./threads.js";

/** What `resize` returns when `ptr` is not a live allocation. */
export const RESIZE_NOT_LIVE = -1;

/**
 * Resizes the allocation at `ptr` to `size` (validated) bytes.
 * @returns its new pointer, null when there is no room (nothing changed), or RESIZE_NOT_LIVE.
 */
export function resize(h: HeapCore, ptr: number, size: number): number | null {
  const kind = h.locate(ptr);
  if (kind === NOT_LIVE) return RESIZE_NOT_LIVE;
  const page = kind === LARGE ? h.pageOf(ptr) : h.slabOf(ptr);
  const index = kind >= 0 ? h.objectIndex(kind, ptr) : 0;
  const small = size <= h.maxSmall;
  if (kind >= 0 && small && h.bySize[(size + 7) >>> 3] === kind) {
    setSlack(h, kind, page, index, size);
    return ptr;
  }
  if (kind === LARGE && !small && resizeLarge(h, ptr, page, size)) return ptr;
  // Up to the old usable size (its class or pages), not the recorded request: the bytes past the
  // request cost little to copy, and the copy then depends on no value `check` cannot verify.
  const keep = Math.min(h.usableSize(kind, ptr), size);
  const moved = small ? slabAlloc(h, h.bySize[(size + 7) >>> 3], size) : (h.allocLarge(size, 1) ?? -1);
  if (moved < 0) return null;
  h.u8.copyWithin(moved, ptr, ptr + keep);
  // Another thread may have freed it meanwhile (threaded heaps: a double free): undo the move.
  const freed = kind >= 0 ? freeObject(h, kind, page, index) : h.freeLarge(ptr, page);
  if (freed) return moved;
  const k = h.locate(moved);
  if (k >= 0) freeObject(h, k, h.slabOf(moved), h.objectIndex(k, moved));
  else if (k === LARGE) h.freeLarge(moved, h.pageOf(moved));
  return RESIZE_NOT_LIVE;
}

/**
 * Resizes the large block at `ptr` (first page `page`) in place if it can: its run shrinks by
 * freeing its tail, or grows over the free pages right after it.
 */
function resizeLarge(h: HeapCore, ptr: number, page: number, size: number): boolean {
  const count = Math.ceil(size / h.pageSize);
  if (count > pow2(h.layout.maxOrder)) return false;
  h.pageLock();
  try {
    if (h.side[(page << SIDE_SHIFT) + SIDE_OWNER] !== ((page << 8) | LARGE_KIND)) return false; // freed meanwhile: the move path says so
    const old = h.pages.sizeOf(ptr) >>> h.pageShift;
    if (count > old && stretchAt(h, page + old) < count - old) return false;
    h.record(OP_RESIZE, page, Math.max(count, old), h.side[(page << SIDE_SHIFT) + SIDE_SIZE]);
    if (count > old) takeStretch(h, page + old, page + old, count - old);
    h.pages.resize(ptr, count);
    if (count < old) releaseStretch(h, page + count, old - count);
    h.side[(page << SIDE_SHIFT) + SIDE_SIZE] = size;
    h.record(OP_NONE);
    return true;
  } finally {
    h.pageUnlock();
  }
}
