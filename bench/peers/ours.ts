/**
 * buddy-alloc's own `BuddyAllocator`. The workload calls the real instance's `allocOrder` and
 * `free` directly (no wrapper); `free` ignores the order argument since the allocator knows it.
 * After the drain, `check()` verifies every metadata invariant as well.
 */
import { BuddyAllocator } from "../../src/index.js";
import type { PoolConfig, Subject } from "./peer.js";

export function create(pool: PoolConfig): Subject {
  const a = new BuddyAllocator({ pageSize: pool.pageSize, maxOrder: pool.maxOrder });
  a.addRegion(0, pool.bytes);
  const s = a.stats();
  return {
    allocator: a,
    fragmentation: () => a.stats().fragmentation,
    verifyDrained: () => {
      a.check();
      const t = a.stats();
      return t.freePages === t.totalPages && t.largestFreeBlock === pool.bytes
        ? null
        : `${t.freePages} of ${t.totalPages} pages free, largest ${t.largestFreeBlock} B after drain`;
    },
    metadataBytesPerPage: s.metadataBytes / s.totalPages,
  };
}
