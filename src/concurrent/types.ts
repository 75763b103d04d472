/** Options of the concurrent allocator. Sizes in bytes, orders as in the page allocator. */

/** Per-handle options: how this thread's handle searches the tree. */
export interface ConcurrentHandleOptions {
  /**
   * A small integer naming the calling thread (0..2^31-1). It picks where this handle starts
   * searching each order (threads with different ids start far apart, the paper's per-CPU hint)
   * and which release counter it bumps. It also names the handle's record for `recover` (at
   * most 64 handles hold one at a time; `recover` of a stopped thread frees it): give live
   * handles different ids. Default: the next id from a counter in the buffer (automatic ids never
   * repeat).
   */
  threadId?: number;
}

/** Options of `ConcurrentBuddy.open`. */
export interface ConcurrentOpenOptions extends ConcurrentHandleOptions {
  /**
   * Run the full `check()` before returning the handle, and throw AllocError CORRUPT if the tree
   * or the order index is damaged (default false; O(nodes)). Only while no other thread allocates
   * or frees: operations in flight leave marks that `check` rejects.
   */
  verify?: boolean;
}

/** @deprecated use {@link ConcurrentOpenOptions} (the options of `open`, formerly `attach`). */
export type ConcurrentAttachOptions = ConcurrentOpenOptions;

/** Options of `ConcurrentBuddy.create`. */
export interface ConcurrentBuddyOptions extends ConcurrentHandleOptions {
  /** Bytes managed: addresses 0..size. A positive multiple of `pageSize`, at most 2^27 pages. */
  size: number;
  /** Bytes per page: a power of two (default 4096). */
  pageSize?: number;
  /**
   * Largest block order: a block of order k is `pageSize * 2^k` bytes. At most 30, and at most
   * ceil(log2(pages)) (one top block covering the memory). Every allocation climbs the tree up to
   * this order, so a smaller value is faster. Default: the largest order that fits in `size`, at
   * most 20.
   */
  maxOrder?: number;
  /**
   * Tree layout: "packed" (default; several levels per 32-bit word, the paper's multi-level
   * variant, fewer atomic operations per call) or "node" (the paper's one node per word).
   */
  variant?: "packed" | "node";
}
