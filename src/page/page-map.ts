/**
 * The page allocator's metadata: every typed array it owns, and the free-list primitives.
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
 * Per-slot state (one byte, `state`):
 *   0                    NONE: not a block start (inside a block, or not managed memory)
 *   FREE | order         the first page of a free block
 *   ALLOCATED | order    the first page of an allocated block
 * Per-slot links (`next`, `prev`, Int32): a free block's neighbours in its free list (-1 ends
 * the list). An allocated block keeps its tag in `next`. Interior pages are never read.
 *
 * Free lists. One doubly-linked LIFO list per (section, order): `heads[section * orders + order]`.
 * For every order a hierarchical bitmap over sections (`bits`) has a bit set for each section
 * whose list of that order is non-empty, with summary levels above it (one bit per non-zero
 * word below), up to one top word. `orderMask` has bit k set iff order k has any free block.
 * Taking the lowest set section of the smallest non-empty order places allocations low in the
 * address space, which keeps the high memory free and mergeable (see the README's figures).
 */
import { ctz32 } from "./order.js";

/** State byte flag: the slot starts a free block. */
export const FREE = 0x40;
/** State byte flag: the slot starts an allocated block. */
export const ALLOCATED = 0x80;
/** Mask of the order in a state byte. */
export const ORDER_MASK = 0x3f;
/** End of a free list. */
export const NIL = -1;
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
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly heads: Int32Array;
  /** Bitmap words per order (all levels). */
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
    this.next = new Int32Array(slots);
    this.prev = new Int32Array(slots);
    this.heads = new Int32Array(this.sectionCount * this.orders).fill(NIL);
    this.levelOffset = [];
    let words = 0;
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
      this.next.byteLength +
      this.prev.byteLength +
      this.heads.byteLength +
      this.bits.byteLength +
      this.sectionNumber.byteLength +
      this.sectionAddress.byteLength
    );
  }

  /** Puts the free block at `slot` at the head of its (section, order) list. */
  push(slot: number, order: number): void {
    const section = slot >>> this.sectionOrder;
    const h = section * this.orders + order;
    const head = this.heads[h];
    this.next[slot] = head;
    this.prev[slot] = NIL;
    if (head === NIL) this.markNonEmpty(order, section);
    else this.prev[head] = slot;
    this.heads[h] = slot;
  }

  /** Removes the free block at `slot` from its (section, order) list. */
  unlink(slot: number, order: number): void {
    const n = this.next[slot];
    const p = this.prev[slot];
    if (p === NIL) {
      const section = slot >>> this.sectionOrder;
      this.heads[section * this.orders + order] = n;
      if (n === NIL) this.markEmpty(order, section);
    } else {
      this.next[p] = n;
    }
    if (n !== NIL) this.prev[n] = p;
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

  /** Recomputes the bitmaps and `orderMask` from the list heads. */
  rebuildBits(): void {
    this.bits.fill(0);
    this.orderMask = 0;
    for (let section = 0; section < this.sectionCount; section++) {
      for (let order = 0; order < this.orders; order++) {
        if (this.heads[section * this.orders + order] !== NIL) this.markNonEmpty(order, section);
      }
    }
  }

  /** True when the (section, order) bitmap bit is set (for `check`). */
  hasBit(order: number, section: number): boolean {
    const w = order * this.wordsPerOrder + (section >>> 5);
    return (this.bits[w] & (1 << (section & 31))) !== 0;
  }
}
