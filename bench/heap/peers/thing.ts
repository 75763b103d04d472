/**
 * @thi.ng/malloc's MemPool (a first-fit free-list allocator with block headers) on the same
 * pool. Its free walks the list of used blocks (O(live blocks)), so it runs a scaled-down op count.
 */
import { MemPool } from "@thi.ng/malloc";
import type { EfficiencyPeer, Peer } from "./peer.js";

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

/**
 * The efficiency workload's view of a MemPool over `arenaBytes` (pool alignment 8, talc's
 * minimum). MemPool has no per-call alignment: a request aligned to more than 8 asks for
 * `align - 8` more bytes (the aligned pointer lies inside; the bytes are not written, so the
 * handle stays the raw pointer), as an allocator without aligned allocation would serve it.
 *
 * MemPool.realloc (6.1.x) leaks the old block when it moves one: its reallocBlock calls
 * `this.free(block)` with the block's header address where free expects the data address, so
 * the free finds nothing and the old block stays in the used list. The adapter frees the old
 * pointer after a move (counted), which makes realloc an allocate-copy-free, as Rust's default
 * GlobalAlloc::realloc; the peer `thi.ng-as-shipped` leaves the leak in.
 */
export function createThingEfficiency(arenaBytes: number, asShipped = false): EfficiencyPeer<number> {
  const pool = new MemPool({ size: arenaBytes });
  const counters = { reallocMoved: 0, leakedOldBlockFreed: 0 };
  const pad = (align: number) => (align > 8 ? align - 8 : 0);
  return {
    subject: {
      malloc: (size, align) => {
        const p = pool.malloc(size + pad(align));
        return p === 0 ? null : p;
      },
      realloc: (ptr, size, align) => {
        const p = pool.realloc(ptr, size + pad(align));
        if (p === 0) return null;
        if (p !== ptr) {
          counters.reallocMoved++;
          if (!asShipped && pool.free(ptr)) counters.leakedOldBlockFreed++;
        }
        return p;
      },
      free: (ptr) => {
        pool.free(ptr);
      },
    },
    breakdown: (round) => {
      // blocks tile [state, top): state header, used blocks, free-list blocks, then never-used bytes
      const s = pool.stats();
      return {
        requested: round.requestedBytes,
        blockOverhead: s.used.size - round.requestedBytes,
        freeList: s.free.size,
        aboveTop: s.total - s.top,
        state: s.top - s.used.size - s.free.size,
        usedBlocks: s.used.count,
        freeBlocks: s.free.count,
      };
    },
    counters: () => {
      const c = { ...counters };
      for (const k of Object.keys(counters) as (keyof typeof counters)[]) counters[k] = 0;
      return c;
    },
    drain: (handles) => {
      for (const p of handles) pool.free(p as number);
      const s = pool.stats();
      return s.used.count === 0 ? null : `${s.used.count} used blocks after drain`;
    },
  };
}
