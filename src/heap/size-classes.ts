/**
 * Size classes and slab geometry. Pure arithmetic: nothing here is stored in the buffer (every
 * handle derives the same table from the header's pageSize, minAlign and maxOrder).
 *
 * Classes, with m = minAlign (8..128): m, 2m, .., 8m (spacing m), then four classes per doubling
 * (spacing a quarter of the power of two below them) up to 2048 bytes, then SUB_MID per doubling
 * up to MAX_SMALL = 8 KiB (the mid classes). For m = 16:
 * 16 32 48 64 80 96 112 128 | 160 192 224 256 | 320 .. 512 | 640 .. 1024 | 1280 1536 1792 2048 |
 * 2304 2560 .. 4096 | 4608 .. 8192.
 * Mid classes exist because a request just above 2 KiB would otherwise take whole pages: a
 * 2.1 KiB request a 4 KiB page, almost half of it lost. Class spacing bounds that loss at 1/8.
 * Every class is a multiple of m. What a request loses to rounding (its "slack", class size -
 * requested size) is kept per object in 16 bits: an aligned request may take a class well above
 * its size (malloc(1, 2048) takes the 2048-byte class), so one byte would not always do.
 *
 * A slab of class c up to 2048 bytes is a run of slabPages[c] = 2^k pages; a mid-class slab, a
 * run of whatever page count fits its objects best. Its first page is aligned to slabAlign[c]
 * pages: the largest power of two dividing the class, in pages (1 for pages of 2 KiB and more).
 * Each holds objects[c] objects at `base + i * size[c]`, then its trailer at `base + trailer[c]`:
 *
 * (Int32 word t = (base + trailer[c]) >>> 2: `trailerIndex`; names T_* below, helpers `slackIndex`, `remoteIndex`)
 *   trailer + 0   [T_HEAD]    Int32  bits 0-15: the hint, no bitmap word below this one has a free bit;
 *                                    bits 16-31: the free count, the bitmap's set bits (HINT_BITS)
 *   trailer + 4   [T_BITMAP]  Int32[bitmapWords]  bit i set iff object i is free; bits >= objects are 0
 *   trailer + 4 + 4*words     Uint16[objects] (Uint16 index `slackIndex(t, words)`)  slack of each live object; FREE_SLACK for a free one
 *   (then, when `objects` is odd, one Uint16 of padding, never read)
 *   remote[c]                 Int32[bitmapWords] (Int32 index `remoteIndex`)  threaded heaps only: bit i set iff another thread
 *                             freed object i and the owner has not yet taken it back (remote.ts);
 *                             set with Atomics.or, cleared only by the owner
 *
 * The slack doubles as a check on the bitmap: a live object's slack is at most its class size
 * (8192), a free object's is FREE_SLACK, so a bitmap bit that flips, or two that swap, disagree
 * with the slacks, which `check` compares (the free count alone misses a swap).
 *
 * Because objects start at the slab's base, an object whose class is a multiple of a power of two
 * `a` is aligned to `a` when the slab's base is: `a <= slabAlign * pageSize`.
 */

/**
 * The first trailer word's hint is its low HINT_BITS bits, the slab's free count the rest: one
 * word that malloc and free write together, in the slab's own memory (not in the side table,
 * where neighbouring slabs of other threads would share its cache line).
 */
export const HINT_BITS = 16;
/** The trailer's words, as a const enum so that `slackIndex` compiles to literals. */
// biome-ignore lint/suspicious/noConstEnum: inlined as literals by tsc and esbuild, which the hot paths need
const enum Trailer {
  HEAD = 0,
  BITMAP = 1,
}
/** Trailer word (offset from the trailer's Int32 index t): the hint and the free count (HINT_BITS). */
export const T_HEAD = Trailer.HEAD;
/** Trailer word: the first word of the free bitmap. */
export const T_BITMAP = Trailer.BITMAP;
/** Mask of the hint in the T_HEAD word (the free count is `word >>> HINT_BITS`). */
export const HINT_MASK = 0xffff;

/** What the trailer helpers read of a heap handle (HeapCore). */
export interface SlabGeometry {
  readonly firstPage: number;
  readonly pageSize: number;
  readonly trailer: Int32Array;
  readonly remote: Int32Array;
}

/** Int32 index of the trailer of `slab` (relative page) of class `cls`. */
export function trailerIndex(h: SlabGeometry, cls: number, slab: number): number {
  return (h.firstPage + slab * h.pageSize + h.trailer[cls]) >>> 2;
}

/** Int32 index of the remote-free bitmap of `slab` of class `cls` (threaded heaps). */
export function remoteIndex(h: SlabGeometry, cls: number, slab: number): number {
  return (h.firstPage + slab * h.pageSize + h.remote[cls]) >>> 2;
}

/** Uint16 index of the slack array of the trailer at Int32 index `t` with `words` bitmap words. */
export function slackIndex(t: number, words: number): number {
  return (t + Trailer.BITMAP + words) << 1;
}

/** The slack of a free object: above any class size, so that `check` tells free from live. */
export const FREE_SLACK = 0xffff;
/** Largest request (bytes) served from slabs; larger ones take runs of pages. */
export const MAX_SMALL = 8192;
/** Largest class of the four-per-doubling part; above it, the mid classes. */
const MID_START = 2048;
/** Mid classes per doubling. */
const SUB_MID = 8;
/** A slab is sized to hold about this many objects (at least one page). */
const TARGET_OBJECTS = 32;
/** A mid-class slab holds about this many objects: fewer, so a class's last slab holds less idle memory. */
const MID_OBJECTS = 2;

/** The class table of one heap geometry. Arrays are indexed by class. */
export interface SizeClasses {
  /** Number of classes (the largest one may be below MAX_SMALL on a tiny heap). */
  readonly count: number;
  /** Object size in bytes. */
  readonly size: Int32Array;
  /** 1 / size, for the division in free (checked by multiplying back). */
  readonly recip: Float64Array;
  /** Pages of a slab. */
  readonly slabPages: Int32Array;
  /** Alignment of a slab's first page, in pages (a power of two). */
  readonly slabAlign: Int32Array;
  /** Objects per slab. */
  readonly objects: Int32Array;
  /** Byte offset of the trailer in the slab (a multiple of 4). */
  readonly trailer: Int32Array;
  /** Int32 words of the free bitmap. */
  readonly bitmapWords: Int32Array;
  /** Byte offset of the remote-free bitmap in the slab (threaded heaps), else -1. */
  readonly remote: Int32Array;
  /** Class of a request of `s` bytes (s <= maxSmall) at index `(s + 7) >>> 3`. */
  readonly bySize: Uint8Array;
  /** Largest size served from slabs (the largest class). */
  readonly maxSmall: number;
}

/** Bytes of a slab trailer for `n` objects (with the remote-free bitmap of threaded heaps). */
function trailerBytes(n: number, threaded: boolean): number {
  return 4 + 4 * Math.ceil(n / 32) + Math.ceil(n / 2) * 4 + (threaded ? 4 * Math.ceil(n / 32) : 0);
}

/** The class sizes for `minAlign` (before dropping classes that a small heap cannot hold). */
export function classSizes(minAlign: number): number[] {
  const sizes: number[] = [];
  for (let k = 1; k <= 8; k++) sizes.push(k * minAlign);
  for (let base = 8 * minAlign; base < MID_START; base *= 2) {
    for (let j = 1; j <= 4; j++) sizes.push(base + (base / 4) * j);
  }
  for (let base = MID_START; base < MAX_SMALL; base *= 2) {
    for (let j = 1; j <= SUB_MID; j++) sizes.push(base + (base / SUB_MID) * j);
  }
  return sizes.filter((s) => s <= MAX_SMALL);
}

/** Objects of `size` bytes that fit with their trailer in `bytes`. */
function objectsIn(bytes: number, size: number, threaded: boolean): number {
  let n = Math.floor(bytes / size);
  while (n > 0 && n * size > bytes - trailerBytes(n, threaded)) n--;
  return n;
}

/** A slab of a class up to MID_START: the smallest power-of-two block that holds TARGET_OBJECTS. */
function blockSlab(size: number, pageSize: number, maxOrder: number): number {
  let order = 0;
  while (order < maxOrder && pageSize * 2 ** order < size * TARGET_OBJECTS) order++;
  return 2 ** order;
}

/**
 * A slab of a mid class: the page count, holding MID_OBJECTS to 2 * MID_OBJECTS objects, that
 * leaves the smallest share of its bytes unused.
 */
function runSlab(size: number, pageSize: number, maxPages: number, threaded: boolean): number {
  let best = 0;
  let bestUnused = Number.POSITIVE_INFINITY;
  const first = Math.ceil((size * MID_OBJECTS) / pageSize);
  for (let pages = first; pages <= Math.min(maxPages, first * 2); pages++) {
    const n = objectsIn(pages * pageSize, size, threaded);
    const unused = 1 - (n * size) / (pages * pageSize);
    if (n >= 2 && unused < bestUnused - 1e-9) {
      best = pages;
      bestUnused = unused;
    }
  }
  return best;
}

/**
 * The class table for a heap of `pageSize`-byte pages whose largest block has order `maxOrder`.
 * Classes whose slab would exceed that block, or hold fewer than 2 objects, are dropped.
 * A threaded heap's trailers also hold a remote-free bitmap.
 */
export function sizeClasses(
  pageSize: number,
  minAlign: number,
  maxOrder: number,
  threaded = false,
): SizeClasses {
  const rows: { size: number; pages: number; align: number; n: number; trailer: number }[] = [];
  for (const size of classSizes(minAlign)) {
    const mid = size > MID_START;
    const pages = mid
      ? runSlab(size, pageSize, 2 ** maxOrder, threaded)
      : blockSlab(size, pageSize, maxOrder);
    const n = pages === 0 ? 0 : objectsIn(pages * pageSize, size, threaded);
    if (n < 2) break;
    // A slab's base needs no more alignment than its objects can use: the largest power of two
    // dividing the class (so slabs of 4 KiB pages are placed at any page).
    const align = Math.max(1, (size & -size) / pageSize);
    rows.push({ size, pages, align, n, trailer: pages * pageSize - trailerBytes(n, threaded) });
  }
  const count = rows.length;
  const maxSmall = count === 0 ? 0 : rows[count - 1].size;
  const bySize = new Uint8Array((MAX_SMALL >>> 3) + 1);
  let c = 0;
  for (let i = 0; i < bySize.length; i++) {
    while (c < count - 1 && rows[c].size < i * 8) c++;
    bySize[i] = c;
  }
  return {
    count,
    size: Int32Array.from(rows, (r) => r.size),
    recip: Float64Array.from(rows, (r) => 1 / r.size),
    slabPages: Int32Array.from(rows, (r) => r.pages),
    slabAlign: Int32Array.from(rows, (r) => r.align),
    objects: Int32Array.from(rows, (r) => r.n),
    trailer: Int32Array.from(rows, (r) => r.trailer),
    bitmapWords: Int32Array.from(rows, (r) => Math.ceil(r.n / 32)),
    remote: Int32Array.from(rows, (r) =>
      threaded ? r.trailer + 4 + 4 * Math.ceil(r.n / 32) + Math.ceil(r.n / 2) * 4 : -1,
    ),
    bySize,
    maxSmall,
  };
}
