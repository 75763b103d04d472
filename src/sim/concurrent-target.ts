/**
 * The lock-free allocator (ConcurrentBuddy) as a simulation target, driven from one thread: a
 * request of SIZE bytes takes the smallest block of whole pages that holds it. It keeps no tags.
 */
import { ConcurrentBuddy } from "../concurrent/concurrent-buddy.js";
import type { MapModel } from "../viz/types.js";
import { buddyMap, orderFor, type SimTarget, type Usage, usageOf } from "./target.js";

/** Options of {@link concurrentTarget} when it makes the allocator itself. */
export interface ConcurrentTargetOptions {
  /** Bytes managed, addresses 0..memory (rounded down to whole pages). */
  memory: number;
  /** Bytes per page (a power of two, default 4096). */
  pageSize?: number;
  /** Largest block order (default: ConcurrentBuddy's own default for the size). */
  maxOrder?: number;
}

/**
 * Wraps a ConcurrentBuddy handle; with options instead, makes one over `[0, memory)`.
 * @throws AllocError INVALID_ARGUMENT for bad options (see ConcurrentBuddy.create).
 */
export function concurrentTarget(source: ConcurrentBuddy | ConcurrentTargetOptions): SimTarget & {
  /** The allocator the target drives (the one given, or the one it made). */
  readonly concurrent: ConcurrentBuddy;
} {
  const c =
    source instanceof ConcurrentBuddy
      ? source
      : ConcurrentBuddy.create({
          size: Math.floor(source.memory / (source.pageSize ?? 4096)) * (source.pageSize ?? 4096),
          pageSize: source.pageSize ?? 4096,
          maxOrder: source.maxOrder,
        });
  const pageSize = c.pageSize;
  const maxOrder = c.maxOrder;
  return {
    kind: "concurrent",
    concurrent: c,
    label: "concurrent allocator",
    totalBytes: c.size,
    alloc(size: number): number | null {
      const order = orderFor(size, pageSize);
      return order > maxOrder ? null : c.allocOrder(order);
    },
    free(address: number): void {
      c.free(address);
    },
    reservedBytes(size: number): number {
      return pageSize * 2 ** orderFor(size, pageSize);
    },
    usage(): Usage {
      return usageOf(c.stats());
    },
    map(): MapModel {
      return buddyMap(c.freeBlocks(), c.allocatedBlocks(), pageSize, 0, c.size);
    },
    check(): void {
      c.check();
    },
  };
}
