/**
 * Allocation under constraints: a `limit` (the block must end at or below an address, like
 * Linux's DMA32 zone), an alignment above the block's own size, or one fixed address. Free lists
 * are LIFO, not address-ordered, so the first two walk the lists of the orders they try: O(free
 * blocks of those orders), a cost plain allocation never pays. A fixed address climbs its
 * enclosing blocks instead: O(maxOrder).
 */
import { pow2 } from "./order.js";
import { ALLOCATED, FREE, ORDER_MASK, type PageMap } from "./page-map.js";

/** What the search needs from the allocator. */
export interface ConstrainedTarget {
  readonly map: PageMap;
  readonly pageSize: number;
  readonly maxOrder: number;
  addressOf(slot: number): number;
  slotOf(address: number): number;
}

/**
 * Allocates the block of `order` at byte `address` (aligned to its size; the caller checked)
 * when all of it is free, splitting the free block that holds it. Its tag is 0.
 * @returns whether it was allocated (false: a page of it is allocated or not managed).
 */
export function takeAt(a: ConstrainedTarget, address: number, order: number): boolean {
  const map = a.map;
  const target = a.slotOf(address);
  if (target < 0) return false;
  for (let k = order; k <= a.maxOrder; k++) {
    const blockBytes = a.pageSize * pow2(k);
    const head = a.slotOf(Math.floor(address / blockBytes) * blockBytes);
    if (head < 0) return false;
    const state = map.state[head];
    if (state === (FREE | k)) {
      map.carve(head, k, target, order);
      map.setTag(target, 0);
      return true;
    }
    if ((state & ALLOCATED) !== 0 && (state & ORDER_MASK) >= k) return false; // an allocated block holds it
  }
  return false;
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
  const size = a.pageSize * pow2(order);
  const alignPages = pow2(alignOrder);
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
