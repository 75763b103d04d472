/**
 * Where everything of a heap lives in its buffer, and the header that says so. All offsets are
 * absolute byte offsets in the buffer; numbers are little-endian (the platform order of every
 * JavaScript engine in use). The managed range is [start, maxEnd), of which [start, end) exists:
 *
 *   start                 header, HEADER_BYTES (each field's index name in brackets: W_* index its
 *                         Uint32 words, F64_* its Float64s):
 *     +0   u32  [W_MAGIC] magic 0x50414548 ("HEAP")    +4   u32  [W_VERSION] version (FORMAT_VERSION)
 *     +8   i32  [W_LOCK] lock word (lock.ts): 0 free, else the holder's id + 1, bit 30 set when threads may wait;
 *               a one-thread heap's lock around every operation (a threaded heap's page lock has
 *               a cache line of its own, below: the generation word next to it is read by every call)
 *     +12  u32  [W_GENERATION] generation: +1 on every grow; a handle that sees a new value rebuilds itself
 *     +16  u32  [W_PAGE_SIZE] pageSize   +20  u32  [W_MIN_ALIGN] minAlign   +24  u32  [W_MAX_ORDER] maxOrder
 *     +28  u32  [W_CLASS_COUNT] classCount
 *     +32  u32  [W_STORAGE_PAGES] storagePages (pages of page-allocator storage and of the side table)
 *     +36  u32  [W_CHECKSUM] checksum: FNV-1a of the header's 32 words, without words 2, 3, 9, 12, 13, 24-27
 *               (W_LOCK, W_GENERATION, W_CHECKSUM, F64_END's two words, the W_RECORD words), which
 *               change as the heap lives
 *     +40  f64  [F64_START] start        +48  f64  [F64_END] end (current end of the pages, a page multiple)
 *     +56  f64  [F64_MAX_END] maxEnd     +64  f64  [F64_STORAGE_OFFSET] storage offset
 *     +72  f64  [F64_SIDE_OFFSET] side-table offset
 *     +80  f64  [F64_FIRST_PAGE] firstPage (the first allocatable page)
 *     +88  u32  [W_FLAGS] flags: bit 0 (FLAG_GUARD) guard mode, red zones and poison (guard.ts);
 *               bit 1 (FLAG_THREADED) thread slots (threads.ts)
 *     +92  u32  [W_THREADS] threads: the number of thread slots (0 unless FLAG_THREADED)
 *     +96  i32[4]  [W_RECORD] a one-thread heap's record of the page-level operation in flight (threads.ts:
 *               R_OP, R_PAGE, R_COUNT, R_SIZE), for recovery at `open`; 0 in a threaded heap
 *     +112 .. +127  zero
 *     +128 i32[classCount]  [W_CLASS_HEADS] head of each class's list of slabs with a free object (page index
 *               relative to firstPage), or -1 (a threaded heap keeps its lists in the slots: -1)
 *   fit (start + 128 + 4 * classCount)  i32[FIT_WORDS]: the free-stretch index (stretches.ts; FIT_* below):
 *               level bitmaps and the head of each length class's list of free stretches
 *   threads               (threaded heaps) 64-aligned: the page lock word (lock.ts) alone in a 64-byte
 *                         line (PAGE_LOCK_BYTES), then i32[threads * slotWords]: the thread slots
 *                         (threads.ts: S_* name the words of a slot, R_* those of its operation record)
 *   storage               the page allocator's PageStorage (links: heads, mask, next/prev pairs; then state), 8-aligned
 *                         (its layout: page/page-map.ts)
 *   side                  Int32[SIDE_WORDS * storagePages], one record of SIDE_WORDS = 4 words per page
 *                         (relative index p), word w at (p << SIDE_SHIFT) + w:
 *     [SIDE_OWNER] owner: 0 when no allocation starts in page p; slab page: (head << 8) | (class + 1),
 *              head = the slab's first page; large block: (p << 8) | LARGE_KIND on its first page;
 *              first and last page of a free stretch: (first << 8) | FREE_KIND
 *     [SIDE_SIZE]  slab head: 0 (its free count is in its trailer); large block: requested size in bytes (as uint32);
 *              first page of a free stretch: its length in pages
 *     [SIDE_NEXT]  slab head: next slab in its class's list, or -1; free stretch: next in its list
 *     [SIDE_PREV]  slab head: previous slab in that list, or -1; free stretch: previous in its list
 *   owner                 (threaded heaps) u8[storagePages]: slot + 1 of the thread owning the slab
 *                         whose first page it is, else 0 (threads.ts)
 *   firstPage .. end      pages handed out by the page allocator (firstPage is a page multiple); a slab's
 *                         objects and its trailer (size-classes.ts: T_*, `trailerIndex`, `slackIndex`,
 *                         `remoteIndex`)
 *
 * Every field and word above has a name below (header, side record), or in the file the table
 * names for it; the slab trailer is in size-classes.ts (T_*), the slot record in threads.ts (S_*).
 *
 * Metadata is sized for maxEnd once, at creation, so that growing never moves it. Page blocks
 * are tagged in the page allocator too: TAG_LARGE, or TAG_SLAB + class.
 */
import { AllocError } from "../errors.js";
import { isPowerOfTwo } from "../numbers.js";
import { BuddyAllocator } from "../page/buddy-allocator.js";
import { pageStorageBytes } from "../page/page-map.js";
import { sizeClasses } from "./size-classes.js";
import { MAX_THREADS, RECORD_WORDS, slotWords } from "./threads.js";
import { address, count, invalid, safe } from "./validate.js";

export const MAGIC = 0x50414548;
/**
 * The header format this code reads and writes. 5: a slab's free count is in its trailer's first
 * word with the hint (version 4 kept it in the side table). 4: a free slab object's slack is
 * FREE_SLACK (version 3 left a freed object's last slack there).
 */
export const FORMAT_VERSION = 5;
export const HEADER_BYTES = 128;
/**
 * Header fields by name: `W_*` are Uint32/Int32 word indices from `start`, `F64_*` Float64
 * indices from `start` (byte offset 8 * index), as in the table above. Everything of the heap's
 * bytes has a name here or in the file named for it: the thread slots and operation record in
 * threads.ts (S_*, R_*), the free-stretch index in stretches.ts, the slab trailer in
 * size-classes.ts (T_*), the side record below (SIDE_*).
 */
export const W_MAGIC = 0;
export const W_VERSION = 1;
/** A one-thread heap's lock word (lock.ts). */
export const W_LOCK = 2;
/** +1 on every grow (not in the checksum). */
export const W_GENERATION = 3;
export const W_PAGE_SIZE = 4;
export const W_MIN_ALIGN = 5;
export const W_MAX_ORDER = 6;
export const W_CLASS_COUNT = 7;
export const W_STORAGE_PAGES = 8;
export const W_CHECKSUM = 9;
/** Float64 fields (Float64 index; the words 2i and 2i + 1). */
export const F64_START = 5;
/** The current end of the pages: changes on grow, so not in the checksum. */
export const F64_END = 6;
export const F64_MAX_END = 7;
export const F64_STORAGE_OFFSET = 8;
export const F64_SIDE_OFFSET = 9;
export const F64_FIRST_PAGE = 10;
/** Word index of the flags (FLAG_*). */
export const W_FLAGS = 22;
/** Word index of the number of thread slots. */
export const W_THREADS = 23;
/** Word index of a one-thread heap's operation record (threads.ts, RECORD_WORDS words). */
export const W_RECORD = 24;
/** Word index of the first class-list head (i32[classCount], just after the header). */
export const W_CLASS_HEADS = HEADER_BYTES / 4;
/** Byte offset of the end of the pages (F64_END). */
export const B_END = 8 * F64_END;
/** Bytes before the thread slots of a threaded heap: its page lock word, alone in a cache line. */
export const PAGE_LOCK_BYTES = 64;
/** Header flag: the heap runs in guard mode (guard.ts). */
export const FLAG_GUARD = 1;
/** Header flag: the heap has thread slots (threads.ts). */
export const FLAG_THREADED = 2;

/**
 * The side table's record of page p is the SIDE_WORDS Int32 words at `side[(p << SIDE_SHIFT) + SIDE_*]`
 * (the table at the top of this file says what each holds for a slab, a large block, a free stretch).
 */
/** Owner word: (head << 8) | kind (kind: class + 1, LARGE_KIND or FREE_KIND), or 0. */
export const SIDE_OWNER = 0;
/** A large block's requested size (as uint32); a free stretch's length in pages; 0 for a slab. */
export const SIDE_SIZE = 1;
/** Next slab in its class's list (or next free stretch in its list), or -1. */
export const SIDE_NEXT = 2;
/** Previous slab (or free stretch) in that list, or -1. */
export const SIDE_PREV = 3;
/** Words per side record. */
export const SIDE_WORDS = 4;
/** log2(SIDE_WORDS): page p's record starts at p << SIDE_SHIFT. */
export const SIDE_SHIFT = 2;
/** Owner-word kind of the first and last page of a free stretch (stretches.ts). */
export const FREE_KIND = 254;
/** The free-stretch index (stretches.ts): second-level classes per first level, log2. */
export const FIT_SUB_LOG2 = 3;
/** Classes per first level. */
export const FIT_SUB = 1 << FIT_SUB_LOG2;
/** First levels: lengths up to 2^24 pages (MAX_PAGES). */
export const FIT_LEVELS = 23;
/**
 * Int32 words of the free-stretch index: [0] the first-level bitmap, [1 + f] each second-level
 * bitmap, [1 + FIT_LEVELS + c] the head of each class's list (stretches.ts).
 */
export const FIT_WORDS = 1 + FIT_LEVELS + FIT_LEVELS * FIT_SUB;

/** Owner kind of the first page of a large block. */
export const LARGE_KIND = 255;
/** Page-allocator tag of a large block. */
export const TAG_LARGE = 0xffff;
/** Page-allocator tag of a slab of class c is TAG_SLAB + c. */
export const TAG_SLAB = 0x100;
/** Pages are counted in 24 bits (owner words), addresses in 32 (wasm32's address space). */
export const MAX_PAGES = 2 ** 24;
export const MAX_ADDRESS = 2 ** 32;

/** The geometry of a heap: every number its header holds. */
export interface Layout {
  pageSize: number;
  minAlign: number;
  maxOrder: number;
  classCount: number;
  storagePages: number;
  start: number;
  end: number;
  maxEnd: number;
  /** Byte offset of the free-stretch index. */
  fitOffset: number;
  /** Thread slots (0: a one-thread heap, which has no slot table and no owner bytes). */
  threads: number;
  /** Byte offset of the slot table, Int32 words per slot (threads.ts). */
  threadsOffset: number;
  slotWords: number;
  /** Byte offset of the owner bytes (one per page, threaded heaps). */
  ownerOffset: number;
  storageOffset: number;
  sideOffset: number;
  firstPage: number;
}

const up = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * Computes the layout of a heap over [start, start + length) that may grow to start + maxLength.
 * with `threads` thread slots (0: none).
 * @throws AllocError INVALID_ARGUMENT when the range is too small for the metadata or too large.
 */
export function computeLayout(
  start: number,
  length: number,
  maxLength: number,
  pageSize: number,
  minAlign: number,
  threads: number,
): Layout {
  const maxEnd = Math.floor((start + maxLength) / pageSize) * pageSize;
  const end = Math.floor((start + length) / pageSize) * pageSize;
  if (maxEnd > MAX_ADDRESS || (maxEnd - start) / pageSize > MAX_PAGES) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `a heap ends at or below 2^32 and holds at most 2^24 pages; ${address(start)}+${count(maxLength)} does not`,
    );
  }
  const roughPages = Math.max(1, Math.floor((maxEnd - start) / pageSize));
  const maxOrder = Math.max(1, Math.floor(Math.log2(roughPages)));
  const classCount = sizeClasses(pageSize, minAlign, maxOrder, threads > 0).count;
  const storagePages = BuddyAllocator.storagePages(
    { pageSize, maxOrder },
    start,
    Math.max(maxEnd - start, 1),
  );
  const fitOffset = start + HEADER_BYTES + 4 * classCount;
  const words = threads > 0 ? slotWords(classCount) : 0;
  const threadsOffset = threads > 0 ? up(fitOffset + 4 * FIT_WORDS, 64) : fitOffset + 4 * FIT_WORDS;
  const storageOffset = up(threadsOffset + (threads > 0 ? PAGE_LOCK_BYTES : 0) + 4 * words * threads, 8);
  const sideOffset = up(storageOffset + pageStorageBytes(storagePages, maxOrder), 8);
  const ownerOffset = sideOffset + 4 * SIDE_WORDS * storagePages;
  const firstPage = up(ownerOffset + (threads > 0 ? storagePages : 0), pageSize);
  if (firstPage + pageSize > end) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `heap ${address(start)}+${count(length)} is too small: its metadata for up to ${count(maxEnd - start)} bytes ends at ${address(firstPage)}`,
    );
  }
  return {
    pageSize,
    minAlign,
    maxOrder,
    classCount,
    storagePages,
    start,
    end,
    maxEnd,
    fitOffset,
    threads,
    threadsOffset,
    slotWords: words,
    ownerOffset,
    storageOffset,
    sideOffset,
    firstPage,
  };
}

function checksum(words: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < HEADER_BYTES / 4; i++) {
    if (i === W_LOCK || i === W_GENERATION || i === W_CHECKSUM) continue;
    if (i === 2 * F64_END || i === 2 * F64_END + 1) continue;
    if (i >= W_RECORD && i < W_RECORD + RECORD_WORDS) continue;
    h = Math.imul(h ^ words[i], 0x01000193) >>> 0;
  }
  return h;
}

/** Writes a fresh header (lock free, generation 0) for `l` at `l.start` of `buffer`. */
export function writeHeader(buffer: ArrayBufferLike, l: Layout, flags = 0): void {
  new Uint8Array(buffer, l.start, HEADER_BYTES).fill(0);
  const u32 = new Uint32Array(buffer, l.start, HEADER_BYTES / 4);
  const f64 = new Float64Array(buffer, l.start, HEADER_BYTES / 8);
  u32[W_MAGIC] = MAGIC;
  u32[W_VERSION] = FORMAT_VERSION;
  u32[W_PAGE_SIZE] = l.pageSize;
  u32[W_MIN_ALIGN] = l.minAlign;
  u32[W_MAX_ORDER] = l.maxOrder;
  u32[W_CLASS_COUNT] = l.classCount;
  u32[W_STORAGE_PAGES] = l.storagePages;
  f64[F64_START] = l.start;
  f64[F64_END] = l.end;
  f64[F64_MAX_END] = l.maxEnd;
  f64[F64_STORAGE_OFFSET] = l.storageOffset;
  f64[F64_SIDE_OFFSET] = l.sideOffset;
  f64[F64_FIRST_PAGE] = l.firstPage;
  u32[W_FLAGS] = flags | (l.threads > 0 ? FLAG_THREADED : 0);
  u32[W_THREADS] = l.threads;
  u32[W_CHECKSUM] = checksum(u32);
}

/** The flags of the header at `start` (read after `readHeader` or `writeHeader`). */
export function readFlags(buffer: ArrayBufferLike, start: number): number {
  return new Uint32Array(buffer, start, HEADER_BYTES / 4)[W_FLAGS];
}

/** Records a new end of the pages (after growth). */
export function writeEnd(buffer: ArrayBufferLike, start: number, end: number): void {
  new Float64Array(buffer, start, HEADER_BYTES / 8)[F64_END] = end;
}

/**
 * Checks a heap's page size (a power of two, 256..65536) and minimum alignment (8..128).
 * @throws AllocError INVALID_ARGUMENT naming the bad value.
 */
export function validateGeometry(pageSize: unknown, minAlign: unknown, operation = "new Heap"): void {
  if (!isPowerOfTwo(pageSize) || pageSize < 256 || pageSize > 65536) {
    throw invalid(operation, "pageSize must be a power of two in 256..65536", pageSize);
  }
  if (!isPowerOfTwo(minAlign) || minAlign < 8 || minAlign > 128) {
    throw invalid(operation, "minAlign must be a power of two in 8..128", minAlign);
  }
}

/**
 * Reads and validates the header at `start`: magic, version, checksum, and that every offset is
 * the one this version would compute from the header's own parameters.
 * @throws AllocError CORRUPT naming what is wrong; INVALID_ARGUMENT for a bad `start`.
 */
export function readHeader(buffer: ArrayBufferLike, start: unknown): Layout {
  if (!safe(start) || start % 8 !== 0) {
    throw invalid("Heap.open", "start must be a non-negative multiple of 8", start);
  }
  if (start + HEADER_BYTES > buffer.byteLength) {
    throw new AllocError("CORRUPT", `no heap header fits at ${start} in ${buffer.byteLength} bytes`);
  }
  const u32 = new Uint32Array(buffer, start, HEADER_BYTES / 4);
  const f64 = new Float64Array(buffer, start, HEADER_BYTES / 8);
  const at = `heap header at ${start}`;
  const bad = (why: string): never => {
    throw new AllocError("CORRUPT", `${at}: ${why}`);
  };
  if (u32[W_MAGIC] !== MAGIC) bad(`bad magic 0x${u32[W_MAGIC].toString(16)}: these bytes are not a heap`);
  if (u32[W_VERSION] !== FORMAT_VERSION) {
    bad(`format version ${u32[W_VERSION]}, this library reads version ${FORMAT_VERSION}`);
  }
  if (u32[W_CHECKSUM] !== checksum(u32)) bad("checksum mismatch: the header is damaged");
  if ((u32[W_FLAGS] & ~(FLAG_GUARD | FLAG_THREADED)) !== 0) bad(`unknown flags ${u32[W_FLAGS]}`);
  const threads = u32[W_THREADS];
  if (threads > 0 !== ((u32[W_FLAGS] & FLAG_THREADED) !== 0) || threads > MAX_THREADS) {
    bad(`thread slots ${threads} do not match its flags ${u32[W_FLAGS]}`);
  }
  const pageSize = u32[W_PAGE_SIZE];
  const minAlign = u32[W_MIN_ALIGN];
  const end = f64[F64_END];
  const maxEnd = f64[F64_MAX_END];
  if (f64[F64_START] !== start) bad(`it says it starts at ${f64[F64_START]}`);
  try {
    validateGeometry(pageSize, minAlign, "its geometry");
  } catch (e) {
    bad((e as Error).message);
  }
  if (!(end <= maxEnd)) bad(`its end ${end} is beyond its maximum end ${maxEnd}`);
  let expected: Layout | null = null;
  try {
    expected = computeLayout(start, end - start, maxEnd - start, pageSize, minAlign, threads);
  } catch (e) {
    bad(`its geometry is impossible (${(e as Error).message})`);
  }
  const l = expected!;
  const fields: [name: string, found: number, want: number][] = [
    ["maxOrder", u32[W_MAX_ORDER], l.maxOrder],
    ["classCount", u32[W_CLASS_COUNT], l.classCount],
    ["storagePages", u32[W_STORAGE_PAGES], l.storagePages],
    ["end", end, l.end],
    ["maxEnd", maxEnd, l.maxEnd],
    ["storageOffset", f64[F64_STORAGE_OFFSET], l.storageOffset],
    ["sideOffset", f64[F64_SIDE_OFFSET], l.sideOffset],
    ["firstPage", f64[F64_FIRST_PAGE], l.firstPage],
  ];
  for (const [name, found, want] of fields) {
    if (found !== want) bad(`its ${name} is ${found}, the layout says ${want}`);
  }
  if (l.end > buffer.byteLength) bad(`it ends at ${l.end}, beyond the buffer's ${buffer.byteLength} bytes`);
  return l;
}
