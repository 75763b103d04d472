/**
 * The options of `new Heap(memory, options)`, checked and resolved into a Layout (layout.ts).
 * Defaults: start 0, length to the end of the buffer, pageSize 4096, minAlign 16, and maxLength
 * (what the metadata is sized for, once) as HeapOptions documents it.
 */
import { computeLayout, type Layout, MAX_ADDRESS, validateGeometry } from "./layout.js";
import { canGrow, growLimit, type HeapMemory } from "./memory.js";
import { MAX_THREADS } from "./threads.js";
import type { HeapOptions } from "./types.js";
import { invalid, safe } from "./validate.js";

/** How many times its length a WebAssembly.Memory heap may grow to by default. */
export const WASM_DEFAULT_GROWTH = 8;

/** The constructor's options as `readOptions` read them: any values, not yet checked. */
export type RawHeapOptions = { [K in keyof HeapOptions]?: unknown };

/** The names of the constructor's options. */
export const HEAP_OPTIONS = [
  "start",
  "length",
  "maxLength",
  "pageSize",
  "minAlign",
  "guard",
  "threads",
] as const;

/** Thread slots of a heap on shared memory, unless the `threads` option says otherwise. */
export const DEFAULT_THREADS = 64;

/**
 * The layout of a new heap in `buffer` (the current buffer of `memory`). Only `undefined` means
 * an option's default; every value is tested without conversion.
 * @throws AllocError INVALID_ARGUMENT for a bad option or a range too small for its metadata.
 */
export function layoutFor(
  memory: HeapMemory,
  buffer: ArrayBufferLike,
  options: RawHeapOptions,
  shared: boolean,
): Layout {
  const start = options.start === undefined ? 0 : options.start;
  const pageSize = options.pageSize === undefined ? 4096 : options.pageSize;
  const minAlign = options.minAlign === undefined ? 16 : options.minAlign;
  validateGeometry(pageSize, minAlign);
  if (!safe(start) || start % 8 !== 0 || start >= buffer.byteLength) {
    throw invalid("new Heap", "start must be a multiple of 8 inside the buffer", start);
  }
  const length = options.length === undefined ? buffer.byteLength - start : options.length;
  if (!safe(length) || start + length > buffer.byteLength) {
    throw invalid("new Heap", `length must fit in the buffer after ${start}`, length);
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
    throw invalid("new Heap", `maxLength must be an integer of at least length (${length})`, maxLength);
  }
  const guard = options.guard === true;
  const threads = options.threads === undefined ? (shared && !guard ? DEFAULT_THREADS : 0) : options.threads;
  if (!safe(threads) || threads > MAX_THREADS) {
    throw invalid("new Heap", `threads must be an integer in 0..${MAX_THREADS}`, threads);
  }
  if (guard && threads > 0)
    throw invalid("new Heap", "a guard-mode heap has no thread slots: threads must be 0", threads);
  return computeLayout(start, length, maxLength, pageSize as number, minAlign as number, threads);
}
