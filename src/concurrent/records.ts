/**
 * Thread records: how a thread that dies in the middle of an alloc or free is recovered.
 *
 * Each handle owns one record (a 64-byte line of the buffer, layout.ts) and keeps in it the one
 * thing another thread needs to clean up after it: the claim it holds that no order-index entry
 * names. An allocation's claim is such a claim from the CAS that takes the block until the entry
 * is written (OP_ALLOC); a free's, from the exchange that takes the entry until the release has
 * cleared its marks (OP_FREE); a failed claim's rollback is the release of an OP_ALLOC claim.
 * Every other claim is named by the order index (a live block: it stays allocated) or by nobody
 * (it does not exist). Marks a claim or release leaves in other words need no record: the
 * protocol already copes with a thread paused anywhere for ever (that is what lock-free means
 * here), and finishing the release clears what the dead thread's own steps would have cleared.
 *
 * Rules, and why they make the record exact:
 * - A thread can be stopped only where the engine checks for interrupts: `worker.terminate()`
 *   takes effect at a function's entry or a loop's back edge, never between two statements of
 *   straight-line code; the interleaving test stops a thread only before one of its atomics.
 * - So each atomic that changes what the thread holds is followed at once, in the same function
 *   and before any call or loop back edge, by the plain stores that say so: the claim's CAS by
 *   OP_ALLOC and the block, the free's exchange by OP_FREE and the block, the release's CAS of the
 *   block's own word by OP_RELEASING and the first step, each clearing CAS of the climb by the
 *   next step, the publishing store of the order-index entry by OP_IDLE. The dead thread's record
 *   therefore never lags its atomics: "the CAS happened but the record does not say so" cannot
 *   be observed. That is the ambiguity the protocol would otherwise have (a claimed block reads
 *   the same whoever claimed it: the words have no room for an owner), and the reason the record
 *   is written after each step and not announced before it.
 * - A step marker names the next step whose CAS has not succeeded. Redoing a step is safe: a
 *   release's mark and clear are conditional on the state they find (the parent still shows the
 *   side occupied, the child still reads empty, the tag unchanged), as they must be for a thread
 *   that is merely slow, so `recover` continues exactly as the dead thread would have.
 * - `recover` undoes an allocation in flight (releases its claim, also a finished climb whose
 *   entry was not written: the caller never got the address) and finishes a free in flight. It
 *   waits for nothing: every step is the lock-free protocol's own, and no other thread ever
 *   looks at a record, so nobody waits on the dead thread before or after.
 * - Handing over: `recover` takes the dead thread's slot (SLOT_TAKEN -> SLOT_RECOVERING by CAS,
 *   so two recoveries of one thread cannot both proceed), copies the operation into its own
 *   record and frees the slot, all in straight-line code; then it runs the release under its own
 *   record. A recovering thread that dies is itself recovered from its record.
 * - A thread's plain stores are visible to `recover` once the thread has stopped: the supervisor
 *   calls it after the worker's exit (terminate's promise, the 'exit' event).
 */
import {
  OP_IDLE,
  R_BLOCK,
  R_ORDER,
  R_OWNER,
  R_STATE,
  R_STEP,
  R_THREAD,
  RECORD_SLOTS,
  RECORD_STRIDE,
  RECORDS_WORD,
  SLOT_FREE,
  SLOT_INIT,
  SLOT_RECOVERING,
  SLOT_TAKEN,
} from "./layout.js";

/** The record words of every slot of `buffer`. */
export function recordWords(buffer: SharedArrayBuffer): Int32Array {
  return new Int32Array(buffer, RECORDS_WORD * 4, RECORD_SLOTS * RECORD_STRIDE);
}

/**
 * Takes a free record slot for a handle of thread `threadId`.
 * @returns the slot's index, or -1 when every slot is taken (that handle works with a private
 *   record, see `recordOf`, and cannot be recovered).
 */
export function takeRecord(buffer: SharedArrayBuffer, threadId: number): number {
  const all = recordWords(buffer);
  for (let s = 0; s < RECORD_SLOTS; s++) {
    const at = s * RECORD_STRIDE;
    if (Atomics.compareExchange(all, at + R_OWNER, SLOT_FREE, SLOT_INIT) !== SLOT_FREE) continue;
    all[at + R_STATE] = OP_IDLE;
    all[at + R_ORDER] = 0;
    all[at + R_BLOCK] = 0;
    all[at + R_STEP] = 0;
    Atomics.store(all, at + R_THREAD, threadId);
    Atomics.store(all, at + R_OWNER, SLOT_TAKEN);
    return s;
  }
  return -1;
}

/** The record of slot `s` (its 16 words), or a private record outside the buffer for -1. */
export function recordOf(buffer: SharedArrayBuffer, s: number): Int32Array {
  return s < 0
    ? new Int32Array(RECORD_STRIDE)
    : new Int32Array(buffer, (RECORDS_WORD + s * RECORD_STRIDE) * 4, RECORD_STRIDE);
}

/**
 * The slot of the record owned by thread `threadId`.
 * @returns its index, -1 when no taken slot names that thread, -2 when several do.
 */
export function findRecord(buffer: SharedArrayBuffer, threadId: number): number {
  const all = recordWords(buffer);
  let found = -1;
  for (let s = 0; s < RECORD_SLOTS; s++) {
    const at = s * RECORD_STRIDE;
    if (Atomics.load(all, at + R_OWNER) !== SLOT_TAKEN || Atomics.load(all, at + R_THREAD) !== threadId)
      continue;
    if (found >= 0) return -2;
    found = s;
  }
  return found;
}

/** The taken slots as flat (slot, thread id) pairs, in slot order. */
export function takenRecords(buffer: SharedArrayBuffer): number[] {
  const all = recordWords(buffer);
  const out: number[] = [];
  for (let s = 0; s < RECORD_SLOTS; s++) {
    const at = s * RECORD_STRIDE;
    if (Atomics.load(all, at + R_OWNER) === SLOT_TAKEN) out.push(s, Atomics.load(all, at + R_THREAD));
  }
  return out;
}

/**
 * Moves the operation recorded in slot `s`, owned by thread `threadId`, into `mine` (this
 * thread's idle record) and frees the slot, in straight-line code (see the top of this file).
 * The operation is checked by `valid`; when it says no, nothing changes.
 * @returns 1 when moved, 0 when the slot no longer belongs to `threadId` (another recovery took
 *   it first), -1 when `valid` refused.
 */
export function adoptRecord(
  buffer: SharedArrayBuffer,
  s: number,
  threadId: number,
  mine: Int32Array,
  valid: (state: number, order: number, block: number, step: number) => boolean,
): number {
  const all = recordWords(buffer);
  const at = s * RECORD_STRIDE;
  if (Atomics.compareExchange(all, at + R_OWNER, SLOT_TAKEN, SLOT_RECOVERING) !== SLOT_TAKEN) return 0;
  const state = Atomics.load(all, at + R_STATE);
  const order = Atomics.load(all, at + R_ORDER);
  const block = Atomics.load(all, at + R_BLOCK);
  const step = Atomics.load(all, at + R_STEP);
  if (Atomics.load(all, at + R_THREAD) !== threadId) {
    Atomics.store(all, at + R_OWNER, SLOT_TAKEN);
    return 0;
  }
  // From the CAS to here no call: dying in between would lose the operation.
  mine[R_ORDER] = order;
  mine[R_BLOCK] = block;
  mine[R_STEP] = step;
  mine[R_STATE] = state;
  if (!valid(state, order, block, step)) {
    mine[R_STATE] = OP_IDLE;
    Atomics.store(all, at + R_OWNER, SLOT_TAKEN);
    return -1;
  }
  all[at + R_STATE] = OP_IDLE;
  Atomics.store(all, at + R_THREAD, -1);
  Atomics.store(all, at + R_OWNER, SLOT_FREE);
  return 1;
}
