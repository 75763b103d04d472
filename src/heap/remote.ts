/**
 * Frees across threads in a threaded heap (threads.ts): mimalloc's thread-free idea, with a
 * bitmap instead of a list. A thread frees another thread's object with one atomic operation,
 * `Atomics.or` of the object's bit into its slab's remote-free bitmap (trailer: size-classes.ts);
 * the owner takes the bits back into its own bitmap when it runs out of free objects in a class.
 *
 * - The `or`'s old value tells a second free of the same object (a double free) from the first.
 * - Nothing is written into freed memory and no list links freed objects, so a thread that dies
 *   at any point leaves at worst a bit set: the object is free either way.
 * - The first bit set in a word also sets the class's bit in the owner slot's summary (a second
 *   atomic `or`, once per batch), so the owner looks only at classes that got remote frees. It
 *   then reads the owner byte again: if the slab changed owner meanwhile (adoption: gather.ts),
 *   it tells the new owner too, so no free is left where nobody looks.
 * - The owner applies a word's bits, then clears exactly those (`Atomics.and`, whose old value
 *   shows bits that arrived meanwhile, applied in the next round). Applying is idempotent: a bit
 *   whose object is already free is dropped. So a thread that dies between the two loses nothing.
 *
 * Memory order: the `or` and the owner's `Atomics.load` of the word are sequentially consistent,
 * so whatever the freeing thread wrote before `free` happens-before the owner hands the object
 * out again.
 */
import type { HeapCore } from "./core.js";
import { SIDE_NEXT, SIDE_SHIFT } from "./layout.js";
import { remoteIndex, slackIndex, T_BITMAP, trailerIndex } from "./size-classes.js";
import { dropSlab, freeCount, relist, setFreeCount, unlink } from "./slab-lists.js";
import { S_SUMMARY } from "./threads.js";

/**
 * Frees object `index` of `slab` (class `cls`), which another thread owns.
 * @returns false, changing nothing, when it was already freed (its bit was set).
 */
export function remoteFree(h: HeapCore, cls: number, slab: number, index: number): boolean {
  const at = remoteIndex(h, cls, slab) + (index >>> 5);
  const bit = 1 << (index & 31);
  const old = Atomics.or(h.i32, at, bit);
  if ((old & bit) !== 0) return false;
  if (old === 0) tellOwner(h, cls, slab);
  return true;
}

/** Sets `cls`'s summary bit in the slot that owns `slab`, following a change of owner. */
function tellOwner(h: HeapCore, cls: number, slab: number): void {
  let owner = Atomics.load(h.ownerOf, slab);
  for (let tries = 0; owner !== 0 && tries < 256; tries++) {
    const at = h.slotsBase + h.slotWords * (owner - 1) + S_SUMMARY + (cls >>> 5);
    Atomics.or(h.i32, at, 1 << (cls & 31));
    const now = Atomics.load(h.ownerOf, slab);
    if (now === owner) return;
    owner = now;
  }
}

/**
 * Takes back the remote frees of class `cls` in this thread's slabs, if its summary says there
 * may be some: full slabs that get a free object move to the list of slabs with one, and slabs
 * that empty are dropped as usual. O(slabs of the class) when the summary bit is set.
 */
export function collect(h: HeapCore, cls: number): void {
  const at = h.slotAt + S_SUMMARY + (cls >>> 5);
  const bit = 1 << (cls & 31);
  if ((Atomics.load(h.i32, at) & bit) === 0) return;
  Atomics.and(h.i32, at, ~bit);
  const side = h.side;
  for (const base of [h.fullBase, h.listBase]) {
    let n = 0;
    for (let slab = h.i32[base + cls]; slab >= 0 && n++ < h.pageCount; ) {
      const next = side[(slab << SIDE_SHIFT) + SIDE_NEXT];
      takeBack(h, h.listBase, h.fullBase, cls, slab);
      slab = next;
    }
  }
}

/** Every class's remote frees (`close`, `trim`). */
export function collectAll(h: HeapCore): void {
  for (let cls = 0; cls < h.classes.count; cls++) collect(h, cls);
}

/**
 * Applies the remote-free bits of `slab` (class `cls`, in the lists at `lists` / `full` of the
 * slot that owns it) to its bitmap, and moves it between the lists as its free count says.
 */
export function takeBack(h: HeapCore, lists: number, full: number, cls: number, slab: number): void {
  const freed = applyRemote(h, cls, slab);
  if (freed === 0) return;
  const before = freeCount(h, cls, slab);
  const after = before + freed;
  setFreeCount(h, cls, slab, after);
  if (before === 0) relist(h, lists, full, cls, slab);
  else if (after === h.objects[cls] && h.i32[lists + cls] !== slab) {
    unlink(h, lists + cls, slab);
    dropSlab(h, cls, slab);
  }
}

/**
 * Sets the bitmap bits (and FREE_SLACK slacks) of the objects of `slab` that other threads freed,
 * and clears their remote bits. @returns how many were live (bits of objects already free are
 * dropped). Does not touch the free count (the trailer's first word keeps its upper bits).
 */
export function applyRemote(h: HeapCore, cls: number, slab: number): number {
  const i32 = h.i32;
  const t = trailerIndex(h, cls, slab);
  const r = remoteIndex(h, cls, slab);
  const words = h.bitmapWords[cls];
  const slackAt = slackIndex(t, words);
  let freed = 0;
  for (let w = 0; w < words; w++) {
    let bits = Atomics.load(i32, r + w);
    while (bits !== 0) {
      const live = bits & ~i32[t + T_BITMAP + w];
      if (live !== 0) {
        i32[t + T_BITMAP + w] |= live;
        if (w < (i32[t] & 0xffff)) i32[t] = (i32[t] & ~0xffff) | w; // the hint
        for (let b = live; b !== 0; b &= b - 1) {
          h.u16[slackAt + (w << 5) + 31 - Math.clz32(b & -b)] = 0xffff; // FREE_SLACK
          freed++;
        }
      }
      bits = Atomics.and(i32, r + w, ~bits) & ~bits;
    }
  }
  return freed;
}
