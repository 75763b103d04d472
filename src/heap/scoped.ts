/**
 * Allocations that free themselves at the end of a `using` scope (explicit resource management):
 *
 *   { using block = heap.scoped(256); ... } // freed here, also when the scope throws
 *
 * Each object frees its allocation at most once: disposing after `free()` does nothing. Do not
 * free its pointer through `heap.free` yourself: the pointer may be handed out again by then.
 */
import type { TypedArray } from "./types.js";
import { viewOffsetOf } from "./validate.js";

/**
 * All a scoped allocation needs of its heap: a way to free its pointer. (A Heap is one; typing
 * against this keeps this file free of heap.ts, which creates scoped allocations.)
 */
export interface Frees {
  /** Frees the allocation at `ptr` (a byte offset in the heap's buffer); throws as `Heap.free` does. */
  free(ptr: number): void;
}

declare global {
  /**
   * `Symbol.dispose`, declared the way @types/node declares it, so that these declarations compile
   * without lib esnext.disposable (`lib: ["ES2022", "DOM"]`); it merges with that lib's own.
   */
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/**
 * What both scoped kinds share: a pointer freed at most once, by `free()` or by disposal. (It is a
 * `Disposable` by shape: naming that interface would need lib esnext.disposable in every consumer.)
 */
abstract class ScopedAllocation {
  private live = true;
  /**
   * @param heap the heap it came from
   * @param ptr its pointer (byte offset in the heap's buffer)
   */
  constructor(
    readonly heap: Frees,
    readonly ptr: number,
  ) {}

  /** True until the allocation is freed. */
  get alive(): boolean {
    return this.live;
  }

  /** Frees the allocation now (once; later calls and the disposal do nothing). */
  free(): void {
    if (!this.live) return;
    this.live = false;
    this.heap.free(this.ptr);
  }

  /**
   * Frees the allocation at the end of a `using` scope, like `free()`: does nothing when it is
   * already freed. @throws whatever the heap's `free` throws (AllocError CORRUPT in guard mode).
   */
  [Symbol.dispose](): void {
    this.free();
  }
}

/** A heap block owned by a scope. */
export class ScopedBlock extends ScopedAllocation {
  /**
   * @param heap the heap it came from
   * @param ptr its pointer (byte offset in the heap's buffer)
   * @param size the bytes requested
   */
  constructor(
    heap: Frees,
    ptr: number,
    readonly size: number,
  ) {
    super(heap, ptr);
  }
}

/**
 * A typed array over heap memory, owned by a scope. Its pointer is kept apart from the view: a
 * view's byteOffset reads 0 once a growing Memory detaches it.
 */
export class ScopedArray<T extends TypedArray> extends ScopedAllocation {
  /**
   * @param heap the heap it came from
   * @param view the array over its block
   */
  constructor(
    heap: Frees,
    readonly view: T,
  ) {
    super(heap, viewOffsetOf(view)); // the built-in getter: a subclass cannot override it
  }
}
