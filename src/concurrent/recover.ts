/**
 * `recover`: finishing or undoing the operation a dead thread had in flight, from its record
 * (records.ts explains the record and why it is exact). An allocation in flight is undone: its
 * claim is released (the caller never got the address, so no block is left allocated on the dead
 * thread's behalf); a free in flight is finished. Blocks the dead thread had finished allocating
 * stay allocated. Every step is the lock-free protocol's own, so other threads keep allocating
 * and freeing meanwhile and nobody waits.
 */
import { AllocError, showCount } from "../errors.js";
import { OP_ALLOC, OP_FREE, OP_IDLE, OP_RELEASING, R_BLOCK, R_ORDER, R_STATE, R_STEP } from "./layout.js";
import { adoptRecord, findRecord } from "./records.js";
import type { Tree } from "./tree.js";

/**
 * What `recover` found in flight: "none" (the thread was idle), "alloc" (an allocation that had
 * not returned: undone, its block is free) or "free" (a free that had taken the block: finished).
 */
export type RecoveredOperation = "none" | "alloc" | "free";

/** The parts of a handle recovery works with. */
export interface RecoveryView {
  readonly buffer: SharedArrayBuffer;
  readonly maxOrder: number;
  readonly pages: number;
  readonly tree: Tree;
  /** The recovering handle's thread id, and its idle record. */
  readonly threadId: number;
  readonly record: Int32Array;
}

/**
 * Checks `threadId` (see ConcurrentBuddy.recover) and finds its record.
 * @returns the slot of its record.
 * @throws AllocError INVALID_ARGUMENT for a value that is not an integer in 0..2^31-1, the
 *   handle's own id, an id no handle's record names, or one several handles' records name.
 */
export function recordSlotOf(v: RecoveryView, threadId: unknown): number {
  if (
    !(typeof threadId === "number" && Number.isInteger(threadId) && threadId >= 0 && threadId <= 0x7fffffff)
  ) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `recover: threadId must be an integer in 0..2^31-1, got ${showCount(threadId)}`,
    );
  }
  if (threadId === v.threadId) {
    throw new AllocError("INVALID_ARGUMENT", `recover: thread ${threadId} is this handle's own`);
  }
  const slot = findRecord(v.buffer, threadId);
  if (slot === -2) {
    throw new AllocError("INVALID_ARGUMENT", `recover: thread id ${threadId} names several handles`);
  }
  if (slot < 0) {
    throw new AllocError("INVALID_ARGUMENT", `recover: no handle of thread ${threadId} holds a record`);
  }
  return slot;
}

/**
 * Takes over the record in `slot` (thread `threadId`'s) and finishes its operation.
 * @returns what was in flight, or null when another recovery took the record first.
 * @throws AllocError CORRUPT when the record names no possible operation (nothing changes).
 */
export function recoverSlot(v: RecoveryView, slot: number, threadId: number): RecoveredOperation | null {
  const rec = v.record;
  const taken = adoptRecord(v.buffer, slot, threadId, rec, (state, order, block, step) =>
    validOperation(v, state, order, block, step),
  );
  if (taken === 0) return null;
  if (taken < 0) {
    throw new AllocError("CORRUPT", `recover: the record of thread ${threadId} names no possible operation`);
  }
  const state = rec[R_STATE];
  if (state === OP_IDLE) return "none";
  const releasing = (state & OP_RELEASING) !== 0;
  v.tree.resume(rec[R_ORDER], rec[R_BLOCK], releasing ? rec[R_STEP] : -1);
  return (state & ~OP_RELEASING) === OP_ALLOC ? "alloc" : "free";
}

function validOperation(v: RecoveryView, state: number, order: number, block: number, step: number): boolean {
  if (state === OP_IDLE) return true;
  const kind = state & ~OP_RELEASING;
  if (kind !== OP_ALLOC && kind !== OP_FREE) return false;
  if (!(Number.isInteger(order) && order >= 0 && order <= v.maxOrder)) return false;
  if (!(block >= 0 && block < Math.floor(v.pages / 2 ** order))) return false;
  return (state & OP_RELEASING) === 0 || v.tree.validStep(order, step);
}
