/** The heap: malloc and free inside an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory. */
export { Heap } from "./heap.js";
export { FORMAT_VERSION as HEAP_FORMAT_VERSION, TAG_LARGE, TAG_SLAB } from "./layout.js";
export type { HeapMemory, WasmMemoryLike } from "./memory.js";
export { type Frees, ScopedArray, ScopedBlock } from "./scoped.js";
export { MAX_SMALL } from "./size-classes.js";
export type {
  ClassStats,
  HeapOptions,
  HeapStats,
  HeapView,
  LiveAllocation,
  OpenOptions,
  TypedArray,
  TypedArrayConstructor,
} from "./types.js";
