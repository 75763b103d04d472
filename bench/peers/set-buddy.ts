/**
 * A naive JS buddy allocator, the way one is often first written: a `Set<number>` of free
 * block addresses per order. Alloc takes the first element of the smallest non-empty order
 * >= k and splits; free needs the order and merges while `set.has(buddy)`.
 */
import type { PoolConfig, Subject } from "./peer.js";

export class SetBuddy {
  readonly freeSets: Set<number>[] = [];

  constructor(
    readonly pageSize: number,
    readonly maxOrder: number,
  ) {
    for (let k = 0; k <= maxOrder; k++) this.freeSets.push(new Set());
  }

  /** Adds [start, start + length) as the largest aligned blocks that fit. */
  addRegion(start: number, length: number): void {
    let page = start / this.pageSize;
    const end = (start + length) / this.pageSize;
    while (page < end) {
      let k = this.maxOrder;
      while (k > 0 && (page % 2 ** k !== 0 || page + 2 ** k > end)) k--;
      this.freeSets[k].add(page * this.pageSize);
      page += 2 ** k;
    }
  }

  allocOrder(order: number): number | null {
    for (let k = order; k <= this.maxOrder; k++) {
      const set = this.freeSets[k];
      if (set.size === 0) continue;
      const address = set.values().next().value as number;
      set.delete(address);
      while (k > order) {
        k--;
        this.freeSets[k].add(address + this.pageSize * 2 ** k);
      }
      return address;
    }
    return null;
  }

  free(address: number, order: number): void {
    while (order < this.maxOrder) {
      const size = this.pageSize * 2 ** order;
      const buddy = (address / size) % 2 === 0 ? address + size : address - size;
      const set = this.freeSets[order];
      if (!set.has(buddy)) break;
      set.delete(buddy);
      if (buddy < address) address = buddy;
      order++;
    }
    this.freeSets[order].add(address);
  }

  freeBytes(): number {
    let bytes = 0;
    for (let k = 0; k <= this.maxOrder; k++) bytes += this.freeSets[k].size * this.pageSize * 2 ** k;
    return bytes;
  }

  largestFreeBlock(): number {
    for (let k = this.maxOrder; k >= 0; k--) if (this.freeSets[k].size > 0) return this.pageSize * 2 ** k;
    return 0;
  }
}

export function create(pool: PoolConfig): Subject {
  const a = new SetBuddy(pool.pageSize, pool.maxOrder);
  a.addRegion(0, pool.bytes);
  return {
    allocator: a,
    fragmentation: () => {
      const free = a.freeBytes();
      return free === 0 ? 0 : 1 - a.largestFreeBlock() / free;
    },
    verifyDrained: () =>
      a.freeBytes() === pool.bytes && a.largestFreeBlock() === pool.bytes
        ? null
        : `free ${a.freeBytes()} B, largest ${a.largestFreeBlock()} B after drain`,
    metadataBytesPerPage: null,
  };
}
