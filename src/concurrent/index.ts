/** The concurrent allocator's public surface (re-exports only). */
export { ConcurrentBuddy } from "./concurrent-buddy.js";
export type { Variant as ConcurrentVariant } from "./layout.js";
export type { RecoveredOperation } from "./recover.js";
export type {
  ConcurrentAttachOptions,
  ConcurrentBuddyOptions,
  ConcurrentHandleOptions,
  ConcurrentOpenOptions,
} from "./types.js";
