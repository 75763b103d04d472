/**
 * Heap: malloc and free inside an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory.
 *
 * Pointers are byte offsets into the buffer. Requests up to `maxSmall` bytes are objects of a
 * size class carved from slabs (slabs.ts); larger ones are whole page blocks of the page
 * allocator. Every bit of state lives in the buffer (layout.ts), so `Heap.open` re-opens the
 * same heap from its bytes in another worker or after a save and a load.
 *
 * This file validates arguments (throwing before any state changes), takes the lock of a shared
 * heap around each operation (lock.ts), and keeps each handle current (HeapCore.sync). The hot
 * paths allocate no JS object; only `allocArray` and the scoped helpers create one, by design.
 * Arguments are tested with `typeof` before anything else reads them, so no value is converted
 * (validate.ts states the rule); the fast paths keep their one comparison chain.
 */
import { AllocError } from "../errors.js";
import { checkHeap } from "./check.js";
import { HeapCore, LARGE, NOT_LIVE } from "./core.js";
import { HEAP_OPTIONS, layoutFor } from "./create.js";
import { adoptAbandoned } from "./gather.js";
import { GUARD_BYTES } from "./guard.js";
import { checkGuards, guardedAlloc, guardedFree } from "./guarded.js";
import { liveAllocationsOf, statsOf } from "./inspect.js";
import { FLAG_GUARD, readHeader, W_LOCK, writeHeader } from "./layout.js";
import { ANONYMOUS, lock, unlock } from "./lock.js";
import { bufferOf, checkedBufferOf, type HeapMemory, isShared } from "./memory.js";
import { recoverAll, recoverThread } from "./recover.js";
import { collectAll } from "./remote.js";
import { RESIZE_NOT_LIVE, resize } from "./resize.js";
import { makeRoom } from "./room.js";
import { ScopedArray, ScopedBlock } from "./scoped.js";
import { freeObject, slabAlloc, slabFreePtr, trimEmpty } from "./slabs.js";
import { claimSlot, GEN_MASK, GEN_SHIFT, released, S_CLAIM, slotOfThread } from "./threads.js";
import type {
  HeapOptions,
  HeapStats,
  HeapView,
  LiveAllocation,
  OpenOptions,
  TypedArray,
  TypedArrayConstructor,
} from "./types.js";
import {
  checkPointer,
  checkSize,
  elementBytes,
  invalid,
  isViewAt,
  notLive,
  pointerOf,
  readOptions,
  safe,
} from "./validate.js";

/** The error of a call on a closed handle. */
function closedError(operation: string): AllocError {
  return new AllocError("CLOSED", `${operation}: this heap handle was closed`);
}

/** A heap of malloc/free memory inside a buffer. Sizes and pointers are bytes. */
export class Heap {
  /** True when the buffer is shared memory (a SharedArrayBuffer or a shared WebAssembly.Memory). */
  readonly shared: boolean;
  /** @internal */
  readonly core: HeapCore;
  private readonly lockIndex: number;
  /**
   * True for a heap without thread slots on shared memory: every operation takes the heap's one
   * lock (a guard-mode heap, or `threads: 0`).
   */
  private readonly locking: boolean;
  /** Set by `close`. */
  private closed = false;
  /** Bytes the page blocks can hold at the heap's largest: requests above it are invalid. */
  private readonly capacity: number;

  /**
   * Creates a new, empty heap in `memory` (overwriting the managed range's metadata).
   * @param options start, length, maxLength, pageSize, minAlign: see {@link HeapOptions}.
   * @throws AllocError INVALID_ARGUMENT for memory that is none of the three kinds, options that
   * are not an object (or undefined), a bad option, or a range too small for its metadata.
   */
  constructor(memory: HeapMemory, options?: HeapOptions);
  /**
   * @internal `Heap.open`'s handle on an existing heap, to wrap instead of creating one (then
   * `options` is not read). Anything but a HeapCore is ignored.
   */
  constructor(memory: HeapMemory, options: HeapOptions | undefined, opened: HeapCore);
  constructor(memory: HeapMemory, options?: HeapOptions, opened?: HeapCore) {
    if (opened instanceof HeapCore) {
      this.core = opened;
    } else {
      const raw = readOptions(options, HEAP_OPTIONS, "new Heap");
      if (raw.guard !== undefined && typeof raw.guard !== "boolean") {
        throw invalid("new Heap", "guard must be a boolean", raw.guard);
      }
      const buffer = checkedBufferOf(memory);
      const layout = layoutFor(memory, buffer, raw, isShared(buffer));
      writeHeader(buffer, layout, raw.guard === true ? FLAG_GUARD : 0);
      this.core = new HeapCore(memory, layout, true, makeRoom);
    }
    const h = this.core;
    const l = h.layout;
    this.shared = isShared(h.buffer);
    this.locking = this.shared && !h.threaded;
    this.lockIndex = (l.start >>> 2) + W_LOCK;
    this.capacity = l.maxEnd - l.firstPage;
    if (h.threaded) {
      const token = claimSlot(h.i32, h.slotsBase, h.slotWords, l.threads);
      if (token < 0) {
        throw new AllocError(
          "TOO_MANY_THREADS",
          `all ${l.threads} thread slots are claimed: close a handle, recover a dead thread, or open saved bytes with { recover: true }`,
        );
      }
      h.useSlot(token);
    }
    // A handle opened on a shared heap reads the header without the lock: re-read it under the lock.
    if (this.shared) h.generation = Number.NaN;
  }

  /**
   * Re-opens the heap whose header is at `options.start` (default 0) of `memory`: in another
   * worker, or from bytes that were saved and read back. Every allocation is still there.
   * Only the header is checked, unless `options.verify` asks for the whole of `check()`.
   * @throws AllocError CORRUPT when the bytes are not a heap, are damaged (with `verify`: anywhere
   * in the metadata), or are of another version; INVALID_ARGUMENT for bad memory or options.
   */
  static open(memory: HeapMemory, options?: OpenOptions): Heap {
    const raw = readOptions(options, ["start", "verify", "recover"] as const, "Heap.open");
    if (raw.verify !== undefined && typeof raw.verify !== "boolean") {
      throw invalid("Heap.open", "verify must be a boolean", raw.verify);
    }
    if (raw.recover !== undefined && typeof raw.recover !== "boolean") {
      throw invalid("Heap.open", "recover must be a boolean", raw.recover);
    }
    const start = raw.start === undefined ? 0 : raw.start;
    if (!safe(start) || start % 8 !== 0) {
      throw invalid("Heap.open", "start must be a non-negative multiple of 8", start);
    }
    const buffer = checkedBufferOf(memory);
    const layout = readHeader(buffer, start);
    const core = new HeapCore(memory, layout, false, makeRoom);
    // In memory that is not shared, no other thread can be in the middle of an operation: a
    // held lock or an operation in flight was cut off (bytes saved from shared memory).
    if (raw.recover === true || !isShared(buffer)) recoverAll(core, raw.recover === true);
    const heap = new Heap(memory, undefined, core);
    if (raw.verify === true) heap.check();
    return heap;
  }

  /** The buffer the heap lives in now (a WebAssembly.Memory replaces its buffer when it grows). */
  get buffer(): ArrayBufferLike {
    return bufferOf(this.core.memory);
  }
  /** Byte offset of the heap's header. */
  get start(): number {
    return this.core.layout.start;
  }
  /** Bytes of the heap now, metadata included. */
  get length(): number {
    return this.locked(() => this.core.end - this.core.layout.start);
  }
  /** Bytes the heap may grow to. */
  get maxLength(): number {
    return this.core.layout.maxEnd - this.core.layout.start;
  }
  /** Bytes per page. */
  get pageSize(): number {
    return this.core.pageSize;
  }
  /** Alignment of every pointer. */
  get minAlign(): number {
    return this.core.layout.minAlign;
  }
  /** Largest request served from a slab; above it, requests take whole page blocks. */
  get maxSmall(): number {
    return this.core.maxSmall;
  }

  /**
   * Allocates `size` bytes aligned to `align` (a power of two; default and minimum minAlign).
   * @returns the pointer, or null when the heap has no room (grow it, or free something).
   * @throws AllocError INVALID_ARGUMENT for a size that is not a safe non-negative integer or is
   * larger than the heap can ever hold, or a bad alignment.
   */
  malloc(size: number, align?: number): number | null {
    const h = this.core;
    // `typeof` first: `>>>` would convert a BigInt, a Symbol or an object (running its valueOf).
    // fastSmall is maxSmall, or -1 in guard mode: a guarded heap always takes the slow path.
    if (align !== undefined || typeof size !== "number" || !(size >>> 0 === size && size <= h.fastSmall))
      return this.mallocSlow(size, align);
    const cls = h.bySize[(size + 7) >>> 3];
    if (!this.locking) {
      h.sync();
      const p = slabAlloc(h, cls, size);
      return p < 0 ? null : p;
    }
    lock(h.i32, this.lockIndex, ANONYMOUS);
    try {
      h.sync();
      const p = slabAlloc(h, cls, size);
      return p < 0 ? null : p;
    } finally {
      unlock(h.i32, this.lockIndex);
    }
  }

  private mallocSlow(size: unknown, align: unknown): number | null {
    if (this.closed) throw closedError("malloc");
    checkSize(size, this.capacity, "malloc");
    const h = this.core;
    let a = h.layout.minAlign;
    if (align !== undefined) {
      if (!safe(align) || align === 0 || (align & (align - 1)) !== 0 || align > this.capacity) {
        throw invalid("malloc", `align must be a power of two up to ${this.capacity}`, align);
      }
      if (align > a) a = align;
    }
    const want = h.guard ? size + GUARD_BYTES : size; // room for the red zone
    let cls = -1;
    if (want <= h.maxSmall && a <= h.maxSmall) {
      cls = h.bySize[(want + 7) >>> 3];
      // An object is aligned to `a` when its class is a multiple of `a` and its slab's base is.
      while (cls < h.classes.count && (h.size[cls] % a !== 0 || a > h.slabAlign[cls] * h.pageSize)) cls++;
      if (cls === h.classes.count) cls = -1;
    }
    if (this.locking) lock(h.i32, this.lockIndex, ANONYMOUS);
    try {
      h.sync();
      if (h.guard) return guardedAlloc(h, cls, size, a);
      if (cls < 0) return h.allocLarge(size, a);
      const p = slabAlloc(h, cls, size);
      return p < 0 ? null : p;
    } finally {
      if (this.locking) unlock(h.i32, this.lockIndex);
    }
  }

  /**
   * Allocates `count * size` bytes, all zero.
   * @throws AllocError INVALID_ARGUMENT as malloc, also when the product overflows.
   */
  calloc(count: number, size: number): number | null {
    if (!safe(count)) throw invalid("calloc", "count must be a safe non-negative integer", count);
    if (!safe(size)) throw invalid("calloc", "size must be a safe non-negative integer", size);
    const total = count * size;
    checkSize(total, this.capacity, "calloc");
    const p = this.malloc(total);
    if (p !== null) this.core.u8.fill(0, p, p + total);
    return p;
  }

  /**
   * Resizes the allocation at `ptr` to `size` bytes, keeping its contents up to the smaller size:
   * in place when it still fits its class or block, or when a large block's buddies above it are
   * free; otherwise it moves (the old pointer is then freed). `realloc(null, size)` is `malloc(size)`.
   * Alignment beyond minAlign is not kept when the block moves.
   * @returns the new pointer, or null when there is no room (the old allocation is left intact).
   * @throws AllocError INVALID_ARGUMENT for a bad size or a `ptr` that is not a safe non-negative
   * integer (nor null); NOT_ALLOCATED when `ptr` is not live.
   */
  realloc(ptr: number | null, size: number): number | null {
    checkSize(size, this.capacity, "realloc");
    if (ptr === null) return this.malloc(size);
    checkPointer(ptr, "realloc");
    const h = this.core;
    if (this.closed) throw closedError("realloc");
    if (h.guard) return this.reallocGuarded(ptr, size);
    if (this.locking) lock(h.i32, this.lockIndex, ANONYMOUS);
    try {
      h.sync();
      const p = resize(h, ptr, size);
      if (p === RESIZE_NOT_LIVE) throw notLive(this.core, ptr, "realloc");
      return p;
    } finally {
      if (this.locking) unlock(h.i32, this.lockIndex);
    }
  }

  /**
   * Frees the allocation at `ptr` (a pointer, or a typed array from `allocArray`); `free(null)`
   * does nothing.
   * @throws AllocError INVALID_ARGUMENT for a value that is not a safe non-negative integer, null
   * or a view of an allocation (a view over another buffer: see `pointerOf` in validate.ts);
   * NOT_ALLOCATED when it is not a live allocation (double free, interior pointer, never
   * allocated). Either way nothing changes.
   */
  free(ptr: number | ArrayBufferView | null): void {
    if (typeof ptr !== "number") {
      if (ptr !== null) this.freeView(ptr);
      return;
    }
    const h = this.core;
    if (!this.locking) {
      h.sync();
      this.release(ptr);
      return;
    }
    lock(h.i32, this.lockIndex, ANONYMOUS);
    try {
      h.sync();
      this.release(ptr);
    } finally {
      unlock(h.i32, this.lockIndex);
    }
  }

  /** `free` of anything but a number: a view, under the lock (its checks read the metadata). */
  private freeView(view: unknown): void {
    if (!ArrayBuffer.isView(view)) {
      throw invalid("free", "expected a pointer, null or a view of an allocation", view);
    }
    this.locked(() => this.release(pointerOf(this.core, this.shared, view)));
  }

  /**
   * Guard mode's realloc: always a move, so that the new allocation gets a fresh red zone and the
   * old one is checked and poisoned by `free`.
   */
  private reallocGuarded(ptr: number, size: number): number | null {
    const kept = this.locked(() => {
      const kind = this.core.locate(ptr);
      if (kind === NOT_LIVE) throw notLive(this.core, ptr, "realloc");
      return Math.min(this.core.requestedSize(kind, ptr), size);
    });
    const moved = this.malloc(size);
    if (moved === null) return null;
    this.core.u8.copyWithin(moved, ptr, ptr + kept);
    this.free(ptr);
    return moved;
  }

  private release(ptr: number): void {
    const h = this.core;
    if (slabFreePtr(h, ptr)) return; // never in guard mode (its freeEnd is 0), nor after close
    if (this.closed) throw closedError("free");
    const kind = h.locate(ptr);
    if (h.guard && kind !== NOT_LIVE) guardedFree(h, kind, ptr);
    if (kind >= 0) {
      if (!freeObject(h, kind, h.slabOf(ptr), h.objectIndex(kind, ptr))) throw notLive(h, ptr, "free");
    } else if (kind === LARGE) {
      if (!h.freeLarge(ptr, h.pageOf(ptr))) throw notLive(h, ptr, "free");
    } else if (safe(ptr)) throw notLive(h, ptr, "free");
    else throw invalid("free", "a pointer is a safe non-negative integer", ptr, true);
  }

  /**
   * Bytes usable at `ptr` (its class size, or its block size): at least what was requested.
   * @throws AllocError INVALID_ARGUMENT for a value that is not a safe non-negative integer;
   * NOT_ALLOCATED when `ptr` is not live.
   */
  usableSize(ptr: number): number {
    checkPointer(ptr, "usableSize");
    return this.locked(() => {
      const kind = this.core.locate(ptr);
      if (kind === NOT_LIVE) throw notLive(this.core, ptr, "usableSize");
      // In guard mode the bytes after the request are its red zone: only the request is usable.
      return this.core.guard ? this.core.requestedSize(kind, ptr) : this.core.usableSize(kind, ptr);
    });
  }

  /**
   * Allocates an array of `length` elements of a typed-array type and returns the view over it
   * (free it with `free(view)`). Its contents are not zeroed. Null when there is no room.
   * `type` is a built-in typed-array constructor or a class extending one; if its constructor
   * throws, or returns anything but a view of exactly the block, the block is freed again.
   * @throws AllocError INVALID_ARGUMENT for a bad length or constructor (checked before anything
   * is allocated), or a constructor that threw (its error is the `cause`) or returned another object.
   */
  allocArray<T extends TypedArray>(type: TypedArrayConstructor<T>, length: number): HeapView<T> | null {
    const bytes = elementBytes(type, "allocArray");
    if (!safe(length)) throw invalid("allocArray", "length must be a safe non-negative integer", length);
    if (length * bytes > this.capacity) {
      throw invalid("allocArray", `length * ${bytes} bytes must be at most ${this.capacity}`, length);
    }
    const p = this.malloc(length * bytes, Math.max(bytes, this.minAlign));
    if (p === null) return null;
    const buffer = this.core.buffer;
    let view: unknown = null;
    try {
      view = new type(buffer as ArrayBuffer, p, length);
    } catch (e) {
      this.free(p);
      const error = new AllocError("INVALID_ARGUMENT", "allocArray: the typed-array constructor threw");
      Object.defineProperty(error, "cause", { value: e, configurable: true, writable: true });
      throw error;
    }
    if (!isViewAt(view, buffer, p, length * bytes)) {
      this.free(p);
      throw new AllocError(
        "INVALID_ARGUMENT",
        "allocArray: the constructor did not return a typed array over the block it was given",
      );
    }
    return view as HeapView<T>;
  }

  /**
   * A block of `size` bytes that frees itself at the end of a `using` scope (or by its `free()`).
   * Null when there is no room. @throws AllocError INVALID_ARGUMENT as malloc.
   */
  scoped(size: number, align?: number): ScopedBlock | null {
    const p = this.malloc(size, align);
    return p === null ? null : new ScopedBlock(this, p, size);
  }

  /** An `allocArray` view that frees itself at the end of a `using` scope. Null when there is no room. */
  scopedArray<T extends TypedArray>(
    type: TypedArrayConstructor<T>,
    length: number,
  ): ScopedArray<HeapView<T>> | null {
    const view = this.allocArray(type, length);
    return view === null ? null : new ScopedArray(this, view);
  }

  /**
   * Grows the heap by `bytes` (rounded up to whole pages), growing its memory when it is too
   * short (a WebAssembly.Memory by whole 64 KiB pages). The new pages are free at once, in this
   * handle and in every other (they notice on their next operation).
   * @returns false when the memory could not grow (at its maximum); the heap is then unchanged.
   * @throws AllocError INVALID_ARGUMENT beyond the heap's maxLength or for a bad number.
   */
  grow(bytes: number): boolean {
    if (!safe(bytes)) throw invalid("grow", "bytes must be a safe non-negative integer", bytes);
    return this.locked(() => this.core.grow(bytes));
  }

  /**
   * Gives back to the page allocator the one empty slab each size class may keep for reuse
   * (they also go back by themselves when the pages run out). In a threaded heap it first takes
   * back the frees other threads made in this thread's slabs and adopts the slabs of threads that
   * are gone (closed or recovered). @returns the slabs released.
   */
  trim(): number {
    return this.locked(() => {
      const h = this.core;
      if (!h.threaded) return trimEmpty(h);
      // A threaded heap: this thread's remote frees, and the slabs of threads that are gone.
      collectAll(h);
      adoptAbandoned(h);
      return trimEmpty(h);
    });
  }

  /**
   * The thread id of this handle, which `liveAllocations()` reports as the owner of what this
   * handle allocated and which the supervising thread passes to `recover` when this thread ends.
   * In a threaded heap it names this handle alone: `(generation << 8) | slot`, where the slot's
   * generation counts the handles that had the slot before (threads.ts), so the first handle of
   * slot s is thread s, and a later handle of the same slot (once this one closed) gets another
   * id. Below 2^29. 0 in a heap without slots.
   */
  get threadId(): number {
    return this.core.threaded ? this.core.token - 1 : 0;
  }

  /** Thread slots: how many handles can use the heap at once (0: a heap without slots). */
  get threads(): number {
    return this.core.layout.threads;
  }

  /**
   * Ends this handle: in a threaded heap it takes back the frees other threads made in its slabs,
   * gives back its empty slabs and leaves its slot for another handle (which adopts the slabs
   * that still hold live objects; so does any thread that runs out of pages). The allocations
   * stay live and can be freed from any handle. Its thread id is not given to another handle
   * (the slot's next handle gets the next generation's id; ids come back only after 2^21 handles
   * of one slot), and `recover` of it afterwards is a
   * no-op returning false: a supervisor may recover every thread that ends, closed or not.
   * Calling it again does nothing; any other method of this handle then throws AllocError CLOSED.
   */
  close(): void {
    if (this.closed) return;
    const h = this.core;
    this.locked(() => {
      if (!h.threaded) return;
      collectAll(h);
      trimEmpty(h);
      Atomics.store(h.i32, h.slotAt + S_CLAIM, released(h.token, h.holder - 1));
    });
    this.closed = true;
    h.fastSmall = -1; // every call now takes a slow path, which reports CLOSED
    h.freeEnd = 0;
  }

  /**
   * Recovers from the death of thread `threadId` (a worker terminated, or crashed, while it
   * used the heap): finishes or rolls back the operation it was in the middle of, takes over the
   * page lock if it held it, rebuilds its lists and leaves its slot unclaimed. Its allocations
   * stay live (others may use them), listed by `liveAllocations()` under its id. Call it once the
   * thread is gone for good (its 'exit' event), never for a live one. For a thread that closed
   * its handle, or was recovered already, it changes nothing and returns false, whatever happened
   * to its slot since (a thread id names one handle: a later handle of the same slot has another
   * id), so a supervisor may call it on every thread's exit. Safe while other threads keep working.
   * @returns true when there was something to repair.
   * @throws AllocError INVALID_ARGUMENT for a value that is not a thread id of this heap (a safe
   * integer naming one of its slots, below 2^29, of a generation the slot has reached), or this
   * handle's own id.
   */
  recover(threadId: number): boolean {
    const h = this.core;
    if (this.closed) throw closedError("recover");
    if (!h.threaded) throw invalid("recover", "only a threaded heap has thread ids to recover", threadId);
    if (
      !safe(threadId) ||
      threadId > (GEN_MASK << 8) + 254 ||
      slotOfThread(threadId) >= h.layout.threads ||
      slotOfThread(threadId) < 0 ||
      threadId === this.threadId
    ) {
      throw invalid("recover", "threadId must be another thread's id (Heap.threadId) of this heap", threadId);
    }
    // An id of a later generation than its slot has reached names no handle that ever existed.
    const slotAt = h.slotsBase + h.slotWords * slotOfThread(threadId);
    if (threadId >>> GEN_SHIFT > Atomics.load(h.i32, slotAt + S_CLAIM) >>> GEN_SHIFT) {
      throw invalid("recover", "threadId names no handle this heap has had", threadId);
    }
    h.sync();
    return recoverThread(h, threadId + 1);
  }

  /** Occupancy, per-class and rounding figures. O(pages + slab objects). */
  stats(): HeapStats {
    return this.locked(() => statsOf(this.core));
  }

  /**
   * Verifies every invariant of the heap: header, page allocator, slabs, lists, side table. O(heap).
   * @throws AllocError CORRUPT naming the first violation.
   */
  check(): void {
    this.locked(() => {
      checkHeap(this.core);
      if (this.core.guard) checkGuards(this.core);
    });
  }

  /** True for a heap in guard mode (`new Heap(memory, { guard: true })`). */
  get guard(): boolean {
    return this.core.guard;
  }

  /**
   * Every live allocation `{ ptr, size, tag, thread }` in address order: a snapshot taken when
   * iteration starts (in a threaded heap, exact while the other threads are idle).
   */
  *liveAllocations(): IterableIterator<LiveAllocation> {
    yield* this.locked(() => liveAllocationsOf(this.core));
  }

  /**
   * Runs `f` on a current handle holding the heap's lock: the one lock of a heap without slots on
   * shared memory, the page lock of a threaded heap (which freezes the page level; other
   * threads' slab operations go on).
   */
  private locked<T>(f: () => T): T {
    const h = this.core;
    if (this.closed) throw closedError("this call");
    if (this.locking) lock(h.i32, this.lockIndex, ANONYMOUS);
    else h.pageLock();
    try {
      h.sync();
      return f();
    } finally {
      if (this.locking) unlock(h.i32, this.lockIndex);
      else h.pageUnlock();
    }
  }
}
