/**
 * The options of `new Heap(memory, options)`, checked and resolved into a Layout (layout.ts).
 * Defaults: start 0, length to the end of the buffer, pageSize 4096, minAlign 16, and maxLength
 * (what the metadata is sized for, once) as HeapOptions documents it.
 */
import { AllocError, show } from "../errors.js";
import { computeLayout, type Layout, MAX_ADDRESS, validateGeometry } from "./layout.js";
import { canGrow, growLimit, type HeapMemory } from "./memory.js";
import { sizeClasses } from "./size-classes.js";
import type { HeapOptions } from "./types.js";

/** How many times its length a WebAssembly.Memory heap may grow to by default. */
export const WASM_DEFAULT_GROWTH = 8;

const safe = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/**
 * The layout of a new heap in `buffer` (the current buffer of `memory`).
 * @throws AllocError INVALID_ARGUMENT for a bad option or a range too small for its metadata.
 */
export function layoutFor(memory: HeapMemory, buffer: ArrayBufferLike, options: HeapOptions): Layout {
  const { start = 0, pageSize = 4096, minAlign = 16 } = options;
  validateGeometry(pageSize, minAlign);
  if (!safe(start) || start % 8 !== 0 || start >= buffer.byteLength) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `start must be a multiple of 8 inside the buffer, got ${show(start)}`,
    );
  }
  const length = options.length ?? buffer.byteLength - start;
  if (!safe(length) || start + length > buffer.byteLength) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `length ${show(length)} does not fit in the buffer after ${start}`,
    );
  }
  let maxLength = options.maxLength;
  if (maxLength === undefined) {
    const limit = growLimit(memory);
    if (options.length !== undefined || !canGrow(memory)) maxLength = length;
    else if (limit === null) {
      maxLength = Math.max(length, Math.min(MAX_ADDRESS - start, WASM_DEFAULT_GROWTH * length));
    } else maxLength = Math.max(length, Math.min(MAX_ADDRESS, limit) - start);
  }
  if (!safe(maxLength) || maxLength < length) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `maxLength must be at least length (${length}), got ${show(maxLength)}`,
    );
  }
  return computeLayout(
    start,
    length,
    maxLength,
    pageSize,
    minAlign,
    (order) => sizeClasses(pageSize, minAlign, order).count,
  );
}
