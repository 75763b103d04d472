/**
 * The reference peer: a plain first-fit allocator over 256-byte pages with its bookkeeping out of
 * band (nothing is written into the buffer, as a GPU buffer's suballocator must work). The free
 * memory is a list of maximal free ranges sorted by address; an allocation takes the start of the
 * lowest range that holds it, a free merges with its neighbours. O(free ranges) per operation:
 * a yardstick for placement, not a contender for speed.
 */
export class FirstFit {
  /** Free ranges [start, start + length) in pages, sorted by start, never adjacent. */
  private starts: number[];
  private lengths: number[];
  /** Live allocations: first page -> pages. */
  private readonly live = new Map<number, number>();

  constructor(
    readonly pageSize: number,
    readonly totalPages: number,
  ) {
    this.starts = [0];
    this.lengths = [totalPages];
  }

  /** The byte address of `pages` free pages at the lowest address that has them, or null. */
  alloc(pages: number): number | null {
    const starts = this.starts;
    const lengths = this.lengths;
    for (let i = 0; i < starts.length; i++) {
      const length = lengths[i];
      if (length < pages) continue;
      const start = starts[i];
      if (length === pages) {
        starts.splice(i, 1);
        lengths.splice(i, 1);
      } else {
        starts[i] = start + pages;
        lengths[i] = length - pages;
      }
      this.live.set(start, pages);
      return start * this.pageSize;
    }
    return null;
  }

  free(address: number): void {
    const start = address / this.pageSize;
    const pages = this.live.get(start);
    if (pages === undefined) throw new Error(`first-fit: ${address} is not allocated`);
    this.live.delete(start);
    const starts = this.starts;
    const lengths = this.lengths;
    // i: the first range after `start` (binary search).
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    const joinsPrev = i > 0 && starts[i - 1] + lengths[i - 1] === start;
    const joinsNext = i < starts.length && start + pages === starts[i];
    if (joinsPrev && joinsNext) {
      lengths[i - 1] += pages + lengths[i];
      starts.splice(i, 1);
      lengths.splice(i, 1);
    } else if (joinsPrev) lengths[i - 1] += pages;
    else if (joinsNext) {
      starts[i] = start;
      lengths[i] += pages;
    } else {
      starts.splice(i, 0, start);
      lengths.splice(i, 0, pages);
    }
  }

  /** Bytes held by the live allocation at `address`. */
  sizeOf(address: number): number {
    const pages = this.live.get(address / this.pageSize);
    if (pages === undefined) throw new Error(`first-fit: ${address} is not allocated`);
    return pages * this.pageSize;
  }

  /** Free ranges in address order as [byte address, bytes]. */
  *freeRanges(): Generator<readonly [number, number]> {
    for (let i = 0; i < this.starts.length; i++)
      yield [this.starts[i] * this.pageSize, this.lengths[i] * this.pageSize] as const;
  }

  /** Free ranges sorted, in bounds, never touching; with the live ones they tile the pages exactly. */
  check(): void {
    const pieces: [number, number, boolean][] = this.starts.map((s, i) => [s, this.lengths[i], true]);
    for (const [s, n] of this.live) pieces.push([s, n, false]);
    pieces.sort((a, b) => a[0] - b[0]);
    let end = 0;
    let wasFree = false;
    for (const [s, n, free] of pieces) {
      if (s !== end || n < 1) throw new Error(`first-fit: gap or overlap at page ${s}`);
      if (free && wasFree) throw new Error(`first-fit: adjacent free ranges at page ${s}`);
      end = s + n;
      wasFree = free;
    }
    if (end !== this.totalPages) throw new Error(`first-fit: pages end at ${end}, not ${this.totalPages}`);
    for (let i = 1; i < this.starts.length; i++)
      if (this.starts[i] <= this.starts[i - 1]) throw new Error("first-fit: free ranges out of order");
  }

  get liveCount(): number {
    return this.live.size;
  }
}
