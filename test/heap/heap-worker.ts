/**
 * Worker of the shared-heap tests (not a test file). Opens the heap in `job.memory` and runs one
 * job after the start gate:
 * - "churn": random malloc / calloc / realloc / free holding at most `budget` blocks, each filled
 *   with a pattern unique to this worker and block and verified before it is freed or resized;
 *   every `growEvery` operations (if set) it also grows the heap by one 64 KiB step.
 * - "check": calls heap.check() and stats() in a loop until the others are done: under the lock
 *   of a heap without thread slots it must never see a half-done operation (a threaded heap's
 *   check is exact only when the other threads are idle, so it is not run against one).
 * At the end it frees what it holds and posts a Report.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap, type HeapMemory } from "../../src/index.js";
import { fill, firstMismatch } from "./helpers.js";

export interface Job {
  kind: "churn" | "check";
  memory: HeapMemory;
  worker: number;
  ops: number;
  budget: number;
  growEvery: number;
  /** Word 0: workers past the gate; word 1: churn workers done. */
  gate: SharedArrayBuffer;
  workers: number;
}

export interface Report {
  allocs: number;
  frees: number;
  nulls: number;
  reallocs: number;
  grows: number;
  checks: number;
  failures: string[];
}

const job = workerData as Job;
const heap = Heap.open(job.memory);
const report: Report = { allocs: 0, frees: 0, nulls: 0, reallocs: 0, grows: 0, checks: 0, failures: [] };
const gate = new Int32Array(job.gate);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 0) < job.workers) {}

let x = (job.worker + 1) * 0x2545f491;
function rand(n: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % n;
}

const bytes = () => new Uint8Array(heap.buffer);
const ptrs: number[] = [];
const sizes: number[] = [];
const ids: number[] = [];
let nextId = job.worker << 20;

function verify(i: number, what: string): boolean {
  const at = firstMismatch(bytes(), ptrs[i], sizes[i], ids[i]);
  if (at < 0) return true;
  if (report.failures.length < 10)
    report.failures.push(`${what}: block ${ptrs[i]}+${sizes[i]} lost byte ${at}`);
  return false;
}

function churn(): void {
  for (let op = 0; op < job.ops; op++) {
    if (job.growEvery > 0 && op % job.growEvery === job.growEvery - 1) {
      if (heap.length + 65536 <= heap.maxLength && heap.grow(65536)) report.grows++;
    }
    const r = rand(100);
    if (ptrs.length < job.budget && r < 55) {
      const size = rand(8) === 0 ? 2049 + rand(30000) : rand(1200);
      const p = r < 5 ? heap.calloc(1, size) : heap.malloc(size);
      if (p === null) {
        report.nulls++;
        continue;
      }
      if (
        r < 5 &&
        !bytes()
          .subarray(p, p + size)
          .every((b) => b === 0)
      ) {
        report.failures.push(`calloc ${p}+${size} is not zero`);
      }
      fill(bytes(), p, size, ++nextId);
      ptrs.push(p);
      sizes.push(size);
      ids.push(nextId);
      report.allocs++;
    } else if (ptrs.length > 0 && r < 65) {
      const i = rand(ptrs.length);
      if (!verify(i, "before realloc")) return;
      const size = rand(4) === 0 ? 2049 + rand(20000) : rand(1500);
      const q = heap.realloc(ptrs[i], size);
      if (q === null) continue;
      const kept = Math.min(size, sizes[i]);
      const ok = firstMismatch(bytes(), q, kept, ids[i]) < 0;
      if (!ok) report.failures.push(`realloc ${ptrs[i]} -> ${q} lost bytes`);
      ptrs[i] = q;
      sizes[i] = size;
      ids[i] = ++nextId;
      fill(bytes(), q, size, nextId);
      report.reallocs++;
    } else if (ptrs.length > 0) {
      const i = rand(ptrs.length);
      if (!verify(i, "before free")) return;
      heap.free(ptrs[i]);
      ptrs[i] = ptrs[ptrs.length - 1];
      sizes[i] = sizes[sizes.length - 1];
      ids[i] = ids[ids.length - 1];
      ptrs.pop();
      sizes.pop();
      ids.pop();
      report.frees++;
    }
  }
  for (let i = 0; i < ptrs.length; i++) {
    verify(i, "at the end");
    heap.free(ptrs[i]);
    report.frees++;
  }
}

try {
  if (job.kind === "churn") {
    churn();
    Atomics.add(gate, 1, 1);
  } else {
    while (Atomics.load(gate, 1) < job.workers - 1) {
      heap.check();
      heap.stats();
      report.checks++;
      Atomics.wait(gate, 1, Atomics.load(gate, 1), 2); // let the others run between checks
    }
  }
  heap.close(); // a threaded heap: its empty slabs go back, its slot is free again
} catch (e) {
  report.failures.push(`threw: ${(e as Error).stack ?? e}`);
  Atomics.add(gate, 1, 1);
}
parentPort!.postMessage(report);
