/**
 * Guard mode's heap paths (the checks and byte patterns are in guard.ts): allocation with a red
 * zone, free with its check and poison, and the red zones of every live allocation for `check()`.
 * Called under the heap's lock, only for heaps created with `guard: true`.
 */
import { type HeapCore, LARGE } from "./core.js";
import { armAllocation, checkRedZone, GUARD_BYTES, poison } from "./guard.js";
import { liveAllocationsOf } from "./inspect.js";
import { SIDE_SHIFT, SIDE_SIZE, TAG_LARGE, TAG_SLAB } from "./layout.js";
import { slabAlloc } from "./slabs.js";

/**
 * Allocates `size` bytes with at least GUARD_BYTES of red zone after them: from class `cls`
 * (chosen for size + GUARD_BYTES), or a large block when `cls` is negative.
 * @returns the pointer, or null when there is no room.
 * @throws AllocError CORRUPT when the memory handed out was written after it was freed.
 */
export function guardedAlloc(h: HeapCore, cls: number, size: number, align: number): number | null {
  let ptr: number;
  let usable: number;
  const tag = cls < 0 ? TAG_LARGE : TAG_SLAB + cls;
  if (cls < 0) {
    const p = h.allocLarge(size + GUARD_BYTES, align);
    if (p === null) return null;
    ptr = p;
    h.side[(h.pageOf(p) << SIDE_SHIFT) + SIDE_SIZE] = size; // what was asked, not the red zone
    usable = h.pages.sizeOf(p);
  } else {
    ptr = slabAlloc(h, cls, size);
    if (ptr < 0) return null;
    usable = h.size[cls];
  }
  armAllocation(h.u8, ptr, size, usable, tag);
  return ptr;
}

/**
 * Checks the red zone of the live allocation at `ptr` that `locate` classified as `kind` (its
 * class, or LARGE), then poisons its bytes; the caller frees it.
 * @throws AllocError CORRUPT naming the allocation when it was written past its end.
 */
export function guardedFree(h: HeapCore, kind: number, ptr: number): void {
  const size = h.requestedSize(kind, ptr);
  const usable = h.usableSize(kind, ptr);
  checkRedZone(h.u8, ptr, size, usable, kind === LARGE ? TAG_LARGE : TAG_SLAB + kind);
  poison(h.u8, ptr, usable);
}

/** Checks the red zone of every live allocation. @throws AllocError CORRUPT naming the first overflowed one. */
export function checkGuards(h: HeapCore): void {
  for (const a of liveAllocationsOf(h)) {
    const kind = h.locate(a.ptr);
    checkRedZone(h.u8, a.ptr, a.size, h.usableSize(kind, a.ptr), a.tag);
  }
}
