/**
 * Read-only views of a heap: stats, the live allocations, and the invariant check. None of this
 * is on a hot path; it walks the page allocator's blocks and every slab's bitmap, O(heap).
 * The invariants checked are those stated in layout.ts (side table), size-classes.ts (trailer),
 * slabs.ts (class lists) and stretches.ts (the free-stretch index), plus the page allocator's
 * own (`BuddyAllocator.check`).
 *
 * Damaged metadata. Every walk here is bounded by what it walks over (pages, objects, classes)
 * and checks each value it follows before using it, so bytes that are not a heap give CORRUPT,
 * never a hang or another error. `stats` and `liveAllocations` check what they need to stay
 * bounded and meaningful (block structure, tags, slab sizes, slacks, and that no list is longer
 * than what it lists: a list that loops is CORRUPT there too); `check` checks everything
 * that can be checked, with enough redundancy that a single damaged byte that it accepts cannot
 * make the heap hand out memory twice or refuse a live pointer (the damage fuzz test): every
 * page's four side words are compared with what the blocks imply, and each slab object's slack
 * with its bitmap bit.
 */

import { AllocError, showAddress } from "../errors.js";
import type { BuddyAllocator } from "../page/buddy-allocator.js";
import { ALLOCATED, FREE, NIL, ORDER_MASK, RUN } from "../page/page-map.js";
import { statsFromFreeBlocks } from "../page/stats.js";
import type { HeapCore } from "./core.js";
import { GUARD_BYTES } from "./guard.js";
import {
  LARGE_KIND,
  readHeader,
  SIDE_NEXT,
  SIDE_OWNER,
  SIDE_PREV,
  SIDE_SHIFT,
  SIDE_SIZE,
  TAG_LARGE,
  TAG_SLAB,
} from "./layout.js";
import { FREE_SLACK, slackIndex, T_BITMAP } from "./size-classes.js";
import { freeCount } from "./slab-lists.js";
import { checkIndex, countListed, FREE_KIND } from "./stretches.js";
import {
  CLAIMER_MASK,
  GEN_MASK,
  GEN_SHIFT,
  OP_NONE,
  R_OP,
  S_CLAIM,
  S_LISTS,
  S_RECORD,
  S_SLABS,
  threadOfSlot,
} from "./threads.js";
import type { ClassStats, HeapStats, LiveAllocation } from "./types.js";

const corrupt = (message: string): never => {
  throw new AllocError("CORRUPT", `heap check: ${message}`);
};

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 63;
}

/**
 * Calls `visit(page, pages, free, tag)` for each block and run of the page allocator in address
 * order, from the state bytes, checking each length before stepping over it: O(blocks), bounded
 * by the page count whatever the bytes say. The tag is 0 for a free block.
 */
function eachBlock(
  h: HeapCore,
  visit: (page: number, pages: number, free: boolean, tag: number) => void,
): void {
  const map = h.pages.map;
  const base = h.pages.slotOf(h.firstPage);
  const maxOrder = h.layout.maxOrder;
  for (let p = 0; p < h.pageCount; ) {
    const slot = base + p;
    const state = map.state[slot];
    const order = state & ORDER_MASK;
    const kind = state & (ALLOCATED | FREE);
    let pages = 0;
    if (kind === ALLOCATED && order === RUN) pages = map.prevOf(slot);
    else if ((kind === ALLOCATED || kind === FREE) && order <= maxOrder) pages = 2 ** order;
    else corrupt(`page ${p} starts no block (state ${state})`);
    if (!(pages >= 1 && pages <= h.pageCount - p)) corrupt(`the block at page ${p} has ${pages} pages`);
    const free = kind === FREE;
    visit(p, pages, free, free ? 0 : map.tagOf(slot));
    p += pages;
  }
}

/**
 * Walks the blocks (`eachBlock`), calling `visit(page, pages, cls)` for each allocated one (cls
 * -1 for a large block), then checks that every list holds no more than the walk found: each
 * order's free list exactly its free blocks, each class's slab list at most its slabs, the
 * free-stretch lists exactly the free stretches. So a list that loops, or leads elsewhere, is
 * CORRUPT here too, not only in `check`. Fills `freeByOrder` (free blocks per order).
 */
function walk(
  h: HeapCore,
  freeByOrder: number[],
  visit: (page: number, pages: number, cls: number) => void,
): void {
  const slabs = new Int32Array(h.classes.count);
  let stretches = 0;
  let freeEnd = -1;
  eachBlock(h, (page, pages, free, tag) => {
    if (free) {
      freeByOrder[Math.log2(pages)]++;
      if (page !== freeEnd) stretches++;
      freeEnd = page + pages;
      return;
    }
    const cls = classOfBlock(h, page, pages, tag);
    if (cls >= 0) slabs[cls]++;
    visit(page, pages, cls);
  });
  const map = h.pages.map;
  for (let order = 0; order < freeByOrder.length; order++) {
    let n = 0;
    for (let slot = map.head(order); slot !== NIL && n <= freeByOrder[order]; slot = map.nextOf(slot)) n++;
    if (n !== freeByOrder[order])
      corrupt(`the free list of order ${order} does not hold its ${freeByOrder[order]} free blocks`);
  }
  for (const base of listBases(h)) {
    for (let cls = 0; cls < slabs.length; cls++) {
      let n = 0;
      for (let s = h.i32[base + cls]; s >= 0 && n <= slabs[cls]; s = h.side[(s << SIDE_SHIFT) + SIDE_NEXT])
        n++;
      if (n > slabs[cls]) corrupt(`a list of class ${cls} holds more than its ${slabs[cls]} slabs, or loops`);
    }
  }
  if (countListed(h, stretches) !== stretches)
    corrupt(`the free-stretch lists do not hold the ${stretches} free stretches`);
}

/**
 * The Int32 index of the first head of every set of class lists: the header's, or in a threaded
 * heap each slot's lists of slabs with a free object and of full slabs.
 */
function listBases(h: HeapCore): number[] {
  if (!h.threaded) return [h.listBase];
  const bases: number[] = [];
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s + S_LISTS;
    bases.push(at, at + h.classes.count);
  }
  return bases;
}

/** Whether object `i` of the slab at `address` (class `cls`) was freed by another thread. */
function remotelyFreed(h: HeapCore, cls: number, address: number, i: number): boolean {
  if (!h.threaded) return false;
  return (h.i32[((address + h.remote[cls]) >>> 2) + (i >>> 5)] & (1 << (i & 31))) !== 0;
}

/** The class of a slab block's tag, checked against its length; a large block is -1. */
function classOfBlock(h: HeapCore, page: number, pages: number, tag: number): number {
  if (tag === TAG_LARGE) return -1;
  const cls = tag - TAG_SLAB;
  if (!(cls >= 0 && cls < h.classes.count)) corrupt(`the block at page ${page} has tag ${tag}`);
  if (pages !== h.slabPages[cls]) corrupt(`the slab of class ${cls} at page ${page} has ${pages} pages`);
  return cls;
}

/**
 * Calls `visit(ptr, requested)` for each live object of the slab of class `cls` at `address`.
 * @throws AllocError CORRUPT for a live object whose slack exceeds its size.
 */
function eachObject(
  h: HeapCore,
  cls: number,
  address: number,
  visit: (ptr: number, requested: number) => void,
): void {
  const t = (address + h.trailer[cls]) >>> 2;
  const slackAt = slackIndex(t, h.bitmapWords[cls]);
  const size = h.size[cls];
  for (let i = 0; i < h.objects[cls]; i++) {
    if ((h.i32[t + T_BITMAP + (i >>> 5)] & (1 << (i & 31))) !== 0 || remotelyFreed(h, cls, address, i))
      continue;
    const slack = h.u16[slackAt + i];
    // Threaded heaps: another thread's malloc between clearing the bit and writing the slack.
    if (slack === FREE_SLACK && h.threaded) continue;
    if (slack > size) corrupt(`live object ${showAddress(address + i * size)} has slack ${slack}`);
    visit(address + i * size, size - slack);
  }
}

/** The live allocations in address order. */
export function liveAllocationsOf(h: HeapCore): LiveAllocation[] {
  const out: LiveAllocation[] = [];
  walk(h, new Array<number>(h.layout.maxOrder + 1).fill(0), (page, _, cls) => {
    const address = h.firstPage + page * h.pageSize;
    // The slot's current own handle, or its last one (threads.ts): a dead thread's blocks stay
    // under its id, recovered or not, until another handle claims the slot (and adopts them).
    const o = h.threaded ? h.ownerOf[page] : 0;
    const claimAt = h.slotsBase + h.slotWords * (o - 1) + S_CLAIM;
    const thread = o > 0 ? threadOfSlot(Atomics.load(h.i32, claimAt), o - 1) : h.threaded ? -1 : 0;
    if (cls < 0)
      out.push({
        ptr: address,
        size: h.side[(page << SIDE_SHIFT) + SIDE_SIZE] >>> 0,
        tag: TAG_LARGE,
        thread,
      });
    else eachObject(h, cls, address, (ptr, size) => out.push({ ptr, size, tag: TAG_SLAB + cls, thread }));
  });
  return out;
}

/** The heap's figures. */
export function statsOf(h: HeapCore): HeapStats {
  const c = h.classes;
  const classes: ClassStats[] = [];
  for (let i = 0; i < c.count; i++) {
    classes.push({
      size: c.size[i],
      slabBytes: h.pageSize * c.slabPages[i],
      objectsPerSlab: c.objects[i],
      slabs: 0,
      liveObjects: 0,
      freeObjects: 0,
      requestedBytes: 0,
      wastedBytes: 0,
    });
  }
  const large = { count: 0, requestedBytes: 0, blockBytes: 0, wastedBytes: 0 };
  const freeBlocksByOrder = new Array<number>(h.layout.maxOrder + 1).fill(0);
  let slabBytes = 0;
  let slabOverhead = 0;
  walk(h, freeBlocksByOrder, (page, pages, k) => {
    const bytes = pages * h.pageSize;
    if (k < 0) {
      large.count++;
      large.requestedBytes += h.side[(page << SIDE_SHIFT) + SIDE_SIZE] >>> 0;
      large.blockBytes += bytes;
      return;
    }
    const s = classes[k];
    s.slabs++;
    slabBytes += bytes;
    slabOverhead += bytes - c.objects[k] * c.size[k];
    eachObject(h, k, h.firstPage + page * h.pageSize, (_, requested) => {
      s.liveObjects++;
      s.requestedBytes += requested;
    });
  });
  large.wastedBytes = large.blockBytes - large.requestedBytes;
  let used = large.requestedBytes;
  let live = large.count;
  let wasted = large.wastedBytes;
  let slabFree = 0;
  for (const s of classes) {
    s.freeObjects = s.slabs * s.objectsPerSlab - s.liveObjects;
    s.wastedBytes = s.liveObjects * s.size - s.requestedBytes;
    used += s.requestedBytes;
    live += s.liveObjects;
    wasted += s.wastedBytes;
    slabFree += s.freeObjects * s.size;
  }
  const l = h.layout;
  const a = h.pages;
  // The page allocator's figures from the same walk (its own `stats()` follows its free lists).
  const pages = statsFromFreeBlocks(
    freeBlocksByOrder,
    a.totalPages,
    h.pageSize,
    a.map.byteLength + a.directory.byteLength,
  );
  return {
    heapBytes: h.end - l.start,
    pageBytes: h.end - l.firstPage,
    liveAllocations: live,
    usedBytes: used,
    freeBytes: pages.freeBytes,
    slabFreeBytes: slabFree,
    slabBytes,
    largeBytes: large.blockBytes,
    wastedBytes: wasted,
    metadataBytes: l.firstPage - l.start + slabOverhead,
    metadataBytesPerPage: (l.firstPage - l.start) / ((l.maxEnd - l.firstPage) / l.pageSize),
    classes,
    large,
    pages,
  };
}

/*
 * What each page's side record must be, as `checkHeap` derives it from the blocks:
 * NONE     all four words 0 (no block or stretch starts there, or a page beyond the heap's end);
 * OWNER    the owner word as expected, the other three 0 (a slab's other pages, a stretch's last);
 * LARGE    a large block's first page: owner, the requested size (checked apart), 0, 0;
 * SLAB     a slab's first page: owner, 0, then its list links (checked by the list walk);
 * STRETCH  a free stretch's first page: owner, length, then its list links (checked by the index).
 */
const NONE = 0;
const OWNER = 1;
const LARGE = 2;
const SLAB = 3;
const STRETCH = 4;

/**
 * Verifies the header, the page allocator, and against them every page's side record, every
 * slab (pages, alignment, bitmap, hint, free count, slacks), the class lists and the free-stretch
 * index. @throws AllocError CORRUPT naming the first violation.
 */
export function checkHeap(h: HeapCore): void {
  const l = h.layout;
  const header = readHeader(h.buffer, l.start);
  if (header.end !== h.end) corrupt(`the header's end ${header.end} is not the heap's ${h.end}`);
  h.pages.check();
  const side = h.side;
  const records = side.length >>> 2;
  const role = new Uint8Array(records);
  const owner = new Int32Array(records);
  const count = h.classes.count;
  const sets = h.threaded ? h.layout.threads : 1;
  // Per (slot, class): slabs with a free object, and full slabs (threaded heaps list those too).
  const slabsWithFree = new Int32Array(sets * count);
  const fullSlabs = new Int32Array(sets * count);
  const free = new Uint8Array(h.pageCount);
  eachBlock(h, (page, pages, isFree, tag) => {
    if (isFree) {
      free.fill(1, page, page + pages);
      return;
    }
    const address = h.firstPage + page * h.pageSize;
    const at = `block ${showAddress(address)}`;
    const cls = classOfBlock(h, page, pages, tag);
    const set = h.threaded ? ownerSlot(h, page, at) : 0;
    for (let p = page + 1; p < page + pages; p++) {
      if (h.ownerOf[p] !== 0) corrupt(`${at}: page ${p} has owner byte ${h.ownerOf[p]}`);
    }
    if (cls < 0) {
      role[page] = LARGE;
      owner[page] = (page << 8) | LARGE_KIND;
      const size = side[(page << SIDE_SHIFT) + SIDE_SIZE] >>> 0;
      const held = h.guard ? size + GUARD_BYTES : size; // guard mode: room for the red zone
      if (Math.max(1, Math.ceil(held / h.pageSize)) !== pages)
        corrupt(`${at}: requested size ${size} does not need its ${pages} pages`);
      return;
    }
    if ((h.firstPageNumber + page) % h.slabAlign[cls] !== 0)
      corrupt(`${at}: slab of class ${cls} is misaligned`);
    for (let p = page; p < page + pages; p++) {
      role[p] = OWNER;
      owner[p] = (page << 8) | (cls + 1);
    }
    role[page] = SLAB;
    const freeObjects = checkTrailer(h, cls, address, at);
    const counted = freeCount(h, cls, page);
    if (counted !== freeObjects) corrupt(`${at}: free count ${counted}, bitmap has ${freeObjects}`);
    if (freeObjects > 0) slabsWithFree[set * count + cls]++;
    else fullSlabs[set * count + cls]++;
  });
  for (let p = h.pageCount; p < h.ownerOf.length; p++) {
    if (h.ownerOf[p] !== 0) corrupt(`page ${p} beyond the end has owner byte ${h.ownerOf[p]}`);
  }
  const stretches = new Map<number, number>();
  for (let p = 0; p < h.pageCount; ) {
    if (free[p] === 0) {
      p++;
      continue;
    }
    let end = p + 1;
    while (end < h.pageCount && free[end] === 1) end++;
    stretches.set(p, end - p);
    role[p] = STRETCH;
    owner[p] = (p << 8) | FREE_KIND;
    if (end - p > 1) {
      role[end - 1] = OWNER;
      owner[end - 1] = (p << 8) | FREE_KIND;
    }
    p = end;
  }
  const listed = new Uint8Array(records);
  if (!h.threaded) {
    for (let cls = 0; cls < count; cls++)
      checkList(h, h.listBase, cls, role, listed, slabsWithFree[cls], false);
  } else {
    for (let set = 0; set < sets; set++) {
      const lists = h.slotsBase + h.slotWords * set + S_LISTS;
      for (let cls = 0; cls < count; cls++) {
        checkList(h, lists, cls, role, listed, slabsWithFree[set * count + cls], false);
        checkList(h, lists + count, cls, role, listed, fullSlabs[set * count + cls], true);
      }
    }
    checkSlots(h, slabsWithFree, fullSlabs);
  }
  for (let p = 0; p < records; p++) checkRecord(h, p, role[p], owner[p], listed[p] === 1, stretches);
  const index = checkIndex(h, stretches);
  if (index !== null) corrupt(index);
}

/** Compares the side record of page `p` with what its role says it must be. */
function checkRecord(
  h: HeapCore,
  p: number,
  role: number,
  owner: number,
  listed: boolean,
  stretches: Map<number, number>,
): void {
  const s = h.side;
  const at = p << SIDE_SHIFT;
  if (s[at + SIDE_OWNER] !== owner) {
    corrupt(
      `page ${p}: owner word ${s[at + SIDE_OWNER]}, expected ${owner}${role === NONE ? " (no block starts there)" : ""}`,
    );
  }
  const [w1, w2, w3] = [s[at + SIDE_SIZE], s[at + SIDE_NEXT], s[at + SIDE_PREV]];
  if (role === NONE || role === OWNER) {
    if ((w1 | w2 | w3) !== 0) corrupt(`page ${p}: side words ${w1}, ${w2}, ${w3} where 0 belongs`);
  } else if (role === LARGE) {
    if ((w2 | w3) !== 0) corrupt(`large block at page ${p}: list words ${w2}, ${w3}`);
  } else if (role === STRETCH) {
    if (w1 !== stretches.get(p)) corrupt(`free stretch at page ${p} of ${stretches.get(p)} pages says ${w1}`);
  } else if (w1 !== 0) {
    corrupt(`slab at page ${p}: side word ${w1} where 0 belongs (its free count is in its trailer)`);
  } else if (!listed && (w2 !== -1 || w3 !== -1)) {
    corrupt(`full slab at page ${p} has list links ${w2}, ${w3}`);
  }
}

/**
 * Checks a slab's trailer: the hint, the bitmap (no bit past the last object, none below the
 * hint), and each object's slack against its bit (FREE_SLACK when free, at most the class size
 * when live). @returns the number of free objects.
 */
function checkTrailer(h: HeapCore, cls: number, address: number, at: string): number {
  const t = (address + h.trailer[cls]) >>> 2;
  const words = h.bitmapWords[cls];
  const n = h.objects[cls];
  const size = h.size[cls];
  const hint = h.i32[t] & 0xffff;
  if (hint < 0 || hint >= words) corrupt(`${at}: hint ${hint} outside the bitmap`);
  let free = 0;
  for (let w = 0; w < words; w++) {
    const bits = h.i32[t + T_BITMAP + w];
    if (w < hint && bits !== 0) corrupt(`${at}: free objects below the hint`);
    const valid = w < words - 1 || (n & 31) === 0 ? -1 : (1 << (n & 31)) - 1;
    if ((bits & ~valid) !== 0) corrupt(`${at}: bitmap has bits past the last object`);
    free += popcount(bits);
  }
  const slackAt = slackIndex(t, words);
  for (let i = 0; i < n; i++) {
    const isFree = (h.i32[t + T_BITMAP + (i >>> 5)] & (1 << (i & 31))) !== 0;
    if (isFree && remotelyFreed(h, cls, address, i))
      corrupt(`${at}: free object ${i} freed again by another thread`);
    const slack = h.u16[slackAt + i];
    if (isFree ? slack !== FREE_SLACK : slack > size) {
      corrupt(`${at}: object ${i} is ${isFree ? "free" : "live"} but its slack is ${slack}`);
    }
  }
  return free;
}

/**
 * Checks the list of `cls` whose heads start at Int32 index `lists`: links, members, and that it
 * holds exactly the `expected` slabs with a free object (or, with `full`, full slabs), of the
 * slot whose lists these are (threaded heaps), marking them in `listed`. Bounded by `expected`.
 */
function checkList(
  h: HeapCore,
  lists: number,
  cls: number,
  role: Uint8Array,
  listed: Uint8Array,
  expected: number,
  full: boolean,
): void {
  const side = h.side;
  const slot = h.threaded ? Math.floor((lists - h.slotsBase) / h.slotWords) : -1;
  const at = `${full ? "full list" : "list"} of class ${cls} (${h.size[cls]} B)${slot >= 0 ? ` of thread ${slot}` : ""}`;
  let previous = -1;
  let n = 0;
  for (let slab = h.i32[lists + cls]; slab !== -1; slab = side[(slab << SIDE_SHIFT) + SIDE_NEXT]) {
    if (
      !(slab >= 0 && slab < role.length) ||
      role[slab] !== SLAB ||
      (side[(slab << SIDE_SHIFT) + SIDE_OWNER] & 255) !== cls + 1
    ) {
      corrupt(`${at} holds page ${slab}, not a slab of the class`);
    }
    if (slot >= 0 && h.ownerOf[slab] !== slot + 1)
      corrupt(`${at} holds page ${slab}, a slab of another thread`);
    if (side[(slab << SIDE_SHIFT) + SIDE_PREV] !== previous)
      corrupt(`${at}: broken back link at page ${slab}`);
    const free = freeCount(h, cls, slab);
    if ((free === 0) !== full)
      corrupt(`${at} holds the ${full ? "" : "full "}slab at page ${slab} (${free} free)`);
    if (free === h.objects[cls] && previous !== -1)
      corrupt(`${at}: empty slab at page ${slab} is not the head`);
    if (++n > expected || listed[slab] === 1)
      corrupt(`${at} lists more slabs than have a free object, or loops`);
    listed[slab] = 1;
    previous = slab;
  }
  if (n !== expected) corrupt(`${at}: ${expected} slabs belong there, ${n} listed`);
}

/** The slot (thread) named by the owner byte of the block at `page`. */
function ownerSlot(h: HeapCore, page: number, at: string): number {
  const owner = h.ownerOf[page];
  if (!(owner >= 1 && owner <= h.layout.threads)) corrupt(`${at}: owner byte ${owner} names no thread`);
  return owner - 1;
}

/**
 * Checks each thread slot: its claim word has a generation and names a slot (or none), no operation is recorded in flight (a
 * check runs with no other thread in the middle of a page-level operation: it holds the page
 * lock), and its slab count is the number of slabs its owner bytes give it.
 */
function checkSlots(h: HeapCore, withFree: Int32Array, full: Int32Array): void {
  const count = h.classes.count;
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    const claim = Atomics.load(h.i32, at + S_CLAIM);
    if (
      !(
        claim >= 0 &&
        claim <= ((GEN_MASK << GEN_SHIFT) | CLAIMER_MASK) &&
        (claim & CLAIMER_MASK) <= h.layout.threads
      )
    )
      corrupt(`thread slot ${s}: claim word ${claim}`);
    const op = h.i32[at + S_RECORD + R_OP];
    if (op !== OP_NONE) corrupt(`thread slot ${s}: operation ${op} in flight (recover the thread)`);
    let slabs = 0;
    for (let cls = 0; cls < count; cls++) slabs += withFree[s * count + cls] + full[s * count + cls];
    if (h.i32[at + S_SLABS] !== slabs)
      corrupt(`thread slot ${s} counts ${h.i32[at + S_SLABS]} slabs, owns ${slabs}`);
  }
}

/** The read-only part of a heap's page allocator that a memory map draws (sim/heap-target.ts). */
export type PageBlocks = Pick<BuddyAllocator, "freeBlocks" | "allocatedBlocks" | "regions">;

/**
 * @internal The page blocks of `heap` (a Heap: its free blocks, its slabs and large blocks as
 * tagged blocks, its regions), for tools that draw the heap, without the rest of its internals.
 */
export function pageBlocksOf(heap: { readonly core: HeapCore }): PageBlocks {
  return heap.core.pages;
}
