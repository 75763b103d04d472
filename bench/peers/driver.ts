/**
 * No allocator at all: the workload driver against a stub that hands out page addresses from a
 * rotating cursor and counts the pages it has handed out, the same stub as buddy.c built with
 * -DDRIVER_ONLY. It replays the same operations (W2's fill still ends when the pool is full) but
 * touches no metadata, so its time is the driver's own; subtracting it from a peer's time leaves
 * that allocator's share of an operation.
 */
import type { PoolConfig, Subject } from "./peer.js";

export class DriverStub {
  private used = 0;
  private cursor = 0;

  constructor(
    readonly pageSize: number,
    readonly pages: number,
  ) {}

  allocOrder(order: number): number | null {
    const size = 1 << order;
    if (this.used + size > this.pages) return null;
    this.used += size;
    const page = this.cursor;
    this.cursor = (page + size) & (this.pages - 1);
    return page * this.pageSize;
  }

  free(_address: number, order: number): void {
    this.used -= 1 << order;
  }

  /** Pages handed out and not yet returned. */
  get usedPages(): number {
    return this.used;
  }
}

export function create(pool: PoolConfig): Subject {
  const pages = (pool.bytes / pool.pageSize) | 0; // an int32 field, not a heap number (2^30 bytes is not a Smi)
  const stub = new DriverStub(pool.pageSize, pages);
  return {
    allocator: stub,
    fragmentation: () => Number.NaN,
    verifyDrained: () => (stub.usedPages === 0 ? null : `${stub.usedPages} pages still counted as used`),
    metadataBytesPerPage: 0,
  };
}
