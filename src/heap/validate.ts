/**
 * The Heap's argument checks and error messages, kept out of the hot paths' file. Every check
 * runs before any state changes; see errors.ts for the codes.
 */
import { AllocError, show } from "../errors.js";
import type { HeapCore } from "./core.js";
import { isShared, isWasmMemory } from "./memory.js";

/**
 * Checks a request size against the heap's capacity (its page bytes at its largest).
 * @throws AllocError INVALID_ARGUMENT for a size that is not a safe integer in 0..capacity.
 */
export function checkSize(size: number, capacity: number, operation: string): void {
  if (!(typeof size === "number" && Number.isSafeInteger(size) && size >= 0 && size <= capacity)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `${operation}: size must be an integer in 0..${capacity} (the heap's page bytes at its largest), got ${show(size)}`,
    );
  }
}

/**
 * The pointer of a typed-array view over the heap's buffer (on a shared heap, any view over a
 * SharedArrayBuffer: a worker receives its own wrapper of the same memory).
 * @throws AllocError INVALID_ARGUMENT for anything else, or a view a growing Memory detached.
 */
export function pointerOf(h: HeapCore, shared: boolean, view: ArrayBufferView): number {
  const buffer = ArrayBuffer.isView(view) ? view.buffer : null;
  if (buffer !== null && (buffer === h.buffer || (shared && isShared(buffer)))) return view.byteOffset;
  if (buffer !== null && isWasmMemory(h.memory) && buffer.byteLength === 0) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      "free: the view's buffer was detached when the memory grew; free the pointer (its byteOffset before growing)",
    );
  }
  throw new AllocError(
    "INVALID_ARGUMENT",
    `free: expected a pointer, null or a view over this heap's buffer, got ${show(view)}`,
  );
}

/** The NOT_ALLOCATED error for `ptr`, saying why it is not a live allocation. */
export function notLive(h: HeapCore, ptr: unknown, operation: string): AllocError {
  return new AllocError("NOT_ALLOCATED", `${operation}: ${show(ptr)} ${h.whyNotLive(ptr)}`);
}
