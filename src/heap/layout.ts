/**
 * Where everything of a heap lives in its buffer, and the header that says so. All offsets are
 * absolute byte offsets in the buffer; numbers are little-endian (the platform order of every
 * JavaScript engine in use). The managed range is [start, maxEnd), of which [start, end) exists:
 *
 *   start                 header, HEADER_BYTES:
 *     +0   u32  magic 0x50414548 ("HEAP")          +4   u32  version (FORMAT_VERSION)
 *     +8   i32  lock word (lock.ts): 0 free, else the holder's id + 1, bit 30 set when threads may wait;
 *               a one-thread heap's lock around every operation (a threaded heap's page lock has
 *               a cache line of its own, below: the generation word next to it is read by every call)
 *     +12  u32  generation: +1 on every grow; a handle that sees a new value rebuilds itself
 *     +16  u32  pageSize     +20  u32  minAlign     +24  u32  maxOrder     +28  u32  classCount
 *     +32  u32  storagePages (pages of page-allocator storage and of the side table)
 *     +36  u32  checksum: FNV-1a of the header's 32 words, without words 2, 3, 9, 12, 13, 24-27
 *               (lock, generation, checksum, end, record), which change as the heap lives
 *     +40  f64  start        +48  f64  end (current end of the pages, a page multiple)
 *     +56  f64  maxEnd       +64  f64  storage offset   +72  f64  side-table offset
 *     +80  f64  firstPage (the first allocatable page)
 *     +88  u32  flags: bit 0 (FLAG_GUARD) guard mode, red zones and poison (guard.ts);
 *               bit 1 (FLAG_THREADED) thread slots (threads.ts)
 *     +92  u32  threads: the number of thread slots (0 unless FLAG_THREADED)
 *     +96  i32[4]  a one-thread heap's record of the page-level operation in flight (threads.ts:
 *               R_OP, R_PAGE, R_COUNT, R_SIZE), for recovery at `open`; 0 in a threaded heap
 *     +112 .. +127  zero
 *     +128 i32[classCount]  head of each class's list of slabs with a free object (page index
 *               relative to firstPage), or -1 (a threaded heap keeps its lists in the slots: -1)
 *   fit (start + 128 + 4 * classCount)  i32[FIT_WORDS]: the free-stretch index (stretches.ts):
 *               level bitmaps and the head of each length class's list of free stretches
 *   threads               (threaded heaps) 64-aligned: the page lock word (lock.ts) alone in a 64-byte
 *                         line (PAGE_LOCK_BYTES), then i32[threads * slotWords]: the thread slots (threads.ts)
 *   storage               the page allocator's PageStorage (links: heads, mask, next/prev pairs; then state), 8-aligned
 *   side                  Int32[4 * storagePages], one record of 4 words per page (relative index p):
 *     [4p]     owner: 0 when no allocation starts in page p; slab page: (head << 8) | (class + 1),
 *              head = the slab's first page; large block: (p << 8) | LARGE_KIND on its first page;
 *              first and last page of a free stretch: (first << 8) | FREE_KIND
 *     [4p+1]   slab head: 0 (its free count is in its trailer); large block: requested size in bytes (as uint32);
 *              first page of a free stretch: its length in pages
 *     [4p+2]   slab head: next slab in its class's list, or -1; free stretch: next in its list
 *     [4p+3]   slab head: previous slab in that list, or -1; free stretch: previous in its list
 *   owner                 (threaded heaps) u8[storagePages]: slot + 1 of the thread owning the slab
 *                         whose first page it is, else 0 (threads.ts)
 *   firstPage .. end      pages handed out by the page allocator (firstPage is a page multiple)
 *
 * Metadata is sized for maxEnd once, at creation, so that growing never moves it. Page blocks
 * are tagged in the page allocator too: TAG_LARGE, or TAG_SLAB + class.
 */
import { AllocError } from "../errors.js";
import { BuddyAllocator } from "../page/buddy-allocator.js";
import { pageStorageBytes } from "../page/page-map.js";
import { sizeClasses } from "./size-classes.js";
import { FIT_WORDS } from "./stretches.js";
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
/** Word (Int32) indices in the header. */
export const W_MAGIC = 0;
export const W_VERSION = 1;
export const W_LOCK = 2;
export const W_GENERATION = 3;
const W_CHECKSUM = 9;
/** Word index of the flags. */
const W_FLAGS = 22;
/** Bytes before the thread slots of a threaded heap: its page lock word, alone in a cache line. */
export const PAGE_LOCK_BYTES = 64;
/** Word index of the number of thread slots. */
const W_THREADS = 23;
/** Word index of a one-thread heap's operation record (threads.ts, RECORD_WORDS words). */
export const W_RECORD = 24;
/** Header flag: the heap runs in guard mode (guard.ts). */
export const FLAG_GUARD = 1;
/** Header flag: the heap has thread slots (threads.ts). */
export const FLAG_THREADED = 2;
/** Byte offsets of the f64 fields. */
export const B_END = 48;
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
  const ownerOffset = sideOffset + 16 * storagePages;
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
    if (i === W_LOCK || i === W_GENERATION || i === W_CHECKSUM || i === 12 || i === 13) continue;
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
  u32[4] = l.pageSize;
  u32[5] = l.minAlign;
  u32[6] = l.maxOrder;
  u32[7] = l.classCount;
  u32[8] = l.storagePages;
  f64[5] = l.start;
  f64[6] = l.end;
  f64[7] = l.maxEnd;
  f64[8] = l.storageOffset;
  f64[9] = l.sideOffset;
  f64[10] = l.firstPage;
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
  new Float64Array(buffer, start, HEADER_BYTES / 8)[B_END / 8] = end;
}

/**
 * Checks a heap's page size (a power of two, 256..65536) and minimum alignment (8..128).
 * @throws AllocError INVALID_ARGUMENT naming the bad value.
 */
export function validateGeometry(pageSize: unknown, minAlign: unknown, operation = "new Heap"): void {
  const pow2 = (n: unknown): n is number => safe(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(pageSize) || pageSize < 256 || pageSize > 65536) {
    throw invalid(operation, "pageSize must be a power of two in 256..65536", pageSize);
  }
  if (!pow2(minAlign) || minAlign < 8 || minAlign > 128) {
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
  const [pageSize, minAlign, maxOrder, classCount] = [u32[4], u32[5], u32[6], u32[7]];
  if (f64[5] !== start) bad(`it says it starts at ${f64[5]}`);
  try {
    validateGeometry(pageSize, minAlign, "its geometry");
  } catch (e) {
    bad((e as Error).message);
  }
  if (!(f64[6] <= f64[7])) bad(`its end ${f64[6]} is beyond its maximum end ${f64[7]}`);
  let expected: Layout | null = null;
  try {
    expected = computeLayout(start, f64[6] - start, f64[7] - start, pageSize, minAlign, threads);
  } catch (e) {
    bad(`its geometry is impossible (${(e as Error).message})`);
  }
  const l = expected!;
  const found = [maxOrder, classCount, u32[8], f64[6], f64[7], f64[8], f64[9], f64[10]];
  const want = [
    l.maxOrder,
    l.classCount,
    l.storagePages,
    l.end,
    l.maxEnd,
    l.storageOffset,
    l.sideOffset,
    l.firstPage,
  ];
  for (let i = 0; i < want.length; i++) {
    if (found[i] !== want[i]) bad(`field ${i} is ${found[i]}, the layout says ${want[i]}`);
  }
  if (l.end > buffer.byteLength) bad(`it ends at ${l.end}, beyond the buffer's ${buffer.byteLength} bytes`);
  return l;
}
