/**
 * The heap's invariant check (`Heap.check`). Not on a hot path: it walks the page allocator's
 * blocks and every slab's bitmap (walk.ts), O(heap).
 * The invariants checked are those stated in layout.ts (side table), size-classes.ts (trailer),
 * slabs.ts (class lists) and stretches.ts (the free-stretch index), plus the page allocator's
 * own (`BuddyAllocator.check`).
 *
 * Damaged metadata. Every walk here is bounded by what it walks over (walk.ts), so bytes that
 * are not a heap give CORRUPT, never a hang or another error. `check` checks everything that can
 * be checked, with enough redundancy that a single damaged byte that it accepts cannot make the
 * heap hand out memory twice or refuse a live pointer (the damage fuzz test): every page's four
 * side words are compared with what the blocks imply, and each slab object's slack with its
 * bitmap bit.
 */

import { showAddress } from "../errors.js";
import type { HeapCore } from "./core.js";
import { GUARD_BYTES } from "./guard.js";
import { LARGE_KIND, readHeader, SIDE_NEXT, SIDE_OWNER, SIDE_PREV, SIDE_SHIFT, SIDE_SIZE } from "./layout.js";
import { FREE_SLACK, slackIndex, T_BITMAP } from "./size-classes.js";
import { freeCount } from "./slab-lists.js";
import { checkIndex, FREE_KIND } from "./stretches.js";
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
} from "./threads.js";
import { classOfBlock, corrupt, eachBlock, remotelyFreed } from "./walk.js";

/** The set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 63;
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
