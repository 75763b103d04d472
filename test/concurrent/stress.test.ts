/**
 * Real worker threads on one ConcurrentBuddy: random allocation and freeing with per-worker data
 * patterns (no two live blocks may ever overlap), fixed-order runs sized so that a free block
 * always exists (no null may be returned), and two workers racing to free the same blocks (each
 * freed exactly once). After every run the memory must be one free tree again. The machine may
 * have 2 cores; running more workers than cores makes preemption in the middle of an operation
 * (the interleavings that matter) more likely, not less.
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ConcurrentBuddy } from "../../src/index.js";
import { maximalBlocks } from "./helpers.js";
import type { Job, Report } from "./stress-worker.js";

/** Started through ts-worker.mjs, which registers tsx in the worker (works from a clean clone, no build). */
const BOOT = new URL("./ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./stress-worker.ts", import.meta.url).href;

function runWorkers(jobs: Omit<Job, "gate" | "workers">[]): Promise<Report[]> {
  const gate = new SharedArrayBuffer(4);
  return Promise.all(
    jobs.map(
      (job) =>
        new Promise<Report>((resolve, reject) => {
          const workerData = { ...job, gate, workers: jobs.length, entry: ENTRY };
          const w = new Worker(BOOT, { workerData });
          w.once("message", (r: Report) => resolve(r));
          w.once("error", reject);
          w.once("exit", (code) => {
            if (code !== 0) reject(new Error(`worker exited with ${code}`));
          });
        }),
    ),
  );
}

function baseJob(a: ConcurrentBuddy, worker: number): Omit<Job, "gate" | "workers"> {
  return {
    kind: "random",
    buffer: a.buffer,
    data: new SharedArrayBuffer(0),
    worker,
    ops: 0,
    seed: 0x1234567 * (worker + 1),
    budget: 0,
    maxRequestOrder: 0,
    order: 0,
    addresses: [],
  };
}

/** The allocator holds nothing and its free blocks are the maximal blocks of the whole memory. */
function expectWhole(a: ConcurrentBuddy): void {
  a.check();
  const s = a.stats();
  expect(s.freePages).toBe(s.totalPages);
  expect([...a.freeBlocks()]).toEqual(maximalBlocks(0, a.pages, a.maxOrder, a.pageSize));
  expect([...a.allocatedBlocks()]).toEqual([]);
}

describe.each(["packed", "node"] as const)("ConcurrentBuddy (%s tree) with worker threads", (variant) => {
  it("random alloc/free by 4 workers: no two live blocks overlap, memory whole afterwards", async () => {
    // 1000 pages of 64 bytes: 4 trees of order 8, the last one partly phantom.
    const a = ConcurrentBuddy.create({ size: 64 * 1000, pageSize: 64, maxOrder: 8, variant });
    const data = new SharedArrayBuffer(a.size);
    const reports = await runWorkers(
      [0, 1, 2, 3].map((w) => ({
        ...baseJob(a, w),
        data,
        ops: 30_000,
        budget: 48,
        maxRequestOrder: 5,
      })),
    );
    for (const r of reports) expect(r.failures).toEqual([]);
    if (process.env.STRESS_LOG)
      console.log(reports.map((r) => `${r.allocs} allocs ${r.nulls} nulls ${r.ms.toFixed(0)} ms`));
    const allocs = reports.reduce((n, r) => n + r.allocs, 0);
    expect(allocs).toBeGreaterThan(40_000);
    expect(reports.reduce((n, r) => n + r.frees, 0)).toBe(allocs);
    expectWhole(a);
    expect(new Int32Array(data).every((w) => w === 0)).toBe(true);
  });

  // Small trees: the workers keep meeting in the same words. 16 pages is one word of the packed
  // tree; 128 pages with maxOrder 7 makes it climb into a second tier (the COAL protocol).
  for (const { pages, maxOrder, budget } of [
    { pages: 16, maxOrder: 4, budget: 4 },
    { pages: 128, maxOrder: 7, budget: 6 },
  ]) {
    it(`3 workers on a small tree (${pages} pages, maxOrder ${maxOrder}) with explicit thread ids`, async () => {
      const a = ConcurrentBuddy.create({ size: 16 * pages, pageSize: 16, maxOrder, threadId: 9, variant });
      const data = new SharedArrayBuffer(a.size);
      const reports = await runWorkers(
        [0, 1, 2].map((w) => ({
          ...baseJob(a, w),
          data,
          threadId: w * 7,
          ops: 40_000,
          budget,
          maxRequestOrder: maxOrder - 1,
        })),
      );
      for (const r of reports) expect(r.failures).toEqual([]);
      expectWhole(a);
    });
  }

  // The hammer: no data, only allocator calls, 4 workers on 2 cores (preempted mid-call), many
  // tiers, and every page of every block taken in an owner table with a CAS.
  it("4 workers hammering a 3-tier tree: no page is ever held by two live blocks", async () => {
    const a = ConcurrentBuddy.create({ size: 4 * 512, pageSize: 4, maxOrder: 9, variant });
    const owners = new SharedArrayBuffer(4 * a.pages);
    const reports = await runWorkers(
      [0, 1, 2, 3].map((w) => ({
        ...baseJob(a, w),
        kind: "hammer" as const,
        data: owners,
        ops: 400_000,
        budget: 16,
        maxRequestOrder: 7,
      })),
    );
    for (const r of reports) expect(r.failures).toEqual([]);
    if (process.env.STRESS_LOG)
      console.log(reports.map((r) => `${r.allocs} allocs ${r.nulls} nulls ${r.ms.toFixed(0)} ms`));
    expectWhole(a);
    expect(new Int32Array(owners).every((w) => w === 0)).toBe(true);
  });

  // Without the certified rescan, the order-1 case returns a few spurious nulls per run.
  for (const { pages, order, workers } of [
    { pages: 4096, order: 1, workers: 3 },
    { pages: 1024, order: 0, workers: 4 },
  ]) {
    it(`order-${order} blocks, ${workers} workers, budgets that fill the memory exactly: never a null`, async () => {
      const a = ConcurrentBuddy.create({ size: 16 * pages, pageSize: 16, maxOrder: 10, variant });
      const data = new SharedArrayBuffer(a.size);
      const blocks = pages >> order;
      const reports = await runWorkers(
        Array.from({ length: workers }, (_, w) => ({
          ...baseJob(a, w),
          kind: "fixed" as const,
          data,
          ops: 60_000,
          order,
          // The budgets add up to the number of blocks. A worker allocates only below its budget
          // (its in-flight call counts as held), so at every instant some block is not held.
          budget: Math.floor(blocks / workers) + (w < blocks % workers ? 1 : 0),
        })),
      );
      for (const r of reports) {
        expect(r.failures).toEqual([]);
        expect(r.nulls).toBe(0);
      }
      expectWhole(a);
    });
  }

  it("two workers freeing the same blocks: each block is freed exactly once", async () => {
    const a = ConcurrentBuddy.create({ size: 4096 * 512, maxOrder: 9, variant });
    const addresses: number[] = [];
    for (let i = 0; i < 200; i++) addresses.push(a.alloc(1 + (i % 3))!);
    const reports = await runWorkers(
      [0, 1].map((w) => ({ ...baseJob(a, w), kind: "free-list" as const, addresses })),
    );
    for (const r of reports) expect(r.failures).toEqual([]);
    expect(reports[0].frees + reports[1].frees).toBe(addresses.length);
    expect(reports[0].rejected + reports[1].rejected).toBe(addresses.length);
    expectWhole(a);
  });
});
