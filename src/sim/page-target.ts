/**
 * The page allocator (BuddyAllocator) as a simulation target: a request of SIZE bytes takes the
 * smallest block of whole pages that holds it (order ceil(log2(ceil(SIZE / pageSize)))), or with
 * `exact`, a run of exactly ceil(SIZE / pageSize) pages (`allocPages(count, { exact: true })`).
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
  /** Allocate exact runs of whole pages instead of power-of-two blocks (default false). */
  exact?: boolean;
}

/**
 * Wraps a page allocator for the simulator; with options instead of an allocator, makes one over
 * `[0, memory)`. With `exact` (default: `options.exact`, false for an allocator) requests are exact
 * runs of pages and the target's kind is "page-exact".
 * @throws AllocError INVALID_ARGUMENT for bad options (see BuddyAllocator and addRegion).
 */
export function pageTarget(
  source: BuddyAllocator | PageTargetOptions,
  exact = !(source instanceof BuddyAllocator) && source.exact === true,
): SimTarget {
  const a = source instanceof BuddyAllocator ? source : makeAllocator(source);
  const pageSize = a.pageSize;
  const regions = a.regions();
  const start = regions.length > 0 ? regions[0].start : 0;
  const end = regions.length > 0 ? regions[regions.length - 1].start + regions[regions.length - 1].length : 0;
  return {
    kind: exact ? "page-exact" : "page",
    label: exact ? "page allocator, exact runs" : "page allocator",
    totalBytes: a.stats().totalBytes,
    ...(exact ? runCalls(a) : blockCalls(a)),
    free(address: number): void {
      a.free(address);
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

/** `alloc` and `reservedBytes` with power-of-two blocks. */
function blockCalls(a: BuddyAllocator): Pick<SimTarget, "alloc" | "reservedBytes"> {
  const { pageSize, maxOrder } = a;
  return {
    alloc(size: number, tag: number): number | null {
      const order = orderFor(size, pageSize);
      return order > maxOrder ? null : a.allocOrder(order, tag);
    },
    reservedBytes(size: number): number {
      return pageSize * 2 ** orderFor(size, pageSize);
    },
  };
}

/** `alloc` and `reservedBytes` with exact runs of whole pages. */
function runCalls(a: BuddyAllocator): Pick<SimTarget, "alloc" | "reservedBytes"> {
  const pageSize = a.pageSize;
  const largest = 2 ** a.maxOrder;
  const options = { exact: true, tag: 0 };
  return {
    alloc(size: number, tag: number): number | null {
      const pages = Math.ceil(size / pageSize);
      if (pages > largest) return null;
      options.tag = tag;
      return a.allocPages(pages, options);
    },
    reservedBytes(size: number): number {
      return pageSize * Math.ceil(size / pageSize);
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
