/**
 * Where a ConcurrentBuddy keeps its state: one SharedArrayBuffer, laid out so that any thread
 * can open it from the bytes alone. Offsets are in bytes unless named words (Int32).
 *
 *   words 0..15     header: MAGIC, VERSION, log2(pageSize), maxOrder, pages, roots, the next
 *                   automatic thread id, tree word count, tree variant (0 packed, 1 node); the
 *                   rest reserved, 0
 *   words 16..1039  release counters: COUNTER_SLOTS slots, one per 64-byte line; a thread adds 1
 *                   to its slot after each free (only the sum is ever read)
 *   words 1040..2063 thread records: RECORD_SLOTS records, one per 64-byte line (records.ts), each
 *                   owned by one handle and describing the tree operation it has in flight, so
 *                   that `recover` can finish or undo it after the thread dies:
 *                     +0 R_OWNER  the slot's state: SLOT_FREE, SLOT_INIT (being taken),
 *                                 SLOT_TAKEN (a handle owns it), SLOT_RECOVERING
 *                     +1 R_THREAD the owning handle's thread id (-1 when free)
 *                     +2 R_STATE  OP_IDLE, or OP_ALLOC / OP_FREE (the thread holds a claim of
 *                                 block (R_ORDER, R_BLOCK) that no order-index entry names: an
 *                                 allocation not yet published, or a free that took the entry),
 *                                 plus OP_RELEASING once that claim's release has cleared the
 *                                 block's own word
 *                     +3 R_ORDER  the block's order
 *                     +4 R_BLOCK  the block's index at that order
 *                     +5 R_STEP   with OP_RELEASING: where the release's climb resumes (a level of
 *                                 the node tree, a tier of the packed tree; past the top: done)
 *                     +6..15      reserved, 0
 *                   The owning thread writes +2..+5 with plain stores (protocol: records.ts)
 *   then            the tree words (packed-tree.ts or node-tree.ts)
 *   then            the order index: one byte per page, order+1 at the first page of each live
 *                   (allocated) block, 0 elsewhere; free(address) takes it back with an exchange
 *
 * Pages beyond `pages` up to roots * 2^maxOrder (when the size is not a multiple of the top
 * block) are allocated once at creation as "phantom" blocks that never appear in the index, the
 * stats or the block lists.
 */
import { AllocError, showCount } from "../errors.js";

/** Tree layouts: "packed" (several levels per word) or "node" (the paper's one node per word). */
export type Variant = "packed" | "node";

/** Header codes of the variants, index = code (the tree modules are in variants.ts). */
export const VARIANTS: readonly Variant[] = ["packed", "node"];

/** Header word 0 of every ConcurrentBuddy buffer: "NBBS". */
export const MAGIC = 0x4e424253;
/** Layout version in header word 1; `open` refuses any other (2: thread records added). */
export const VERSION = 2;

/** Header word indices (Int32), see the table above. */
export const H_MAGIC = 0;
/** Header: the layout version. */
export const H_VERSION = 1;
/** Header: log2(pageSize in bytes). */
export const H_PAGE_SHIFT = 2;
/** Header: maxOrder. */
export const H_MAX_ORDER = 3;
/** Header: pages managed. */
export const H_PAGES = 4;
/** Header: number of top blocks (trees). */
export const H_ROOTS = 5;
/** Header: the next automatic thread id (Atomics.add). */
export const H_NEXT_THREAD = 6;
/** Header: tree words. */
export const H_WORDS = 7;
/** Header: the tree variant's index in VARIANTS. */
export const H_VARIANT = 8;
/** Words of header (64 bytes, one cache line). */
export const HEADER_WORDS = 16;

/** Number of release counters; thread t adds to slot t % COUNTER_SLOTS. */
export const COUNTER_SLOTS = 64;
/** Words between two counters (64 bytes: one cache line each). */
export const COUNTER_STRIDE = 16;
/** First word of the release counters. */
export const COUNTERS_WORD = HEADER_WORDS;
/** Number of thread records: at most this many handles can be recovered at once. */
export const RECORD_SLOTS = 64;
/** Words between two records (64 bytes: one cache line each, written only by its owner). */
export const RECORD_STRIDE = 16;
/** First word of the thread records. */
export const RECORDS_WORD = COUNTERS_WORD + COUNTER_SLOTS * COUNTER_STRIDE;

/** Record word: the slot's state (SLOT_FREE, SLOT_INIT, SLOT_TAKEN, SLOT_RECOVERING). */
export const R_OWNER = 0;
/** Record word: the owning handle's thread id, -1 while the slot is free. */
export const R_THREAD = 1;
/** Record word: the operation in flight (OP_IDLE, OP_ALLOC, OP_FREE, each maybe | OP_RELEASING). */
export const R_STATE = 2;
/** Record word: the order of the block the operation holds. */
export const R_ORDER = 3;
/** Record word: the index (at R_ORDER) of the block the operation holds. */
export const R_BLOCK = 4;
/** Record word: with OP_RELEASING, the level (node tree) or tier (packed tree) the climb resumes at. */
export const R_STEP = 5;

/** R_OWNER: nobody owns the slot. */
export const SLOT_FREE = 0;
/** R_OWNER: a handle owns the slot and may have an operation in flight. */
export const SLOT_TAKEN = 1;
/** R_OWNER: a `recover` is taking the slot's operation over. */
export const SLOT_RECOVERING = 2;
/** R_OWNER: a handle is taking the slot (its R_THREAD is not written yet). */
export const SLOT_INIT = 3;

/** R_STATE: no claim held outside the order index. */
export const OP_IDLE = 0;
/** R_STATE: an allocation holds a claim of the block (its climb may be unfinished); not yet published. */
export const OP_ALLOC = 1;
/** R_STATE: a free took the block's order-index entry; the block's claim is not released yet. */
export const OP_FREE = 2;
/** R_STATE bit: the claim's own word is cleared; the release climbs from R_STEP. */
export const OP_RELEASING = 4;

/** First word of the tree. */
export const TREE_WORD = RECORDS_WORD + RECORD_SLOTS * RECORD_STRIDE;

/** Most pages one allocator manages. */
export const MAX_PAGES = 2 ** 27;
/** Most tree words (1 GiB). */
export const MAX_WORDS = 2 ** 28;

/** The geometry every handle derives from the header. */
export interface Geometry {
  pageShift: number;
  maxOrder: number;
  pages: number;
  roots: number;
  variant: Variant;
  words: number;
}

/** Bytes of buffer a geometry needs. */
export function bufferBytes(g: Geometry): number {
  const indexAt = (TREE_WORD + g.words) * 4;
  return Math.ceil((indexAt + g.pages) / 8) * 8;
}

/** Writes a fresh header into `buffer` (all other bytes must be 0); MAGIC last, atomically. */
export function writeHeader(buffer: SharedArrayBuffer, g: Geometry): void {
  const h = new Int32Array(buffer, 0, HEADER_WORDS);
  h[H_VERSION] = VERSION;
  h[H_PAGE_SHIFT] = g.pageShift;
  h[H_MAX_ORDER] = g.maxOrder;
  h[H_PAGES] = g.pages;
  h[H_ROOTS] = g.roots;
  h[H_WORDS] = g.words;
  h[H_VARIANT] = VARIANTS.indexOf(g.variant);
  Atomics.store(h, H_MAGIC, MAGIC);
}

/**
 * SharedArrayBuffer.prototype's byteLength getter: it throws for anything but a real
 * SharedArrayBuffer. Undefined where there is no SharedArrayBuffer (a browser page that is not
 * cross-origin isolated): the library must still load there.
 */
const sharedByteLength =
  typeof SharedArrayBuffer === "function"
    ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength")?.get
    : undefined;

/**
 * True for a real SharedArrayBuffer, told by the engine (its internal slot), not by `instanceof`,
 * which an object whose prototype is SharedArrayBuffer.prototype passes; runs none of its code.
 */
export function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (typeof value !== "object" || value === null || sharedByteLength === undefined) return false;
  try {
    sharedByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and validates the header of a buffer made by `ConcurrentBuddy.create`, for `caller`
 * (the method name its messages give: `open`, or the deprecated `attach`). `wordCount` gives
 * the tree words a variant needs (variants.ts: passed in, so this file imports no tree).
 * @throws AllocError INVALID_ARGUMENT when `buffer` is not a SharedArrayBuffer, CORRUPT when its
 *   bytes are not a ConcurrentBuddy of this version.
 */
export function readHeader(
  buffer: unknown,
  wordCount: (variant: Variant, g: Geometry) => number,
  caller = "open",
): Geometry {
  if (!isSharedArrayBuffer(buffer)) {
    throw new AllocError("INVALID_ARGUMENT", `${caller} needs a SharedArrayBuffer, got ${showCount(buffer)}`);
  }
  if (buffer.byteLength < TREE_WORD * 4) {
    throw new AllocError(
      "CORRUPT",
      `buffer of ${buffer.byteLength} bytes is too small for a ConcurrentBuddy`,
    );
  }
  const h = new Int32Array(buffer, 0, HEADER_WORDS);
  if (Atomics.load(h, H_MAGIC) !== MAGIC || h[H_VERSION] !== VERSION) {
    throw new AllocError("CORRUPT", "buffer does not hold a ConcurrentBuddy (bad magic or version)");
  }
  const g: Geometry = {
    pageShift: h[H_PAGE_SHIFT],
    maxOrder: h[H_MAX_ORDER],
    pages: h[H_PAGES],
    roots: h[H_ROOTS],
    variant: VARIANTS[h[H_VARIANT]],
    words: h[H_WORDS],
  };
  const sane =
    g.pageShift >= 0 &&
    g.pageShift <= 52 &&
    g.maxOrder >= 0 &&
    g.maxOrder <= 30 &&
    g.pages >= 1 &&
    g.pages <= MAX_PAGES &&
    g.roots === Math.ceil(g.pages / 2 ** g.maxOrder) &&
    g.variant !== undefined &&
    g.words === wordCount(g.variant, g) &&
    g.pages * 2 ** g.pageShift <= Number.MAX_SAFE_INTEGER &&
    bufferBytes(g) <= buffer.byteLength;
  if (!sane) throw new AllocError("CORRUPT", "ConcurrentBuddy header is inconsistent");
  return g;
}

/**
 * The phantom blocks: pages beyond `pages` up to roots * 2^maxOrder as maximal aligned blocks,
 * as flat (order, index) pairs.
 */
export function phantomBlocks(pages: number, roots: number, maxOrder: number): number[] {
  const out: number[] = [];
  const end = roots * 2 ** maxOrder;
  for (let page = pages; page < end; ) {
    let k = 0;
    while (k < maxOrder && page % 2 ** (k + 1) === 0 && page + 2 ** (k + 1) <= end) k++;
    out.push(k, page / 2 ** k);
    page += 2 ** k;
  }
  return out;
}
