/**
 * buddy-alloc through the count API most callers write: `allocPages(2^order)` rather than
 * `allocOrder(order)`. Same allocator, same checks as the `ours` peer; the gap between the two
 * rows is what turning a page count into an order costs.
 */
import type { BuddyAllocator } from "../../src/index.js";
import { create as createOurs } from "./ours.js";
import type { PoolConfig, Subject } from "./peer.js";

export function create(pool: PoolConfig): Subject {
  const subject = createOurs(pool);
  const a = subject.allocator as BuddyAllocator;
  return {
    ...subject,
    allocator: {
      allocOrder: (order: number) => a.allocPages(1 << order),
      free: (address: number) => a.free(address),
    },
  };
}
