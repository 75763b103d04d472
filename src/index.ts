/**
 * The allocators (`BuddyAllocator`, `Heap`, `ConcurrentBuddy`), `AllocError` and their types.
 * Re-exports only.
 * @module buddy-alloc
 */
export * from "./concurrent/index.js";
export { AllocError, type AllocErrorCode } from "./errors.js";
export * from "./heap/index.js";
export { BuddyAllocator } from "./page/buddy-allocator.js";
export type { PageStorage } from "./page/page-map.js";
export type {
  AllocAtOptions,
  AllocatedBlock,
  AllocatorStats,
  AllocOptions,
  Block,
  BlockInfo,
  BuddyOptions,
  InStorageOptions,
  PageAllocation,
  Region,
} from "./page/types.js";
export { MAX_TAG } from "./page/validate.js";
