/**
 * Allocation under constraints: a `limit` (the block must end at or below an address, like
 * Linux's DMA32 zone) or an alignment above the block's own size. Free lists are LIFO, not
 * address-ordered, so this walks the lists of the orders it tries: O(free blocks of those
 * orders), a cost plain allocation never pays.
 */
import type { PageMap } from "./page-map.js";

/** What the search needs from the allocator. */
export interface ConstrainedTarget {
  readonly map: PageMap;
  readonly pageSize: number;
  readonly maxOrder: number;
  addressOf(slot: number): number;
}

/**
 * Takes the lowest block of `order` aligned to 2^alignOrder pages that ends at or below `limit`
 * (bytes), cut from the smallest free order that has one. Returns its slot, now allocated, or -1.
 */
export function takeConstrained(
  a: ConstrainedTarget,
  order: number,
  alignOrder: number,
  limit: number,
): number {
  const map = a.map;
  const size = a.pageSize * 2 ** order;
  const alignPages = 2 ** alignOrder;
  for (let k = order; k <= a.maxOrder; k++) {
    let best = -1;
    let bestAddress = limit - size + 1; // a block must start below this
    for (let slot = map.head(k); slot >= 0; slot = map.nextOf(slot)) {
      const address = a.addressOf(slot);
      // Free blocks of order >= alignOrder are aligned already; smaller ones only by chance.
      if (address < bestAddress && (k >= alignOrder || (address / a.pageSize) % alignPages === 0)) {
        best = slot;
        bestAddress = address;
      }
    }
    if (best >= 0) {
      map.carve(best, k, best, order);
      return best;
    }
  }
  return -1;
}
