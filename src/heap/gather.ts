/**
 * Gathering slabs into a thread slot's lists by their owner bytes (threads.ts): how a threaded
 * heap repairs the lists of a thread that died (recover.ts) and adopts the slabs of threads that
 * are gone when it runs out of pages. A one-thread heap uses the same walk to rebuild its class
 * lists after an operation was cut off (`Heap.open` of saved bytes).
 *
 * The walk trusts only what every operation leaves consistent at each step: the side table's
 * owner words (written under the page lock, with the operation recorded), the owner bytes, and
 * each slab's bitmap. Everything derived is rebuilt: free counts, hints, list links and heads,
 * and each object's slack where its bit and slack disagree. malloc clears the bit, then writes
 * the slack; free sets the bit, then writes FREE_SLACK. So a live bit with a free slack is a
 * malloc cut off before it returned, and a free bit with a live slack a free cut off: either
 * way the object is free. Remote frees are applied (remote.ts). Empty slabs go back to the page
 * allocator.
 *
 * The caller holds the page lock (so no slab appears or goes) and the claim of every slot whose
 * slabs it gathers (so no other thread touches their lists).
 */
import type { HeapCore } from "./core.js";
import { LARGE_KIND, SIDE_NEXT, SIDE_OWNER, SIDE_PREV, SIDE_SHIFT, SIDE_SIZE } from "./layout.js";
import { applyRemote } from "./remote.js";
import { slackIndex, T_BITMAP, trailerIndex } from "./size-classes.js";
import { dropSlab, freeCount, push } from "./slab-lists.js";
import { CLAIMER_MASK, released, S_CLAIM, S_LISTS, S_SLABS, S_SUMMARY } from "./threads.js";

/**
 * Moves every slab whose owner byte is flagged in `from` (indexed by owner byte; null: every
 * slab) into the lists at `lists` (class heads) and `full` (full-slab heads, or -1: full slabs
 * in no list), giving it owner byte `owner`. The lists of the slots flagged in `from` are
 * emptied first. @throws AllocError CORRUPT for an owner byte on a page that starts no slab.
 */
export function gather(
  h: HeapCore,
  from: Uint8Array | null,
  lists: number,
  full: number,
  owner: number,
): void {
  const count = h.classes.count;
  const i32 = h.i32;
  if (from === null) i32.fill(-1, lists, lists + count);
  for (let s = 0; from !== null && s < h.layout.threads; s++) {
    if (from[s + 1] === 0) continue;
    const at = h.slotsBase + h.slotWords * s;
    i32.fill(-1, at + S_LISTS, at + S_LISTS + 2 * count);
    i32[at + S_SLABS] = 0;
  }
  const ownerAt = owner > 0 ? h.slotsBase + h.slotWords * (owner - 1) : -1;
  const side = h.side;
  for (let p = 0; p < h.pageCount; p++) {
    const word = side[(p << SIDE_SHIFT) + SIDE_OWNER];
    const kind = word & 255;
    if (kind === 0 || kind === LARGE_KIND || word >>> 8 !== p) continue;
    if (from !== null && from[h.ownerOf[p]] !== 1) continue;
    if (kind > count) continue; // a free stretch's first page
    const cls = kind - 1;
    const free = repairSlab(h, cls, p);
    if (h.threaded) {
      Atomics.store(h.ownerOf, p, owner);
      i32[ownerAt + S_SLABS]++;
    }
    if (free === h.objects[cls]) dropSlab(h, cls, p);
    else if (free > 0) listBelowEmpty(h, lists + cls, cls, p);
    else if (full >= 0) push(h, full + cls, p);
  }
  if (ownerAt >= 0) {
    Atomics.store(i32, ownerAt + S_SUMMARY, -1);
    Atomics.store(i32, ownerAt + S_SUMMARY + 1, -1);
  }
}

/**
 * Lists `slab` (with a free object, not empty) at the list whose head word is `at`: at the head,
 * or just below it when the head is the class's one kept empty slab (which must stay the head).
 */
function listBelowEmpty(h: HeapCore, at: number, cls: number, slab: number): void {
  const head = h.i32[at];
  const side = h.side;
  if (head < 0 || freeCount(h, cls, head) !== h.objects[cls]) {
    push(h, at, slab);
    return;
  }
  const next = side[(head << SIDE_SHIFT) + SIDE_NEXT];
  side[(slab << SIDE_SHIFT) + SIDE_NEXT] = next;
  side[(slab << SIDE_SHIFT) + SIDE_PREV] = head;
  if (next >= 0) side[(next << SIDE_SHIFT) + SIDE_PREV] = slab;
  side[(head << SIDE_SHIFT) + SIDE_NEXT] = slab;
}

/**
 * Makes slab `slab` of `cls` consistent from its bitmap (see the top of this file), in no list.
 * @returns its free objects.
 */
export function repairSlab(h: HeapCore, cls: number, slab: number): number {
  if (h.threaded) applyRemote(h, cls, slab);
  const i32 = h.i32;
  const t = trailerIndex(h, cls, slab);
  const words = h.bitmapWords[cls];
  const slackAt = slackIndex(t, words);
  const n = h.objects[cls];
  let free = 0;
  for (let i = 0; i < n; i++) {
    const w = t + T_BITMAP + (i >>> 5);
    const bit = 1 << (i & 31);
    if ((i32[w] & bit) === 0 && h.u16[slackAt + i] !== 0xffff) continue; // live
    i32[w] |= bit;
    h.u16[slackAt + i] = 0xffff; // FREE_SLACK
    free++;
  }
  if ((n & 31) !== 0) i32[t + words] &= (1 << (n & 31)) - 1;
  i32[t] = free << 16; // hint 0
  const s = slab << SIDE_SHIFT;
  h.side[s + SIDE_SIZE] = 0;
  h.side[s + SIDE_NEXT] = -1;
  h.side[s + SIDE_PREV] = -1;
  return free;
}

/**
 * Adopts the slabs of every slot that nobody claims but that still owns slabs (its thread
 * closed its handle or was recovered), into this thread's lists. Called when the pages run out.
 * The adopter claims each such slot for the while (claimer bits 0 -> its slot + 1, threads.ts)
 * and lets it go with the generation it found, so the slot's next own handle gets the next id.
 * @returns the slots adopted.
 */
export function adoptAbandoned(h: HeapCore): number {
  const threads = h.layout.threads;
  const from = new Uint8Array(threads + 1);
  let adopted = 0;
  for (let s = 0; s < threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    if (at === h.slotAt || Atomics.load(h.i32, at + S_SLABS) === 0) continue;
    const claim = Atomics.load(h.i32, at + S_CLAIM);
    if ((claim & CLAIMER_MASK) !== 0) continue;
    if (Atomics.compareExchange(h.i32, at + S_CLAIM, claim, claim | h.holder) !== claim) continue;
    from[s + 1] = 1;
    adopted++;
  }
  if (adopted === 0) return 0;
  try {
    gather(h, from, h.listBase, h.fullBase, h.holder);
  } finally {
    for (let s = 0; s < threads; s++) {
      if (from[s + 1] !== 1) continue;
      const at = h.slotsBase + h.slotWords * s + S_CLAIM;
      Atomics.store(h.i32, at, released(Atomics.load(h.i32, at), s));
    }
  }
  return adopted;
}
