/**
 * The Heap's argument checks and error messages, kept out of the hot paths' file. Every check
 * runs before any state changes; see errors.ts for the codes.
 *
 * The rule for every argument: it is tested with `typeof` and comparisons that never convert
 * (so a BigInt, a Symbol, or an object whose `valueOf` throws gets INVALID_ARGUMENT, and none of
 * the caller's code runs), and it is named in a message of bounded length that reads views only
 * through the built-in getters. Pointers: a value that is not a safe non-negative integer is
 * INVALID_ARGUMENT; one that is, but is not a live allocation, is NOT_ALLOCATED.
 */
import { AllocError, showAddress, showCount } from "../errors.js";
import { isSafeNonNegative } from "../numbers.js";
import type { HeapCore } from "./core.js";
import { type BufferFacts, bufferFacts, isWasmMemory, WASM_PAGE } from "./memory.js";
import type { TypedArray, TypedArrayConstructor } from "./types.js";

/** True for a safe non-negative integer (no conversion of any kind): the library's one predicate (numbers.ts). */
export const safe = isSafeNonNegative;

// The built-in getters of views: they read the view's internal slots, so a subclass or an object
// that overrides `buffer`, `byteOffset` or `length` cannot lie to them (and no user code runs).
type Getter = (this: unknown) => unknown;
const TYPED = Object.getPrototypeOf(Int8Array.prototype) as object;
const getter = (proto: object, key: PropertyKey): Getter =>
  Object.getOwnPropertyDescriptor(proto, key)!.get as Getter;
const typedBuffer = getter(TYPED, "buffer");
const typedOffset = getter(TYPED, "byteOffset");
const typedBytes = getter(TYPED, "byteLength");
const typedName = getter(TYPED, Symbol.toStringTag);
const viewBuffer = getter(DataView.prototype, "buffer");
const viewOffset = getter(DataView.prototype, "byteOffset");
const viewBytes = getter(DataView.prototype, "byteLength");

/** The built-in typed-array constructors (Float16Array where the engine has it). */
const TYPED_ARRAYS = new Set<unknown>(
  [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    (globalThis as { Float16Array?: unknown }).Float16Array,
  ].filter((c) => c !== undefined),
);
/** How far up a subclass chain `elementBytes` looks for a built-in typed array. */
const MAX_SUBCLASS_DEPTH = 16;

/** `view`'s buffer, byte offset and byte length through the built-in getters (`view` is a view). */
export function viewParts(view: ArrayBufferView): { buffer: ArrayBufferLike; offset: number; bytes: number } {
  if (typedName.call(view) !== undefined) {
    return {
      buffer: typedBuffer.call(view) as ArrayBufferLike,
      offset: typedOffset.call(view) as number,
      bytes: typedBytes.call(view) as number,
    };
  }
  return {
    buffer: viewBuffer.call(view) as ArrayBufferLike,
    offset: viewOffset.call(view) as number,
    bytes: viewBytes.call(view) as number,
  };
}

/** A view's byte offset, read by the built-in getter (see `viewParts`). */
export function viewOffsetOf(view: ArrayBufferView): number {
  return viewParts(view).offset;
}

/** Names a count or size in a message (decimal; any value, none of its code run). */
export const count = showCount;
/** Names an address in a message (hex; any value, none of its code run). */
export const address = showAddress;

/** The INVALID_ARGUMENT error of `operation`, whose `what` was `value` (`hex`: an address). */
export function invalid(operation: string, what: string, value: unknown, hex = false): AllocError {
  return new AllocError(
    "INVALID_ARGUMENT",
    `${operation}: ${what}, got ${hex ? address(value) : count(value)}`,
  );
}

/**
 * Checks a request size against the heap's capacity (its page bytes at its largest).
 * @throws AllocError INVALID_ARGUMENT for a size that is not a safe integer in 0..capacity.
 */
export function checkSize(size: unknown, capacity: number, operation: string): asserts size is number {
  if (!(safe(size) && size <= capacity)) {
    throw invalid(operation, `size must be an integer in 0..${capacity}`, size);
  }
}

/**
 * Checks a pointer argument. @throws AllocError INVALID_ARGUMENT unless it is a safe
 * non-negative integer (whether it is live is the caller's business: NOT_ALLOCATED).
 */
export function checkPointer(ptr: unknown, operation: string): asserts ptr is number {
  if (!safe(ptr)) throw invalid(operation, "a pointer is a safe non-negative integer", ptr, true);
}

/**
 * The options object of `operation`: `{}` for undefined, else its own values of `names`, read
 * once each (a getter runs once; one that throws is INVALID_ARGUMENT).
 * @throws AllocError INVALID_ARGUMENT for null, a non-object, an array, a function.
 */
export function readOptions<K extends string>(
  options: unknown,
  names: readonly K[],
  operation: string,
): Partial<Record<K, unknown>> {
  const out: Partial<Record<K, unknown>> = {};
  if (options === undefined) return out;
  let array = true;
  try {
    array = Array.isArray(options);
  } catch {
    // a revoked Proxy: refused below
  }
  if (typeof options !== "object" || options === null || array) {
    throw invalid(operation, "options must be an object", options);
  }
  for (const name of names) {
    try {
      out[name] = (options as Record<string, unknown>)[name];
    } catch {
      throw new AllocError("INVALID_ARGUMENT", `${operation}: reading option ${name} threw`);
    }
  }
  return out;
}

/**
 * Bytes per element of a typed-array constructor: a built-in one, or a class that extends one
 * (its BYTES_PER_ELEMENT is the built-in's: a subclass cannot change its elements' size).
 * @throws AllocError INVALID_ARGUMENT for anything else.
 */
export function elementBytes(type: unknown, operation: string): number {
  let c: unknown = type;
  try {
    for (let depth = 0; typeof c === "function" && depth <= MAX_SUBCLASS_DEPTH; depth++) {
      if (TYPED_ARRAYS.has(c)) return (c as TypedArrayConstructor<TypedArray>).BYTES_PER_ELEMENT;
      c = Object.getPrototypeOf(c);
    }
  } catch {
    // a Proxy whose getPrototypeOf throws: refused below
  }
  throw invalid(operation, "needs a typed-array constructor (Float64Array, ...)", type);
}

/**
 * True when `view` is exactly `length` elements over `bytes` bytes at `ptr` of `buffer`: what a
 * typed-array constructor must have returned (checked through the built-in getters).
 */
export function isViewAt(view: unknown, buffer: ArrayBufferLike, ptr: number, bytes: number): boolean {
  if (!ArrayBuffer.isView(view) || typedName.call(view) === undefined) return false;
  const v = viewParts(view);
  return v.buffer === buffer && v.offset === ptr && v.bytes === bytes;
}

/**
 * The pointer of a typed-array view or DataView `view` to free. A view over the heap's own
 * buffer object names the allocation at its byteOffset. On a shared heap, a view over another
 * SharedArrayBuffer object may be the same memory (every worker has its own wrapper), and
 * nothing in JavaScript tells whether two wrappers share memory; it is accepted when what can
 * be checked agrees: the buffer is shared, of this heap's memory's length (for a shared
 * WebAssembly.Memory, a length the memory had: between the heap's first end and now, in whole
 * 64 KiB pages), as growable as this heap's buffer with the same maxByteLength, and the view
 * covers exactly a live allocation's requested bytes (as `allocArray` makes them). A view over
 * another SharedArrayBuffer of the same length that also matches a live allocation exactly
 * cannot be told apart.
 * @throws AllocError INVALID_ARGUMENT for anything else, or a view a growing Memory detached.
 */
export function pointerOf(h: HeapCore, shared: boolean, view: unknown): number {
  if (!ArrayBuffer.isView(view)) {
    throw invalid("free", "expected a pointer, null or a view of an allocation", view);
  }
  const v = viewParts(view);
  if (v.buffer === h.buffer) return v.offset;
  const theirs = bufferFacts(v.buffer);
  if (!shared || !theirs.shared) {
    if (isWasmMemory(h.memory) && theirs.byteLength === 0) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        "free: the view's buffer was detached when the memory grew; free its pointer instead",
      );
    }
    throw invalid("free", "the view is over another buffer", view);
  }
  if (!sameMemory(h, theirs)) {
    throw invalid("free", "the view is over another SharedArrayBuffer (its length differs)", view);
  }
  const kind = h.locate(v.offset); // -1: NOT_LIVE (core.ts; not imported, to keep the modules acyclic)
  if (kind === -1 || h.requestedSize(kind, v.offset) !== v.bytes) {
    throw invalid(
      "free",
      "a view over another SharedArrayBuffer object must cover exactly a live allocation (or free its pointer)",
      view,
    );
  }
  return v.offset;
}

/** Whether a buffer with `theirs` can be a wrapper of the heap's shared memory (see `pointerOf`). */
function sameMemory(h: HeapCore, theirs: BufferFacts): boolean {
  const mine = bufferFacts(h.buffer);
  if (isWasmMemory(h.memory)) {
    const n = theirs.byteLength;
    return n % WASM_PAGE === 0 && n >= h.layout.end && n <= mine.byteLength;
  }
  return (
    theirs.byteLength === mine.byteLength &&
    theirs.growable === mine.growable &&
    theirs.maxByteLength === mine.maxByteLength
  );
}

/** The NOT_ALLOCATED error for `ptr` (a safe non-negative integer), saying why it is not live. */
export function notLive(h: HeapCore, ptr: number, operation: string): AllocError {
  return new AllocError("NOT_ALLOCATED", `${operation}: ${address(ptr)} ${h.whyNotLive(ptr)}`);
}
