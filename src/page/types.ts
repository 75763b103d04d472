/** Shapes shared by every allocator's inspection API (page allocator, concurrent allocator). */

/** Options of {@link BuddyAllocator}'s constructor. */
export interface BuddyOptions {
  /** Bytes per page: any power of two from 1 up (default 4096). */
  pageSize?: number;
  /** Largest block order: a block of order k is `pageSize * 2^k` bytes (default 20, at most 31). */
  maxOrder?: number;
  /**
   * Pages per metadata section, as a power of two (default min(8, maxOrder)). Memory is given
   * metadata a section at a time: smaller sections waste less around small scattered regions,
   * larger ones keep more merges inside a section. Rarely worth changing.
   */
  sectionOrder?: number;
}

/** How `BuddyAllocator.inStorage` takes the storage's content. */
export interface InStorageOptions {
  /** true: initialise the metadata with the whole region free; false: take it as it is (a re-open). */
  fresh: boolean;
}

/** Options of `allocPages`. */
export interface AllocOptions {
  /** Start address alignment in bytes: a power of two (default: the block's own size). */
  align?: number;
  /** The block must end at or below this address (bytes, exclusive), like Linux's DMA32 zone. */
  limit?: number;
  /** A small integer (0..65535) stored with the block; see `tagOf`. */
  tag?: number;
  /**
   * Exactly `count` pages (a run) instead of the smallest power-of-two block that holds them:
   * the run starts a free block and the rest of that block is freed at once (default false).
   */
  exact?: boolean;
}

/** Options of `allocAt`. */
export interface AllocAtOptions {
  /** Exactly `count` pages at the address (a run), instead of the aligned block that holds them. */
  exact?: boolean;
  /** A small integer (0..65535) stored with the allocation; see `tagOf`. */
  tag?: number;
}

/** A block: its start address (bytes) and order (its size is `pageSize * 2^order` bytes). */
export interface Block {
  /** Start address of the block in bytes. */
  address: number;
  /** Order of the block: it spans `2^order` pages. */
  order: number;
}

/** A live (allocated) block with its tag. */
export interface AllocatedBlock extends Block {
  /** The tag (0..65535) given at allocation; 0 when none was given. */
  tag: number;
}

/**
 * A live allocation of the page allocator: a block, or a run of pages (`exact`), whose `order`
 * is then that of the smallest block that would hold it.
 */
export interface PageAllocation extends AllocatedBlock {
  /** Size in bytes: `pageSize * 2^order` for a block, `pageSize * pages` for a run. */
  size: number;
  /** True for a run allocated with `exact` (or resized). */
  exact: boolean;
}

/** What `blockAt` reports: the block or run that contains an address. */
export interface BlockInfo extends Block {
  /** Size in bytes (a run's exact size; its `order` is that of the smallest block holding it). */
  size: number;
  /** True for a run of pages (see {@link PageAllocation}). */
  exact: boolean;
  /** True when the block is free, false when it is allocated. */
  free: boolean;
  /** The block's tag when allocated, 0 when free. */
  tag: number;
}

/** A managed address range in bytes, after rounding inward to whole pages. */
export interface Region {
  /** Start address of the region in bytes (a page boundary). */
  start: number;
  /** Length of the region in bytes (whole pages). */
  length: number;
}

/** A snapshot of an allocator's occupancy. Bytes unless the name says pages. */
export interface AllocatorStats {
  /** Bytes managed: `totalPages * pageSize`. */
  totalBytes: number;
  /** Bytes in free blocks: `freePages * pageSize`. */
  freeBytes: number;
  /** Bytes in allocated blocks and runs: `totalBytes - freeBytes`. */
  allocatedBytes: number;
  /** Pages managed, all regions together. */
  totalPages: number;
  /** Pages in free blocks. */
  freePages: number;
  /** `freeBlocksByOrder[k]` is the number of free blocks of order k. */
  freeBlocksByOrder: number[];
  /** Bytes in the largest free block (0 when nothing is free). */
  largestFreeBlock: number;
  /** `1 - largestFreeBlock / freeBytes`, 0 when nothing is free: how scattered the free memory is. */
  fragmentation: number;
  /** Bytes of metadata the allocator holds (typed arrays), all regions together. */
  metadataBytes: number;
}
