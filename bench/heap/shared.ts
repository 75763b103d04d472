/**
 * The shared-heap section of the heap benchmark (`--workload shared`): W3 on ONE heap in a
 * SharedArrayBuffer from N worker_threads at once, beside the same loop on other heaps:
 *
 * - threaded: a threaded heap (`new Heap(sab)`, 64 thread slots); each worker frees only its own
 *   blocks.
 * - cross: the same heap, but every second free a worker's W3 loop asks for goes to the next
 *   worker through a ring in shared memory, which frees it (a remote free); about half the frees
 *   are cross frees, counted exactly (N >= 2 only).
 * - locked: `new Heap(sab, { threads: 0 })`, one lock around every operation.
 * - plain: one worker, the same loop on `new Heap(new ArrayBuffer(pool))`.
 *
 * The live budget is split evenly: each of N workers keeps at most pool / 2 / N live bytes, so the
 * live set is the same for every N. Every measurement gets fresh workers and a fresh heap; the
 * configurations take turns run by run, so a drift of the machine's speed hits them alike. The
 * workers open the heap, report ready, wait at an Atomics gate the driver opens, and time their W3
 * loop themselves; wall time is the first start to the last end. After each run the driver
 * re-opens the heap and checks that it is whole (check, trim, nothing live, every page free).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { Heap } from "../../src/index.js";
import {
  DONE,
  GATE,
  RING_HEADER,
  type SharedJob,
  type SharedMode,
  type SharedReport,
  touch,
} from "./shared-job.js";
import { SEED } from "./workload.js";

const BOOT = new URL("../concurrent/ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./shared-worker.ts", import.meta.url).href;

export interface SharedOptions {
  workers: number[];
  /** W3 steps of a measurement in all, split evenly among its workers. */
  ops: number;
  runs: number;
  poolBytes: number;
  /** Thread slots of the threaded heap. */
  threads: number;
  ringCapacity: number;
  countPageLocks: boolean;
  /** Map the pool's pages before the timed phase (touch in shared-job.ts). */
  pretouch: boolean;
}

/** One measurement: every worker's report, and what the driver saw. */
export interface SharedRun {
  wallNs: number;
  heapOps: number;
  opsPerSec: number;
  /** Wall time * workers / heap operations: the time per operation each worker saw. */
  nsPerOpPerWorker: number;
  frees: number;
  crossFrees: number;
  crossShare: number;
  failures: number;
  pageLocks: number | null;
  error: string | null;
  workers: (SharedReport & { drainError: string | null })[];
}

interface Config {
  mode: SharedMode;
  workers: number;
}

const MODE_NAMES: Record<SharedMode, string> = {
  threaded: "threaded, own frees",
  cross: "threaded, ~50% cross",
  locked: "locked (threads: 0)",
  plain: "plain ArrayBuffer",
  driver: "driver, no-op allocator",
};

const seedOf = (worker: number) => (worker === 0 ? SEED : (SEED ^ Math.imul(worker, 0x2545f491)) >>> 0);

async function measure(c: Config, o: SharedOptions): Promise<SharedRun> {
  const shared = c.mode !== "plain" && c.mode !== "driver";
  const memory = shared ? new SharedArrayBuffer(o.poolBytes) : null;
  if (memory) {
    if (o.pretouch) touch(memory);
    // The driver's handle would hold a thread slot: closed before the workers open theirs.
    new Heap(memory, { threads: c.mode === "locked" ? 0 : o.threads }).close();
  }
  const control = new SharedArrayBuffer(8);
  const rings =
    c.mode === "cross" ? new SharedArrayBuffer(4 * c.workers * (RING_HEADER + o.ringCapacity)) : null;
  const workers: Worker[] = [];
  const reports: Promise<SharedReport & { drainError: string | null }>[] = [];
  const readies: Promise<void>[] = [];
  for (let w = 0; w < c.workers; w++) {
    const job: SharedJob = {
      entry: ENTRY,
      mode: c.mode,
      memory,
      poolBytes: o.poolBytes,
      worker: w,
      workers: c.workers,
      ops: Math.floor(o.ops / c.workers) + (w < o.ops % c.workers ? 1 : 0),
      liveTarget: Math.floor(o.poolBytes / 2 / c.workers),
      seed: seedOf(w),
      control,
      rings,
      ringCapacity: o.ringCapacity,
      countPageLocks: o.countPageLocks,
      pretouch: o.pretouch,
    };
    const worker = new Worker(BOOT, { workerData: job });
    workers.push(worker);
    let ready: () => void = () => {};
    let report: (r: SharedReport & { drainError: string | null }) => void = () => {};
    let fail: (e: Error) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    failed.catch(() => {}); // raced below; an exit after the report is no error
    worker.on("message", (m: "ready" | (SharedReport & { drainError: string | null })) =>
      m === "ready" ? ready() : report(m),
    );
    worker.once("error", fail);
    worker.once("exit", (code) => fail(new Error(`worker ${w} exited (${code}) before reporting`)));
    readies.push(Promise.race([new Promise<void>((ok) => (ready = ok)), failed]));
    reports.push(
      Promise.race([
        new Promise<SharedReport & { drainError: string | null }>((ok) => (report = ok)),
        failed,
      ]),
    );
  }
  try {
    await Promise.all(readies);
    Atomics.store(new Int32Array(control), GATE, 1);
    Atomics.notify(new Int32Array(control), GATE);
    const rs = await Promise.all(reports);
    if (Atomics.load(new Int32Array(control), DONE) !== c.workers)
      throw new Error("not every worker finished");
    const start = Math.min(...rs.map((r) => r.startNs));
    const end = Math.max(...rs.map((r) => r.endNs));
    const heapOps = rs.reduce((n, r) => n + r.heapOps, 0);
    const frees = rs.reduce((n, r) => n + r.localFrees + r.crossFrees, 0);
    const crossFrees = rs.reduce((n, r) => n + r.crossFrees, 0);
    const pushed = rs.reduce((n, r) => n + r.pushed, 0);
    const errors: string[] = [];
    if (crossFrees !== pushed) errors.push(`${pushed} pushed but ${crossFrees} cross frees`);
    for (const r of rs) if (r.drainError) errors.push(`worker ${r.worker}: ${r.drainError}`);
    if (memory) {
      const h = Heap.open(memory);
      h.check();
      h.trim();
      const s = h.stats();
      if (s.liveAllocations !== 0 || s.freeBytes !== s.pageBytes)
        errors.push(`heap not whole: ${s.liveAllocations} live, ${s.freeBytes} of ${s.pageBytes} B free`);
      h.close();
    }
    const locks = rs.every((r) => r.pageLocks !== null) ? rs.reduce((n, r) => n + r.pageLocks!, 0) : null;
    const wallNs = end - start;
    return {
      wallNs,
      heapOps,
      opsPerSec: heapOps / (wallNs / 1e9),
      nsPerOpPerWorker: (wallNs * c.workers) / heapOps,
      frees,
      crossFrees,
      crossShare: frees > 0 ? crossFrees / frees : 0,
      failures: rs.reduce((n, r) => n + r.failures, 0),
      pageLocks: locks,
      error: errors.length > 0 ? errors.join("; ") : null,
      workers: rs,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}x`;

/** Runs the section, prints its tables. @returns the JSON summary and whether a run went wrong. */
export async function runShared(
  o: SharedOptions,
  notes: string[],
): Promise<{ summary: Record<string, unknown>; failed: boolean }> {
  const configs: Config[] = [];
  for (const n of o.workers) {
    configs.push({ mode: "threaded", workers: n });
    if (n >= 2) configs.push({ mode: "cross", workers: n });
    configs.push({ mode: "locked", workers: n });
    configs.push({ mode: "driver", workers: n });
  }
  if (o.workers.includes(1)) configs.push({ mode: "plain", workers: 1 });
  const key = (c: Config) => `${c.mode}x${c.workers}`;
  const runs = new Map<string, SharedRun[]>(configs.map((c) => [key(c), []]));
  const began = performance.now();
  for (let r = 0; r < o.runs; r++) {
    for (const c of configs) {
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[Kshared: ${key(c)} run ${r + 1}/${o.runs}`);
      runs.get(key(c))!.push(await measure(c, o));
    }
  }
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  const cpus = availableParallelism();
  const med = (c: Config, f: (r: SharedRun) => number) => {
    const rs = runs.get(key(c));
    return rs && rs.length > 0 ? median(rs.map(f)) : undefined;
  };
  const ops = (mode: SharedMode, n: number) => med({ mode, workers: n }, (r) => r.opsPerSec);
  let failed = false;
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const c of configs) {
    const rs = runs.get(key(c))!;
    const errors = rs.map((r) => r.error).filter((e) => e !== null);
    if (errors.length > 0) failed = true;
    const opsPerSec = ops(c.mode, c.workers)!;
    const one = ops(c.mode === "cross" ? "threaded" : c.mode, 1);
    const share = med(c, (r) => r.crossShare)!;
    const locks = rs.every((r) => r.pageLocks !== null) ? med(c, (r) => r.pageLocks! / c.workers) : undefined;
    rows.push([
      MODE_NAMES[c.mode],
      String(c.workers),
      (opsPerSec / 1e6).toFixed(2),
      med(c, (r) => r.nsPerOpPerWorker)!.toFixed(1),
      c.mode === "plain" ? "-" : ratio(opsPerSec, one),
      c.mode === "cross" ? `${(share * 100).toFixed(1)}%` : "-",
      (med(c, (r) => r.wallNs)! / 1e6).toFixed(0),
      locks === undefined ? "-" : locks.toFixed(0),
      String(rs.reduce((n, r) => n + r.failures, 0)),
      errors.length > 0 ? `FAILED: ${errors[0]}` : "ok",
    ]);
    const full = rs.reduce((n, r) => n + r.workers.reduce((m, w) => m + w.ringFull, 0), 0);
    if (full > 0)
      notes.push(
        `shared: ${key(c)}: ${full} cross frees over ${o.runs} runs found the next worker's ring full and were freed locally`,
      );
    summary[key(c)] = {
      mode: c.mode,
      workers: c.workers,
      medianOpsPerSec: opsPerSec,
      medianNsPerOpPerWorker: med(c, (r) => r.nsPerOpPerWorker),
      medianWallNs: med(c, (r) => r.wallNs),
      medianCrossShare: c.mode === "cross" ? share : null,
      medianPageLocksPerWorker: locks ?? null,
      runs: rs,
    };
  }
  const head = [
    "heap",
    "workers",
    "Mops/s",
    "ns/op/worker",
    "vs 1 worker",
    "cross frees",
    "wall ms",
    "page locks/worker",
    "failures",
    "check",
  ];
  const table = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(
    `\nshared: W3 on one heap in a ${o.poolBytes / 2 ** 20} MiB SharedArrayBuffer from N workers ` +
      `(${o.ops.toLocaleString("en-US")} W3 steps and half the pool live, both split evenly among the workers; ` +
      `${o.pretouch ? "pages touched before the timed phase; " : ""}median of ${o.runs} runs; ${cpus} CPUs)`,
  );
  for (const row of table) {
    console.log(
      row.map((c, j) => (j === 0 || j === 9 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  "),
    );
  }

  // The ratios the issue asks for.
  const lines: [string, string, string][] = [];
  const target = (value: number | undefined, goal: number, above: boolean) =>
    value === undefined ? "" : (above ? value >= goal : value <= goal) ? "met" : "MISSED";
  const t1 = ops("threaded", 1);
  for (const n of o.workers) {
    if (n === 1) continue;
    const over = n > cpus ? ` (oversubscribed: ${n} workers on ${cpus} CPUs)` : "";
    const s = t1 === undefined ? undefined : ops("threaded", n)! / t1;
    lines.push([
      `threaded ${n} workers vs 1${over}`,
      s === undefined ? "-" : `${s.toFixed(2)}x`,
      n === 2 ? `target >= 1.8x: ${target(s, 1.8, true)}` : "",
    ]);
    const l = ops("threaded", n)! / ops("locked", n)!;
    lines.push([
      `threaded vs locked at ${n} workers${over}`,
      `${l.toFixed(2)}x`,
      n === 2 ? `target >= 2.5x: ${target(l, 2.5, true)}` : "",
    ]);
    const d = ops("driver", n)! / ops("driver", 1)!;
    lines.push([
      `driver alone (no-op allocator) ${n} workers vs 1${over}`,
      `${d.toFixed(2)}x`,
      "the machine's own ceiling",
    ]);
    lines.push([
      `threaded scaling / driver scaling at ${n} workers${over}`,
      `${((s ?? 0) / d).toFixed(2)}x`,
      "",
    ]);
    lines.push([`cross vs locked at ${n} workers${over}`, ratio(ops("cross", n), ops("locked", n)), ""]);
    lines.push([`cross vs own frees at ${n} workers${over}`, ratio(ops("cross", n), ops("threaded", n)), ""]);
  }
  const plain = med({ mode: "plain", workers: 1 }, (r) => r.nsPerOpPerWorker);
  const one = med({ mode: "threaded", workers: 1 }, (r) => r.nsPerOpPerWorker);
  if (plain !== undefined && one !== undefined) {
    const s = one / plain;
    lines.push([
      "1 worker: shared threaded heap vs plain ArrayBuffer (ns/op)",
      `${s.toFixed(2)}x`,
      `target <= 1.2x: ${target(s, 1.2, false)}`,
    ]);
    const lk = med({ mode: "locked", workers: 1 }, (r) => r.nsPerOpPerWorker);
    if (lk !== undefined)
      lines.push(["1 worker: locked heap vs plain ArrayBuffer (ns/op)", ratio(lk, plain), ""]);
  }
  const w0 = Math.max(...lines.map((l) => l[0].length));
  const w1 = Math.max(...lines.map((l) => l[1].length));
  console.log("");
  for (const [a, b, c] of lines) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd());
  console.log(
    "Mops/s: heap calls (malloc, own frees, cross frees) of all workers / wall time from the first start to the last end;" +
      " ns/op/worker: wall time * workers / heap calls; cross frees: share of the frees that freed another worker's block" +
      " (a cross run ends when every block handed over is freed);" +
      " page locks/worker: outermost page-lock acquisitions in the timed phase (counted by wrapping an internal method)",
  );
  if (o.workers.some((n) => n > cpus))
    notes.push(`shared: ${Math.max(...o.workers)} workers on ${cpus} CPUs: the OS time-slices them`);
  return {
    summary: {
      config: { ...o, cpus, seconds: (performance.now() - began) / 1000 },
      ratios: Object.fromEntries(lines.map(([a, b, c]) => [a, c ? `${b} (${c})` : b])),
      results: summary,
    },
    failed,
  };
}
