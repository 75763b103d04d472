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
 */
import { parentPort, workerData } from "node:worker_threads";
import { ConcurrentBuddy } from "../../src/index.js";

interface Setup {
  buffer: SharedArrayBuffer;
  owners: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
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

function turn(): void {
  real.store(ctrl, gate, 1);
  real.notify(ctrl, gate);
  while (real.load(ctrl, gate) !== 2) real.wait(ctrl, gate, 1);
  real.store(ctrl, gate, 0);
}

const a = ConcurrentBuddy.attach(job.buffer, { threadId: job.id });

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

parentPort!.postMessage("ready");
for (let round = 0; round < job.rounds; round++) {
  while (real.load(ctrl, 0) < round) real.wait(ctrl, 0, round - 1);
  let x = (job.seed * 7919 + round * 104729 + job.id * 1299709) | 0 || 1;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const held: number[] = [];
  const orders: number[] = [];
  try {
    for (let op = 0; op < job.ops; op++) {
      if (held.length === 0 || random(2) === 0) {
        const order = job.orders[random(job.orders.length)];
        const address = a.allocOrder(order);
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
        a.free(held[i]);
        held.splice(i, 1);
        orders.splice(i, 1);
      }
    }
    while (held.length > 0) {
      disown(held[held.length - 1], orders[orders.length - 1]);
      a.free(held.pop()!);
      orders.pop();
    }
  } catch (e) {
    fail(`round ${round} threw ${String(e)}`);
  }
  real.store(ctrl, gate, 3);
  real.notify(ctrl, gate);
}
parentPort!.postMessage({ failures, nulls });
