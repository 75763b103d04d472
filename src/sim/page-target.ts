/**
 * The page allocator (BuddyAllocator) as a simulation target: a request of SIZE bytes takes the
 * smallest block of whole pages that holds it (order ceil(log2(ceil(SIZE / pageSize)))).
 */
import { BuddyAllocator } from "../page/buddy-allocator.js";
import type { MapModel } from "../viz/types.js";
import { buddyMap, orderFor, type SimTarget, type Usage, usageOf } from "./target.js";

/** Options of {@link pageTarget} when it makes the allocator itself. */
export interface PageTargetOptions {
  /** Bytes managed, from address 0 (whole pages are kept). */
  memory: number;
  /** Bytes per page (a power of two, default 4096). */
  pageSize?: number;
  /** Largest block order (default 20, lowered to what `memory` can hold). */
  maxOrder?: number;
}

/**
 * Wraps a page allocator for the simulator; with options instead of an allocator, makes one over
 * `[0, memory)`.
 * @throws AllocError INVALID_ARGUMENT for bad options (see BuddyAllocator and addRegion).
 */
export function pageTarget(source: BuddyAllocator | PageTargetOptions): SimTarget {
  const a = source instanceof BuddyAllocator ? source : makeAllocator(source);
  const pageSize = a.pageSize;
  const maxOrder = a.maxOrder;
  const regions = a.regions();
  const start = regions.length > 0 ? regions[0].start : 0;
  const end = regions.length > 0 ? regions[regions.length - 1].start + regions[regions.length - 1].length : 0;
  return {
    kind: "page",
    label: "page allocator",
    totalBytes: a.stats().totalBytes,
    alloc(size: number, tag: number): number | null {
      const order = orderFor(size, pageSize);
      return order > maxOrder ? null : a.allocOrder(order, tag);
    },
    free(address: number): void {
      a.free(address);
    },
    reservedBytes(size: number): number {
      return pageSize * 2 ** orderFor(size, pageSize);
    },
    usage(): Usage {
      return usageOf(a.stats());
    },
    map(): MapModel {
      return buddyMap(a.freeBlocks(), a.allocatedBlocks(), pageSize, start, end);
    },
    check(): void {
      a.check();
    },
  };
}

function makeAllocator(options: PageTargetOptions): BuddyAllocator {
  const pageSize = options.pageSize ?? 4096;
  const pages = Math.floor(options.memory / pageSize);
  const fits = pages >= 1 ? Math.floor(Math.log2(pages)) : 0;
  const a = new BuddyAllocator({ pageSize, maxOrder: options.maxOrder ?? Math.min(20, fits) });
  a.addRegion(0, options.memory);
  return a;
}
