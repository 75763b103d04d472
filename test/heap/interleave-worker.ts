/**
 * Worker of the heap interleaving test (not a test file; interleave.test.ts bundles it). It
 * wraps this thread's Atomics functions so that every atomic access to the heap's buffer first
 * waits for a turn granted by the test: one step of one worker at a time, in an order the test
 * picks. `Atomics.wait` on the heap's buffer is a step that returns at once ("timed-out"), so a
 * thread waiting for the page lock spins through steps instead of blocking the schedule. The
 * heap's code runs unchanged; only the schedule is controlled. Between two steps exactly one
 * worker runs, so the plain words the workers share outside the heap (tables, inboxes, flags)
 * need no atomics of their own.
 *
 * A "worker" runs a script drawn from (seed, id): malloc of small and large sizes, free,
 * realloc, handing a block to another worker's inbox and freeing the blocks handed to it (frees
 * across threads); then it frees what it holds. Each block's 16-byte units are claimed in an
 * owner table (outside the schedule): a unit already held is two live blocks on the same memory.
 * Each block carries a pattern of its tag on every 16th byte, verified before it is freed.
 * The "recoverer" waits for a command and then runs `heap.recover(dead)`, its steps scheduled
 * like any other's, and closes its handle.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../src/index.js";

/** Control words (Int32 indices into `ctrl`), per worker i. */
export const GATE = 0; // + i: 0 running, 1 waiting for a turn, 2 turn granted, 3 finished, 4 parked
export const IN_OP = 8; // + i: 1 while inside a heap call
export const CLOSING = 16; // + i: 1 once it takes no more blocks in its inbox
export const THREAD = 24; // + i: its heap.threadId
export const COMMAND = 32; // the recoverer's command: thread id to recover + 1
export const OPS = 40; // + i: operations of its script begun
export const CTRL_WORDS = 48;

/** Gate values. */
export const RUNNING = 0;
export const WAITING = 1;
export const GRANTED = 2;
export const FINISHED = 3;
export const PARKED = 4;

/** Most blocks a worker holds, and inbox entries. */
export const BUDGET = 12;
export const INBOX = 16;
/**
 * Words of one worker's part of `books`: transit (address + 1 of the block it is freeing or
 * reallocating), pending (the size asked of the malloc or realloc whose block is not in its table
 * yet), table (address + 1, size, tag), inbox (head, tail, entries of address, size, tag).
 */
const T_TRANSIT = 0;
const T_PENDING = 1;
const T_TABLE = 2;
const T_HEAD = T_TABLE + 3 * BUDGET;
const T_TAIL = T_HEAD + 1;
const T_INBOX = T_TAIL + 1;
export const BOOK_WORDS = T_INBOX + 3 * INBOX;

/**
 * The blocks a worker's books name as live (table and unconsumed inbox), its transit block and
 * its pending request size.
 */
export function booked(
  books: Int32Array,
  worker: number,
): { named: Map<number, number>; transit: number; pending: number } {
  const b = worker * BOOK_WORDS;
  const named = new Map<number, number>();
  for (let i = 0; i < BUDGET; i++) {
    const at = b + T_TABLE + 3 * i;
    if (books[at] !== 0) named.set(books[at] - 1, books[at + 1]);
  }
  for (let j = books[b + T_HEAD]; j !== books[b + T_TAIL]; j++) {
    const at = b + T_INBOX + 3 * (j % INBOX);
    named.set(books[at], books[at + 1]);
  }
  return { named, transit: books[b + T_TRANSIT] - 1, pending: books[b + T_PENDING] };
}

export interface Setup {
  memory: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  owners: SharedArrayBuffer;
  books: SharedArrayBuffer;
  id: number;
  workers: number;
  role: "worker" | "recoverer";
  seed: number;
  ops: number;
}

/** The byte at index `i` (a multiple of 16) of the block tagged `tag`. */
export function patternByte(tag: number, i: number): number {
  return Math.imul(Math.imul(tag, 0x9e3779b1) + i, 0x85ebca6b) >>> 24;
}

const SMALL = [8, 24, 64, 100, 256, 700, 2000, 5000, 8000];
const LARGE = [9000, 20_000, 40_000];

function main(job: Setup): void {
  const heap = Heap.open(job.memory);
  const ctrl = new Int32Array(job.ctrl);
  const owners = new Int32Array(job.owners);
  const books = new Int32Array(job.books);
  const bytes = new Uint8Array(job.memory);
  const gate = GATE + job.id;
  const real = { load: Atomics.load, store: Atomics.store, wait: Atomics.wait, notify: Atomics.notify };
  const failures: string[] = [];
  const fail = (message: string) => {
    if (failures.length < 5) failures.push(`worker ${job.id} (thread ${heap.threadId}): ${message}`);
  };

  const turn = () => {
    real.store(ctrl, gate, WAITING);
    real.notify(ctrl, gate);
    while (real.load(ctrl, gate) !== GRANTED) real.wait(ctrl, gate, WAITING);
    real.store(ctrl, gate, RUNNING);
  };
  for (const name of [
    "load",
    "store",
    "compareExchange",
    "exchange",
    "add",
    "sub",
    "and",
    "or",
    "xor",
  ] as const) {
    const original = Atomics[name] as (...args: unknown[]) => number;
    (Atomics as unknown as Record<string, unknown>)[name] = (array: Int32Array, ...rest: unknown[]) => {
      if (array.buffer === job.memory) turn();
      return original.call(Atomics, array, ...rest);
    };
  }
  (Atomics as unknown as Record<string, unknown>).wait = (array: Int32Array, ...rest: unknown[]) => {
    if (array.buffer !== job.memory)
      return (real.wait as (...a: unknown[]) => string).call(Atomics, array, ...rest);
    turn();
    return "timed-out";
  };
  (Atomics as unknown as Record<string, unknown>).notify = (array: Int32Array, ...rest: unknown[]) => {
    if (array.buffer === job.memory) turn();
    return (real.notify as (...a: unknown[]) => number).call(Atomics, array, ...rest);
  };

  real.store(ctrl, THREAD + job.id, heap.threadId);
  parentPort!.postMessage("ready");
  // Wait for the start, outside the schedule.
  real.store(ctrl, gate, PARKED);
  real.notify(ctrl, gate);
  while (real.load(ctrl, gate) === PARKED) real.wait(ctrl, gate, PARKED);
  real.store(ctrl, gate, RUNNING);

  if (job.role === "recoverer") {
    const dead = ctrl[COMMAND] - 1;
    try {
      heap.recover(dead);
      heap.close();
    } catch (e) {
      fail(`recover(${dead}) threw ${(e as Error).stack ?? e}`);
    }
    parentPort!.postMessage({ failures });
    real.store(ctrl, gate, FINISHED);
    real.notify(ctrl, gate);
    return;
  }

  let x = (job.seed * 7919 + job.id * 1299709) | 0 || 1;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const me = job.id * BOOK_WORDS;
  let nextTag = (job.id + 1) << 20;

  const own = (ptr: number, size: number, tag: number) => {
    for (let u = ptr >>> 4; u < (ptr + Math.max(size, 1) + 15) >>> 4; u++) {
      const other = owners[u];
      if (other !== 0) fail(`block ${ptr}+${size}: unit ${u << 4} already held by block tag ${other}`);
      owners[u] = tag;
    }
    for (let i = 0; i < size; i += 16) bytes[ptr + i] = patternByte(tag, i);
  };
  const disown = (ptr: number, size: number, tag: number, what: string) => {
    for (let i = 0; i < size; i += 16) {
      if (bytes[ptr + i] !== patternByte(tag, i)) {
        fail(`${what} ${ptr}+${size}: byte ${i} overwritten`);
        break;
      }
    }
    for (let u = ptr >>> 4; u < (ptr + Math.max(size, 1) + 15) >>> 4; u++) {
      if (owners[u] !== tag) fail(`${what} ${ptr}+${size}: unit ${u << 4} held by tag ${owners[u]}`);
      owners[u] = 0;
    }
  };
  const call = <T>(f: () => T): T => {
    ctrl[IN_OP + job.id] = 1;
    try {
      return f();
    } finally {
      ctrl[IN_OP + job.id] = 0;
    }
  };
  const slotOf = (i: number) => me + T_TABLE + 3 * i;
  const popInbox = () => {
    const head = books[me + T_HEAD];
    if (head === books[me + T_TAIL]) return false;
    const e = me + T_INBOX + 3 * (head % INBOX);
    const [p, size, tag] = [books[e], books[e + 1], books[e + 2]];
    disown(p, size, tag, "handed-over block");
    books[me + T_TRANSIT] = p + 1;
    books[me + T_HEAD] = head + 1;
    call(() => heap.free(p));
    books[me + T_TRANSIT] = 0;
    return true;
  };
  const freeSlot = (at: number) => {
    const p = books[at] - 1;
    disown(p, books[at + 1], books[at + 2], "block");
    books[me + T_TRANSIT] = p + 1;
    books[at] = 0;
    call(() => heap.free(p));
    books[me + T_TRANSIT] = 0;
  };

  try {
    for (let op = 0; op < job.ops; op++) {
      ctrl[OPS + job.id] = op;
      const r = random(100);
      const at = slotOf(random(BUDGET));
      if (r < 20) {
        popInbox();
      } else if (books[at] === 0) {
        const size = r < 80 ? SMALL[random(SMALL.length)] : LARGE[random(LARGE.length)];
        books[me + T_PENDING] = size;
        const p = call(() => heap.malloc(size));
        if (p !== null) {
          const tag = ++nextTag;
          own(p, size, tag);
          books[at + 1] = size;
          books[at + 2] = tag;
          books[at] = p + 1;
        }
        books[me + T_PENDING] = 0;
      } else if (r < 45) {
        const to = random(job.workers);
        const peer = to * BOOK_WORDS;
        const tail = books[peer + T_TAIL];
        if (to !== job.id && ctrl[CLOSING + to] === 0 && tail - books[peer + T_HEAD] < INBOX) {
          const e = peer + T_INBOX + 3 * (tail % INBOX);
          books[e] = books[at] - 1;
          books[e + 1] = books[at + 1];
          books[e + 2] = books[at + 2];
          books[peer + T_TAIL] = tail + 1;
          books[at] = 0;
        }
      } else if (r < 60) {
        const p = books[at] - 1;
        const size = r < 55 ? SMALL[random(SMALL.length)] : LARGE[random(LARGE.length)];
        disown(p, books[at + 1], books[at + 2], "block before realloc");
        books[me + T_TRANSIT] = p + 1;
        books[me + T_PENDING] = size;
        books[at] = 0;
        const q = call(() => heap.realloc(p, size));
        const tag = ++nextTag;
        if (q === null) {
          own(p, books[at + 1], tag);
        } else {
          own(q, size, tag);
          books[at + 1] = size;
        }
        books[at + 2] = tag;
        books[at] = (q ?? p) + 1;
        books[me + T_PENDING] = 0;
        books[me + T_TRANSIT] = 0;
      } else {
        freeSlot(at);
      }
    }
    // Done: no more blocks in the inbox; free what it holds and what it was handed.
    ctrl[CLOSING + job.id] = 1;
    while (popInbox()) {}
    for (let i = 0; i < BUDGET; i++) if (books[slotOf(i)] !== 0) freeSlot(slotOf(i));
    call(() => heap.close());
  } catch (e) {
    fail(`threw ${(e as Error).stack ?? e}`);
  }
  parentPort!.postMessage({ failures });
  real.store(ctrl, gate, FINISHED);
  real.notify(ctrl, gate);
}

// The test imports this module for its constants: only a worker runs.
if (!isMainThread) main(workerData as Setup);
