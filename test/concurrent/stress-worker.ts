/**
 * Worker of the concurrent stress tests (not a test file). Started with `--import tsx` so it can
 * load the TypeScript sources directly. It attaches to the shared allocator and runs one job:
 *
 * - "random": allocate (random order 0..maxRequestOrder, via alloc or allocOrder) and free at
 *   random, holding at most `budget` blocks. Every block it gets must read all zero (a previous
 *   owner zeroes it before freeing); it then fills it with a value unique to this worker and
 *   block, and before freeing checks that value is still everywhere and zeroes it again. Any
 *   overlap of two live blocks breaks one of those checks.
 * - "fixed": the same with every block of order `order`; the test sizes the budgets so that a
 *   block of that order is always free, so a null is a spurious failure.
 * - "hammer": the same random mix without data, as fast as possible: instead of patterns, each
 *   page of a block is claimed in a shared owner table with a CAS 0 -> worker+1 (a CAS that
 *   fails means another live block holds the page) and given back with a CAS before the free.
 * - "free-list": free each address of `addresses`, counting NOT_ALLOCATED rejections (two
 *   workers free the same list: every block must be freed exactly once).
 *
 * At the end it frees whatever it still holds and posts a Report.
 */
import { parentPort, workerData } from "node:worker_threads";
import { AllocError, ConcurrentBuddy } from "../../src/index.js";

export interface Job {
  kind: "random" | "fixed" | "free-list" | "hammer" | "hammer-fixed";
  buffer: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** Starts the workers together: each adds 1 to word 0, then spins until it reaches `workers`. */
  gate: SharedArrayBuffer;
  workers: number;
  worker: number;
  threadId?: number;
  ops: number;
  seed: number;
  budget: number;
  maxRequestOrder: number;
  order: number;
  addresses: number[];
}

export interface Report {
  allocs: number;
  frees: number;
  nulls: number;
  rejected: number;
  failures: string[];
  /** Milliseconds spent in the job after the start gate. */
  ms: number;
}

const job = workerData as Job;
const a = ConcurrentBuddy.attach(job.buffer, job.threadId === undefined ? {} : { threadId: job.threadId });
const words = new Int32Array(job.data);
/** The hammer's owner table: one word per page. */
const owners = words;
const hammer = job.kind === "hammer" || job.kind === "hammer-fixed";
const wordsPerPage = a.pageSize / 4;
const report: Report = { allocs: 0, frees: 0, nulls: 0, rejected: 0, failures: [], ms: 0 };

let x = job.seed | 0 || 1;
function random(): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) / 2 ** 32;
}

function fail(message: string): void {
  if (report.failures.length < 5) report.failures.push(`worker ${job.worker}: ${message}`);
}

const held: number[] = [];
const heldOrder: number[] = [];
const heldMark: number[] = [];
let serial = 0;

function take(address: number | null, order: number): void {
  if (address === null) {
    report.nulls++;
    return;
  }
  report.allocs++;
  const start = address / 4;
  const end = start + wordsPerPage * 2 ** order;
  if (address % (a.pageSize * 2 ** order) !== 0 || address + a.pageSize * 2 ** order > a.size) {
    fail(`block ${address} of order ${order} is misaligned or out of range`);
  }
  const mark = ((job.worker + 1) << 22) | (serial++ & 0x3fffff);
  if (hammer) {
    const first = address / a.pageSize;
    for (let p = first; p < first + 2 ** order; p++) {
      const other = Atomics.compareExchange(owners, p, 0, job.worker + 1);
      if (other !== 0)
        fail(`new block ${address} (order ${order}): page ${p} is held by worker ${other - 1}`);
    }
    held.push(address);
    heldOrder.push(order);
    heldMark.push(mark);
    return;
  }
  for (let w = start; w < end; w++) {
    if (words[w] !== 0) {
      fail(`new block ${address} (order ${order}) word ${w} holds ${words[w]}: still in use`);
      break;
    }
  }
  for (let w = start; w < end; w++) words[w] = mark;
  held.push(address);
  heldOrder.push(order);
  heldMark.push(mark);
}

function drop(i: number): void {
  const address = held[i];
  if (hammer) {
    const first = address / a.pageSize;
    for (let p = first; p < first + 2 ** heldOrder[i]; p++) {
      if (Atomics.compareExchange(owners, p, job.worker + 1, 0) !== job.worker + 1) {
        fail(`block ${address}: page ${p} was taken from worker ${job.worker} while live`);
      }
    }
  } else {
    const start = address / 4;
    const end = start + wordsPerPage * 2 ** heldOrder[i];
    for (let w = start; w < end; w++) {
      if (words[w] !== heldMark[i]) {
        fail(`block ${address} word ${w} holds ${words[w]}, not ${heldMark[i]}: overlapped`);
        break;
      }
    }
    for (let w = start; w < end; w++) words[w] = 0;
  }
  a.free(address);
  report.frees++;
  const last = held.length - 1;
  held[i] = held[last];
  heldOrder[i] = heldOrder[last];
  heldMark[i] = heldMark[last];
  held.pop();
  heldOrder.pop();
  heldMark.pop();
}

function randomOrder(): number {
  let k = 0;
  while (k < job.maxRequestOrder && random() < 0.5) k++;
  return k;
}

const gate = new Int32Array(job.gate);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < job.workers) {
  // spin until every worker is loaded, so that they all run at once
}
const started = performance.now();

try {
  if (job.kind === "free-list") {
    for (const address of job.addresses) {
      try {
        a.free(address);
        report.frees++;
      } catch (e) {
        if (e instanceof AllocError && e.code === "NOT_ALLOCATED") report.rejected++;
        else throw e;
      }
    }
  } else {
    for (let op = 0; op < job.ops; op++) {
      if (held.length < job.budget && (held.length === 0 || random() < 0.55)) {
        const order = job.kind === "fixed" || job.kind === "hammer-fixed" ? job.order : randomOrder();
        if (hammer) {
          take(a.allocOrder(order), order);
          continue;
        }
        if (random() < 0.5) take(a.allocOrder(order), order);
        else {
          const count = 2 ** order - (order > 0 ? Math.floor(random() * 2 ** (order - 1)) : 0);
          take(a.alloc(count), order);
        }
      } else {
        drop(Math.floor(random() * held.length));
      }
    }
    while (held.length > 0) drop(held.length - 1);
  }
} catch (e) {
  fail(`threw ${String(e)}`);
}
report.ms = performance.now() - started;
parentPort!.postMessage(report);
