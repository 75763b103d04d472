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
 *
 * Which thread: a thread id names one handle, not a slot (threads.ts: the token in the slot's
 * claim word carries the slot's generation). A thread that closed its handle, or was recovered,
 * released its claim with the next generation, so its token is never the slot's claim word nor
 * the lock's holder again: `recover` of it changes nothing and returns false, even when a live
 * handle claims the same slot since. It reads nothing of the slot's record then either: that may
 * be the live handle's operation in flight.
 */
import type { HeapCore } from "./core.js";
import { gather } from "./gather.js";
import { holderOf, steal } from "./lock.js";
import { rebuildPages, settle } from "./rebuild.js";
import { CLAIMER_MASK, OP_NONE, R_OP, released, S_CLAIM, S_LISTS, S_RECORD, S_SUMMARY } from "./threads.js";

/**
 * The lock holder value of a recovery that runs before its handle has a slot (`Heap.open`):
 * above every token (tokens are below 2^29) and without the WAITERS bit.
 */
const RECOVERING = 0x3fffffff;

/**
 * Recovers the thread of token `dead` (its thread id + 1: threads.ts) of a threaded heap, from
 * the live thread of `h`. @returns true when the dead thread held the page lock, had an operation
 * in flight or still claimed its slot; false, changing nothing, when it had closed its handle or
 * was recovered already (its slot may be another, live handle's since: see the top of this file).
 */
export function recoverThread(h: HeapCore, dead: number): boolean {
  const i32 = h.i32;
  const slot = (dead & CLAIMER_MASK) - 1;
  const at = h.slotsBase + h.slotWords * slot;
  // A token holds the lock only while its handle lives, or after it died holding it: exact match.
  const stolen = steal(i32, h.lockIndex, dead, h.token);
  if (!stolen) {
    // Not the claim word of its slot any more: closed or recovered. Only the dead thread could have
    // set it back (no one else writes a claimed word), so no lock is needed to know; none is taken,
    // so a live handle holding the page lock in this very thread cannot deadlock the call.
    if (Atomics.load(i32, at + S_CLAIM) !== dead) return false;
    h.pageLock();
  } else h.holdStolenLock();
  try {
    // The record: written only under the page lock, which the dead thread held (stolen) or that we
    // hold now, so it is the dead thread's (a later handle of the slot writes none without the lock).
    const record = at + S_RECORD;
    const inFlight = i32[record + R_OP] !== OP_NONE;
    if (stolen || inFlight) {
      settle(h, record);
      rebuildPages(h);
      i32[record + R_OP] = OP_NONE;
    }
    // Died after letting its slot go (the end of `close`) but holding the lock: the slot's lists,
    // if a new handle claims it, are that handle's.
    if (Atomics.load(i32, at + S_CLAIM) !== dead) return stolen || inFlight;
    const dying = new Uint8Array(h.layout.threads + 1);
    dying[slot + 1] = 1;
    regather(h, dying);
    return true;
  } finally {
    h.pageUnlock();
  }
}

/**
 * Rebuilds the lists of every slot whose claimer is flagged in `dying` (indexed by claimer: a dead
 * thread's slot + 1), and leaves those slots unclaimed (`released`: a slot its own dead handle
 * claimed gets the next generation, one a dead thread was adopting keeps its own). A claimer
 * whose thread is unrecovered cannot be a newer handle of its slot (the slot stays claimed until
 * the recovery), so the claimer bits alone name the dead thread. Then, if there was such a slot,
 * sets every slot's summary (the dead thread may have set a remote-free bit without telling its
 * owner). The caller holds the page lock. @returns true when there was such a slot.
 */
function regather(h: HeapCore, dying: Uint8Array): boolean {
  const i32 = h.i32;
  let any = false;
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    const claim = Atomics.load(i32, at + S_CLAIM);
    if (dying[claim & CLAIMER_MASK] !== 1) continue;
    any = true;
    const from = new Uint8Array(h.layout.threads + 1);
    from[s + 1] = 1;
    gather(h, from, at + S_LISTS, at + S_LISTS + h.classes.count, s + 1);
    i32[at + S_RECORD + R_OP] = OP_NONE;
    Atomics.store(i32, at + S_CLAIM, released(claim, s));
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
 * a one-thread heap's class lists) rebuilt and left unclaimed, each keeping its generation (bumped
 * for a slot its own handle claimed, so that handle's id is never another's), and with them any
 * slot a thread concerned was adopting; the lock released.
 * @returns false when there was nothing to recover.
 */
export function recoverAll(h: HeapCore, all: boolean): boolean {
  const i32 = h.i32;
  let stale = holderOf(i32, h.lockIndex) !== 0 || i32[h.recordAt + R_OP] !== OP_NONE;
  const dying = new Uint8Array(h.layout.threads + 1);
  for (let s = 0; s < h.layout.threads; s++) {
    const at = h.slotsBase + h.slotWords * s;
    const claimer = i32[at + S_CLAIM] & CLAIMER_MASK;
    if (claimer === 0) continue;
    if (!all && i32[at + S_RECORD + R_OP] === OP_NONE) continue;
    stale = true;
    // The thread that claims it is gone (`all`), or the slot's own thread was cut off in an
    // operation; a slot an adopter claims records nothing, so `all` alone finds it, or its adopter.
    dying[claimer] = 1;
  }
  if (!stale) return false;
  Atomics.store(i32, h.lockIndex, RECOVERING);
  h.holdStolenLock();
  try {
    settle(h, h.recordAt);
    i32[h.recordAt + R_OP] = OP_NONE;
    for (let s = 0; s < h.layout.threads; s++) settle(h, h.slotsBase + h.slotWords * s + S_RECORD);
    rebuildPages(h);
    if (h.threaded) regather(h, dying);
    else gather(h, null, h.listBase, -1, 0);
  } finally {
    if (h.threaded) h.pageUnlock();
    else Atomics.store(i32, h.lockIndex, 0);
  }
  return true;
}
