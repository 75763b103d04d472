/**
 * Allocations that free themselves at the end of a `using` scope (explicit resource management):
 *
 *   { using block = heap.scoped(256); ... } // freed here, also when the scope throws
 *
 * Each object frees its allocation at most once: disposing after `free()` does nothing. Do not
 * free its pointer through `heap.free` yourself: the pointer may be handed out again by then.
 */
import type { Heap } from "./heap.js";
import type { TypedArray } from "./types.js";

/** A heap block owned by a scope. */
export class ScopedBlock implements Disposable {
  private live = true;
  /**
   * @param heap the heap it came from
   * @param ptr its pointer (byte offset in the heap's buffer)
   * @param size the bytes requested
   */
  constructor(
    readonly heap: Heap,
    readonly ptr: number,
    readonly size: number,
  ) {}

  /** True until the block is freed. */
  get alive(): boolean {
    return this.live;
  }

  /** Frees the block now (once; later calls and the disposal do nothing). */
  free(): void {
    if (!this.live) return;
    this.live = false;
    this.heap.free(this.ptr);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

/** A typed array over heap memory, owned by a scope. */
export class ScopedArray<T extends TypedArray> implements Disposable {
  private live = true;
  /** The block's pointer (kept: a view's byteOffset reads 0 once a growing Memory detaches it). */
  readonly ptr: number;
  /**
   * @param heap the heap it came from
   * @param view the array over its block
   */
  constructor(
    readonly heap: Heap,
    readonly view: T,
  ) {
    this.ptr = view.byteOffset;
  }

  /** True until the array is freed. */
  get alive(): boolean {
    return this.live;
  }

  /** Frees the array's block now (once; later calls and the disposal do nothing). */
  free(): void {
    if (!this.live) return;
    this.live = false;
    this.heap.free(this.ptr);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
