/**
 * Cross-thread frees with real worker threads: workers on one threaded SharedArrayBuffer heap,
 * each in its own thread slot, allocate blocks with a pattern unique to each, and pass them round
 * a ring of workers through queues in shared memory (cross-worker.ts); the receiver verifies the
 * pattern and frees the block (a free of another thread's object: the remote-free bitmap), or
 * reallocates it and keeps it; each also frees and reallocates blocks of its own. A pattern found
 * broken means two live blocks overlapped or a byte was lost. Afterwards, with every worker
 * closed, the main thread's trim() takes back what is left (slabs of closed threads that got
 * remote frees after their thread closed): check() passes, nothing is live, every page is free.
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Heap } from "../../src/index.js";
import type { CrossJob, CrossReport } from "./cross-worker.js";

/** Started through ts-worker.mjs, which registers tsx in the worker (as workers.test.ts does). */
const BOOT = new URL("./ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./cross-worker.ts", import.meta.url).href;
const MiB = 1 << 20;
/** Bytes of one worker's ring (cross-worker.ts: 2 + 64 * 4 Int32 words). */
const RING_BYTES = 4 * (2 + 64 * 4);

function run(sab: SharedArrayBuffer, workers: number, sends: number, budget: number): Promise<CrossReport[]> {
  const rings = new SharedArrayBuffer(RING_BYTES * workers);
  const gate = new SharedArrayBuffer(8);
  return Promise.all(
    Array.from(
      { length: workers },
      (_, worker) =>
        new Promise<CrossReport>((resolve, reject) => {
          const job: CrossJob = { memory: sab, rings, gate, worker, workers, sends, budget };
          const w = new Worker(BOOT, { workerData: { ...job, entry: ENTRY } });
          w.once("message", resolve);
          w.once("error", reject);
          w.once("exit", (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
        }),
    ),
  );
}

describe("cross-thread frees between worker threads on a threaded heap", () => {
  for (const workers of [3, 4]) {
    it(`${workers} workers pass blocks round a ring; the receiver verifies and frees them`, async () => {
      const sab = new SharedArrayBuffer(8 * MiB);
      const heap = new Heap(sab, { pageSize: 1024, threads: 8 });
      expect(heap.threadId).toBe(0);
      const reports = await run(sab, workers, 4000, 40);
      for (const r of reports) expect(r.failures).toEqual([]);
      // Every worker had its own slot, none the main thread's.
      const ids = reports.map((r) => r.threadId);
      expect(new Set(ids).size).toBe(workers);
      expect(ids).not.toContain(heap.threadId);
      // Everything sent was received, and most of it freed by a thread that did not allocate it.
      const sum = (k: keyof CrossReport) => reports.reduce((n, r) => n + (r[k] as number), 0);
      expect(sum("received")).toBe(sum("sent"));
      expect(sum("sent")).toBe(4000 * workers);
      expect(sum("crossFrees")).toBeGreaterThan(2000 * workers);
      expect(sum("crossReallocs")).toBeGreaterThan(100);
      expect(sum("localFrees")).toBeGreaterThan(1000);
      expect(sum("localReallocs")).toBeGreaterThan(500);
      for (const r of reports) expect(r.crossFrees).toBeGreaterThan(1000);
      // All memory back.
      heap.trim();
      heap.check();
      expect([...heap.liveAllocations()]).toEqual([]);
      const s = heap.stats();
      expect(s.liveAllocations).toBe(0);
      expect(s.freeBytes).toBe(s.pageBytes);
      heap.close();
    });
  }
});
