/**
 * BuddyAllocator: a binary buddy page allocator over an address space you describe.
 *
 * Invariants (checked by `check()`):
 * - Every managed page belongs to exactly one block; a block of order k starts at a multiple of
 *   `pageSize * 2^k` and all of its pages are managed.
 * - A free block never has a free buddy of the same order below maxOrder (merging is eager), so the
 *   set of free blocks is exactly the maximal aligned blocks of the free pages.
 * - Each free block is in exactly one free list, the one of its order.
 *
 * Allocations are blocks (a power of two of pages, naturally aligned) or exact runs (any number
 * of pages; `allocPages(count, { exact: true })`): see page-map.ts for how a run is kept, and
 * runs.ts for what is done across blocks.
 *
 * Placement: the smallest non-empty order that fits, and within it the block freed last (LIFO):
 * on our workloads it fragments no more than lowest-address placement and is several times
 * faster (docs/design.md, "Placement", has the measurement). The metadata layout is described in
 * page-map.ts.
 *
 * Bad input (validate.ts, and the rule in src/errors.ts): every public method checks each argument
 * before it does anything with it, without converting it, and throws AllocError INVALID_ARGUMENT
 * for a value that is not a safe non-negative integer (or out of range, or options that are not an
 * object) before NOT_ALLOCATED for an address that starts no live allocation; the state is then
 * exactly as it was. On the hot paths the test for a number comes first (`typeof`), in the same
 * expression as the integer test the fast path already made.
 */
import { AllocError, showAddress } from "../errors.js";
import { isSafeNonNegative } from "../numbers.js";
import { allocAtWithOptions, allocWithOptions } from "./alloc-options.js";
import { appendSections, missingSections, withSections } from "./grow.js";
import {
  checkAllocator,
  countFreePages,
  iterateBlocks,
  locateBlock,
  rejectAddress,
  statsOf,
} from "./inspect.js";
import { alignedBlocks, log2Exact, orderForPages } from "./order.js";
import { ALLOCATED, FREE, ORDER_MASK, PageMap, type PageStorage, RUN } from "./page-map.js";
import { placeRegion } from "./regions.js";
import { resizeRun } from "./runs.js";
import { longestRun, SectionDirectory } from "./section-directory.js";
import { freshOf, mapInStorage, storagePagesFor } from "./storage.js";
import type {
  AllocAtOptions,
  AllocatorStats,
  AllocOptions,
  Block,
  BlockInfo,
  BuddyOptions,
  InStorageOptions,
  PageAllocation,
  Region,
} from "./types.js";
import {
  orderOfCount,
  rejectOrder,
  validateExtension,
  validateOptions,
  validateTag,
  wholePages,
} from "./validate.js";

/** A buddy page allocator. Addresses and sizes are bytes; counts are pages. */
export class BuddyAllocator {
  // An Inspectable (page/inspect.ts) by shape, without `implements`: the clause would name the
  // @internal members that the published declarations leave out. Its callers check the shape.
  /** Bytes per page. */
  readonly pageSize: number;
  /** Largest block order; a block of order k is `pageSize * 2^k` bytes. */
  readonly maxOrder: number;
  /** @internal Pages per section, as a power of two. */
  readonly sectionOrder: number;
  /** @internal */
  readonly sectionBytes: number = Number.NaN;
  /*
   * The state below is private: only this class changes it. The helper modules that read it
   * (inspect.ts, constrained.ts, runs.ts, alloc-options.ts) and the heap's inspection get it
   * through the read-only accessors further down, typed by their own narrow interfaces
   * (`Inspectable`, `ConstrainedTarget`); the fast paths here read the fields themselves.
   */
  /** The metadata (page-map.ts); replaced when sections are added. */
  private metadata: PageMap;
  /** Slot of each present section's number; rebuilt with `metadata`. */
  private sections: SectionDirectory;
  /** Managed regions, sorted by start; bytes. */
  private readonly starts: number[] = [];
  /** The regions' ends (exclusive), in the order of `starts`. */
  private readonly ends: number[] = [];
  /** Pages managed (the sum of the regions). */
  private managedPages = 0;
  /**
   * The window: the longest run of present sections that are adjacent in memory, where slot and
   * address convert by one multiply, without the directory. Most allocators are one window.
   * When the window also lies below 2^31 bytes (`lowPages` > 0), the conversion is all int32
   * arithmetic: a shift and a mask, which is what keeps alloc/free small enough for V8 to inline.
   */
  /*
   * Field representations. V8 keeps one representation per field per hidden class, fixed by the
   * first store: a field that starts as a small integer and later receives a double changes the
   * class of every allocator, and all optimized alloc/free code deoptimizes (it did, on the
   * second allocator of every process). So the fields that may hold doubles start as one (NaN,
   * overwritten before use), and the int32 copies the fast path reads are stored with `| 0`
   * (a double there had turned slotOf into float compares and conversions).
   */
  private windowAddress = Number.NaN;
  private windowBytes = Number.NaN;
  private windowSlot = 0;
  private windowPages = 0;
  /** The window's pages when it lies below 2^31 bytes and pages are below 2^31 bytes, else 0. */
  private lowPages = 0;
  /** The window's address when `lowPages` > 0, else 0. */
  private lowAddress = 0;
  /** The window's first slot when `lowPages` > 0, else 0. */
  private lowSlot = 0;
  private readonly pageShift: number;
  private readonly pageMask: number;
  private readonly invSectionBytes: number = Number.NaN;
  private readonly invPageSize: number = Number.NaN;

  /**
   * @param options pageSize (bytes, a power of two, default 4096), maxOrder (0..31, default 20), sectionOrder.
   * @throws AllocError INVALID_ARGUMENT for options that are not an object, a bad option or a
   * largest block beyond 2^53 bytes.
   */
  constructor(options?: BuddyOptions) {
    const { pageSize, maxOrder, sectionOrder } = validateOptions(options);
    this.pageSize = pageSize;
    this.maxOrder = maxOrder;
    this.sectionOrder = sectionOrder;
    this.sectionBytes = pageSize * 2 ** this.sectionOrder;
    this.invSectionBytes = 1 / this.sectionBytes;
    this.invPageSize = 1 / pageSize;
    this.pageShift = pageSize < 2 ** 31 ? log2Exact(pageSize) | 0 : 0;
    this.pageMask = pageSize < 2 ** 31 ? (pageSize - 1) | 0 : 0;
    this.metadata = new PageMap(maxOrder, this.sectionOrder, new Float64Array(0), this.sectionBytes);
    this.sections = new SectionDirectory(this.metadata.sectionNumber);
  }

  /**
   * Adds free memory: the whole pages inside `[start, start + length)` (bytes). Free buddies merge
   * with memory added before. Cost grows with the number of aligned blocks and new sections.
   * @returns the range actually added, rounded inward to whole pages.
   * @throws AllocError INVALID_ARGUMENT (bad numbers, no whole page, too much metadata), OVERLAP.
   */
  addRegion(start: number, length: number): Region {
    const [first, end] = wholePages(this.pageSize, start, length);
    const at = placeRegion(this.starts, this.ends, first, end);
    const added = missingSections(this.metadata, this.sections, first, end, this.sectionBytes);
    if (added.length > 0) {
      if (this.metadata.external) {
        throw new AllocError(
          "INVALID_ARGUMENT",
          "an allocator over caller storage grows only by extendRegion",
        );
      }
      this.adopt(withSections(this.metadata, added, this.maxOrder, this.sectionBytes));
    }
    this.starts.splice(at, 0, first);
    this.ends.splice(at, 0, end);
    const pages = (end - first) / this.pageSize;
    this.managedPages += pages;
    this.releaseRange(first / this.pageSize, end / this.pageSize);
    return { start: first, length: end - first };
  }

  /**
   * An allocator over one region whose metadata lives in `storage`: views the caller carved from
   * memory it owns (a heap's buffer, possibly shared by workers, possibly saved and re-opened).
   * With `{ fresh: true }`, the metadata is initialised with the whole region free; with
   * `{ fresh: false }` it is taken as it is (a re-open). A bare boolean in place of the object
   * still works (deprecated). The storage must hold `storagePages(options, start, maxLength)` pages so that
   * `extendRegion` can grow the region in place.
   * @throws AllocError INVALID_ARGUMENT for bad options or numbers, no whole page, storage that is
   * not a PageStorage or is too small, a `fresh` that is not a boolean, or a region beyond the
   * metadata limits (checked before anything is built).
   */
  static inStorage(
    options: BuddyOptions,
    start: number,
    length: number,
    storage: PageStorage,
    open: InStorageOptions,
  ): BuddyAllocator;
  /** @deprecated pass `{ fresh }`: the same, with the flag named at the call site. */
  static inStorage(
    options: BuddyOptions,
    start: number,
    length: number,
    storage: PageStorage,
    fresh: boolean,
  ): BuddyAllocator;
  static inStorage(
    options: BuddyOptions,
    start: number,
    length: number,
    storage: PageStorage,
    open: InStorageOptions | boolean,
  ): BuddyAllocator {
    const a = new BuddyAllocator(options);
    const [first, end] = wholePages(a.pageSize, start, length);
    const fresh = freshOf(open) as boolean; // mapInStorage refuses anything but a boolean
    a.adopt(mapInStorage(a, first, end, storage, fresh));
    if (fresh) a.metadata.clear();
    a.starts.push(first);
    a.ends.push(first);
    if (fresh) a.extendRegion(end);
    else {
      a.ends[0] = end;
      a.managedPages = (end - first) / a.pageSize;
    }
    return a;
  }

  /** Pages of {@link PageStorage} that `inStorage` needs for a region of up to `length` bytes at `start`. */
  static storagePages(options: BuddyOptions, start: number, length: number): number {
    const a = new BuddyAllocator(options);
    const [first, end] = wholePages(a.pageSize, start, length);
    return storagePagesFor(a, first, end);
  }

  /**
   * Moves the end of the last region up to `end` (bytes, rounded down to a page) and frees the
   * new pages, merging them with their buddies: for memory that grows, like a WebAssembly.Memory.
   * @throws AllocError INVALID_ARGUMENT when `end` is not a safe non-negative integer, there is no
   * region, `end` is below the current end, the storage is too small or the metadata would pass its
   * limits (checked before anything is built); OVERLAP never (nothing lies above the last region).
   */
  extendRegion(end: number): void {
    validateExtension(end, this.ends);
    const last = this.ends.length - 1;
    const from = this.ends[last];
    const to = Math.floor(end / this.pageSize) * this.pageSize;
    if (to <= from) return;
    const grown = appendSections(this.metadata, to, this.sectionBytes);
    if (grown !== this.metadata) this.adopt(grown);
    this.ends[last] = to;
    this.managedPages += (to - from) / this.pageSize;
    this.releaseRange(from / this.pageSize, to / this.pageSize);
  }

  /**
   * Allocates the smallest block of at least `count` pages (order ceil(log2 count)), or with
   * `exact`, a run of exactly `count` pages.
   * @param count pages, 1..2^maxOrder.
   * @param options align (bytes, power of two), limit (the allocation ends at or below it), tag
   * (0..65535), exact (a run of `count` pages: cut from the start of the smallest free block that
   * holds it, its tail freed at once; when no single free block can, from adjacent free blocks).
   * @returns the allocation's address in bytes, or null when nothing fits (with `exact`: when no
   * `count` contiguous free pages meet `align` and `limit` anywhere).
   * @throws AllocError INVALID_ARGUMENT for a bad count or option.
   */
  allocPages(count: number, options?: AllocOptions): number | null {
    const order = orderOfCount(count, this.maxOrder);
    if (options !== undefined) return this.allocWith(count, order, options);
    const slot = this.metadata.take(order, 0);
    return slot < 0 ? null : this.addressOf(slot);
  }

  /** `allocPages` with options, kept out of it so that the plain call stays small enough to inline. */
  private allocWith(count: number, order: number, options: AllocOptions): number | null {
    const slot = allocWithOptions(this, count, order, options);
    return slot < 0 ? null : this.addressOf(slot);
  }

  /**
   * Allocates a block of exactly `order` (pageSize * 2^order bytes).
   * @returns its address in bytes, or null when no block of that order can be made.
   * @throws AllocError INVALID_ARGUMENT for an order outside 0..maxOrder or a bad tag.
   */
  allocOrder(order: number, tag = 0): number | null {
    // `typeof` first: `>>>` would throw on a BigInt and call an object's valueOf.
    if (typeof order !== "number" || order >>> 0 !== order || order > this.maxOrder) {
      rejectOrder(order, this.maxOrder);
    }
    if (tag !== 0) validateTag(tag);
    const slot = this.metadata.take(order, tag);
    return slot < 0 ? null : this.addressOf(slot);
  }

  /**
   * Allocates the naturally aligned block of `count` pages (rounded up to a power of two) at
   * `address`, if all of it is free, splitting the free block around it; with `exact`, the run
   * of exactly `count` pages at `address` (any page boundary), if all of them are free.
   * @param options exact (a run), tag (0..65535, default 0).
   * @returns `address`, or null when any of its pages is allocated or not managed.
   * @throws AllocError INVALID_ARGUMENT for bad numbers or options, or an address not aligned to
   * the block size (to a page, with `exact`).
   */
  allocAt(address: number, count: number, options?: AllocAtOptions): number | null {
    const order = orderOfCount(count, this.maxOrder);
    return allocAtWithOptions(this, address, count, order, options) ? address : null;
  }

  /**
   * Frees the block allocated at `address` and merges it with free buddies as far as possible.
   * @throws AllocError NOT_ALLOCATED unless `address` starts a live block; INVALID_ARGUMENT for a non-address.
   */
  free(address: number): void {
    const map = this.metadata;
    const slot = this.slotOf(address);
    // A slot of -1 (not a managed page, or not a number) reads undefined, which fails the test.
    // ALLOCATED is the state byte's top bit; `>=` is shorter bytecode than `&`, and no
    // `slot < 0 ? 0 :` guard, which pays for the `typeof` test in `slotOf`: the alloc and free
    // paths must stay within V8's inlining budget (the rule on `take` in page-map.ts; check with
    // `npm run check:inline`).
    const state = map.state[slot];
    if (!(state >= ALLOCATED)) this.rejectAddress(address, "free");
    map.release(slot, state & ORDER_MASK);
  }

  /**
   * Bytes of the live allocation at `address`: a block's `pageSize * 2^order`, a run's
   * `pageSize * count`.
   * @throws AllocError NOT_ALLOCATED unless `address` starts a live allocation.
   */
  sizeOf(address: number): number {
    return this.metadata.pagesOf(this.liveSlot(address, "sizeOf")) * this.pageSize;
  }

  /**
   * Resizes the live allocation at `address` (a block or a run) to `count` pages in place; it is
   * a run afterwards, with its tag. Shrinking frees the tail; growing takes the free pages right
   * after it. O(maxOrder + blocks taken or freed).
   * @returns true when done; false, with nothing changed, when the pages after it are not free.
   * @throws AllocError INVALID_ARGUMENT unless `count` is an integer in 1..2^maxOrder and `address`
   * a safe non-negative integer; NOT_ALLOCATED unless `address` starts a live allocation.
   */
  resize(address: number, count: number): boolean {
    orderOfCount(count, this.maxOrder);
    return resizeRun(this, this.liveSlot(address, "resize"), count);
  }

  /**
   * The tag of the live block at `address`.
   * @throws AllocError NOT_ALLOCATED unless `address` starts a live block.
   */
  tagOf(address: number): number {
    return this.metadata.tagOf(this.liveSlot(address, "tagOf"));
  }

  /**
   * Sets the tag (an integer 0..65535) of the live block at `address`.
   * @throws AllocError INVALID_ARGUMENT for a bad tag or a non-address, NOT_ALLOCATED unless
   * `address` starts a live block.
   */
  setTag(address: number, tag: number): void {
    validateTag(tag);
    this.metadata.setTag(this.liveSlot(address, "setTag"), tag);
  }

  /**
   * The order of the live block at `address`; for a run, the order of the smallest block that
   * would hold it (ceil(log2 pages); `sizeOf` gives its size).
   * @throws AllocError NOT_ALLOCATED unless `address` starts a live allocation.
   */
  orderOf(address: number): number {
    const slot = this.liveSlot(address, "orderOf");
    const state = this.metadata.state[slot];
    return state & RUN ? orderForPages(this.metadata.pagesOf(slot)) : state & ORDER_MASK;
  }

  /** Occupancy figures; bytes unless named pages. Walks the free lists: O(free blocks). */
  stats(): AllocatorStats {
    return statsOf(this);
  }

  /** The free blocks in address order. */
  freeBlocks(): IterableIterator<Block> {
    return iterateBlocks(this, FREE, false) as IterableIterator<Block>;
  }

  /**
   * The live allocations in address order, with their tags and sizes. A run is reported with
   * `exact: true`, its size in bytes, and as `order` the order of the smallest block holding it.
   */
  allocatedBlocks(): IterableIterator<PageAllocation> {
    return iterateBlocks(this, ALLOCATED, true) as IterableIterator<PageAllocation>;
  }

  /**
   * The block or run containing byte `address`, or null when the address is not managed memory.
   * O(maxOrder) for a block; for a byte inside a run that starts below its natural alignment,
   * a walk back to the run's first page.
   * @throws AllocError INVALID_ARGUMENT unless `address` is a safe non-negative integer.
   */
  blockAt(address: number): BlockInfo | null {
    if (!isSafeNonNegative(address)) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `blockAt: address must be a safe non-negative integer, got ${showAddress(address)}`,
      );
    }
    return locateBlock(this, address);
  }

  /** The managed regions in address order (bytes, whole pages). */
  regions(): Region[] {
    return this.starts.map((start, i) => ({ start, length: this.ends[i] - start }));
  }

  /**
   * Verifies every invariant of the metadata (O(pages)).
   * @throws AllocError CORRUPT naming the first violation found.
   */
  check(): void {
    checkAllocator(this);
  }

  /** @internal The metadata, for reading (inspect.ts, constrained.ts, runs.ts, the heap's inspection). */
  get map(): PageMap {
    return this.metadata;
  }

  /** @internal The section directory, for reading (its size is part of `stats().metadataBytes`). */
  get directory(): SectionDirectory {
    return this.sections;
  }

  /** @internal The managed regions' starts, sorted (bytes); see `regions()` for a copy. */
  get regionStart(): readonly number[] {
    return this.starts;
  }

  /** @internal The managed regions' ends (exclusive), in the order of `regionStart`. */
  get regionEnd(): readonly number[] {
    return this.ends;
  }

  /** @internal Pages managed (the sum of the regions). */
  get totalPages(): number {
    return this.managedPages;
  }

  /** @internal Pages in free blocks, counted from the free lists: O(free blocks). */
  get freePages(): number {
    return countFreePages(this.metadata);
  }

  /** @internal The metadata slot of a page-aligned managed address, or -1 (also for a non-number). */
  slotOf(address: number): number {
    // `typeof` first: `address | 0` would throw on a BigInt and call an object's valueOf.
    if (typeof address === "number") {
      const whole = address | 0;
      const offset = (whole - this.lowAddress) | 0;
      const page = offset >>> this.pageShift;
      if (whole === address && !(offset & this.pageMask) && page < this.lowPages) {
        return (this.lowSlot + page) | 0;
      }
    }
    return this.slotOfWide(address);
  }

  /** `slotOf` for any address: float arithmetic in the window, the directory outside it. */
  private slotOfWide(address: number): number {
    if (typeof address !== "number" || !(address >= 0)) return -1;
    const offset = address - this.windowAddress;
    if (offset >= 0 && offset < this.windowBytes) {
      const page = offset * this.invPageSize;
      return (page | 0) === page ? this.windowSlot + page : -1;
    }
    const index = this.sections.indexOf(Math.floor(address * this.invSectionBytes));
    if (index < 0) return -1;
    const page = (address - this.metadata.sectionAddress[index]) * this.invPageSize;
    if ((page | 0) !== page) return -1;
    return (index << this.sectionOrder) + page;
  }

  /** @internal The address in bytes of a slot's page. */
  addressOf(slot: number): number {
    const page = (slot - this.lowSlot) | 0;
    return page >>> 0 < this.lowPages
      ? (this.lowAddress + (page << this.pageShift)) | 0
      : this.addressOfWide(slot);
  }

  /** `addressOf` for any slot. */
  private addressOfWide(slot: number): number {
    const page = slot - this.windowSlot;
    if (page >= 0 && page < this.windowPages) return this.windowAddress + page * this.pageSize;
    const s = this.sectionOrder;
    return this.metadata.sectionAddress[slot >>> s] + (slot & ((1 << s) - 1)) * this.pageSize;
  }

  /** Frees pages [firstPage, endPage) as maximal aligned blocks, highest first (so LIFO lists hand out low ones first). */
  private releaseRange(firstPage: number, endPage: number): void {
    const blocks = alignedBlocks(firstPage, endPage, this.maxOrder);
    for (let i = blocks.length - 2; i >= 0; i -= 2) {
      this.metadata.release(this.slotOf(blocks[i] * this.pageSize), blocks[i + 1]);
    }
  }

  /** Makes `map` the metadata and rebuilds what is derived from its sections. */
  private adopt(map: PageMap): void {
    this.metadata = map;
    this.sections = new SectionDirectory(map.sectionNumber);
    this.placeWindow();
  }

  /** Points the window at the longest run of adjacent present sections. */
  private placeWindow(): void {
    const [first, length] = longestRun(this.metadata.sectionNumber);
    const pages = 2 ** this.sectionOrder;
    this.windowAddress = length === 0 ? 0 : this.metadata.sectionAddress[first];
    this.windowBytes = length * this.sectionBytes;
    this.windowSlot = (first * pages) | 0; // slots < 2^30: keep the field a Smi
    this.windowPages = (length * pages) | 0;
    const low = this.windowAddress + this.windowBytes <= 2 ** 31 && this.pageSize < 2 ** 31;
    this.lowPages = low ? this.windowPages | 0 : 0;
    this.lowAddress = low ? this.windowAddress | 0 : 0;
    this.lowSlot = low ? this.windowSlot | 0 : 0;
  }

  private liveSlot(address: number, operation: string): number {
    const slot = this.slotOf(address);
    if (slot < 0 || (this.metadata.state[slot] & ALLOCATED) === 0) this.rejectAddress(address, operation);
    return slot;
  }

  /**
   * Throws the right error for an address that does not start a live block (see inspect.ts).
   * A method, not a direct call of the imported function from `free`: with the module-level call
   * there, V8 compiled the whole free path 24 instructions longer per operation.
   */
  private rejectAddress(address: number, operation: string): never {
    rejectAddress(this, address, operation);
  }
}
