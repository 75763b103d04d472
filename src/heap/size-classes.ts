/**
 * Size classes and slab geometry. Pure arithmetic: nothing here is stored in the buffer (every
 * handle derives the same table from the header's pageSize, minAlign and maxOrder).
 *
 * Classes, with m = minAlign (8..128): m, 2m, .., 8m (spacing m), then four classes per doubling
 * (spacing a quarter of the power of two below them) up to MAX_SMALL = 2048 bytes. For m = 16:
 * 16 32 48 64 80 96 112 128 | 160 192 224 256 | 320 .. 512 | 640 .. 1024 | 1280 1536 1792 2048.
 * Every class is a multiple of m. What a request loses to rounding (its "slack", class size -
 * requested size) is kept per object in 16 bits: an aligned request may take a class well above
 * its size (malloc(1, 2048) takes the 2048-byte class), so one byte would not always do.
 *
 * A slab of class c is one page block of order slabOrder[c], naturally aligned, holding
 * objects[c] objects at `base + i * size[c]`, then its trailer at `base + trailer[c]`:
 *
 *   trailer + 0               Int32  hint: no word below this one has a free bit
 *   trailer + 4               Int32[bitmapWords]  bit i set iff object i is free; bits >= objects are 0
 *   trailer + 4 + 4*words     Uint16[objects]  slack of each live object
 *
 * Because the slab is aligned to its own size and objects start at its base, an object whose
 * class is a multiple of a power of two `a` (a <= slab size) is aligned to `a`.
 */

/** Largest request (bytes) served from slabs; larger ones take whole page blocks. */
export const MAX_SMALL = 2048;
/** A slab is sized to hold about this many objects (at least one page). */
const TARGET_OBJECTS = 32;

/** The class table of one heap geometry. Arrays are indexed by class. */
export interface SizeClasses {
  /** Number of classes (the largest one may be below MAX_SMALL on a tiny heap). */
  readonly count: number;
  /** Object size in bytes. */
  readonly size: Int32Array;
  /** 1 / size, for the division in free (checked by multiplying back). */
  readonly recip: Float64Array;
  /** Page-block order of a slab. */
  readonly slabOrder: Int32Array;
  /** Objects per slab. */
  readonly objects: Int32Array;
  /** Byte offset of the trailer in the slab (a multiple of 4). */
  readonly trailer: Int32Array;
  /** Int32 words of the free bitmap. */
  readonly bitmapWords: Int32Array;
  /** Class of a request of `s` bytes (s <= maxSmall) at index `(s + 7) >>> 3`. */
  readonly bySize: Uint8Array;
  /** Largest size served from slabs (the largest class). */
  readonly maxSmall: number;
}

/** Bytes of a slab trailer for `n` objects. */
function trailerBytes(n: number): number {
  return 4 + 4 * Math.ceil(n / 32) + Math.ceil(n / 2) * 4;
}

/** The class sizes for `minAlign` (before dropping classes that a small heap cannot hold). */
export function classSizes(minAlign: number): number[] {
  const sizes: number[] = [];
  for (let k = 1; k <= 8; k++) sizes.push(k * minAlign);
  for (let base = 8 * minAlign; base < MAX_SMALL; base *= 2) {
    for (let j = 1; j <= 4; j++) sizes.push(base + (base / 4) * j);
  }
  return sizes.filter((s) => s <= MAX_SMALL);
}

/**
 * The class table for a heap of `pageSize`-byte pages whose largest block has order `maxOrder`.
 * Classes whose slab would exceed that block, or hold fewer than 2 objects, are dropped.
 */
export function sizeClasses(pageSize: number, minAlign: number, maxOrder: number): SizeClasses {
  const rows: { size: number; order: number; n: number; trailer: number }[] = [];
  for (const size of classSizes(minAlign)) {
    let order = 0;
    while (order < maxOrder && pageSize * 2 ** order < size * TARGET_OBJECTS) order++;
    const slab = pageSize * 2 ** order;
    let n = Math.floor(slab / size);
    while (n > 0 && n * size > slab - trailerBytes(n)) n--;
    if (n < 2) break;
    rows.push({ size, order, n, trailer: slab - trailerBytes(n) });
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
    slabOrder: Int32Array.from(rows, (r) => r.order),
    objects: Int32Array.from(rows, (r) => r.n),
    trailer: Int32Array.from(rows, (r) => r.trailer),
    bitmapWords: Int32Array.from(rows, (r) => Math.ceil(r.n / 32)),
    bySize,
    maxSmall,
  };
}
