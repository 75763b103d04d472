/**
 * Worker of the heap kill test (not a test file; kill.test.ts bundles it so it starts fast).
 * It opens the threaded heap and runs a busy loop of malloc (small, mid and large sizes), free,
 * realloc, handing blocks to the other worker and freeing the blocks the other handed it, until
 * it is told to stop (the survivor) or terminated (the victim). Every block it holds is written
 * where the test can read it, so that whatever moment it dies at, the test knows what it held:
 *
 *   ctl[C_THREAD]     its heap.threadId (-1 until it has opened the heap)
 *   ctl[C_OPS]        operations done
 *   ctl[C_TRANSIT]    address + 1 of the block it is freeing, reallocating or handing over, 0
 *                     when none: set before the block leaves its table, cleared once the call
 *                     returned (so a call cut off names its block, which may be live or not)
 *   ctl[C_STOP]       set by the test: stop, close the handle, post "done"
 *   ctl[C_HEAD]       its inbox's head (consumer: this worker)
 *   ctl[C_TAIL]       its inbox's tail (producer: the other worker)
 *   ctl[C_PENDING]    the size asked of the malloc or realloc whose block is not in the table
 *                     yet (0: none): set before the call, cleared once its block is recorded
 *   ctl[TABLE + 3i]   table slot i: address + 1 (0: empty), requested size, pattern id
 *   ctl[inbox(j)]     inbox entry j: address, size, pattern id of a block the other handed over
 *
 * The address is the last word written to a table slot and an inbox entry counts only once the
 * tail passes it, so every block named by a table slot or an unconsumed inbox entry is live; a
 * block allocated but not yet in the table when the worker died is in no table (the test finds it
 * in liveAllocations, of the size C_PENDING names). Each block carries a byte pattern of its id (mismatch), verified before it is freed,
 * reallocated or handed on: a block handed to two live allocations shows up as a mismatch.
 *
 * A worker runs one job per message: the test starts each victim ahead of its trial, and keeps
 * one survivor for all trials, which opens the trial's heap and closes its handle at the end.
 */
import { isMainThread, parentPort } from "node:worker_threads";
import { slotOfThread } from "../../src/heap/threads.js";
import { Heap } from "../../src/index.js";

export const C_THREAD = 0;
export const C_OPS = 1;
export const C_TRANSIT = 2;
export const C_STOP = 3;
export const C_HEAD = 4;
export const C_TAIL = 5;
export const C_PENDING = 6;
/** First table word. */
export const TABLE = 8;
/** Table slots: most blocks a worker holds at once. */
export const BUDGET = 48;
/** Inbox entries. */
export const INBOX = 32;

/** Int32 index of inbox entry `j` (any j: taken modulo INBOX). */
export function inbox(j: number): number {
  return TABLE + 3 * BUDGET + 3 * (j % INBOX);
}

/** Int32 words of a worker's control buffer. */
export const CTL_WORDS = TABLE + 3 * BUDGET + 3 * INBOX;

/** What a worker gets. */
export interface KillJob {
  memory: SharedArrayBuffer;
  /** Its control words, and the other worker's (whose inbox it fills). */
  ctl: SharedArrayBuffer;
  peer: SharedArrayBuffer;
  seed: number;
}

/** The byte at index `i` (a multiple of 16) of the block with pattern id `id`. */
export function patternByte(id: number, i: number): number {
  return Math.imul(Math.imul(id, 0x9e3779b1) + i, 0x85ebca6b) >>> 24;
}

/**
 * The first checked index in [0, size) whose byte is not the pattern of `id`, or -1. Only every
 * 16th byte carries the pattern: blocks start at multiples of 16 (minAlign), so where two blocks
 * overlap, the first overlapping byte is at a multiple of 16 in both.
 */
export function mismatch(bytes: Uint8Array, ptr: number, size: number, id: number): number {
  for (let i = 0; i < size; i += 16) if (bytes[ptr + i] !== patternByte(id, i)) return i;
  return -1;
}

function fill(bytes: Uint8Array, ptr: number, size: number, id: number): void {
  for (let i = 0; i < size; i += 16) bytes[ptr + i] = patternByte(id, i);
}

function run(job: KillJob): void {
  const heap = Heap.open(job.memory);
  const ctl = new Int32Array(job.ctl);
  const peer = new Int32Array(job.peer);
  const bytes = new Uint8Array(job.memory);
  let x = job.seed | 0 || 1;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  let nextId = (slotOfThread(heap.threadId) + 1) << 24; // the slot: distinct among live threads
  const size = () => {
    const r = random(100);
    if (r < 55) return 1 + random(256);
    if (r < 75) return 1 + random(8192); // up to maxSmall: mid classes, slabs of several pages
    return 8193 + random(40_000); // a large block: 3 to 12 pages
  };
  const check = (ptr: number, n: number, id: number, what: string) => {
    const at = mismatch(bytes, ptr, n, id);
    if (at >= 0)
      throw new Error(`thread ${heap.threadId}: ${what} ${ptr}+${n} (id ${id}): byte ${at} overwritten`);
  };
  Atomics.store(ctl, C_THREAD, heap.threadId);
  let ops = 0;
  while (Atomics.load(ctl, C_STOP) === 0) {
    const r = random(100);
    const slot = TABLE + 3 * random(BUDGET);
    const held = ctl[slot];
    if (r < 25) {
      // Free a block the other worker handed over (a remote free when it is the other's).
      const head = ctl[C_HEAD];
      if (head !== Atomics.load(ctl, C_TAIL)) {
        const e = inbox(head);
        const p = ctl[e];
        check(p, ctl[e + 1], ctl[e + 2], "handed-over block");
        ctl[C_TRANSIT] = p + 1;
        Atomics.store(ctl, C_HEAD, head + 1);
        heap.free(p);
        ctl[C_TRANSIT] = 0;
      }
    } else if (held === 0) {
      const n = size();
      ctl[C_PENDING] = n;
      const p = heap.malloc(n);
      if (p !== null) {
        const id = ++nextId;
        fill(bytes, p, n, id);
        ctl[slot + 1] = n;
        ctl[slot + 2] = id;
        Atomics.store(ctl, slot, p + 1);
      }
      ctl[C_PENDING] = 0;
    } else if (r < 45) {
      // Hand it to the other worker, if its inbox has room.
      const tail = peer[C_TAIL];
      if (tail - Atomics.load(peer, C_HEAD) < INBOX) {
        check(held - 1, ctl[slot + 1], ctl[slot + 2], "block handed over");
        ctl[C_TRANSIT] = held;
        ctl[slot] = 0;
        const e = inbox(tail);
        peer[e] = held - 1;
        peer[e + 1] = ctl[slot + 1];
        peer[e + 2] = ctl[slot + 2];
        Atomics.store(peer, C_TAIL, tail + 1);
        ctl[C_TRANSIT] = 0;
      }
    } else if (r < 60) {
      const old = ctl[slot + 1];
      check(held - 1, old, ctl[slot + 2], "block before realloc");
      const n = size();
      ctl[C_TRANSIT] = held;
      ctl[C_PENDING] = n;
      ctl[slot] = 0;
      const q = heap.realloc(held - 1, n);
      if (q === null) {
        Atomics.store(ctl, slot, held);
      } else {
        check(q, Math.min(old, n), ctl[slot + 2], "block after realloc");
        const id = ++nextId;
        fill(bytes, q, n, id);
        ctl[slot + 1] = n;
        ctl[slot + 2] = id;
        Atomics.store(ctl, slot, q + 1);
      }
      ctl[C_PENDING] = 0;
      ctl[C_TRANSIT] = 0;
    } else {
      check(held - 1, ctl[slot + 1], ctl[slot + 2], "block before free");
      ctl[C_TRANSIT] = held;
      ctl[slot] = 0;
      heap.free(held - 1);
      ctl[C_TRANSIT] = 0;
    }
    Atomics.store(ctl, C_OPS, ++ops);
  }
  // The survivor: its blocks stay live (the test frees them); the handle leaves its slot.
  heap.close();
  parentPort!.postMessage("done");
}

// The test imports this module for its constants: only a worker runs, one job per message (a
// victim gets one; the survivor one per trial). Started ahead of its trial, it waits for it.
if (!isMainThread) parentPort!.on("message", (job: KillJob) => run(job));
