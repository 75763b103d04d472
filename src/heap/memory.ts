/**
 * The memory a heap lives in: an ArrayBuffer (fixed or resizable), a SharedArrayBuffer (fixed or
 * growable) or a WebAssembly.Memory. A Memory's buffer object is replaced when it grows (and a
 * non-shared one's old buffer is detached), so a heap always asks for the current one.
 */
import { AllocError } from "../errors.js";

/**
 * The parts of a `WebAssembly.Memory` the public types name. Structural, so that the declarations
 * compile without the DOM lib or @types/node (a Node project with `lib: ["ES2022"]` has no
 * `WebAssembly` namespace); at run time only a real `WebAssembly.Memory` is accepted.
 */
export interface WasmMemoryLike {
  /** The memory's current buffer; a new object after every `grow`. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /**
   * Grows the memory by `delta` WebAssembly pages (64 KiB each) and returns its previous size in
   * pages. @throws RangeError when the memory cannot grow that far (past its maximum).
   */
  grow(delta: number): number;
}

/** What a heap can manage: an ArrayBuffer, a SharedArrayBuffer or a `WebAssembly.Memory`. */
export type HeapMemory = ArrayBuffer | SharedArrayBuffer | WasmMemoryLike;

/** The ES2024 resizable/growable parts of ArrayBuffer and SharedArrayBuffer (not in the ES2022 lib). */
interface Growable {
  readonly byteLength: number;
  readonly maxByteLength?: number;
  readonly resizable?: boolean;
  readonly growable?: boolean;
  resize?(bytes: number): void;
  grow?(bytes: number): void;
}

/** Bytes per WebAssembly page. */
export const WASM_PAGE = 65536;

/** True when `m` is a WebAssembly.Memory. */
export function isWasmMemory(m: unknown): m is WasmMemoryLike {
  return typeof WebAssembly !== "undefined" && m instanceof WebAssembly.Memory;
}

type Getter = (this: unknown) => unknown;
const getter = (proto: object, key: string): Getter =>
  Object.getOwnPropertyDescriptor(proto, key)!.get as Getter;
/** The built-in getters: they check their receiver's internal slots and run no user code. */
const arrayBufferBytes = getter(ArrayBuffer.prototype, "byteLength");
const sharedBufferBytes =
  typeof SharedArrayBuffer === "undefined" ? null : getter(SharedArrayBuffer.prototype, "byteLength");
const memoryBuffer =
  typeof WebAssembly === "undefined" ? null : getter(WebAssembly.Memory.prototype, "buffer");

/** The buffer `m` currently exposes. @throws AllocError INVALID_ARGUMENT for anything else. */
export function bufferOf(m: HeapMemory): ArrayBufferLike {
  if (isWasmMemory(m)) return memoryBuffer!.call(m) as ArrayBufferLike;
  if (
    m instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== "undefined" && m instanceof SharedArrayBuffer)
  ) {
    return m;
  }
  throw notMemory(m);
}

/**
 * The buffer of `m`, for the constructor and `open`: like `bufferOf`, and `m` must really be what
 * it claims (checked by the built-in getters, so a Proxy or an object made to inherit from
 * ArrayBuffer is refused, and none of its code runs).
 * @throws AllocError INVALID_ARGUMENT for anything else.
 */
export function checkedBufferOf(m: unknown): ArrayBufferLike {
  try {
    if (isWasmMemory(m)) return memoryBuffer!.call(m) as ArrayBufferLike;
    if (m instanceof ArrayBuffer) {
      arrayBufferBytes.call(m);
      return m;
    }
    if (sharedBufferBytes !== null && m instanceof SharedArrayBuffer) {
      sharedBufferBytes.call(m);
      return m;
    }
  } catch {
    // a Proxy, or an object that only inherits from a buffer type: refused below
  }
  throw notMemory(m);
}

/** What the built-in getters say about a buffer: none of its own properties is read. */
export interface BufferFacts {
  shared: boolean;
  byteLength: number;
  /** A growable SharedArrayBuffer or a resizable ArrayBuffer. */
  growable: boolean;
  maxByteLength: number;
}

const optionalGetter = (proto: object | undefined, key: string): Getter | null =>
  (proto === undefined ? undefined : (Object.getOwnPropertyDescriptor(proto, key)?.get as Getter)) ?? null;
const SHARED = typeof SharedArrayBuffer === "undefined" ? undefined : SharedArrayBuffer.prototype;
const sharedGrowable = optionalGetter(SHARED, "growable");
const sharedMax = optionalGetter(SHARED, "maxByteLength");
const arrayResizable = optionalGetter(ArrayBuffer.prototype, "resizable");
const arrayMax = optionalGetter(ArrayBuffer.prototype, "maxByteLength");

/** The facts of `buffer` (a real ArrayBuffer or SharedArrayBuffer, as a view's built-in getter returns it). */
export function bufferFacts(buffer: ArrayBufferLike): BufferFacts {
  let shared = false;
  let byteLength = 0;
  try {
    byteLength = sharedBufferBytes!.call(buffer) as number;
    shared = true;
  } catch {
    byteLength = arrayBufferBytes.call(buffer) as number;
  }
  const growable = (shared ? sharedGrowable : arrayResizable)?.call(buffer) === true;
  const max = (shared ? sharedMax : arrayMax)?.call(buffer);
  return { shared, byteLength, growable, maxByteLength: typeof max === "number" ? max : byteLength };
}

function notMemory(m: unknown): AllocError {
  return new AllocError(
    "INVALID_ARGUMENT",
    `a heap lives in an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory, got ${kindOf(m)}`,
  );
}

/** The kind of a value, for a message (runs none of its code). */
function kindOf(m: unknown): string {
  if (m === null) return "null";
  return typeof m === "object" ? "another object" : typeof m;
}

/** True when `buffer` is shared between threads (the heap then takes its lock on every operation). */
export function isShared(buffer: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;
}

/**
 * The largest byteLength `m` can grow to, or null when it cannot tell (a WebAssembly.Memory does
 * not expose its maximum) ; a fixed buffer answers its own length.
 */
export function growLimit(m: HeapMemory): number | null {
  if (isWasmMemory(m)) return null;
  const g = m as unknown as Growable;
  if (g.growable === true || g.resizable === true) return g.maxByteLength ?? g.byteLength;
  return g.byteLength;
}

/** True when `m` can grow at all. */
export function canGrow(m: HeapMemory): boolean {
  if (isWasmMemory(m)) return true;
  const g = m as unknown as Growable;
  return g.growable === true || g.resizable === true;
}

/**
 * Grows `m` by at least `bytes` (a Memory by whole 64 KiB pages).
 * @returns false when the memory refused (at its maximum, or out of memory), true otherwise.
 */
export function growMemory(m: HeapMemory, bytes: number): boolean {
  if (bytes === 0) return true;
  try {
    if (isWasmMemory(m)) m.grow(Math.ceil(bytes / WASM_PAGE));
    else {
      const g = m as unknown as Growable;
      if (g.growable === true) g.grow!(g.byteLength + bytes);
      else if (g.resizable === true) g.resize!(g.byteLength + bytes);
      else return false;
    }
    return true;
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
}
