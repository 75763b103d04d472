/**
 * @thi.ng/malloc's `MemPool` (a first-fit free-list allocator with block headers) over one
 * 1 GiB ArrayBuffer, allocating `pageSize << k` bytes aligned to `pageSize`. It is not a
 * buddy allocator: each block also costs one page for its 8-byte header once aligned, and
 * its free walks the used list, so it runs on a scaled-down op count.
 */
import { MemPool } from "@thi.ng/malloc";
import type { PageAllocator } from "../workloads.js";
import type { PoolConfig, Subject } from "./peer.js";

/** Reads MemPool's own free list (protected) to measure fragmentation. */
class InspectablePool extends MemPool {
  /** Free bytes and largest free run: the free list plus the untouched space above `top`. */
  freeSummary(): { free: number; largest: number } {
    const tail = this.end - this.top;
    let free = tail;
    let largest = tail;
    for (let block = this._free; block !== 0; block = this.blockNext(block)) {
      const size = this.blockSize(block);
      free += size;
      if (size > largest) largest = size;
    }
    return { free, largest };
  }
}

class MemPoolPages implements PageAllocator {
  constructor(
    readonly pool: InspectablePool,
    readonly pageSize: number,
  ) {}
  allocOrder(order: number): number | null {
    const address = this.pool.malloc(this.pageSize * 2 ** order);
    return address === 0 ? null : address;
  }
  free(address: number): void {
    this.pool.free(address);
  }
}

export function create(pool: PoolConfig): Subject {
  const mp = new InspectablePool({ size: pool.bytes, align: pool.pageSize as 4096 });
  const empty = mp.freeSummary().free;
  return {
    allocator: new MemPoolPages(mp, pool.pageSize),
    fragmentation: () => {
      const { free, largest } = mp.freeSummary();
      return free === 0 ? 0 : 1 - largest / free;
    },
    verifyDrained: () => {
      const { free } = mp.freeSummary();
      const used = mp.stats().used.count;
      return used === 0 && free === empty
        ? null
        : `${used} used blocks, ${free} of ${empty} B free after drain`;
    },
    metadataBytesPerPage: null,
  };
}
