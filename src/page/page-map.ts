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
 * whole sections, all present and therefore numbered consecutively, so its upper half is
 * `slot + 2^k` at every order.
 *
 * Two typed arrays hold everything:
 *   state (Uint8, one per page)
 *                   0                  NONE: not a block start (inside a block or run, or not managed)
 *                   FREE | order       the first page of a free block
 *                   ALLOCATED | order  the first page of an allocated block
 *                   ALLOCATED | RUN    the first page of an exact run: any number of pages, starting
 *                                      at any page, its length in the `prev` link (below)
 *   links (Int32)   [0..maxOrder]      the first free block of each order, or NIL
 *                   [maxOrder + 1]     the order mask: bit k set iff order k has a free block
 *                   [linkBase + 2s]    slot s's `next`: the following block in its free list
 *                                      (NIL ends it), or the tag of an allocated block
 *                   [linkBase + 2s + 1] slot s's `prev`: the preceding block, for free blocks
 *                                      that are not the head (the head's is not kept, so
 *                                      popping the head never touches the next block's page);
 *                                      the page count of an exact run
 * 9 bytes per page in all, touched only at block starts; a block's two links share a cache line.
 * One Int32Array for heads, mask and links means V8 checks and loads one array's bounds and base
 * per call, and every index below is int32 arithmetic (`| 0`), so it compiles without overflow
 * checks. That needs `linkBase + 2s + 1` to fit an int32: MAX_SLOTS keeps slots below 2^30.
 *
 * Free lists. One doubly-linked LIFO list per order, so a block is removed by its address in
 * O(1) when its buddy merges with it, and the smallest order that fits is one
 * count-trailing-zeros of the order mask away.
 *
 * Exact runs. A run of n pages is allocated like the smallest block that holds it and its tail
 * goes back at once as the maximal aligned blocks of the tail (`trimRun`); it is freed as the
 * maximal aligned blocks of its pages, each merged like a freed block (`releasePages`). So the
 * free blocks stay exactly the maximal aligned blocks of the free pages. A run's pages are
 * contiguous in memory, so they are consecutive slots, whatever sections they cross. In a
 * run's state byte, `state & ORDER_MASK` is RUN, above every order: `release` sends it down
 * the cross-section path, where `releasePages` takes it, so freeing a block pays nothing for runs.
 *
 * The buddy core. `take`, `carve` and `release` split and merge blocks on these arrays; they
 * live here, next to the constants they test, so that the alloc/free path stays small enough
 * for V8 to inline into its callers. Their callers validate; they assume valid slots.
 *
 * Storage. The two arrays are the allocator's own, or views the caller carves from memory it
 * manages itself (a heap's buffer, shared by workers): then every mutable bit of the free lists
 * lives in that memory, and another handle over the same views sees the same allocator.
 */
import { ctz32, pow2 } from "./order.js";

/**
 * The state byte's parts, as a file-local const enum so that every compiler (tsc, esbuild) writes
 * the numbers into the code: a module-level `const` costs a load and a TDZ check at each use,
 * which on the alloc/free path is a measurable share of the instructions. Keep new constants
 * that the hot path reads in this enum.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local, so isolated-module compilers inline it too.
const enum State {
  FREE = 0x40,
  ALLOCATED = 0x80,
  ORDER_MASK = 0x3f,
  /** With ALLOCATED: an exact run (above every order, so that `& ORDER_MASK` keeps it). */
  RUN = 0x20,
  /** End of a free list (a link value, kept here to be inlined like the rest). */
  NIL = -1,
}
/** State byte flag: the slot starts a free block. */
export const FREE = State.FREE;
/** State byte flag: the slot starts an allocated block. */
export const ALLOCATED = State.ALLOCATED;
/** Mask of the order in a state byte. */
export const ORDER_MASK = State.ORDER_MASK;
/** State byte flag, with ALLOCATED: the slot starts an exact run of pages. */
export const RUN = State.RUN;
/** Default section size, 2^8 pages: small enough that a lone page costs little, big enough that merges rarely cross sections. */
export const MAX_SECTION_ORDER = 8;
/**
 * Most slots (pages of metadata) one allocator holds: a little under 2^30, so that every link
 * index `linkBase + 2 * slot + 1` (linkBase <= 33) stays below 2^31 and `| 0` never wraps it.
 */
export const MAX_SLOTS = 2 ** 30 - 64;
/**
 * Most present sections one allocator holds (2^24): only allocators with small sections reach it
 * before MAX_SLOTS (sectionOrder below 6). It keeps the per-section lists the allocator builds
 * (plain arrays while growing, the directory's Map, which holds at most 2^24 entries) within what
 * V8 can hold: a plain array of more than about 2^27 numbers is a fatal error, not an exception.
 */
export const MAX_SECTIONS = 2 ** 24;

/** End of a free list. */
export const NIL = State.NIL;

/** The typed arrays that hold the per-page metadata and the list heads; see the file comment. */
export interface PageStorage {
  /** One byte per page. */
  state: Uint8Array;
  /** maxOrder + 2 words (list heads, order mask), then two per page (next, prev). */
  links: Int32Array;
}

/** Bytes of storage for `pages` pages and orders 0..maxOrder, laid out by {@link pageStorageIn}. */
export function pageStorageBytes(pages: number, maxOrder: number): number {
  return (maxOrder + 2) * 4 + pages * 8 + pages;
}

/** Views of a {@link PageStorage} at `byteOffset` (a multiple of 4) of `buffer`: links, then state. */
export function pageStorageIn(
  buffer: ArrayBufferLike,
  byteOffset: number,
  pages: number,
  maxOrder: number,
): PageStorage {
  const links = new Int32Array(buffer, byteOffset, maxOrder + 2 + 2 * pages);
  const state = new Uint8Array(buffer, links.byteOffset + links.byteLength, pages);
  return { state, links };
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
  /** One state byte per slot; see the file comment. */
  readonly state: Uint8Array;
  /** Heads, order mask, then two link words per slot; see the file comment. */
  readonly links: Int32Array;
  /** Index in `links` of the order mask (maxOrder + 1). */
  readonly maskIndex: number;
  /** Index in `links` of slot 0's `next` (maxOrder + 2). */
  readonly linkBase: number;
  /** Number of slots (present sections times pages per section). */
  readonly slots: number;
  /** True when the arrays are the caller's views (not counted as this allocator's metadata). */
  readonly external: boolean;

  /**
   * @param storage views to use instead of new arrays; they must hold at least the sections'
   * pages, and their content is taken as it is (see {@link PageMap.clear}).
   * @throws RangeError when `storage` is too small.
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
    this.linkBase = maxOrder + 2;
    this.slots = (this.sectionCount << sectionOrder) | 0;
    this.external = storage !== undefined;
    if (storage === undefined) {
      this.state = new Uint8Array(this.slots);
      this.links = new Int32Array(this.linkBase + 2 * this.slots);
      this.clear();
    } else {
      const { state, links } = storage;
      if (state.length < this.slots || links.length < this.linkBase + 2 * this.slots) {
        throw new RangeError(
          `page storage holds fewer than the ${this.slots} pages of ${this.sectionCount} sections`,
        );
      }
      this.state = state;
      this.links = links;
    }
  }

  /** Empties every list and marks every page NONE. */
  clear(): void {
    this.state.fill(0);
    this.links.fill(State.NIL, 0, this.maskIndex);
    this.links[this.maskIndex] = 0;
  }

  /** Bit k set iff order k has a free block. */
  get orderMask(): number {
    return this.links[this.maskIndex] >>> 0;
  }

  /** Bytes held in typed arrays. */
  get byteLength(): number {
    const sections =
      this.sectionNumber.byteLength + this.sectionAddress.byteLength + this.sectionLowBits.byteLength;
    return this.external ? sections : this.state.byteLength + this.links.byteLength + sections;
  }

  /** The first free block of `order`, or NIL. */
  head(order: number): number {
    return this.links[order];
  }

  /** The block after free block `slot` in its list, or NIL. */
  nextOf(slot: number): number {
    return this.links[(this.linkBase + (slot << 1)) | 0];
  }

  /** The block before free block `slot` in its list (not kept for a list's head). */
  prevOf(slot: number): number {
    return this.links[(this.linkBase + (slot << 1) + 1) | 0];
  }

  /** The tag of allocated block `slot`. */
  tagOf(slot: number): number {
    return this.nextOf(slot); // an allocated block has no list neighbours: its tag takes `next`
  }

  /** Sets the tag of allocated block `slot` (the caller validated it). */
  setTag(slot: number, tag: number): void {
    this.links[(this.linkBase + (slot << 1)) | 0] = tag;
  }

  /** Pages of the allocation starting at allocated `slot`: a run's count, or 2^order for a block. */
  pagesOf(slot: number): number {
    const state = this.state[slot];
    return state & State.RUN ? this.prevOf(slot) : pow2(state & State.ORDER_MASK);
  }

  /**
   * Makes the allocated block (slot, order) an exact run of its first `count` pages (1..2^order)
   * and frees the rest. The rest is the tail of an aligned block, so its maximal aligned blocks
   * start at `count` and grow by its lowest set bit; none of them has a free buddy of its order
   * (the block's own pages are allocated or are the tail's other blocks), so they are pushed
   * without a merge: O(order).
   */
  trimRun(slot: number, order: number, count: number): void {
    this.state[slot] = State.ALLOCATED | State.RUN;
    this.links[(this.linkBase + (slot << 1) + 1) | 0] = count;
    this.pushSuffix(slot, order, count);
  }

  /**
   * Frees the first `count` pages (1..2^order - 1) of free block (slot, order), which the caller
   * has taken off its list, as the maximal aligned blocks of that prefix: its set bits, highest
   * first. A prefix of a free aligned block merges with nothing. O(order).
   */
  pushPrefix(slot: number, order: number, count: number): void {
    for (let k = order - 1, at = slot; k >= 0; k--) {
      if ((count & (1 << k)) === 0) continue;
      this.push(at, k);
      at += 1 << k;
    }
  }

  /**
   * Frees the pages of free block (slot, order), taken off its list, from page `from` (1..2^order
   * - 1 into it) to its end, as the maximal aligned blocks of that suffix (see `trimRun`). O(order).
   */
  pushSuffix(slot: number, order: number, from: number): void {
    const end = pow2(order);
    for (let page = from; page < end; ) {
      const k = ctz32(page);
      this.push(slot + page, k);
      page += pow2(k);
    }
  }

  /** Makes allocated `slot` (a block or a run) a run of `count` pages, without freeing anything. */
  setRun(slot: number, count: number): void {
    this.state[slot] = State.ALLOCATED | State.RUN;
    this.links[(this.linkBase + (slot << 1) + 1) | 0] = count;
  }

  /**
   * Frees `count` pages from `slot` (contiguous memory, none of them free; any state bytes among
   * them are cleared) as their maximal aligned blocks, in address order, each merged with free
   * buddies like a freed block: O(log count + maxOrder) blocks.
   */
  releasePages(slot: number, count: number): void {
    const s = this.sectionOrder;
    const inSection = (1 << s) - 1;
    while (count > 0) {
      // The largest aligned block at `slot` that fits: aligned as far as the slot's offset in its
      // section says, or, at a section's start, as far as the section's number says.
      const offset = slot & inSection;
      const section = this.sectionLowBits[slot >>> s];
      let k = offset !== 0 ? ctz32(offset) : section !== 0 ? s + ctz32(section) : 31;
      const fits = 31 - Math.clz32(count); // count < 2^32
      if (k > fits) k = fits;
      if (k > this.maxOrder) k = this.maxOrder;
      this.release(slot, k);
      const pages = pow2(k);
      slot += pages;
      count -= pages;
    }
  }

  /**
   * The slot of the page right after the `pages` pages from `slot` (contiguous in memory), or -1
   * when that page has no metadata or is not adjacent in memory (the next present section is not
   * the next section).
   */
  slotAfter(slot: number, pages: number): number {
    const after = slot + pages;
    if (after >= this.slots) return -1;
    const s = this.sectionOrder;
    const last = (after - 1) >>> s;
    const next = after >>> s;
    return next === last || this.sectionNumber[next] === this.sectionNumber[last] + 1 ? after : -1;
  }

  /** Marks `slot` as a free block of `order` and puts it at the head of that order's list. */
  push(slot: number, order: number): void {
    const links = this.links;
    const base = this.linkBase;
    const head = links[order];
    this.state[slot] = State.FREE | order;
    links[(base + (slot << 1)) | 0] = head;
    if (head < 0) links[this.maskIndex] |= 1 << order;
    else links[(base + (head << 1) + 1) | 0] = slot;
    links[order] = slot;
  }

  /** Removes the free block of `order` at `slot` from its list (its state is left to the caller). */
  unlink(slot: number, order: number): void {
    const links = this.links;
    const base = this.linkBase;
    const at = (base + (slot << 1)) | 0;
    const n = links[at];
    if (links[order] === slot) {
      links[order] = n; // the new head's prev is not kept: no write to its page
      if (n < 0) links[this.maskIndex] &= ~(1 << order);
    } else {
      const p = links[(at + 1) | 0];
      links[(base + (p << 1)) | 0] = n;
      if (n >= 0) links[(base + (n << 1) + 1) | 0] = p;
    }
  }

  /**
   * Takes a block of `order`: the head of the smallest non-empty order that fits, split down to
   * `order` (the upper halves go free). Returns its slot, now ALLOCATED with `tag`, or -1 when
   * none fits.
   * Kept compact on purpose. The rule: a caller's loop of `allocPages` (or `allocOrder`) and
   * `free` must get both paths inlined whole: allocPages, orderOfCount, take and addressOf, then
   * free, slotOf, release and push. The reason: V8 inlines a call only while the bytecode it has
   * already inlined into the caller, plus the candidate's (weighted up), stays within a fixed
   * budget, and these paths together sit just under it; a call instead of the inlined path costs
   * a measurable share of every operation (docs/benchmarks.md, "The page allocator"). So every byte of bytecode on
   * them counts: do not add code to take, release, push, slotOf, addressOf, free, allocPages or
   * orderOfCount, not even a guard or a helper call, without running `npm run check:inline`
   * (which fails when the hot path stops being inlined) and `npm run bench:page` before and after.
   */
  take(order: number, tag: number): number {
    const links = this.links;
    const maskAt = this.maskIndex;
    const mask = links[maskAt] >>> order;
    if (mask === 0) return -1;
    let k = (order + 31 - Math.clz32(mask & -mask)) | 0; // the lowest set bit
    const slot = links[k];
    const base = this.linkBase;
    const at = (base + (slot << 1)) | 0;
    const next = links[at];
    links[at] = tag; // an allocated block keeps its tag where its `next` was
    links[k] = next; // the new head's prev is not kept: no write to its page
    // Mask bits order..k-1 were clear (else k would be smaller) and the split sets them all;
    // bit k clears when the block taken was its list's last. One XOR flips exactly those bits:
    // bits order..k-1, or order..k, are 2^k - 2^order, or 2^(k+1) - 2^order.
    links[maskAt] ^= ((next < 0 ? 2 : 1) << k) - (1 << order);
    const state = this.state;
    while (k > order) {
      // Every order below k is empty now, so each upper half is its list's only block.
      k = (k - 1) | 0;
      const upper = (slot + (1 << k)) | 0;
      state[upper] = State.FREE | k;
      links[(base + (upper << 1)) | 0] = State.NIL;
      links[k] = upper;
    }
    state[slot] = State.ALLOCATED | order;
    return slot;
  }

  /** Removes free block (head, k) and splits it until the block of `order` at `target` inside it is ALLOCATED. */
  carve(head: number, k: number, target: number, order: number): void {
    this.unlink(head, k);
    this.state[head] = 0;
    let slot = head;
    while (k > order) {
      k--;
      const upper = slot + (1 << k); // k < maxOrder <= 31
      if (target >= upper) {
        this.push(slot, k);
        slot = upper;
      } else {
        this.push(upper, k);
      }
    }
    this.state[slot] = State.ALLOCATED | order;
  }

  /** Makes block (slot, k) free and merges it with free buddies as far as they go. */
  release(slot: number, k: number): void {
    const state = this.state;
    const inSection = this.sectionOrder; // <= maxOrder
    state[slot] = 0;
    // Below the section order the buddy is in the same section: slot ^ 2^k.
    // (`k` is the parameter itself, and `slot &= buddy` below: fewer bytes of bytecode, which
    // V8's inlining budget counts; see the rule on `take`.)
    for (; k < inSection; k = (k + 1) | 0) {
      const buddy = slot ^ (1 << k);
      if (state[buddy] !== (State.FREE | k)) break;
      this.unlink(buddy, k);
      state[buddy] = 0;
      slot &= buddy; // the lower of the two: they differ in bit k only
    }
    if (k < inSection) this.push(slot, k);
    else this.releaseAcrossSections(slot, k);
  }

  /** The rest of `release` from order k >= sectionOrder, where buddies are whole sections away. */
  private releaseAcrossSections(slot: number, k: number): void {
    if (k >= State.RUN) {
      this.releasePages(slot, this.prevOf(slot));
      return;
    }
    for (; k < this.maxOrder; k++) {
      const buddy = this.sectionBuddy(slot >>> this.sectionOrder, k);
      if (buddy < 0 || this.state[buddy] !== (State.FREE | k)) break;
      this.unlink(buddy, k);
      this.state[buddy] = 0;
      if (buddy < slot) slot = buddy;
    }
    this.push(slot, k);
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
