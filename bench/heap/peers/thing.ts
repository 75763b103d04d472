/**
 * @thi.ng/malloc's MemPool (a first-fit free-list allocator with block headers) on the same
 * pool. Its free walks the list of used blocks (O(live blocks)), so it runs a scaled-down op count.
 */
import { MemPool } from "@thi.ng/malloc";
import type { Peer } from "./peer.js";

export function createThing(poolBytes: number): Peer<number> {
  const pool = new MemPool({ size: poolBytes });
  return {
    subject: {
      malloc: (size) => {
        const p = pool.malloc(size);
        return p === 0 ? null : p;
      },
      free: (ptr) => {
        pool.free(ptr);
      },
    },
    footprint: () => {
      const s = pool.stats();
      return s.used.size + s.free.size;
    },
    metadataBytesPerPage: null,
    verifyDrained: () => {
      const s = pool.stats();
      return s.used.count === 0 ? null : `${s.used.count} used blocks after drain`;
    },
  };
}
