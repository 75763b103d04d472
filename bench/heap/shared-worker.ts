/**
 * Worker of the shared-heap section (shared.ts), started through bench/concurrent/ts-worker.mjs:
 * ONE measurement, then it exits. It opens the heap (or, in mode "plain", makes its own over an
 * ArrayBuffer), posts "ready", waits at the start gate, runs W3 (workload.ts) with its share of
 * the live bytes and its own seed, timed with the monotonic clock shared by the process's
 * threads, then waits until every worker is done before it frees what it holds (untimed, so
 * that a worker that finishes first does not take CPU or the lock from the others), closes its
 * handle and posts its counts.
 *
 * Mode "cross": every second free the workload asks for is instead pushed onto the inbox ring of
 * the next worker (worker + 1 mod N); after each free it asks for, the worker frees whatever its
 * own inbox holds (blocks another worker allocated: remote frees in a threaded heap). A push that
 * finds the ring full is a local free and is counted as such. Its timed phase ends only when
 * every block handed to it is freed, after the others are done.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../src/index.js";
import { DONE, GATE, RING_HEADER, type SharedJob, type SharedReport, touch } from "./shared-job.js";
import { runWorkload } from "./workload.js";

const HEAD = 0;
const TAIL = 16;

const job = workerData as SharedJob;
const control = new Int32Array(job.control);

function plainHeap(): Heap {
  const buffer = new ArrayBuffer(job.poolBytes);
  if (job.pretouch) touch(buffer);
  return new Heap(buffer);
}
/** Mode driver: an allocator that does nothing, with the calls the worker makes on a heap. */
function nullHeap(): Heap {
  let next = 0;
  const stand = {
    threads: 0,
    threadId: 0,
    malloc: (size: number) => (next = (next + size + 16) & 0x3fffffff),
    free: (_ptr: number) => {},
    close: () => {},
  };
  return stand as unknown as Heap;
}
const heap =
  job.mode === "plain"
    ? plainHeap()
    : job.mode === "driver"
      ? nullHeap()
      : Heap.open(job.memory as SharedArrayBuffer);

let pageLocks: number | null = null;
let counting = false;
if (job.countPageLocks && heap.threads > 0) {
  // Not part of the API: HeapCore.pageLock, re-entrant through a private depth counter. The
  // prototype's method is wrapped (this worker has one handle), not the handle's own property,
  // which would change the handle's shape under the hot paths.
  const proto = Object.getPrototypeOf(heap.core) as { pageLock?: () => void };
  const original = proto.pageLock;
  if (typeof original === "function") {
    pageLocks = 0;
    proto.pageLock = function (this: { lockDepth?: number }) {
      if (counting && this.lockDepth === 0) (pageLocks as number)++;
      original.call(this);
    };
  }
}

let localFrees = 0;
let pushed = 0;
let ringFull = 0;
let crossFrees = 0;
let crossFreesAfter = 0;
let allocCalls = 0;

const words = RING_HEADER + job.ringCapacity;
const mask = job.ringCapacity - 1;
const ring32 = job.rings ? new Int32Array(job.rings) : new Int32Array(0);
const ringU32 = job.rings ? new Uint32Array(job.rings) : new Uint32Array(0);
const inbox = job.worker * words;
const outbox = ((job.worker + 1) % job.workers) * words;
let inHead = 0;
let outTail = 0;
let outHeadSeen = 0;

/** Frees everything in the inbox. @returns how many blocks. */
function drain(): number {
  const tail = Atomics.load(ring32, inbox + TAIL);
  if (tail === inHead) return 0;
  let n = 0;
  for (; inHead !== tail; inHead = (inHead + 1) | 0, n++) {
    heap.free(ringU32[inbox + RING_HEADER + (inHead & mask)]);
  }
  Atomics.store(ring32, inbox + HEAD, inHead);
  return n;
}

/** Hands `ptr` to the next worker. @returns false when its inbox is full. */
function push(ptr: number): boolean {
  if (((outTail - outHeadSeen) | 0) >= job.ringCapacity) {
    outHeadSeen = Atomics.load(ring32, outbox + HEAD);
    if (((outTail - outHeadSeen) | 0) >= job.ringCapacity) return false;
  }
  ringU32[outbox + RING_HEADER + (outTail & mask)] = ptr;
  outTail = (outTail + 1) | 0;
  Atomics.store(ring32, outbox + TAIL, outTail);
  return true;
}

let second = false;
const subject =
  job.mode === "cross"
    ? {
        malloc: (size: number) => {
          allocCalls++;
          return heap.malloc(size);
        },
        free: (ptr: number) => {
          second = !second;
          if (second && push(ptr)) pushed++;
          else {
            if (second) ringFull++;
            heap.free(ptr);
            localFrees++;
          }
          crossFrees += drain();
        },
      }
    : {
        malloc: (size: number) => heap.malloc(size),
        free: (ptr: number) => heap.free(ptr),
      };

parentPort!.postMessage("ready");
Atomics.wait(control, GATE, 0);
counting = true;
const startNs = Number(process.hrtime.bigint());
const { result, live } = runWorkload("W3", subject, job.ops, job.liveTarget, job.seed);
let endNs = Number(process.hrtime.bigint());

// Wait for the others without spinning on a CPU they need. In mode cross the timed phase goes on
// until every block handed to this worker is freed: it drains its inbox meanwhile, and once all
// are done (nobody pushes any more) once more, and only then reads the clock.
Atomics.add(control, DONE, 1);
for (;;) {
  const done = Atomics.load(control, DONE);
  if (job.mode === "cross") crossFreesAfter += drain();
  if (done >= job.workers) break;
  Atomics.wait(control, DONE, done, 1);
}
if (job.mode === "cross") {
  crossFreesAfter += drain();
  endNs = Number(process.hrtime.bigint());
}
counting = false;
for (let i = 0; i < live.count; i++) heap.free(live.handles[i]);
let drainError: string | null = null;
if (job.mode === "plain") {
  heap.check();
  heap.trim();
  const s = heap.stats();
  if (s.liveAllocations !== 0 || s.freeBytes !== s.pageBytes)
    drainError = `${s.liveAllocations} live, ${s.freeBytes} of ${s.pageBytes} B free`;
}
const threadId = heap.threadId;
heap.close();

const allocs = job.mode === "cross" ? allocCalls : result.allocs + result.failures;
const report: SharedReport & { drainError: string | null } = {
  worker: job.worker,
  threadId,
  startNs,
  endNs,
  steps: result.ops,
  allocs: result.allocs,
  failures: result.failures,
  localFrees: job.mode === "cross" ? localFrees : result.frees,
  pushed,
  ringFull,
  crossFrees: crossFrees + crossFreesAfter,
  crossFreesAfter,
  heapOps: allocs + (job.mode === "cross" ? localFrees + crossFrees + crossFreesAfter : result.frees),
  pageLocks,
  drainError,
};
parentPort!.postMessage(report);
