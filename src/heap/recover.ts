/**
 * Recovery after a thread died in the middle of an operation (a worker terminated): what
 * `Heap.recover(threadId)` and `Heap.open` of saved bytes run.
 *
 * What a thread may have left half done, and how each is settled:
 * - The page lock, held (lock.ts): the recovering thread takes it over (`steal`), so threads
 *   waiting for it now wait for the recovery, which is bounded, not for the dead thread.
 * - A page-level operation (recorded in its slot: threads.ts): settled and the page level
 *   rebuilt from the side table (rebuild.ts).
 * - Its own lists and slabs (a malloc or free cut off, a slab being moved): rebuilt from the
 *   owner bytes and bitmaps (gather.ts). The same for any slot it was adopting.
 * - A remote free that set its bit but had not yet told the owner: every slot's summary is set,
 *   so every thread looks at its slabs once more.
 *
 * The dead thread's live allocations stay live, in its slot (which is left unclaimed), listed by
 * `liveAllocations()` under its thread id, until the application frees them; a thread that later
 * claims the slot, or runs out of pages, adopts what is left.
 */
import type { HeapCore } from "./core.js";
import { gather } from "./gather.js";
import { holderOf, steal } from "./lock.js";
import { rebuildPages, settle } from "./rebuild.js";
import { OP_NONE, R_OP, S_CLAIM, S_LISTS, S_RECORD, S_SUMMARY } from "./threads.js";

/** The lock holder value of a recovery that runs before its handle has a slot (`Heap.open`). */
const RECOVERING = 0x3fffffff;

/**
 * Recovers thread `dead` of a threaded heap, from the live thread of `h`. @returns true when
 * the dead thread held the page lock, had an operation in flight or still claimed a slot (false:
 * it had closed its handle or was recovered already, and nothing changed). Once a thread closed,
 * its slot may be claimed again: then `dead` names the new, live thread (heap.ts `recover`).
 */
export function recoverThread(h: HeapCore, dead: number): boolean {
  const i32 = h.i32;
  const stolen = steal(i32, h.lockIndex, dead + 1, h.holder);
  if (stolen) h.holdStolenLock();
  else h.pageLock();
  try {
    const record = h.slotsBase + h.slotWords * dead + S_RECORD;
    const inFlight = i32[record + R_OP] !== OP_NONE;
    if (stolen || inFlight) {
      settle(h, record);
      rebuildPages(h);
    }
    i32[record + R_OP] = OP_NONE;
    const claimed = regather(h, dead + 1);
    return stolen || inFlight || claimed;
  } finally {
    h.pageUnlock();
  }
}

/**
 * Rebuilds the lists of every slot claimed by `holder` (a dead thread), and leaves them
 * unclaimed; then, if there was one, sets every slot's summary (the dead thread may have set a
 * remote-free bit without telling its owner). The caller holds the page lock.
 * @returns true when there was such a slot.
 */
function regather(h: HeapCore, holder: number): boolean {
  const i32 = h.i32;
  let any = false;
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    if (Atomics.load(i32, at + S_CLAIM) !== holder) continue;
    any = true;
    const from = new Uint8Array(h.layout.threads + 1);
    from[s + 1] = 1;
    gather(h, from, at + S_LISTS, at + S_LISTS + h.classes.count, s + 1);
    i32[at + S_RECORD + R_OP] = OP_NONE;
    Atomics.store(i32, at + S_CLAIM, 0);
  }
  for (let s = 0; any && s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    Atomics.store(i32, at + S_SUMMARY, -1);
    Atomics.store(i32, at + S_SUMMARY + 1, -1);
  }
  return any;
}

/**
 * Recovers what the bytes show was cut off in the middle (`Heap.open`), before the handle claims
 * a slot: a held lock, an operation in flight (a record), and with `all` every claimed slot (its
 * thread is gone: bytes saved and re-opened). The page level is rebuilt, the slots concerned (or
 * a one-thread heap's class lists) rebuilt and left unclaimed, the lock released.
 * @returns false when there was nothing to recover.
 */
export function recoverAll(h: HeapCore, all: boolean): boolean {
  const i32 = h.i32;
  let stale = holderOf(i32, h.lockIndex) !== 0 || i32[h.recordAt + R_OP] !== OP_NONE;
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    if (i32[at + S_CLAIM] === 0) continue;
    if (!all && i32[at + S_RECORD + R_OP] === OP_NONE) continue;
    stale = true;
    i32[at + S_CLAIM] = RECOVERING;
  }
  if (!stale) return false;
  Atomics.store(i32, h.lockIndex, RECOVERING);
  h.holdStolenLock();
  try {
    settle(h, h.recordAt);
    i32[h.recordAt + R_OP] = OP_NONE;
    for (let s = 0; s < h.layout.threads; s++) settle(h, h.slotsBase + h.slotWords * s + S_RECORD);
    rebuildPages(h);
    if (h.threaded) regather(h, RECOVERING);
    else gather(h, null, h.listBase, -1, 0);
  } finally {
    if (h.threaded) h.pageUnlock();
    else Atomics.store(i32, h.lockIndex, 0);
  }
  return true;
}
