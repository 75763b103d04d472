/**
 * The one small interface the simulator drives: allocate bytes, free an address, report usage and
 * draw a map. Adapters (page-target.ts, concurrent-target.ts, heap-target.ts) wrap each allocator.
 */
import { orderForPages } from "../page/order.js";
import type { MapBlock, MapModel } from "../viz/types.js";

/**
 * Which allocator a target wraps: "page" (power-of-two blocks), "page-exact" (the page allocator
 * with exact runs of pages), "concurrent" or "heap".
 */
export type TargetKind = "page" | "page-exact" | "concurrent" | "heap";

/** Occupancy of a target at one moment. Bytes. */
export interface Usage {
  /** Bytes the allocator manages. */
  totalBytes: number;
  /** Bytes in live blocks, as the allocator rounds them. */
  usedBytes: number;
  /** Bytes free. */
  freeBytes: number;
  /** Bytes in the largest free block. */
  largestFreeBlock: number;
  /** `1 - largestFreeBlock / freeBytes`, 0 when nothing is free. */
  fragmentation: number;
}

/** An allocator as the simulator sees it. */
export interface SimTarget {
  /** Which allocator this is. */
  readonly kind: TargetKind;
  /** A short description for tables and reports, e.g. "page allocator, 4 KiB pages". */
  readonly label: string;
  /** Bytes managed. */
  readonly totalBytes: number;
  /**
   * Allocates at least `size` bytes (an integer >= 1) with a tag (0..65535, kept where the
   * allocator can keep one). Returns the address, or null when it does not fit (or is larger than
   * the allocator's largest block).
   */
  alloc(size: number, tag: number): number | null;
  /** Frees the block at `address` (an address `alloc` returned). Throws AllocError when it is not live. */
  free(address: number): void;
  /**
   * Bytes the allocator holds for the live block at `address`, allocated for `size` bytes: the
   * request and its rounding (to a size class, whole pages, a power of two of pages). The replay
   * counts `reservedBytes - size` as rounding waste.
   */
  reservedBytes(size: number, address: number): number;
  /** Current occupancy (costs a walk of the allocator's free blocks). */
  usage(): Usage;
  /** The current state as a map of blocks (costs a walk of every block). */
  map(): MapModel;
  /** Verifies the allocator's invariants; throws AllocError CORRUPT on a violation. */
  check(): void;
}

/** Occupancy from any allocator's `stats()`. */
export function usageOf(stats: {
  totalBytes: number;
  allocatedBytes: number;
  freeBytes: number;
  largestFreeBlock: number;
  fragmentation: number;
}): Usage {
  return {
    totalBytes: stats.totalBytes,
    usedBytes: stats.allocatedBytes,
    freeBytes: stats.freeBytes,
    largestFreeBlock: stats.largestFreeBlock,
    fragmentation: stats.fragmentation,
  };
}

/** The order of the smallest block of `pageSize * 2^order` bytes that holds `size` bytes. */
export function orderFor(size: number, pageSize: number): number {
  const pages = Math.ceil(size / pageSize);
  return pages <= 1 ? 0 : orderForPages(pages);
}

/**
 * The memory map of a buddy allocator's blocks (page or concurrent): free blocks and allocated
 * ones (with their tags when the allocator keeps any), in the order the iterators give them.
 * An allocation's size is its `size` in bytes when it has one (a run of pages is not
 * `pageSize * 2^order`), else `pageSize * 2^order`.
 */
export function buddyMap(
  freeBlocks: Iterable<{ address: number; order: number }>,
  allocatedBlocks: Iterable<{ address: number; order: number; tag?: number; size?: number; exact?: boolean }>,
  pageSize: number,
  start: number,
  end: number,
): MapModel {
  const blocks: MapBlock[] = [];
  for (const b of freeBlocks) {
    blocks.push({ address: b.address, size: pageSize * 2 ** b.order, free: true, order: b.order, tag: 0 });
  }
  for (const b of allocatedBlocks) {
    const block: MapBlock = {
      address: b.address,
      size: b.size ?? pageSize * 2 ** b.order,
      free: false,
      order: b.order,
      tag: b.tag ?? 0,
    };
    if (b.exact) block.exact = true;
    blocks.push(block);
  }
  return { start, end, pageSize, blocks };
}
