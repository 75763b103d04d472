/**
 * HeapCore: one thread's handle on a heap's bytes. It holds nothing that is not derived from the
 * buffer: typed-array views, the geometry read from the header, and a BuddyAllocator whose every
 * mutable bit lives in the buffer (BuddyAllocator.inStorage). Several handles (in one thread or
 * in several workers) over the same bytes are the same heap.
 *
 * A handle is valid for one generation of the header: when another handle grows the heap, the
 * generation changes and `sync` rebuilds this handle (views, page allocator) from the header.
 * A non-shared WebAssembly.Memory detaches its old buffer when it grows; the views then read
 * undefined, which `sync` also catches. The caller (Heap) holds the lock around every call.
 * Nothing here validates user input except where the file says so; layouts are in layout.ts.
 */
import { AllocError, showAddress, showCount } from "../errors.js";
import { BuddyAllocator } from "../page/buddy-allocator.js";
import { pow2 } from "../page/order.js";
import { pageStorageIn } from "../page/page-map.js";
import { GUARD_BYTES, poison } from "./guard.js";
import {
  F64_END,
  FLAG_GUARD,
  HEADER_BYTES,
  LARGE_KIND,
  type Layout,
  MAX_ADDRESS,
  PAGE_LOCK_BYTES,
  readFlags,
  SIDE_OWNER,
  SIDE_SHIFT,
  SIDE_SIZE,
  SIDE_WORDS,
  TAG_LARGE,
  TAG_SLAB,
  W_CLASS_HEADS,
  W_GENERATION,
  W_LOCK,
  W_RECORD,
  writeEnd,
} from "./layout.js";
import { lock, unlock } from "./lock.js";
import { bufferOf, growMemory, type HeapMemory } from "./memory.js";
import { type SizeClasses, sizeClasses, slackIndex, T_BITMAP, trailerIndex } from "./size-classes.js";
import { clearIndex, FREE_KIND, fitStretch, placeIn, releaseStretch, takeStretch } from "./stretches.js";
import {
  CLAIMER_MASK,
  clearSlots,
  OP_GROW,
  OP_NONE,
  OP_RELEASE,
  OP_TAKE,
  R_COUNT,
  R_OP,
  R_PAGE,
  R_SIZE,
  S_LISTS,
  S_RECORD,
  S_SUMMARY,
} from "./threads.js";

/** The page allocator's options for a large block: one object, so the call allocates none. */
const LARGE_RUN = { exact: true, tag: TAG_LARGE } as const;
/** The same for each slab class's tag, built once: a slab is a run of pages too. */
const SLAB_RUN = Array.from({ length: 256 }, (_, c) => ({ exact: true, tag: TAG_SLAB + c }) as const);

/** Sentinel of `locate`: the pointer is not a live allocation. */
export const NOT_LIVE = -1;
/** What `locate` returns for a large block (slab pointers return their class, >= 0). */
export const LARGE = -2;

export class HeapCore {
  readonly memory: HeapMemory;
  readonly layout: Layout;
  readonly pageSize: number;
  readonly pageShift: number;
  readonly firstPage: number;
  /**
   * The policy `takePages` calls when no free stretch holds a request (room.ts): gives back
   * pages held for reuse; @returns true when that may have freed pages. Passed in by the
   * composer (heap.ts), so that the core does not depend on the slab modules.
   */
  private readonly makeRoom: (h: HeapCore) => boolean;
  readonly classes: SizeClasses;
  /** Int32 index of the first class-list head in `i32`. */
  readonly listBase: number;
  /** Int32 index of the free-stretch index in `i32` (stretches.ts). */
  readonly fitBase: number;
  /** The first page's number in the buffer (firstPage / pageSize), for alignment. */
  readonly firstPageNumber: number;
  /** Pages that exist now: (end - firstPage) / pageSize. */
  pageCount = 0;
  readonly genIndex: number;
  /** The current end of the pages (bytes). */
  end = 0;
  /** Guard mode (guard.ts): red zones after allocations, poison in freed memory. */
  readonly guard: boolean;
  /**
   * What the fast paths compare against: `maxSmall` and `end`, or -1 and 0 in guard mode, so that
   * a guarded heap takes the slow paths (where guard mode lives) at no cost to any other heap.
   */
  fastSmall = -1;
  freeEnd = 0;
  generation = -1;
  buffer!: ArrayBufferLike;
  u8!: Uint8Array;
  u16!: Uint16Array;
  i32!: Int32Array;
  side!: Int32Array;
  pages!: BuddyAllocator;
  // The class table's arrays, as fields of this object for the hot paths.
  readonly size: Int32Array;
  readonly recip: Float64Array;
  readonly objects: Int32Array;
  readonly trailer: Int32Array;
  readonly bitmapWords: Int32Array;
  readonly slabPages: Int32Array;
  readonly slabAlign: Int32Array;
  readonly bySize: Uint8Array;
  readonly maxSmall: number;
  /** True for a heap with thread slots (threads.ts): slabs have owners, pages a lock. */
  readonly threaded: boolean;
  /**
   * This handle's slot + 1 in a threaded heap (the owner byte of its slabs and large blocks, and
   * its claimer bits in a claim word); 0 in a one-thread heap.
   */
  holder = 0;
  /**
   * This handle's token in a threaded heap (threads.ts): its slot's claim word, unique to this
   * handle; the page lock's holder value, and its thread id + 1. 0 in a one-thread heap.
   */
  token = 0;
  /** Int32 index of the first word of the slot table, and words per slot (threaded heaps). */
  readonly slotsBase: number;
  readonly slotWords: number;
  /** Int32 index of this handle's slot record, or -1 (no slot: a one-thread heap). */
  slotAt = -1;
  /** Int32 index of this handle's operation record: in its slot, or the header's (one-thread heap). */
  recordAt: number;
  /** Int32 index of the first full-slab list head (threaded heaps), else -1. */
  fullBase = -1;
  /** Owner byte of each page (threads.ts); all zero in a one-thread heap (not in the buffer). */
  ownerOf!: Uint8Array;
  /** Byte offset of each class's remote-free bitmap in its slab (-1: none). */
  readonly remote: Int32Array;
  /** Int32 index of the page lock (threaded heaps: the word before the slots) or the heap's one lock. */
  readonly lockIndex: number;
  /** How many nested pageLock calls hold the page lock now (threaded heaps). */
  private lockDepth = 0;

  constructor(memory: HeapMemory, layout: Layout, fresh: boolean, makeRoom: (h: HeapCore) => boolean) {
    this.memory = memory;
    this.makeRoom = makeRoom;
    this.layout = layout;
    this.pageSize = layout.pageSize;
    this.pageShift = Math.log2(layout.pageSize);
    this.firstPage = layout.firstPage;
    this.listBase = (layout.start >>> 2) + W_CLASS_HEADS;
    this.fitBase = layout.fitOffset >>> 2;
    this.firstPageNumber = layout.firstPage / layout.pageSize;
    this.genIndex = (layout.start >>> 2) + W_GENERATION;
    this.threaded = layout.threads > 0;
    this.slotsBase = (layout.threadsOffset + PAGE_LOCK_BYTES) >>> 2;
    this.slotWords = layout.slotWords;
    this.lockIndex = this.threaded ? layout.threadsOffset >>> 2 : (layout.start >>> 2) + W_LOCK;
    this.recordAt = (layout.start >>> 2) + W_RECORD;
    const c = sizeClasses(layout.pageSize, layout.minAlign, layout.maxOrder, this.threaded);
    this.remote = c.remote;
    this.classes = c;
    this.size = c.size;
    this.recip = c.recip;
    this.objects = c.objects;
    this.trailer = c.trailer;
    this.bitmapWords = c.bitmapWords;
    this.slabPages = c.slabPages;
    this.slabAlign = c.slabAlign;
    this.bySize = c.bySize;
    this.maxSmall = c.maxSmall;
    this.guard = (readFlags(bufferOf(memory), layout.start) & FLAG_GUARD) !== 0;
    this.fastSmall = this.guard ? -1 : this.maxSmall;
    if (fresh) {
      this.attach(false);
      this.i32.fill(-1, this.listBase, this.listBase + c.count);
      this.side.fill(0);
      this.ownerOf.fill(0);
      if (this.threaded) {
        this.i32.fill(0, this.lockIndex, this.slotsBase); // the page lock's line
        clearSlots(this.i32, this.slotsBase, this.slotWords, layout.threads, c.count);
      }
      this.setEnd(layout.end);
      this.generation = this.i32[this.genIndex];
      this.pages = this.pageAllocator(layout.end, true);
      clearIndex(this);
      releaseStretch(this, 0, this.pageCount);
      if (this.guard) poison(this.u8, this.firstPage, this.end - this.firstPage);
    } else {
      this.attach(true);
    }
  }

  /** Rebuilds the views (and, with `pages`, the page allocator) from the memory's current buffer. */
  attach(pages: boolean): void {
    const l = this.layout;
    const buffer = bufferOf(this.memory);
    const bytes = Math.min(buffer.byteLength, MAX_ADDRESS);
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer, 0, bytes);
    this.u16 = new Uint16Array(buffer, 0, Math.floor(bytes / 2));
    this.i32 = new Int32Array(buffer, 0, Math.floor(bytes / 4));
    this.side = new Int32Array(buffer, l.sideOffset, SIDE_WORDS * l.storagePages);
    this.ownerOf = this.threaded
      ? new Uint8Array(buffer, l.ownerOffset, l.storagePages)
      : (this.ownerOf ?? new Uint8Array(l.storagePages));
    if (!pages) return;
    this.generation = this.i32[this.genIndex];
    this.setEnd(new Float64Array(buffer, l.start, HEADER_BYTES / 8)[F64_END]);
    this.pages = this.pageAllocator(this.end, false);
  }

  private pageAllocator(end: number, fresh: boolean): BuddyAllocator {
    const l = this.layout;
    const storage = pageStorageIn(this.buffer, l.storageOffset, l.storagePages, l.maxOrder);
    const options = { pageSize: l.pageSize, maxOrder: l.maxOrder };
    return BuddyAllocator.inStorage(options, l.firstPage, end - l.firstPage, storage, { fresh });
  }

  /**
   * Makes this handle the one of token `token` (threads.ts) in a threaded heap: its class lists
   * are its slot's. The caller has claimed the slot (`claimSlot`, which returned the token).
   */
  useSlot(token: number): void {
    const slot = (token & CLAIMER_MASK) - 1;
    this.token = token;
    this.holder = slot + 1;
    this.slotAt = this.slotsBase + this.slotWords * slot;
    this.recordAt = this.slotAt + S_RECORD;
    (this as { listBase: number }).listBase = this.slotAt + S_LISTS;
    this.fullBase = this.listBase + this.classes.count;
    // Whatever the slot held before (a closed or dead thread's slabs): look for remote frees once.
    Atomics.store(this.i32, this.slotAt + S_SUMMARY, -1);
    Atomics.store(this.i32, this.slotAt + S_SUMMARY + 1, -1);
  }

  /**
   * Takes the page lock of a threaded heap (re-entrant; nothing in a one-thread heap, whose
   * caller holds the heap's lock or is alone), and makes this handle current under it.
   */
  pageLock(): void {
    if (!this.threaded) return;
    if (this.lockDepth++ === 0) {
      lock(this.i32, this.lockIndex, this.token);
      this.sync();
    }
  }

  /** Releases what `pageLock` took. */
  pageUnlock(): void {
    if (!this.threaded) return;
    if (--this.lockDepth === 0) unlock(this.i32, this.lockIndex);
  }

  /** Marks this handle as holding the page lock taken over by `recover` (lock.ts `steal`). */
  holdStolenLock(): void {
    if (!this.threaded) return;
    this.lockDepth = 1;
    this.sync();
  }

  /**
   * Records the page-level operation this thread is about to do, for recovery (threads.ts);
   * `op` OP_NONE when it is done.
   */
  record(op: number, page = 0, count = 0, size = 0): void {
    const i32 = this.i32;
    const at = this.recordAt;
    i32[at + R_PAGE] = page;
    i32[at + R_COUNT] = count;
    i32[at + R_SIZE] = size;
    i32[at + R_OP] = op;
  }

  /** Sets the end of the pages (bytes) and what is derived from it. */
  private setEnd(end: number): void {
    this.end = end;
    this.freeEnd = this.guard ? 0 : end;
    this.pageCount = (end - this.firstPage) / this.pageSize;
  }

  /** Rebuilds this handle if another one grew the heap (or the memory detached its buffer). */
  sync(): void {
    if (this.i32[this.genIndex] !== this.generation) this.attach(true);
  }

  /**
   * Moves the end of the heap up by `bytes` (rounded up to whole pages), growing the memory if it
   * is too short. @returns false when the memory refused to grow (nothing changed).
   * @throws AllocError INVALID_ARGUMENT beyond the maximum the heap was created for.
   */
  grow(bytes: number): boolean {
    this.pageLock();
    try {
      return this.growLocked(bytes);
    } finally {
      this.pageUnlock();
    }
  }

  private growLocked(bytes: number): boolean {
    const target = Math.ceil((this.end + bytes) / this.pageSize) * this.pageSize;
    if (target > this.layout.maxEnd) {
      throw new AllocError(
        "INVALID_ARGUMENT",
        `grow(${showCount(bytes)}): the heap was created to grow up to ${showAddress(this.layout.maxEnd)}, not ${showAddress(target)}`,
      );
    }
    if (target === this.end) return true;
    const have = bufferOf(this.memory).byteLength;
    if (have < target && !growMemory(this.memory, target - have)) return false;
    this.record(OP_GROW);
    this.attach(false); // the buffer may be a new object (a Memory's); the allocator's views too
    this.pages = this.pageAllocator(this.end, false);
    this.pages.extendRegion(target);
    writeEnd(this.buffer, this.layout.start, target);
    const added = (target - this.end) / this.pageSize;
    if (this.guard) poison(this.u8, this.end, target - this.end);
    this.setEnd(target);
    releaseStretch(this, this.pageCount - added, added);
    this.generation = (this.i32[this.genIndex] + 1) | 0;
    this.i32[this.genIndex] = this.generation;
    this.record(OP_NONE);
    return true;
  }

  /**
   * A large block for `size` bytes: a run of exactly the pages it needs, aligned to `align` bytes
   * when above a page, placed by the free-stretch index; null when no free stretch holds it.
   */
  allocLarge(size: number, align: number): number | null {
    const count = Math.max(1, Math.ceil(size / this.pageSize));
    if (count > pow2(this.layout.maxOrder)) return null;
    if (align > this.pageSize * pow2(this.layout.maxOrder)) return null;
    const alignPages = align > this.pageSize ? align / this.pageSize : 1;
    this.pageLock();
    try {
      const at = this.takePages(count, alignPages, LARGE_RUN);
      if (at < 0) return null;
      this.side[(at << SIDE_SHIFT) + SIDE_OWNER] = (at << 8) | LARGE_KIND;
      this.side[(at << SIDE_SHIFT) + SIDE_SIZE] = size;
      this.ownerOf[at] = this.holder;
      this.record(OP_NONE);
      return this.firstPage + at * this.pageSize;
    } finally {
      this.pageUnlock();
    }
  }

  /**
   * Places `count` pages aligned to `alignPages` pages through the free-stretch index (giving
   * back the empty slabs kept for reuse when nothing fits), and takes them from the page
   * allocator: a run with `options.exact`, else the aligned block. The caller holds the page
   * lock, and ends the OP_TAKE record this starts once the pages' side records are written.
   * @returns the first page (relative), or -1 when no free stretch holds them.
   */
  takePages(count: number, alignPages: number, options: { exact?: boolean; tag: number }): number {
    let stretch = fitStretch(this, count, alignPages);
    if (stretch < 0 && this.makeRoom(this)) stretch = fitStretch(this, count, alignPages);
    if (stretch < 0) return -1;
    const at = placeIn(this, stretch, alignPages);
    this.record(OP_TAKE, at, count);
    takeStretch(this, stretch, at, count);
    if (this.pages.allocAt(this.firstPage + at * this.pageSize, count, options) === null) {
      // Only damaged metadata gets here: not a second owner of the pages, an error.
      throw new AllocError(
        "CORRUPT",
        `the free-stretch index offered pages ${at}..${at + count - 1}, which the page allocator does not have free (heap metadata damaged)`,
      );
    }
    return at;
  }

  /**
   * A new, empty page allocator over the pages that exist (for recovery, which then takes every
   * live block from it again: rebuild.ts).
   */
  resetPages(): void {
    this.pages = this.pageAllocator(this.end, true);
  }

  /** Takes the pages of a new slab of class `cls`: @returns its first page (relative), or -1. */
  takeSlab(cls: number): number {
    return this.takePages(this.slabPages[cls], this.slabAlign[cls], SLAB_RUN[cls]);
  }

  /**
   * Gives `count` pages at relative page `page`, allocated at `address`, back, clearing their
   * side records and owner byte. The caller holds the page lock.
   */
  releasePages(address: number, page: number, count: number): void {
    this.record(OP_RELEASE, page, count);
    this.side.fill(0, page << SIDE_SHIFT, (page + count) << SIDE_SHIFT);
    this.ownerOf[page] = 0;
    this.pages.free(address);
    releaseStretch(this, page, count);
    this.record(OP_NONE);
  }

  /**
   * Frees the large block whose first page is `page` (relative) at `address`.
   * @returns false, changing nothing, when no large block starts there any more (another thread
   * freed it first: a double free).
   */
  freeLarge(address: number, page: number): boolean {
    this.pageLock();
    try {
      if (this.side[(page << SIDE_SHIFT) + SIDE_OWNER] !== ((page << 8) | LARGE_KIND)) return false;
      this.releasePages(address, page, this.pages.sizeOf(address) >>> this.pageShift);
      return true;
    } finally {
      this.pageUnlock();
    }
  }

  /** Pages a large block of `size` requested bytes holds (guard mode: with its red zone). */
  largePages(size: number): number {
    return Math.max(1, Math.ceil((this.guard ? size + GUARD_BYTES : size) / this.pageSize));
  }

  /**
   * Classifies `ptr`: its class (>= 0), LARGE, or NOT_LIVE. Accepts any value. Where it is
   * (`pageOf`, `slabOf`, `objectIndex`) is recomputed from `ptr` by whoever needs it: nothing
   * is kept between calls.
   */
  locate(ptr: unknown): number {
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr || ptr < this.firstPage || ptr >= this.end) {
      return NOT_LIVE;
    }
    const off = ptr - this.firstPage;
    const page = off >>> this.pageShift;
    const owner = this.side[(page << SIDE_SHIFT) + SIDE_OWNER];
    const kind = owner & 255;
    if (kind === 0 || kind === FREE_KIND) return NOT_LIVE;
    if (kind === LARGE_KIND) return (off & (this.pageSize - 1)) === 0 ? LARGE : NOT_LIVE;
    const cls = kind - 1;
    const slab = owner >>> 8;
    const rel = off - slab * this.pageSize;
    const index = Math.round(rel * this.recip[cls]);
    if (index * this.size[cls] !== rel || index >= this.objects[cls]) return NOT_LIVE;
    const t = (ptr - rel + this.trailer[cls]) >>> 2;
    if ((this.i32[t + T_BITMAP + (index >>> 5)] & (1 << (index & 31))) !== 0) return NOT_LIVE;
    // In a threaded heap, an object another thread freed is free, though its owner has not seen it yet.
    if (
      this.threaded &&
      (this.i32[((ptr - rel + this.remote[cls]) >>> 2) + (index >>> 5)] & (1 << (index & 31))) !== 0
    ) {
      return NOT_LIVE;
    }
    return cls;
  }

  /** The page (relative to firstPage) of `ptr`, an address in the pages: a large block's first page. */
  pageOf(ptr: number): number {
    return (ptr - this.firstPage) >>> this.pageShift;
  }

  /** The slab (its first page, relative) holding `ptr`, an object `locate` found live. */
  slabOf(ptr: number): number {
    return this.side[(this.pageOf(ptr) << SIDE_SHIFT) + SIDE_OWNER] >>> 8;
  }

  /** The index in its slab of `ptr`, an object of class `cls` that `locate` found live. */
  objectIndex(cls: number, ptr: number): number {
    return Math.round((ptr - this.firstPage - this.slabOf(ptr) * this.pageSize) * this.recip[cls]);
  }

  /** Requested size of the live allocation at `ptr` (`kind`: what `locate` returned for it). */
  requestedSize(kind: number, ptr: number): number {
    if (kind === LARGE) return this.side[(this.pageOf(ptr) << SIDE_SHIFT) + SIDE_SIZE] >>> 0;
    const slab = this.slabOf(ptr);
    const index = this.objectIndex(kind, ptr);
    const slack = this.u16[slackIndex(trailerIndex(this, kind, slab), this.bitmapWords[kind]) + index];
    return this.size[kind] - slack;
  }

  /** Usable bytes of the live allocation at `ptr` (`kind`: what `locate` returned for it). */
  usableSize(kind: number, ptr: number): number {
    if (kind === LARGE) return this.pages.sizeOf(ptr);
    return this.size[kind];
  }

  /** Why `ptr` is not a live allocation, for an error message. */
  whyNotLive(ptr: unknown): string {
    if (typeof ptr !== "number" || !Number.isSafeInteger(ptr) || ptr < 0) return "is not a pointer";
    if (ptr < this.layout.start || ptr >= this.end) return "is outside the heap";
    if (ptr < this.firstPage) return "points into the heap's metadata";
    const block = this.pages.blockAt(ptr);
    if (block === null || block.free) return "is in free memory (double free?)";
    if (block.tag === TAG_LARGE)
      return `is inside the large block at ${showAddress(block.address)} (interior pointer)`;
    const cls = block.tag - TAG_SLAB;
    const rel = ptr - block.address;
    const index = Math.floor(rel / this.size[cls]);
    if (index >= this.objects[cls]) return "points into a slab's trailer (heap metadata)";
    const object = block.address + index * this.size[cls];
    if (object !== ptr)
      return `is inside the ${this.size[cls]}-byte object at ${showAddress(object)} (interior pointer)`;
    return "is a free object (double free?)";
  }
}
