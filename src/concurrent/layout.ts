/**
 * Where a ConcurrentBuddy keeps its state: one SharedArrayBuffer, laid out so that any thread
 * can open it from the bytes alone. Offsets are in bytes unless named words (Int32).
 *
 *   words 0..15     header: MAGIC, VERSION, log2(pageSize), maxOrder, pages, roots, the next
 *                   automatic thread id, tree word count, tree variant (0 packed, 1 node); the
 *                   rest reserved, 0
 *   words 16..1039  release counters: COUNTER_SLOTS slots, one per 64-byte line; a thread adds 1
 *                   to its slot after each free (only the sum is ever read)
 *   then            the tree words (packed-tree.ts or node-tree.ts)
 *   then            the order index: one byte per page, order+1 at the first page of each live
 *                   (allocated) block, 0 elsewhere; free(address) takes it back with an exchange
 *
 * Pages beyond `pages` up to roots * 2^maxOrder (when the size is not a multiple of the top
 * block) are allocated once at creation as "phantom" blocks that never appear in the index, the
 * stats or the block lists.
 */
import { AllocError, showCount } from "../errors.js";
import { VARIANTS, type Variant, wordCount } from "./variants.js";

/** Header word 0 of every ConcurrentBuddy buffer: "NBBS". */
export const MAGIC = 0x4e424253;
/** Layout version in header word 1; `attach` refuses any other. */
export const VERSION = 1;

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
/** First word of the tree. */
export const TREE_WORD = COUNTERS_WORD + COUNTER_SLOTS * COUNTER_STRIDE;

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
 * Reads and validates the header of a buffer made by `ConcurrentBuddy.create`.
 * @throws AllocError INVALID_ARGUMENT when `buffer` is not a SharedArrayBuffer, CORRUPT when its
 *   bytes are not a ConcurrentBuddy of this version.
 */
export function readHeader(buffer: unknown): Geometry {
  if (!isSharedArrayBuffer(buffer)) {
    throw new AllocError("INVALID_ARGUMENT", `attach needs a SharedArrayBuffer, got ${showCount(buffer)}`);
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
