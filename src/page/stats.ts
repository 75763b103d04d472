/** The one place where occupancy figures are derived, for every allocator's `stats()`. */
import type { AllocatorStats } from "./types.js";

/**
 * Stats from the free blocks per order.
 * @param freeBlocksByOrder free blocks of each order (index = order)
 * @param totalPages pages managed
 * @param pageSize bytes per page
 * @param metadataBytes bytes of metadata the allocator holds
 */
export function statsFromFreeBlocks(
  freeBlocksByOrder: number[],
  totalPages: number,
  pageSize: number,
  metadataBytes: number,
): AllocatorStats {
  let freePages = 0;
  let largest = -1;
  freeBlocksByOrder.forEach((n, order) => {
    freePages += n * 2 ** order;
    if (n > 0) largest = order;
  });
  const freeBytes = freePages * pageSize;
  const largestFreeBlock = largest < 0 ? 0 : pageSize * 2 ** largest;
  return {
    totalBytes: totalPages * pageSize,
    freeBytes,
    allocatedBytes: (totalPages - freePages) * pageSize,
    totalPages,
    freePages,
    freeBlocksByOrder,
    largestFreeBlock,
    fragmentation: freeBytes === 0 ? 0 : 1 - largestFreeBlock / freeBytes,
    metadataBytes,
  };
}
