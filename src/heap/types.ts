/** The option, statistics and inspection shapes of Heap. Bytes unless a name says otherwise. */
import type { AllocatorStats } from "../page/types.js";

/** Options of `new Heap(memory, options)`. */
export interface HeapOptions {
  /** Byte offset of the heap in the buffer: a multiple of 8 (default 0). Bytes below it are never touched. */
  start?: number;
  /** Bytes managed from `start` (default: to the end of the buffer). Bytes after it are never touched. */
  length?: number;
  /**
   * Bytes the heap may grow to with `grow` (its metadata is sized for this once, at creation).
   * Default: `length` when `length` was given or the memory cannot grow; a growable
   * SharedArrayBuffer's or resizable ArrayBuffer's `maxByteLength - start`; for a
   * WebAssembly.Memory (which does not expose its maximum) 8 times `length`; at most 2^32 - start.
   */
  maxLength?: number;
  /** Bytes per page of the page allocator: a power of two in 256..65536 (default 4096). */
  pageSize?: number;
  /** Alignment of every pointer and granule of the size classes: a power of two in 8..128 (default 16). */
  minAlign?: number;
  /**
   * Guard mode, for finding overflows and writes after free (default false): a red zone after
   * every allocation, checked on `free`, `realloc` and `check()`; freed memory poisoned and
   * checked when handed out again. Reports are AllocError CORRUPT naming the allocation. Kept in
   * the header: `Heap.open` finds it. It costs a heap that does not use it nothing.
   */
  guard?: boolean;
  /**
   * Thread slots (0..255): how many handles (workers) may use the heap at once, each allocating
   * from its own slabs without a lock (threads.ts). Default: 64 on shared memory, 0 otherwise
   * and in guard mode. 0 on shared memory means one lock around every operation.
   */
  threads?: number;
}

/** Options of `Heap.open`. */
export interface OpenOptions {
  /** Byte offset of the heap's header in the buffer (default 0). */
  start?: number;
  /**
   * Run the whole of `check()` before returning (default false: only the header is checked), so
   * that bytes from an untrusted source are refused with CORRUPT when any metadata is damaged.
   */
  verify?: boolean;
  /**
   * Treat every thread that used the heap as gone and repair whatever they left in flight
   * (default false; always done for memory that is not shared). For bytes saved from a live
   * heap and loaded into shared memory: never while other threads use the heap.
   */
  recover?: boolean;
}

/** One live allocation, as `liveAllocations()` reports it. */
export interface LiveAllocation {
  /** Its pointer (byte offset in the buffer). */
  ptr: number;
  /** The size that was requested (malloc, calloc or the last realloc). */
  size: number;
  /** The page tag of the block it lives in: `TAG_SLAB + class` for slab objects, `TAG_LARGE` for large blocks. */
  tag: number;
  /**
   * The thread that owns it (a `Heap.threadId`; 0 in a heap without thread slots): the handle
   * whose slot holds it (for a slab object, the slot whose slab it is in; for a large block, the
   * slot of the handle that allocated it), that is the slot's current handle, or its last one
   * when nobody has claimed the slot since. So a thread that died keeps its blocks under its id,
   * recovered or not, until another handle claims its slot (and adopts its slabs); the blocks a
   * closed handle left are then listed under the slot's new handle.
   */
  thread: number;
}

/** Figures of one size class. */
export interface ClassStats {
  /** Object size of the class. */
  size: number;
  /** Bytes per slab: its objects, then its trailer (bitmap and slack bytes). */
  slabBytes: number;
  /** Objects per slab. */
  objectsPerSlab: number;
  /** Slabs the class holds now. */
  slabs: number;
  /** Live objects in those slabs. */
  liveObjects: number;
  /** Free objects in those slabs. */
  freeObjects: number;
  /** Sum of the requested sizes of the live objects. */
  requestedBytes: number;
  /** Lost to rounding (internal fragmentation): `liveObjects * size - requestedBytes`. */
  wastedBytes: number;
}

/** A snapshot of a heap. */
export interface HeapStats {
  /** Bytes of the heap now, metadata included (end - start). */
  heapBytes: number;
  /** Bytes of pages the page allocator manages (heapBytes less the metadata before the first page). */
  pageBytes: number;
  /** Live allocations, slab objects and large blocks. */
  liveAllocations: number;
  /** Sum of the requested sizes of the live allocations. */
  usedBytes: number;
  /** Bytes of free pages (not counting free objects inside slabs). */
  freeBytes: number;
  /** Bytes of free objects inside slabs. */
  slabFreeBytes: number;
  /** Bytes of pages held by slabs. */
  slabBytes: number;
  /** Bytes of pages held by large blocks (`large.blockBytes`). */
  largeBytes: number;
  /** Bytes lost to rounding, slab classes and large blocks together. */
  wastedBytes: number;
  /** Heap metadata: header, page storage and side table (before the first page), plus slab trailers. */
  metadataBytes: number;
  /** Metadata before the first page per page of the heap's maximum size. */
  metadataBytesPerPage: number;
  /** Per size class, in size order. */
  classes: ClassStats[];
  /** Large blocks: count, requested bytes, block bytes and bytes lost to rounding. */
  large: {
    /** Live large blocks. */
    count: number;
    /** Sum of the requested sizes of the live large blocks. */
    requestedBytes: number;
    /** Bytes of pages the live large blocks hold (each a run of whole pages). */
    blockBytes: number;
    /** Lost to rounding up to whole pages: `blockBytes - requestedBytes`. */
    wastedBytes: number;
  };
  /** The page allocator's own figures. */
  pages: AllocatorStats;
}

/** Any typed array. */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** A typed-array constructor, such as `Float64Array`. */
export interface TypedArrayConstructor<T extends TypedArray> {
  /** Bytes per element of the array. */
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBuffer | SharedArrayBuffer, byteOffset: number, length: number): T;
}

/**
 * The view `allocArray` returns for a constructor of `T`: the same kind of array over any buffer
 * (`Float64Array`, that is `Float64Array<ArrayBufferLike>`, not `Float64Array<ArrayBuffer>`): a heap
 * may live in a SharedArrayBuffer. A subclass of a typed array is typed as its built-in base.
 */
export type HeapView<T extends TypedArray> = T extends Float64Array
  ? Float64Array
  : T extends Float32Array
    ? Float32Array
    : T extends Int32Array
      ? Int32Array
      : T extends Uint32Array
        ? Uint32Array
        : T extends Int16Array
          ? Int16Array
          : T extends Uint16Array
            ? Uint16Array
            : T extends Int8Array
              ? Int8Array
              : T extends Uint8ClampedArray
                ? Uint8ClampedArray
                : T extends Uint8Array
                  ? Uint8Array
                  : T extends BigInt64Array
                    ? BigInt64Array
                    : T extends BigUint64Array
                      ? BigUint64Array
                      : T;
