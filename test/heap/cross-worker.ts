/**
 * Worker of cross-workers.test.ts (not a test file). Opens the threaded heap in `job.memory`
 * (claiming its own thread slot) and, after the start gate, allocates blocks, fills each with a
 * pattern unique to the block and passes most of them to the next worker through a ring in
 * shared memory; it verifies and frees what the previous worker passes it (frees of another
 * thread's objects: the remote-free path), sometimes reallocating a received block first and
 * keeping it. It also frees and reallocates blocks of its own. At the end it frees what it
 * holds, closes its handle and posts a Report.
 *
 * Rings (`job.rings`, Int32, at least 1040 bytes per worker): worker w's inbox is RING_WORDS words at
 * w * RING_WORDS:
 * [0] head (consumer's count), [1] tail (producer's count), then CAPACITY entries of ENTRY words
 * (ptr, size, pattern id, sender's thread id). One producer, one consumer per ring. A producer
 * whose ring is full drains its own inbox while it waits, so the cycle of rings cannot deadlock.
 * `job.gate` Int32: [0] workers past the gate, [1] workers done sending.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap, type HeapMemory } from "../../src/index.js";
import { fill, firstMismatch } from "./helpers.js";

/** Entries a ring holds, and Int32 words per entry and per ring (the test sizes `rings` so). */
const CAPACITY = 64;
const ENTRY = 4;
const RING_WORDS = 2 + CAPACITY * ENTRY;

export interface CrossJob {
  memory: HeapMemory;
  rings: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  worker: number;
  workers: number;
  /** Blocks to allocate and send to the next worker. */
  sends: number;
  /** Blocks of its own held at most at once. */
  budget: number;
}

export interface CrossReport {
  threadId: number;
  sent: number;
  received: number;
  /** Received blocks freed here that another thread (the sender's id) had allocated. */
  crossFrees: number;
  /** Received blocks reallocated here (from another thread's slab or large block). */
  crossReallocs: number;
  localFrees: number;
  localReallocs: number;
  nulls: number;
  failures: string[];
}

const job = workerData as CrossJob;
const heap = Heap.open(job.memory);
const rings = new Int32Array(job.rings);
const gate = new Int32Array(job.gate);
const report: CrossReport = {
  threadId: heap.threadId,
  sent: 0,
  received: 0,
  crossFrees: 0,
  crossReallocs: 0,
  localFrees: 0,
  localReallocs: 0,
  nulls: 0,
  failures: [],
};

let x = (job.worker + 7) * 0x2545f491;
function rand(n: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % n;
}

const bytes = () => new Uint8Array(heap.buffer);
let nextId = (job.worker + 1) << 22;
const mine: { ptr: number; size: number; id: number }[] = [];

function fail(why: string): void {
  if (report.failures.length < 10)
    report.failures.push(`worker ${job.worker} (thread ${heap.threadId}): ${why}`);
}

function verify(ptr: number, size: number, id: number, what: string): boolean {
  const at = firstMismatch(bytes(), ptr, size, id);
  if (at >= 0) fail(`${what}: block ${ptr}+${size} (id ${id}) lost byte ${at}`);
  return at < 0;
}

function newBlock(): { ptr: number; size: number; id: number } | null {
  const size = rand(6) === 0 ? 2049 + rand(24000) : 1 + rand(1500);
  const ptr = rand(10) === 0 ? heap.calloc(1, size) : heap.malloc(size);
  if (ptr === null) {
    report.nulls++;
    return null;
  }
  const id = ++nextId;
  fill(bytes(), ptr, size, id);
  return { ptr, size, id };
}

/** Takes what the previous worker passed: verify, then free (or reallocate and keep). */
function drain(): number {
  const base = job.worker * RING_WORDS;
  let n = 0;
  for (;;) {
    const head = Atomics.load(rings, base);
    if (head === Atomics.load(rings, base + 1)) return n;
    const e = base + 2 + (head % CAPACITY) * ENTRY;
    const [ptr, size, id, from] = [rings[e], rings[e + 1], rings[e + 2], rings[e + 3]];
    Atomics.store(rings, base, head + 1);
    n++;
    report.received++;
    if (from === heap.threadId) fail(`received a block of its own thread ${from}`);
    if (!verify(ptr, size, id, "received")) continue;
    if (rand(5) === 0 && mine.length < job.budget) {
      const want = rand(3) === 0 ? 2049 + rand(10000) : 1 + rand(1500);
      const q = heap.realloc(ptr, want);
      if (q === null) {
        report.nulls++;
        heap.free(ptr);
        report.crossFrees++;
        continue;
      }
      if (!verify(q, Math.min(size, want), id, "after a cross realloc")) continue;
      report.crossReallocs++;
      const nid = ++nextId;
      fill(bytes(), q, want, nid);
      mine.push({ ptr: q, size: want, id: nid });
      continue;
    }
    heap.free(ptr);
    report.crossFrees++;
  }
}

/** Passes a block to the next worker, draining this worker's inbox while its ring is full. */
function send(b: { ptr: number; size: number; id: number }): void {
  const base = ((job.worker + 1) % job.workers) * RING_WORDS;
  const tail = Atomics.load(rings, base + 1);
  while (tail - Atomics.load(rings, base) >= CAPACITY) {
    if (drain() === 0) Atomics.wait(rings, base, Atomics.load(rings, base), 1);
  }
  const e = base + 2 + (tail % CAPACITY) * ENTRY;
  rings[e] = b.ptr;
  rings[e + 1] = b.size;
  rings[e + 2] = b.id;
  rings[e + 3] = heap.threadId;
  Atomics.store(rings, base + 1, tail + 1);
  report.sent++;
}

function local(): void {
  if (mine.length === 0) return;
  const i = rand(mine.length);
  const b = mine[i];
  if (!verify(b.ptr, b.size, b.id, "own block")) return;
  if (rand(2) === 0) {
    const want = rand(4) === 0 ? 2049 + rand(10000) : 1 + rand(1500);
    const q = heap.realloc(b.ptr, want);
    if (q === null) {
      report.nulls++;
      return;
    }
    verify(q, Math.min(b.size, want), b.id, "after realloc");
    const id = ++nextId;
    fill(bytes(), q, want, id);
    mine[i] = { ptr: q, size: want, id };
    report.localReallocs++;
    return;
  }
  heap.free(b.ptr);
  mine[i] = mine[mine.length - 1];
  mine.pop();
  report.localFrees++;
}

function run(): void {
  while (report.sent < job.sends) {
    const r = rand(10);
    if (r < 6) {
      const b = newBlock();
      if (b !== null) send(b);
    } else if (r < 8 && mine.length < job.budget) {
      const b = newBlock();
      if (b !== null) mine.push(b);
    } else local();
    if (rand(4) === 0) drain();
  }
  Atomics.add(gate, 1, 1);
  // Drain until every worker is done sending and the inbox is empty.
  for (;;) {
    const done = Atomics.load(gate, 1) >= job.workers;
    if (drain() === 0 && done) break;
    if (!done) Atomics.wait(gate, 1, Atomics.load(gate, 1), 1);
  }
  for (const b of mine) {
    verify(b.ptr, b.size, b.id, "at the end");
    heap.free(b.ptr);
    report.localFrees++;
  }
  mine.length = 0;
}

Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < job.workers) {}
try {
  run();
  heap.close();
} catch (e) {
  fail(`threw: ${(e as Error).stack ?? e}`);
  Atomics.add(gate, 1, 1);
}
parentPort!.postMessage(report);
