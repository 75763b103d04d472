/**
 * Several worker threads on one heap in shared memory at once: churning workers whose blocks
 * carry patterns unique to them (an overlap of two live blocks, or a lost byte, breaks one), on
 * a threaded heap (each worker in its own slabs) and on a heap with one lock (`threads: 0`),
 * where a worker runs check() under the lock the whole time (it must never see a half-done
 * operation), and workers that grow the heap while the others allocate (each must notice the
 * new generation and rebuild its handle). Each worker closes its handle at the end. Afterwards
 * the heap must hold nothing and pass check().
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Heap, type HeapMemory } from "../../src/index.js";
import type { Job, Report } from "./heap-worker.js";

/** Started through ts-worker.mjs, which registers tsx in the worker (works from a clean clone, no build). */
const BOOT = new URL("./ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./heap-worker.ts", import.meta.url).href;
const MiB = 1 << 20;
type GrowableCtor = new (bytes: number, options: { maxByteLength: number }) => SharedArrayBuffer;

function run(
  memory: HeapMemory,
  jobs: Omit<Job, "memory" | "gate" | "workers" | "worker">[],
): Promise<Report[]> {
  const gate = new SharedArrayBuffer(8);
  return Promise.all(
    jobs.map(
      (job, worker) =>
        new Promise<Report>((resolve, reject) => {
          const workerData = { ...job, memory, gate, worker, workers: jobs.length, entry: ENTRY };
          const w = new Worker(BOOT, { workerData });
          w.once("message", resolve);
          w.once("error", reject);
          w.once("exit", (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
        }),
    ),
  );
}

function expectEmpty(heap: Heap, reports: Report[]): void {
  for (const r of reports) expect(r.failures).toEqual([]);
  heap.check();
  expect([...heap.liveAllocations()]).toEqual([]);
  heap.trim();
  const s = heap.stats();
  expect(s.freeBytes).toBe(s.pageBytes);
}

const churn = { kind: "churn" as const, ops: 20_000, budget: 60, growEvery: 0 };

describe("Heap shared by worker threads", () => {
  it("4 churning workers on one threaded SharedArrayBuffer heap", async () => {
    const sab = new SharedArrayBuffer(8 * MiB);
    const heap = new Heap(sab, { pageSize: 1024 });
    expect(heap.threads).toBeGreaterThan(4);
    const reports = await run(sab, [churn, churn, churn, churn]);
    expectEmpty(heap, reports);
    expect(reports.reduce((n, r) => n + r.allocs + r.reallocs, 0)).toBeGreaterThan(40_000);
  });

  it("4 churning workers and a checker on one SharedArrayBuffer heap with one lock", async () => {
    const sab = new SharedArrayBuffer(8 * MiB);
    const heap = new Heap(sab, { pageSize: 1024, threads: 0 });
    const reports = await run(sab, [churn, churn, churn, churn, { ...churn, kind: "check" }]);
    expectEmpty(heap, reports);
    const churned = reports.slice(0, 4);
    expect(churned.reduce((n, r) => n + r.allocs + r.reallocs, 0)).toBeGreaterThan(40_000);
    expect(reports[4].checks).toBeGreaterThan(0);
  });

  it("workers that grow a growable SharedArrayBuffer heap while the others allocate", async () => {
    const sab = new (SharedArrayBuffer as unknown as GrowableCtor)(MiB, { maxByteLength: 8 * MiB });
    const heap = new Heap(sab);
    const grower = { ...churn, growEvery: 500 };
    const reports = await run(sab, [grower, churn, grower]);
    expectEmpty(heap, reports);
    expect(reports[0].grows + reports[2].grows).toBeGreaterThan(10);
    expect(heap.length).toBeGreaterThan(2 * MiB);
  });

  it("workers on a shared WebAssembly.Memory heap at an offset", async () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 256, shared: true });
    const heap = new Heap(memory, { maxLength: 16 * MiB });
    const grower = { ...churn, growEvery: 2000 };
    const reports = await run(memory, [grower, churn, churn]);
    expectEmpty(heap, reports);
  });
});
