/**
 * ConcurrentBuddy: a lock-free buddy allocator (NBBS) whose whole state lives in one
 * SharedArrayBuffer, so every worker of a program can allocate and free from the same memory at
 * once. Each thread opens its own handle (`create` in one thread, `open` in the others); a
 * handle keeps only derived constants and its private placement state (search cursors, hints).
 *
 * Placement (placement.ts). allocOrder(k) takes, like the page allocator, a free block of the
 * smallest order >= k whose buddy is occupied, splitting it: from this handle's private hints
 * (blocks it freed or split off), checked against the tree and claimed; else from the blocks free
 * as a whole in its region, gathered from the tree; else by the tree variant's scan of order k
 * from this handle's cursor (initially a point spread by the thread id, so threads start far
 * apart: the paper's per-CPU hint), which takes the first free block (tree.ts). Small blocks thus
 * fill blocks already split and large free blocks stay whole, while each thread keeps to blocks
 * of its own.
 *
 * No spurious null. A scan can miss free memory: a block freed behind the scan position, or
 * buddies whose merge finishes after the scan looked at their parent. So a failed scan is not
 * trusted: the allocator sums the release counters (every free adds 1 to its thread's counter
 * after its last mark is cleared), scans the whole order again reading every word with
 * Atomics.load (the first scan may read plainly: its reads are only CAS guesses), and returns
 * null only if the sum did not move meanwhile. Then every node the scan saw busy was still held
 * at the end of the scan by a live block or by an operation still in flight (a claim, a failed
 * claim's release, or a free that had not returned). A rescan happens only because some free
 * completed, so the loop is lock-free.
 *
 * free(address) takes the block's order back from the order index with one Atomics.exchange:
 * two threads freeing the same block cannot both succeed, and a double free finds 0 and throws
 * before touching the tree.
 *
 * Crash recovery (records.ts, recover.ts). Each handle owns a record in the buffer naming the
 * claim it holds outside the order index (an allocation not yet returned, a free not yet
 * finished), written with plain stores right after each atomic step. After a worker dies,
 * `recover(threadId)` in any other thread undoes or finishes that operation, lock-free.
 *
 * Bad input follows the page allocator's rule (src/errors.ts): an argument that is not a safe
 * non-negative integer, or out of range, or options that are not an object, is INVALID_ARGUMENT,
 * found before the value is converted in any way (`typeof` before the integer tests), and before
 * NOT_ALLOCATED; nothing in the buffer changes (open takes an automatic thread id only once its
 * options and, with `verify`, the whole tree have passed).
 */
import { AllocError, showAddress, showCount } from "../errors.js";
import { isPowerOfTwo, isSafeNonNegative } from "../numbers.js";
import { log2Exact } from "../page/order.js";
import type { AllocatorStats, Block } from "../page/types.js";
import { optionsObject, orderOfCount } from "../page/validate.js";
import { blocksOf, checkTree, locate, statsOf, viewOf } from "./inspect.js";
import {
  bufferBytes,
  COUNTER_SLOTS,
  COUNTER_STRIDE,
  COUNTERS_WORD,
  type Geometry,
  H_NEXT_THREAD,
  HEADER_WORDS,
  MAX_PAGES,
  MAX_WORDS,
  OP_FREE,
  OP_IDLE,
  phantomBlocks,
  R_BLOCK,
  R_ORDER,
  R_STATE,
  readHeader,
  TREE_WORD,
  writeHeader,
} from "./layout.js";
import { Placement } from "./placement.js";
import { recordOf, takenRecords, takeRecord } from "./records.js";
import { type RecoveredOperation, recordSlotOf, recoverSlot } from "./recover.js";
import type { Tree } from "./tree.js";
import type { ConcurrentBuddyOptions, ConcurrentOpenOptions } from "./types.js";
import { VARIANTS, type Variant, wordCount } from "./variants.js";

/** Spreads thread ids over [0, 1): the fractional parts of t * golden ratio stay far apart. */
const GOLDEN = 0.6180339887498949;

/** A handle on a lock-free buddy allocator shared through a SharedArrayBuffer. */
export class ConcurrentBuddy {
  // A TreeView (inspect.ts) by shape, without `implements`: the clause would name the @internal
  // members that the published declarations leave out. Its callers check the shape.
  /** The shared state; pass it to `open` in another thread. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes per page. */
  readonly pageSize: number;
  /** Largest block order; a block of order k is `pageSize * 2^k` bytes. */
  readonly maxOrder: number;
  /** Bytes managed: addresses 0..size. */
  readonly size: number;
  /** Pages managed. */
  readonly pages: number;
  /**
   * This handle's thread id (see ConcurrentHandleOptions): given, or else the next from a counter
   * in the buffer. Another thread passes it to `recover` after this one dies.
   */
  readonly threadId: number;
  /** The tree layout ("packed" or "node"), fixed at creation. */
  readonly variant: Variant;
  /** @internal Trees (blocks of maxOrder), the last one possibly partly phantom. */
  readonly roots: number;
  /** @internal The tree over the buffer's words. */
  readonly tree: Tree;
  /** @internal order+1 at the first page of each live block. */
  readonly orderIndex: Uint8Array;
  /** @internal This handle's record (records.ts): a slot of the buffer, or private if none was free. */
  readonly record: Int32Array;
  /** This handle's record slot, -1 when it has a private record. */
  private readonly slot: number;
  private readonly counters: Int32Array;
  private readonly counterWord: number;
  /** Where the next scan of each order starts (a block index). */
  private readonly cursor: Int32Array;
  /** Where this handle places blocks: its hints and region (placement.ts). */
  private readonly placement: Placement;

  private constructor(buffer: SharedArrayBuffer, g: Geometry, threadId: number | undefined) {
    this.buffer = buffer;
    this.pageSize = 2 ** g.pageShift;
    this.maxOrder = g.maxOrder;
    this.pages = g.pages;
    this.size = g.pages * this.pageSize;
    this.roots = g.roots;
    this.variant = g.variant;
    if (threadId === undefined) {
      threadId = Atomics.add(new Int32Array(buffer, 0, HEADER_WORDS), H_NEXT_THREAD, 1) & 0x7fffffff;
    }
    this.threadId = threadId;
    this.slot = takeRecord(buffer, threadId);
    this.record = recordOf(buffer, this.slot);
    const view = viewOf(buffer, g, this.record);
    this.tree = view.tree;
    this.orderIndex = view.orderIndex;
    this.counters = new Int32Array(buffer, 0, TREE_WORD);
    this.counterWord = COUNTERS_WORD + (threadId % COUNTER_SLOTS) * COUNTER_STRIDE;
    this.cursor = new Int32Array(g.maxOrder + 1);
    const spread = (threadId * GOLDEN) % 1;
    for (let k = 0; k <= g.maxOrder; k++) this.cursor[k] = Math.floor(spread * Math.floor(g.pages / 2 ** k));
    this.placement = new Placement(this.tree, g.maxOrder, g.pages, this.cursor[0]);
  }

  /**
   * Makes a new allocator over addresses 0..size in a new SharedArrayBuffer (metadata: 8.3 KiB,
   * plus per page 1.3 bytes with the packed tree or 9 bytes with the node tree) and returns this
   * thread's handle on it.
   * @throws AllocError INVALID_ARGUMENT for options that are not an object, a bad size, pageSize,
   * maxOrder, variant or threadId.
   */
  static create(options: ConcurrentBuddyOptions): ConcurrentBuddy {
    const {
      size,
      pageSize = 4096,
      maxOrder: requested,
      variant = "packed",
      threadId,
    } = optionsObject(options, "create: options") ?? ({} as Partial<ConcurrentBuddyOptions>);
    if (!isPowerOfTwo(pageSize)) {
      throw new AllocError("INVALID_ARGUMENT", `pageSize must be a power of two, got ${showCount(pageSize)}`);
    }
    if (!isSafeNonNegative(size) || size === 0 || size % pageSize !== 0) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `size must be a positive multiple of pageSize ${pageSize}, got ${showCount(size)}`,
      );
    }
    const pages = size / pageSize;
    if (pages > MAX_PAGES) {
      throw new AllocError("INVALID_ARGUMENT", `size ${showCount(size)} is more than ${MAX_PAGES} pages`);
    }
    const fit = Math.floor(Math.log2(pages));
    const maxOrder = requested === undefined ? Math.min(20, 2 ** fit > pages ? fit - 1 : fit) : requested;
    const ceiling = Math.min(30, 2 ** fit < pages ? fit + 1 : fit);
    if (!Number.isInteger(maxOrder) || maxOrder < 0 || maxOrder > ceiling) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `maxOrder must be an integer in 0..${ceiling} for ${pages} pages, got ${showCount(maxOrder)}`,
      );
    }
    validateThreadId(threadId);
    if (!VARIANTS.includes(variant)) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `variant must be one of ${VARIANTS.join(", ")}, got ${showCount(variant)}`,
      );
    }
    const roots = Math.ceil(pages / 2 ** maxOrder);
    const words = wordCount(variant, { maxOrder, roots, pages });
    if (words > MAX_WORDS) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `maxOrder ${maxOrder} over ${pages} pages needs ${words} tree words (at most ${MAX_WORDS})`,
      );
    }
    const g: Geometry = { pageShift: log2Exact(pageSize), maxOrder, pages, roots, variant, words };
    const buffer = new SharedArrayBuffer(bufferBytes(g));
    writeHeader(buffer, g);
    const handle = new ConcurrentBuddy(buffer, g, threadId);
    handle.reservePhantom();
    return handle;
  }

  /**
   * Opens a handle on an allocator made by `create` (in this or any other thread); usable at once.
   * With `verify`, runs the full `check()` first (only while no other thread allocates or frees).
   * @throws AllocError INVALID_ARGUMENT for a non-SharedArrayBuffer, options that are not an object,
   *   a bad threadId or a verify that is not a boolean; CORRUPT for a buffer that does not hold a
   *   ConcurrentBuddy, or with `verify`, a damaged tree or order index.
   */
  static open(buffer: SharedArrayBuffer, options?: ConcurrentOpenOptions): ConcurrentBuddy {
    return ConcurrentBuddy.openAs("open", buffer, options);
  }

  /** @deprecated use {@link ConcurrentBuddy.open} (the same, under the name `Heap.open` uses). */
  static attach(buffer: SharedArrayBuffer, options?: ConcurrentOpenOptions): ConcurrentBuddy {
    return ConcurrentBuddy.openAs("attach", buffer, options);
  }

  /** `open` under the name it was called by, which its error messages give. */
  private static openAs(
    name: string,
    buffer: SharedArrayBuffer,
    options: ConcurrentOpenOptions | undefined,
  ): ConcurrentBuddy {
    const { threadId, verify = false } = optionsObject(options, `${name}: options`) ?? {};
    validateThreadId(threadId);
    if (typeof verify !== "boolean") {
      throw new AllocError("INVALID_ARGUMENT", `${name}: verify must be a boolean, got ${showCount(verify)}`);
    }
    const g = readHeader(buffer, wordCount, name);
    if (verify) checkTree(viewOf(buffer, g));
    return new ConcurrentBuddy(buffer, g, threadId);
  }

  /**
   * Allocates a block of at least `count` pages (order ceil(log2 count)).
   * @returns its address in bytes, or null when no block of that order is free.
   * @throws AllocError INVALID_ARGUMENT unless count is an integer in 1..2^maxOrder.
   */
  allocPages(count: number): number | null {
    return this.allocOrder(orderOfCount(count, this.maxOrder));
  }

  /** @deprecated use allocPages */
  alloc(count: number): number | null {
    return this.allocPages(count);
  }

  /**
   * Allocates a block of exactly `order` (pageSize * 2^order bytes), lock-free.
   * @returns its address in bytes, or null when no block of that order was free (see the top of
   *   this file for what that means under concurrency).
   * @throws AllocError INVALID_ARGUMENT for an order outside 0..maxOrder.
   */
  allocOrder(order: number): number | null {
    // `typeof` first: `order | 0` would throw on a BigInt and call an object's valueOf.
    if (!(typeof order === "number" && (order | 0) === order && order >= 0 && order <= this.maxOrder)) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `order must be an integer in 0..${this.maxOrder}, got ${showCount(order)}`,
      );
    }
    let b = this.placement.take(order);
    if (b < 0) b = this.search(order);
    if (b < 0) return null;
    const page = b << order;
    // A plain store: the block is ours, and whoever frees it got the address from this thread
    // through some synchronization (a message, an Atomics store/load), which orders this store
    // before their Atomics.exchange; it is not a coordination point between threads. The record
    // is cleared in the same breath: the block is the caller's now, not this operation's.
    this.orderIndex[page] = order + 1;
    this.record[R_STATE] = OP_IDLE;
    return page * this.pageSize;
  }

  /**
   * Frees the live block that starts at `address`, lock-free; its size is known.
   * @throws AllocError NOT_ALLOCATED unless `address` starts a live block (double free, interior
   *   or unmanaged address); INVALID_ARGUMENT for a non-address. Nothing changes when it throws.
   */
  free(address: number): void {
    const page = typeof address === "number" ? address / this.pageSize : -1;
    if (!(page >= 0 && page < this.pages && (page | 0) === page)) this.reject(address);
    const entry = Atomics.exchange(this.orderIndex, page, 0);
    if (entry === 0) this.reject(address);
    const order = entry - 1;
    const b = page >>> order;
    // At once after the exchange, before any call or back edge (records.ts).
    const rec = this.record;
    rec[R_ORDER] = order;
    rec[R_BLOCK] = b;
    rec[R_STATE] = OP_FREE;
    const m = this.tree.release(order, b);
    Atomics.add(this.counters, this.counterWord, 1);
    this.placement.freed(order, b, m);
  }

  /**
   * Finishes or undoes the allocation or free that the handle of thread `threadId` had in flight
   * when its thread died (worker.terminate(), an uncaught error), and frees that handle's record.
   * Call it only once that thread has stopped for good (after its 'exit' event), from any other
   * thread, also while others allocate and free: it is lock-free and waits for nobody. An
   * allocation that had not returned is undone (its block is free again; no block is left
   * allocated on the dead thread's behalf); a free that had taken its block is finished; blocks
   * the thread had allocated stay allocated (their addresses are wherever the thread put them,
   * or in `allocatedBlocks()`). Also for a thread that ended normally: it then only frees the
   * record (records are limited, see ConcurrentHandleOptions). The dead handle must not be used
   * again.
   * @returns what was in flight: "none", "alloc" (undone) or "free" (finished).
   * @throws AllocError INVALID_ARGUMENT for a threadId that is not an integer in 0..2^31-1, this
   *   handle's own id, or an id that no handle's record names (never recorded, already
   *   recovered) or several do; CORRUPT for a damaged record. Nothing changes when it throws.
   */
  recover(threadId: number): RecoveredOperation {
    const slot = recordSlotOf(this, threadId);
    const found = recoverSlot(this, slot, threadId);
    if (found === null) {
      throw new AllocError("INVALID_ARGUMENT", `recover: thread ${threadId} was recovered meanwhile`);
    }
    if (found !== "none") Atomics.add(this.counters, this.counterWord, 1);
    return found;
  }

  /**
   * `recover` for every other handle that holds a record: for a buffer whose other threads have
   * all stopped, such as bytes saved while operations were in flight and opened again with
   * `open` (each record then belongs to a thread of the old run).
   * @returns how many of them had an operation in flight.
   * @throws AllocError CORRUPT for a damaged record (the records before it are recovered).
   */
  recoverAll(): number {
    const taken = takenRecords(this.buffer);
    let n = 0;
    for (let i = 0; i < taken.length; i += 2) {
      if (taken[i] === this.slot) continue;
      const found = recoverSlot(this, taken[i], taken[i + 1]);
      if (found !== null && found !== "none") n++;
    }
    if (n > 0) Atomics.add(this.counters, this.counterWord, 1);
    return n;
  }

  /**
   * Occupancy figures, bytes unless named pages. Walks the tree (O(allocated blocks * maxOrder));
   * exact when no other thread is allocating or freeing, a blend of moments otherwise.
   */
  stats(): AllocatorStats {
    return statsOf(this);
  }

  /** The free blocks in address order (a live view: exact only while no other thread runs). */
  freeBlocks(): IterableIterator<Block> {
    return blocksOf(this, true);
  }

  /** The allocated blocks in address order (a live view: exact only while no other thread runs). */
  allocatedBlocks(): IterableIterator<Block> {
    return blocksOf(this, false);
  }

  /**
   * Verifies every invariant of the tree and the order index (O(nodes)). Call it only while no
   * other thread allocates or frees: in-flight operations legitimately leave marks it rejects.
   * @throws AllocError CORRUPT naming the first violation found.
   */
  check(): void {
    checkTree(this);
  }

  /**
   * When no hint fits: the blocks free as a whole in this handle's region become hints and the
   * smallest fitting is taken; if none fits, the tree scan from this handle's cursor (certified
   * when it fails) takes the first free block of order k (placement.ts).
   * @returns the claimed block's index, or -1 when no block of order k was free.
   */
  private search(k: number): number {
    let b = this.placement.takeNearby(k);
    if (b >= 0) return b;
    b = this.tree.scan(k, this.cursor[k], false);
    if (b < 0) b = this.certifiedScan(k);
    if (b < 0) return -1;
    this.cursor[k] = b;
    this.placement.scanned(k, b, this.tree.spanOf(k, b, false));
    return b;
  }

  /** Full scans bracketed by the release counters, until one finds a block or nothing was released. */
  private certifiedScan(k: number): number {
    for (;;) {
      const before = this.releases();
      const b = this.tree.scan(k, this.cursor[k], true);
      if (b >= 0 || this.releases() === before) return b;
    }
  }

  /** Sum (mod 2^32) of the release counters. */
  private releases(): number {
    let sum = 0;
    for (let s = 0; s < COUNTER_SLOTS; s++) {
      sum = (sum + Atomics.load(this.counters, COUNTERS_WORD + s * COUNTER_STRIDE)) | 0;
    }
    return sum;
  }

  /** Allocates the pages beyond `pages` in the last tree for good (creation only). */
  private reservePhantom(): void {
    const phantom = phantomBlocks(this.pages, this.roots, this.maxOrder);
    for (let i = 0; i < phantom.length; i += 2) this.tree.claim(phantom[i], phantom[i + 1]);
    this.record[R_STATE] = OP_IDLE;
  }

  /** Throws the right error for an address that does not start a live block. */
  private reject(address: number): never {
    if (!isSafeNonNegative(address)) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `free: address must be a safe non-negative integer, got ${showAddress(address)}`,
      );
    }
    const block = locate(this, address);
    const why =
      block === null
        ? `is outside the managed 0..${showAddress(this.size)}`
        : block.free
          ? "is in a free block (double free?)"
          : block.address === address
            ? "starts a block that is not live (freed concurrently?)"
            : `is inside the block at ${showAddress(block.address)} (interior pointer)`;
    throw new AllocError("NOT_ALLOCATED", `free: address ${showAddress(address)} ${why}`);
  }
}

function validateThreadId(threadId: unknown): void {
  if (
    threadId !== undefined &&
    !(Number.isInteger(threadId) && (threadId as number) >= 0 && (threadId as number) <= 0x7fffffff)
  ) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `threadId must be an integer in 0..2^31-1, got ${showCount(threadId)}`,
    );
  }
}
