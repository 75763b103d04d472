/**
 * Allocation under constraints: an alignment above the block's own size, a `limit` (the block
 * must end at or below an address, like Linux's DMA32 zone), or one fixed address.
 * - Alignment alone is O(maxOrder) while some free block has order >= alignOrder: every such
 *   block is aligned, so the block is cut from the start of the smallest one. Only when there is
 *   none does it walk the smaller orders' lists for a block that happens to lie aligned.
 * - A limit walks the free lists of the orders it tries, since LIFO lists are not in address
 *   order, and stops at the first block that fits: O(free blocks of those orders) at worst (all
 *   of them above the limit), a cost no other allocation pays.
 * - A fixed address climbs its enclosing blocks: O(maxOrder).
 */
import { ctz32, pow2 } from "./order.js";
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
 * Takes a block of `order` aligned to 2^alignOrder pages (alignOrder > order): the start of the
 * first block of the smallest free order >= alignOrder, split down; when no free block is that
 * large, the first smaller one that lies aligned. Returns its slot, now allocated, or -1.
 */
export function takeAligned(a: ConstrainedTarget, order: number, alignOrder: number): number {
  const map = a.map;
  const fitting = alignOrder > a.maxOrder ? 0 : map.orderMask >>> alignOrder;
  if (fitting === 0) return takeBelow(a, order, alignOrder, Number.POSITIVE_INFINITY);
  const k = alignOrder + ctz32(fitting);
  const head = map.head(k);
  map.carve(head, k, head, order);
  return head;
}

/**
 * Takes a block of `order` aligned to 2^alignOrder pages that ends at or below `limit` (bytes):
 * the first fitting block, in list order, of the smallest free order that has one, split down.
 * First fit rather than the lowest fitting address: the walk stops as soon as it can, which is
 * at once when most free memory lies below the limit. Returns its slot, now allocated, or -1.
 */
export function takeBelow(a: ConstrainedTarget, order: number, alignOrder: number, limit: number): number {
  const map = a.map;
  const lastStart = limit - a.pageSize * pow2(order);
  const alignPages = pow2(alignOrder);
  for (let k = order; k <= a.maxOrder; k++) {
    for (let slot = map.head(k); slot >= 0; slot = map.nextOf(slot)) {
      const address = a.addressOf(slot);
      // Free blocks of order >= alignOrder are aligned already; smaller ones only by chance.
      if (address <= lastStart && (k >= alignOrder || (address / a.pageSize) % alignPages === 0)) {
        map.carve(slot, k, slot, order);
        return slot;
      }
    }
  }
  return -1;
}
