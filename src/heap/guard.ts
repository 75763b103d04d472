/**
 * Guard mode (`new Heap(memory, { guard: true })`): finds the two bugs that code writing bytes
 * by hand makes most, after the fact but at the next heap call that can see them.
 *
 * - Overflow. Every allocation gets at least GUARD_BYTES more than asked, and every byte after
 *   the requested size up to its usable size (class or run) is a red zone holding RED. `free`,
 *   `realloc` and `check()` verify it (AddressSanitizer's red zones; Vulkan Memory Allocator's
 *   margins with a magic value).
 * - Write after free. Freed memory is filled with POISON (so is every page of a new or grown
 *   guarded heap), and the poison is verified when the memory is handed out again.
 * A report is an AllocError CORRUPT naming the allocation: its pointer, requested size and tag,
 * and the offset of the first wrong byte. With guard off none of this runs: the heap's fast
 * paths see a guarded heap as one whose fast limits are 0, and only the slow paths branch.
 */
import { AllocError, show } from "../errors.js";

/** Red-zone bytes every guarded allocation gets at least, after its requested size. */
export const GUARD_BYTES = 16;
/** The byte a red zone holds. */
export const RED = 0xfd;
/** The byte freed memory holds. */
export const POISON = 0xdd;

/** Offset of the first byte of `u8[from, to)` that is not `value`, or -1. */
function firstNot(u8: Uint8Array, from: number, to: number, value: number): number {
  for (let i = from; i < to; i++) if (u8[i] !== value) return i;
  return -1;
}

/** Eight POISON bytes read as one float64 (a finite number, so `!==` compares its bits). */
const POISON_WORD = new Float64Array(new Uint8Array(8).fill(0xdd).buffer)[0];

/**
 * `firstNot(u8, from, to, POISON)`, eight bytes at a time over the 8-aligned middle: a freed
 * large block is checked whole every time it is handed out again.
 */
function firstNotPoison(u8: Uint8Array, from: number, to: number): number {
  const lo = (from + 7) & ~7;
  const hi = to & ~7;
  if (hi - lo < 64 || u8.byteOffset !== 0) return firstNot(u8, from, to, POISON);
  const head = firstNot(u8, from, lo, POISON);
  if (head >= 0) return head;
  const words = new Float64Array(u8.buffer, lo, (hi - lo) >>> 3);
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== POISON_WORD) return firstNot(u8, lo + i * 8, lo + i * 8 + 8, POISON);
  }
  return firstNot(u8, hi, to, POISON);
}

/**
 * Hands out `usable` bytes at `ptr` for a request of `size` (an allocation tagged `tag`): checks
 * that they still hold the poison of freed memory, then fills the red zone after `size`.
 * @throws AllocError CORRUPT when a freed byte was written (a write after free).
 */
export function armAllocation(u8: Uint8Array, ptr: number, size: number, usable: number, tag: number): void {
  const bad = firstNotPoison(u8, ptr, ptr + usable);
  if (bad >= 0) {
    throw new AllocError(
      "CORRUPT",
      `write after free: byte ${show(bad)} of freed memory changed, found handing out the allocation ` +
        `at ${show(ptr)} of ${size} bytes (tag ${tag})`,
    );
  }
  u8.fill(RED, ptr + size, ptr + usable);
}

/**
 * Checks the red zone of the live allocation at `ptr` (`size` requested, `usable` held, `tag`).
 * @throws AllocError CORRUPT naming the allocation when a byte past its end was written.
 */
export function checkRedZone(u8: Uint8Array, ptr: number, size: number, usable: number, tag: number): void {
  const bad = firstNot(u8, ptr + size, ptr + usable, RED);
  if (bad >= 0) {
    throw new AllocError(
      "CORRUPT",
      `heap overflow: the allocation at ${show(ptr)} of ${size} bytes (tag ${tag}) was written ` +
        `${bad - ptr - size + 1} byte(s) past its end, at ${show(bad)}`,
    );
  }
}

/** Fills the `usable` bytes of a freed allocation at `ptr` with POISON. */
export function poison(u8: Uint8Array, ptr: number, usable: number): void {
  u8.fill(POISON, ptr, ptr + usable);
}
