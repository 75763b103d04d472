/**
 * Worker of the interleaving test (not a test file). It wraps this thread's Atomics functions so
 * that every atomic access to the allocator's buffer first waits for a turn granted by the test
 * (see interleave.test.ts): one step of one worker at a time, in an order the test picks. The
 * allocator code runs unchanged; only the schedule is controlled.
 *
 * Control words (Int32, `ctrl`): [0] the round the test has started; [1 + id] this worker's gate:
 * 0 running, 1 waiting for a turn, 2 turn granted, 3 round finished.
 *
 * Each round it runs a script drawn from (seed, round, id): allocations of random orders and frees
 * of its own blocks, then frees what it still holds. Pages of each block it gets are claimed in
 * an owner table (outside the schedule); a page already owned is an overlap.
 *
 * Deaths (scenarios with `deaths`): [1 + workers] names this round's victim, [2 + workers] the
 * step at which it dies: its n-th atomic inside an alloc or free is never executed (it is never
 * granted again; a Death error thrown before the access unwinds out of the call, running no more
 * allocator code, and the handle is abandoned for good, as if its thread had stopped there). It
 * then writes what it held into its grave (`graves`, 64 words per worker: [0] blocks held, [1] the
 * block it was freeing + 1 or 0, [2..] their addresses, [63] the round + 1) and its handle's thread id into
 * [3 + workers]. The next worker after the victim (the supervisor) checks that word before each
 * of its operations and recovers the dead handle itself, under the schedule, while the others
 * keep running; if its script ends first, the test recovers it after the round. A victim attaches
 * a new handle for the next round (same thread id: the old record was recovered by then).
 */
import { parentPort, workerData } from "node:worker_threads";
import { ConcurrentBuddy } from "../../src/index.js";

interface Setup {
  buffer: SharedArrayBuffer;
  owners: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  graves: SharedArrayBuffer;
  workers: number;
  id: number;
  rounds: number;
  seed: number;
  ops: number;
  orders: number[];
}

const job = workerData as Setup;
const real = {
  load: Atomics.load,
  store: Atomics.store,
  wait: Atomics.wait,
  notify: Atomics.notify,
  compareExchange: Atomics.compareExchange,
};
const ctrl = new Int32Array(job.ctrl);
const gate = 1 + job.id;
const owners = new Int32Array(job.owners);
const failures: string[] = [];
let nulls = 0;
const recovered = { none: 0, alloc: 0, free: 0 };
const VICTIM = 1 + job.workers;
const DEATH_STEP = 2 + job.workers;
const DEAD_ID = 3 + job.workers;
const grave = new Int32Array(job.graves, 4 * 64 * job.id, 64);

/** Thrown instead of executing the victim's fatal atomic. */
class Death extends Error {}
/** Atomic accesses inside alloc/free calls this round (while `inCall`). */
let steps = 0;
let inCall = false;
let victim = false;
let deathStep = 0;

function turn(): void {
  if (inCall && victim && ++steps === deathStep) throw new Death();
  real.store(ctrl, gate, 1);
  real.notify(ctrl, gate);
  while (real.load(ctrl, gate) !== 2) real.wait(ctrl, gate, 1);
  real.store(ctrl, gate, 0);
}

let a = ConcurrentBuddy.attach(job.buffer, { threadId: job.id });

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
    if (array.buffer === job.buffer) turn();
    return original.call(Atomics, array, ...rest);
  };
}

function fail(message: string): void {
  if (failures.length < 5) failures.push(`worker ${job.id}: ${message}`);
}

function own(address: number, order: number): void {
  const first = address / a.pageSize;
  for (let p = first; p < first + 2 ** order; p++) {
    const other = real.compareExchange(owners, p, 0, job.id + 1);
    if (other !== 0) fail(`block ${address} (order ${order}): page ${p} already held by worker ${other - 1}`);
  }
}

function disown(address: number, order: number): void {
  const first = address / a.pageSize;
  for (let p = first; p < first + 2 ** order; p++) real.compareExchange(owners, p, job.id + 1, 0);
}

/** The supervisor's duty: recover a dead handle whose id the victim posted, under the schedule. */
function recoverDead(): void {
  const dead = real.load(ctrl, DEAD_ID);
  const v = real.load(ctrl, VICTIM);
  if (dead < 0 || (v + 1) % job.workers !== job.id) return;
  real.store(ctrl, DEAD_ID, -1);
  recovered[a.recover(dead)]++;
}

function allocOrder(order: number): number | null {
  inCall = true;
  const p = a.allocOrder(order);
  inCall = false;
  return p;
}

function free(address: number): void {
  inCall = true;
  a.free(address);
  inCall = false;
}

parentPort!.postMessage("ready");
let dead = false;
for (let round = 0; round < job.rounds; round++) {
  while (real.load(ctrl, 0) < round) real.wait(ctrl, 0, round - 1);
  if (dead) {
    a = ConcurrentBuddy.attach(job.buffer, { threadId: job.id });
    dead = false;
  }
  victim = real.load(ctrl, VICTIM) === job.id;
  deathStep = real.load(ctrl, DEATH_STEP);
  steps = 0;
  let x = (job.seed * 7919 + round * 104729 + job.id * 1299709) | 0 || 1;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const held: number[] = [];
  const orders: number[] = [];
  let freeing = -1;
  try {
    for (let op = 0; op < job.ops; op++) {
      recoverDead();
      if (held.length === 0 || random(2) === 0) {
        const order = job.orders[random(job.orders.length)];
        const address = allocOrder(order);
        if (address === null) {
          nulls++;
        } else {
          own(address, order);
          held.push(address);
          orders.push(order);
        }
      } else {
        const i = random(held.length);
        disown(held[i], orders[i]);
        freeing = held[i];
        held.splice(i, 1);
        orders.splice(i, 1);
        free(freeing);
        freeing = -1;
      }
    }
    recoverDead();
    while (held.length > 0) {
      disown(held[held.length - 1], orders[orders.length - 1]);
      freeing = held.pop()!;
      orders.pop();
      free(freeing);
      freeing = -1;
    }
  } catch (e) {
    if (e instanceof Death) {
      // The blocks it held stay owned (the test frees them and clears their owners).
      dead = true;
      inCall = false;
      grave[63] = round + 1;
      grave[0] = held.length;
      grave[1] = freeing + 1;
      for (let i = 0; i < held.length; i++) grave[2 + i] = held[i];
      real.store(ctrl, DEAD_ID, a.threadId);
    } else {
      fail(`round ${round} threw ${String(e)}`);
    }
  }
  real.store(ctrl, gate, 3);
  real.notify(ctrl, gate);
}
parentPort!.postMessage({ failures, nulls, recovered });
