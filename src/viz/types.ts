/**
 * The inputs of the visualisations: plain data, so any allocator (or a saved heap, or a replay's
 * time series) can be drawn without the drawing code knowing which allocator it came from.
 */

/** One block on a memory map: allocated or free, `size` bytes at `address` (both bytes). */
export interface MapBlock {
  /** Start address in bytes. */
  address: number;
  /** Size in bytes: `pageSize * 2^order` for a buddy block, `pageSize * pages` for a run. */
  size: number;
  /** True for a free block. */
  free: boolean;
  /** Buddy order (size = pageSize * 2^order); for a run, that of the smallest block holding it. */
  order: number;
  /** True for a run of pages (an exact allocation): any number of pages, not always aligned. */
  exact?: boolean;
  /** The block's tag (0 when free or untagged). */
  tag: number;
  /** Optional words shown in the block's tooltip (e.g. "slab of 64-byte objects"). */
  note?: string;
}

/** The state of one address space, ready to draw. */
export interface MapModel {
  /** First managed byte. */
  start: number;
  /** One past the last managed byte. */
  end: number;
  /** Bytes per page: the smallest cell the map draws. */
  pageSize: number;
  /** Every block, free or allocated, in any order. Bytes not covered are drawn as unmanaged. */
  blocks: MapBlock[];
  /** Optional names for tags, shown in the legend when colouring by tag. */
  tagNames?: Record<number, string>;
}

/** One point of a replay's time series. */
export interface SeriesPoint {
  /** Operations completed when the point was taken. */
  op: number;
  /** Bytes held by live blocks (as the allocator rounds them). */
  usedBytes: number;
  /** Bytes the workload asked for and holds (before rounding). */
  requestedBytes: number;
  /** `1 - largest free block / free bytes` (0..1). */
  fragmentation: number;
  /** Failed allocations so far. */
  failures: number;
}
