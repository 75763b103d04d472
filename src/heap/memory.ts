/**
 * The memory a heap lives in: an ArrayBuffer (fixed or resizable), a SharedArrayBuffer (fixed or
 * growable) or a WebAssembly.Memory. A Memory's buffer object is replaced when it grows (and a
 * non-shared one's old buffer is detached), so a heap always asks for the current one.
 */
import { AllocError, show } from "../errors.js";

/** What a heap can manage. */
export type HeapMemory = ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;

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
export function isWasmMemory(m: unknown): m is WebAssembly.Memory {
  return typeof WebAssembly !== "undefined" && m instanceof WebAssembly.Memory;
}

/** The buffer `m` currently exposes. @throws AllocError INVALID_ARGUMENT for anything else. */
export function bufferOf(m: HeapMemory): ArrayBufferLike {
  if (isWasmMemory(m)) return m.buffer;
  if (
    m instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== "undefined" && m instanceof SharedArrayBuffer)
  ) {
    return m;
  }
  throw new AllocError(
    "INVALID_ARGUMENT",
    `a heap lives in an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory, got ${show(m)}`,
  );
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
