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
 * Per page:
 *   state (Uint8)   0                  NONE: not a block start (inside a block, or not managed)
 *                   FREE | order       the first page of a free block
 *                   ALLOCATED | order  the first page of an allocated block
 *   next, prev (Int32)  a free block's neighbours in its order's free list (NIL ends it; the
 *                   head's `prev` is not kept, so popping the head never touches the next
 *                   block's page); an allocated block keeps its tag in `next`. Interior pages
 *                   are never read.
 * 9 bytes per page in all, touched only at block starts.
 *
 * Free lists. One doubly-linked LIFO list per order (`heads[order]`), so a block is removed by
 * its address in O(1) when its buddy merges with it. `heads[maxOrder + 1]` is the order mask: bit
 * k set iff the list of order k is non-empty, so the smallest order that fits is one
 * count-trailing-zeros away.
 *
 * The buddy core. `take`, `carve` and `release` split and merge blocks on these arrays; they
 * live here, next to the constants they test, so that the alloc/free path stays small enough
 * for V8 to inline into its callers. Their callers validate; they assume valid slots.
 *
 * Storage. The four arrays are the allocator's own, or views the caller carves from memory it
 * manages itself (a heap's buffer, shared by workers): then every mutable bit of the free lists
 * lives in that memory, and another handle over the same views sees the same allocator.
 */
/**
 * The state byte's parts, as a file-local const enum so that every compiler (tsc, esbuild) writes
 * the numbers into the code: a module-level `const` costs a load and a TDZ check at each use,
 * which on the alloc/free path was 5% of the instructions.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local, so isolated-module compilers inline it too.
const enum State {
  FREE = 0x40,
  ALLOCATED = 0x80,
  ORDER_MASK = 0x3f,
}
/** State byte flag: the slot starts a free block. */
export const FREE = State.FREE;
/** State byte flag: the slot starts an allocated block. */
export const ALLOCATED = State.ALLOCATED;
/** Mask of the order in a state byte. */
export const ORDER_MASK = State.ORDER_MASK;
/** Default section size, 2^8 pages: small enough that a lone page costs little, big enough that merges rarely cross sections. */
export const MAX_SECTION_ORDER = 8;
/** Slots are Int32 indices. */
export const MAX_SLOTS = 2 ** 31 - 1;

/** End of a free list. */
export const NIL = -1;

/** The typed arrays that hold the per-page metadata and the list heads; see the file comment. */
export interface PageStorage {
  /** One byte per page. */
  state: Uint8Array;
  /** One Int32 per page. */
  next: Int32Array;
  /** One Int32 per page. */
  prev: Int32Array;
  /** maxOrder + 2 Int32: the list heads, then the order mask. */
  heads: Int32Array;
}

/** Bytes of storage for `pages` pages and orders 0..maxOrder, laid out by {@link pageStorageIn}. */
export function pageStorageBytes(pages: number, maxOrder: number): number {
  return (maxOrder + 2) * 4 + pages * 8 + pages;
}

/** Views of a {@link PageStorage} at `byteOffset` (a multiple of 4) of `buffer`: heads, next, prev, state. */
export function pageStorageIn(
  buffer: ArrayBufferLike,
  byteOffset: number,
  pages: number,
  maxOrder: number,
): PageStorage {
  const heads = new Int32Array(buffer, byteOffset, maxOrder + 2);
  const next = new Int32Array(buffer, heads.byteOffset + heads.byteLength, pages);
  const prev = new Int32Array(buffer, next.byteOffset + next.byteLength, pages);
  const state = new Uint8Array(buffer, prev.byteOffset + prev.byteLength, pages);
  return { state, next, prev, heads };
}

/** Typed-array metadata for a fixed set of sections. Replaced wholesale when sections are added. */
export class PageMap {
  /** Pages per section, as a power of two. */
  readonly sectionOrder: number;
  /** Largest block order. */
  readonly maxOrder: number;
  /** Number of present sections. */
  readonly sectionCount: number;
  /** Section number (address / sectionBytes) of each present section, increasing. */
  readonly sectionNumber: Float64Array;
  /** Address in bytes of each present section's first page. */
  readonly sectionAddress: Float64Array;
  /** The low 31 bits of each section number, for integer bit tests (buddy direction). */
  readonly sectionLowBits: Int32Array;
  readonly state: Uint8Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** First free block of each order, or NIL; then the order mask. */
  readonly heads: Int32Array;
  /** Index of the order mask in `heads`. */
  readonly maskIndex: number;
  /** True when the arrays are the caller's views (not counted as this allocator's metadata). */
  readonly external: boolean;

  /**
   * @param storage views to use instead of new arrays; they must hold at least the sections'
   * pages, and their content is taken as it is (see {@link PageMap.clear}).
   */
  constructor(
    maxOrder: number,
    sectionOrder: number,
    sectionNumbers: Float64Array,
    sectionBytes: number,
    storage?: PageStorage,
  ) {
    this.sectionOrder = sectionOrder;
    this.maxOrder = maxOrder;
    this.sectionCount = sectionNumbers.length;
    this.sectionNumber = sectionNumbers;
    this.sectionAddress = sectionNumbers.map((n) => n * sectionBytes);
    this.sectionLowBits = Int32Array.from(sectionNumbers, (n) => n % 2 ** 31);
    this.maskIndex = maxOrder + 1;
    const slots = this.sectionCount * 2 ** sectionOrder;
    this.external = storage !== undefined;
    if (storage === undefined) {
      this.state = new Uint8Array(slots);
      this.next = new Int32Array(slots);
      this.prev = new Int32Array(slots);
      this.heads = new Int32Array(maxOrder + 2);
      this.clear();
    } else {
      const { state, next, prev, heads } = storage;
      if (state.length < slots || next.length < slots || prev.length < slots || heads.length < maxOrder + 2) {
        throw new RangeError(
          `page storage holds fewer than the ${slots} pages of ${this.sectionCount} sections`,
        );
      }
      this.state = state;
      this.next = next;
      this.prev = prev;
      this.heads = heads;
    }
  }

  /** Empties every list and marks every page NONE. */
  clear(): void {
    this.state.fill(0);
    this.heads.fill(NIL);
    this.heads[this.maskIndex] = 0;
  }

  /** Bit k set iff order k has a free block. */
  get orderMask(): number {
    return this.heads[this.maskIndex] >>> 0;
  }

  /** Bytes held in typed arrays. */
  get byteLength(): number {
    const sections =
      this.sectionNumber.byteLength + this.sectionAddress.byteLength + this.sectionLowBits.byteLength;
    if (this.external) return sections;
    return (
      this.state.byteLength + this.next.byteLength + this.prev.byteLength + this.heads.byteLength + sections
    );
  }

  /** Marks `slot` as a free block of `order` and puts it at the head of that order's list. */
  push(slot: number, order: number): void {
    const heads = this.heads;
    const head = heads[order];
    this.state[slot] = State.FREE | order;
    this.next[slot] = head;
    if (head < 0) heads[this.maskIndex] |= 1 << order;
    else this.prev[head] = slot;
    heads[order] = slot;
  }

  /**
   * Puts `slot` as a free block of `order` on that order's list, which the caller knows is empty
   * (splitting: every order below the one split from is empty). The caller updates the mask.
   */
  pushOnEmpty(slot: number, order: number): void {
    this.state[slot] = State.FREE | order;
    this.next[slot] = NIL;
    this.heads[order] = slot;
  }

  /** Takes the head of `order`'s list, which must not be empty; returns its slot (state left to the caller). */
  popHead(order: number): number {
    const heads = this.heads;
    const slot = heads[order];
    const n = this.next[slot];
    heads[order] = n; // the new head's prev is not kept: no write to its page
    if (n < 0) heads[this.maskIndex] &= ~(1 << order);
    return slot;
  }

  /** Removes the free block of `order` at `slot` from its list (its state is left to the caller). */
  unlink(slot: number, order: number): void {
    const heads = this.heads;
    const n = this.next[slot];
    if (heads[order] === slot) {
      heads[order] = n; // the new head's prev is not kept: no write to its page
      if (n < 0) heads[this.maskIndex] &= ~(1 << order);
    } else {
      const p = this.prev[slot];
      this.next[p] = n;
      if (n >= 0) this.prev[n] = p;
    }
  }

  /** The order of the allocated block starting at `slot`, or -1 when `slot` is negative or not one. */
  liveOrder(slot: number): number {
    const state = slot < 0 ? 0 : this.state[slot];
    return (state & State.ALLOCATED) === 0 ? -1 : state & State.ORDER_MASK;
  }

  /**
   * Takes a block of `order`: the head of the smallest non-empty order that fits, split down to
   * `order` (the upper halves go free). Returns its slot, now ALLOCATED, or -1 when none fits.
   */
  take(order: number): number {
    const mask = this.heads[this.maskIndex] >>> order;
    if (mask === 0) return -1;
    const found = order + 31 - Math.clz32(mask & -mask); // the lowest set bit
    const slot = this.popHead(found);
    if (found > order) {
      // Every order from `order` to found - 1 was empty, or `found` would be smaller.
      for (let k = found; k > order; ) {
        k--;
        this.pushOnEmpty(this.upperHalf(slot, k), k);
      }
      this.heads[this.maskIndex] |= ((1 << found) - 1) & ~((1 << order) - 1);
    }
    this.state[slot] = State.ALLOCATED | order;
    return slot;
  }

  /** Removes free block (head, k) and splits it until the block of `order` at `target` inside it is ALLOCATED. */
  carve(head: number, k: number, target: number, order: number): void {
    this.unlink(head, k);
    this.state[head] = 0;
    let slot = head;
    while (k > order) {
      k--;
      const upper = this.upperHalf(slot, k);
      if (target >= upper) {
        this.push(slot, k);
        slot = upper;
      } else {
        this.push(upper, k);
      }
    }
    this.state[slot] = State.ALLOCATED | order;
  }

  /** Makes block (slot, order) free and merges it with free buddies as far as they go. */
  release(slot: number, order: number): void {
    const state = this.state;
    const inSection = this.sectionOrder; // <= maxOrder
    state[slot] = 0;
    let k = order;
    // Below the section order the buddy is in the same section: slot ^ 2^k.
    for (; k < inSection; k++) {
      const buddy = slot ^ (1 << k);
      if (state[buddy] !== (State.FREE | k)) break;
      this.unlink(buddy, k);
      state[buddy] = 0;
      slot &= ~(1 << k);
    }
    if (k >= inSection && k < this.maxOrder) this.releaseAcrossSections(slot, k);
    else this.push(slot, k);
  }

  /** The rest of `release` from order k >= sectionOrder, where buddies are whole sections away. */
  private releaseAcrossSections(slot: number, k: number): void {
    for (; k < this.maxOrder; k++) {
      const buddy = this.sectionBuddy(slot >>> this.sectionOrder, k);
      if (buddy < 0 || this.state[buddy] !== (State.FREE | k)) break;
      this.unlink(buddy, k);
      this.state[buddy] = 0;
      if (buddy < slot) slot = buddy;
    }
    this.push(slot, k);
  }

  /** The slot of the upper half when a block at `slot` of order k+1 splits into order k. */
  upperHalf(slot: number, k: number): number {
    const s = this.sectionOrder;
    return k < s ? slot + (1 << k) : ((slot >>> s) + (1 << (k - s))) << s;
  }

  /** Slot of the buddy of the order-k block (k >= sectionOrder) starting at `section`, or -1 if not present. */
  private sectionBuddy(section: number, k: number): number {
    const span = 1 << (k - this.sectionOrder); // k - sectionOrder <= 23
    const number = this.sectionNumber[section];
    const up = (this.sectionLowBits[section] & span) === 0;
    const other = up ? section + span : section - span;
    if (
      other < 0 ||
      other >= this.sectionCount ||
      this.sectionNumber[other] !== (up ? number + span : number - span)
    ) {
      return -1;
    }
    return other << this.sectionOrder;
  }
}
