/**
 * The page allocator's metadata: every typed array it owns, and the free-set primitives.
 *
 * Sections. The address space is cut into aligned sections of S = 2^sectionOrder pages (the
 * sparse memory model of Linux). Only sections that hold managed memory get metadata, so a
 * region at 0 and one at 1 TiB cost their own sections, not the span between them. Present
 * sections are numbered 0..sectionCount-1 in address order (`sectionNumber[i]` is section i's
 * number in the address space, strictly increasing), and page `p` of section `i` has the
 * metadata index ("slot") `i * S + p`. A block of order k < sectionOrder lies inside one
 * section, so its buddy is `slot ^ 2^k`; a block of order k >= sectionOrder covers 2^(k-s)
 * whole sections, all present and therefore numbered consecutively.
 *
 * Per page (`state`, one byte):
 *   0                    NONE: not a block start (inside a block, or not managed memory)
 *   FREE | order         the first page of a free block
 *   ALLOCATED | order    the first page of an allocated block
 * and `tag` (Uint16): an allocated block's tag. Interior pages are never read.
 *
 * Free sets. Each section has, per order k, a bitmap with one bit per naturally aligned order-k
 * position in the section (bit `offset >> k`), set iff a free block of order k starts there;
 * `count[section * orders + k]` is the number of set bits. Above the sections, per order, a
 * hierarchical bitmap (`bits`) has a bit per section whose count is non-zero, with summary
 * levels above it (one bit per non-zero word below) up to one top word, and `orderMask` has bit
 * k set iff order k has any free block. So the lowest free block of an order is found in a few
 * word reads, and a free block is inserted or removed by its address in O(1): allocation takes
 * the smallest order that fits and the lowest address within it, which keeps high memory free
 * and mergeable (the README compares this with LIFO free lists).
 */
import { ctz32 } from "./order.js";

/** State byte flag: the slot starts a free block. */
export const FREE = 0x40;
/** State byte flag: the slot starts an allocated block. */
export const ALLOCATED = 0x80;
/** Mask of the order in a state byte. */
export const ORDER_MASK = 0x3f;
/** Sections are at most 2^8 pages: small enough that a lone page costs little, big enough to be rare. */
export const MAX_SECTION_ORDER = 8;
/** Slots are Int32 indices. */
export const MAX_SLOTS = 2 ** 31 - 1;

/** Typed-array metadata for a fixed set of sections. Replaced wholesale when sections are added. */
export class PageMap {
  /** Pages per section, as a power of two. */
  readonly sectionOrder: number;
  /** Orders 0..maxOrder. */
  readonly orders: number;
  /** Number of present sections. */
  readonly sectionCount: number;
  /** Section number (address / sectionBytes) of each present section, increasing. */
  readonly sectionNumber: Float64Array;
  /** Address in bytes of each present section's first page. */
  readonly sectionAddress: Float64Array;
  readonly state: Uint8Array;
  readonly tag: Uint16Array;
  /** Words of free bitmap per section, all orders. */
  readonly sectionWords: number;
  /** Offset of order k's bitmap inside a section's words. */
  readonly orderOffset: Int32Array;
  /** Per-section free bitmaps, `sectionWords` words per section. */
  readonly free: Int32Array;
  /** Free blocks per (section, order). */
  readonly count: Uint16Array;
  /** Hierarchical bitmap words per order (all levels). */
  readonly wordsPerOrder: number;
  /** Offset of each level inside an order's words; level 0 has one bit per section. */
  readonly levelOffset: number[];
  readonly bits: Int32Array;
  /** Bit k set iff order k has a free block. */
  orderMask = 0;

  constructor(maxOrder: number, sectionOrder: number, sectionNumbers: Float64Array, sectionBytes: number) {
    this.sectionOrder = sectionOrder;
    this.orders = maxOrder + 1;
    this.sectionCount = sectionNumbers.length;
    this.sectionNumber = sectionNumbers;
    this.sectionAddress = sectionNumbers.map((n) => n * sectionBytes);
    const slots = this.sectionCount * 2 ** sectionOrder;
    this.state = new Uint8Array(slots);
    this.tag = new Uint16Array(slots);
    this.orderOffset = new Int32Array(this.orders);
    let words = 0;
    for (let k = 0; k < this.orders; k++) {
      this.orderOffset[k] = words;
      words += Math.ceil(2 ** Math.max(0, sectionOrder - k) / 32);
    }
    this.sectionWords = words;
    this.free = new Int32Array(this.sectionCount * words);
    this.count = new Uint16Array(this.sectionCount * this.orders);
    this.levelOffset = [];
    words = 0;
    let width = Math.max(1, this.sectionCount);
    do {
      this.levelOffset.push(words);
      width = Math.ceil(width / 32);
      words += width;
    } while (width > 1);
    this.wordsPerOrder = words;
    this.bits = new Int32Array(words * this.orders);
  }

  /** Bytes held in typed arrays. */
  get byteLength(): number {
    return (
      this.state.byteLength +
      this.tag.byteLength +
      this.free.byteLength +
      this.count.byteLength +
      this.bits.byteLength +
      this.sectionNumber.byteLength +
      this.sectionAddress.byteLength
    );
  }

  /** Adds the free block of `order` at `slot` to its section's free set. */
  push(slot: number, order: number): void {
    const section = slot >>> this.sectionOrder;
    const i = (slot & ((1 << this.sectionOrder) - 1)) >>> order;
    this.free[section * this.sectionWords + this.orderOffset[order] + (i >>> 5)] |= 1 << (i & 31);
    const c = section * this.orders + order;
    if (this.count[c]++ === 0) this.markNonEmpty(order, section);
  }

  /** Removes the free block of `order` at `slot` from its section's free set. */
  unlink(slot: number, order: number): void {
    const section = slot >>> this.sectionOrder;
    const i = (slot & ((1 << this.sectionOrder) - 1)) >>> order;
    this.free[section * this.sectionWords + this.orderOffset[order] + (i >>> 5)] &= ~(1 << (i & 31));
    const c = section * this.orders + order;
    if (--this.count[c] === 0) this.markEmpty(order, section);
  }

  /** The slot of the lowest free block of `order`; the order must have one. */
  lowest(order: number): number {
    const section = this.lowestSection(order);
    return this.lowestIn(section, order);
  }

  /** The slot of the lowest free block of `order` in `section`, which must have one. */
  lowestIn(section: number, order: number): number {
    const base = section * this.sectionWords + this.orderOffset[order];
    let w = base;
    while (this.free[w] === 0) w++;
    return (section << this.sectionOrder) + ((((w - base) << 5) | ctz32(this.free[w])) << order);
  }

  /** The lowest present section with a free block of `order`; the order must have one. */
  lowestSection(order: number): number {
    const base = order * this.wordsPerOrder;
    const offsets = this.levelOffset;
    let index = 0;
    for (let level = offsets.length - 1; level >= 0; level--) {
      index = (index << 5) | ctz32(this.bits[base + offsets[level] + index]);
    }
    return index;
  }

  /** True when a free block of `order` starts at `slot` (per the bitmaps). */
  isListed(slot: number, order: number): boolean {
    const section = slot >>> this.sectionOrder;
    const i = (slot & ((1 << this.sectionOrder) - 1)) >>> order;
    return (
      (this.free[section * this.sectionWords + this.orderOffset[order] + (i >>> 5)] & (1 << (i & 31))) !== 0
    );
  }

  private markNonEmpty(order: number, section: number): void {
    const base = order * this.wordsPerOrder;
    const offsets = this.levelOffset;
    let index = section;
    for (let level = 0; level < offsets.length; level++) {
      const w = base + offsets[level] + (index >>> 5);
      const old = this.bits[w];
      this.bits[w] = old | (1 << (index & 31));
      if (old !== 0) return;
      index >>>= 5;
    }
    this.orderMask = (this.orderMask | (1 << order)) >>> 0;
  }

  private markEmpty(order: number, section: number): void {
    const base = order * this.wordsPerOrder;
    const offsets = this.levelOffset;
    let index = section;
    for (let level = 0; level < offsets.length; level++) {
      const w = base + offsets[level] + (index >>> 5);
      const word = this.bits[w] & ~(1 << (index & 31));
      this.bits[w] = word;
      if (word !== 0) return;
      index >>>= 5;
    }
    this.orderMask = (this.orderMask & ~(1 << order)) >>> 0;
  }

  /** Sets the section-bitmap bits of `sections` (indices) from their counts; the bitmaps start empty. */
  markSections(sections: Int32Array): void {
    for (const section of sections) {
      for (let order = 0; order < this.orders; order++) {
        if (this.count[section * this.orders + order] !== 0) this.markNonEmpty(order, section);
      }
    }
  }

  /** True when the (section, order) bit of the section bitmap is set (for `check`). */
  hasBit(order: number, section: number): boolean {
    const w = order * this.wordsPerOrder + (section >>> 5);
    return (this.bits[w] & (1 << (section & 31))) !== 0;
  }
}
