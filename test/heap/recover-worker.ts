/**
 * Worker of recover.test.ts (not a test file): opens saved heap bytes (`memory`, an ArrayBuffer
 * or a SharedArrayBuffer) with `options`, in a worker so that a hang (a lock nobody will release)
 * shows as a timeout of the test instead of stopping the test run. Reports the lock word after
 * the open, what check() said, the live allocations and the new handle's thread id, then closes
 * the handle and posts the buffer back (transferred when it is not shared).
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap, type LiveAllocation, type OpenOptions } from "../../src/index.js";

export interface OpenJob {
  memory: ArrayBuffer | SharedArrayBuffer;
  options: OpenOptions;
  lockIndex: number;
}

export interface OpenReport {
  lockWord: number;
  checkError: string | null;
  live: LiveAllocation[];
  threadId: number;
  error: string | null;
  memory: ArrayBuffer | SharedArrayBuffer;
}

const job = workerData as OpenJob;
const report: OpenReport = {
  lockWord: -1,
  checkError: null,
  live: [],
  threadId: -1,
  error: null,
  memory: job.memory,
};
try {
  const heap = Heap.open(job.memory, job.options);
  report.threadId = heap.threadId;
  report.lockWord = Atomics.load(new Int32Array(job.memory), job.lockIndex);
  try {
    heap.check();
  } catch (e) {
    report.checkError = String(e);
  }
  report.live = [...heap.liveAllocations()];
  heap.close();
} catch (e) {
  report.error = String((e as Error).stack ?? e);
}
const transfer = job.memory instanceof ArrayBuffer ? [job.memory] : [];
parentPort!.postMessage(report, transfer);
