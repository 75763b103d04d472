/**
 * The concurrent bench as a function (bench/main.ts can call it; main.ts here is the CLI):
 * throughput of ConcurrentBuddy (packed and node trees) with 1, 2, ... workers, beside two locked
 * baselines at the same worker counts (the shared Heap: the page allocator behind the heap's
 * futex; and a minimal SAB buddy behind the same kind of mutex, locked-buddy.ts), and the
 * single-threaded page allocator in one worker. Each (allocator, worker count) gets its own
 * workers, one warm-up round (not counted) and `runs` timed rounds on a fresh allocator; a
 * round's throughput is all workers' operations over the wall time from the first start to the
 * last end; the figure reported is the median round.
 */
import { Worker } from "node:worker_threads";
import { ConcurrentBuddy, Heap } from "../../src/index.js";
import { LockedBuddy } from "./locked-buddy.js";
import type { Kind, Round, RoundResult } from "./worker.js";

/** Parameters of a bench run. Sizes in bytes. */
export interface ConcurrentBenchOptions {
  /** Worker counts to measure, e.g. [1, 2]. */
  workers: number[];
  /** Operations per worker per round. */
  ops: number;
  /** Timed rounds per configuration (median reported). */
  runs: number;
  size: number;
  pageSize: number;
  maxOrder: number;
  /** Most blocks one worker holds. */
  live: number;
  /** Largest order requested. */
  maxRequestOrder: number;
  /** Allocators to measure (default: all). */
  kinds?: Kind[];
  /** Print a line per finished configuration. */
  log?: (line: string) => void;
}

/** One configuration's median throughput. */
export interface Measurement {
  kind: Kind;
  workers: number;
  /** Operations per second, median over the rounds. */
  opsPerSec: number;
  /** Every round's throughput, in run order. */
  rounds: number[];
  /** Allocations that returned null, over all rounds. */
  nulls: number;
}

const BOOT = new URL("./ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./worker.ts", import.meta.url).href;

function fresh(kind: Kind, o: ConcurrentBenchOptions): { buffer: SharedArrayBuffer; verify: () => void } {
  if (kind === "packed" || kind === "node") {
    const a = ConcurrentBuddy.create({
      size: o.size,
      pageSize: o.pageSize,
      maxOrder: o.maxOrder,
      variant: kind,
    });
    return {
      buffer: a.buffer,
      verify: () => {
        a.check();
        if (a.stats().freePages !== a.pages) throw new Error(`${kind} allocator not whole after a round`);
      },
    };
  }
  if (kind === "heap") {
    // Room for the pool's pages plus the heap's own metadata (about 25 bytes per page).
    const buffer = new SharedArrayBuffer(o.size + Math.ceil(o.size / 64) + 2 ** 20);
    const h = new Heap(buffer, { pageSize: o.pageSize });
    return {
      buffer,
      verify: () => {
        h.check();
        if (h.stats().liveAllocations !== 0) throw new Error("heap not empty after a round");
      },
    };
  }
  if (kind === "locked") {
    const a = LockedBuddy.create(o.size, o.pageSize, o.maxOrder);
    return {
      buffer: a.buffer,
      verify: () => {
        if (a.freePages() !== a.pages) throw new Error("locked allocator not whole after a round");
      },
    };
  }
  return { buffer: new SharedArrayBuffer(8), verify: () => {} };
}

/** One timed round of `kind` on the first `workers` workers of `pool`: its throughput and nulls. */
async function round(
  kind: Kind,
  pool: Worker[],
  workers: number,
  o: ConcurrentBenchOptions,
): Promise<{ opsPerSec: number; nulls: number }> {
  const { buffer, verify } = fresh(kind, o);
  const gate = new SharedArrayBuffer(4);
  const results = await Promise.all(
    pool.slice(0, workers).map(
      (w, worker) =>
        new Promise<RoundResult>((resolve, reject) => {
          w.once("message", resolve);
          w.once("error", reject);
          const r: Round = {
            buffer,
            gate,
            workers,
            worker,
            ops: o.ops,
            live: o.live,
            maxRequestOrder: o.maxRequestOrder,
            size: o.size,
            pageSize: o.pageSize,
            maxOrder: o.maxOrder,
          };
          w.postMessage(r);
        }),
    ),
  );
  for (const w of pool) w.removeAllListeners("error");
  verify();
  const start = Math.min(...results.map((r) => r.start));
  const end = Math.max(...results.map((r) => r.end));
  const ops = results.reduce((n, r) => n + r.ops, 0);
  return { opsPerSec: ops / ((end - start) / 1000), nulls: results.reduce((n, r) => n + r.nulls, 0) };
}

/**
 * Measures one allocator at each worker count. The same workers serve every count (the first n
 * of them), and the counts take turns round by round (1, 2, 1, 2, ...), so a drift of the
 * machine's speed during the measurement (other load, frequency) hits every count alike and the
 * ratios between counts stay fair. One warm-up round per count is not counted.
 */
export async function measureKind(
  kind: Kind,
  counts: number[],
  o: ConcurrentBenchOptions,
): Promise<Measurement[]> {
  const size = Math.max(...counts);
  const pool = Array.from({ length: size }, () => new Worker(BOOT, { workerData: { kind, entry: ENTRY } }));
  const rounds = counts.map(() => [] as number[]);
  const nulls = counts.map(() => 0);
  try {
    for (let run = -1; run < o.runs; run++) {
      for (let c = 0; c < counts.length; c++) {
        const r = await round(kind, pool, counts[c], o);
        if (run < 0) continue;
        rounds[c].push(r.opsPerSec);
        nulls[c] += r.nulls;
      }
    }
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return counts.map((workers, c) => {
    const sorted = [...rounds[c]].sort((x, y) => x - y);
    const opsPerSec = sorted[Math.floor(sorted.length / 2)];
    o.log?.(`${kind} x${workers}: ${fmt(opsPerSec)} ops/s (rounds ${rounds[c].map(fmt).join(", ")})`);
    return { kind, workers, opsPerSec, rounds: rounds[c], nulls: nulls[c] };
  });
}

/** All kinds, in table order. */
export const KINDS: readonly Kind[] = ["packed", "node", "heap", "locked", "private", "page"];

/** Every configuration of `o`: each kind at each worker count, the page allocator at 1 only. */
export async function runConcurrentBench(o: ConcurrentBenchOptions): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const kind of o.kinds ?? KINDS)
    out.push(...(await measureKind(kind, kind === "page" ? [1] : o.workers, o)));
  return out;
}

/** 1234567 -> "1.23M". */
export function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** The results as a Markdown table: ops/s per kind and worker count, scaling, and ratios. */
export function table(results: Measurement[]): string {
  const get = (kind: Kind, n: number) => results.find((r) => r.kind === kind && r.workers === n)?.opsPerSec;
  const counts = [...new Set(results.filter((r) => r.kind !== "page").map((r) => r.workers))];
  const shown = KINDS.filter((k) => k !== "page" && results.some((r) => r.kind === k));
  const names: Record<Kind, string> = {
    packed: "lock-free packed",
    node: "lock-free node",
    heap: "Heap (locked)",
    locked: "locked buddy",
    private: "private packed (no sharing)",
    page: "page allocator",
  };
  const head = ["workers", ...shown.map((k) => `${names[k]} ops/s`), "packed vs 1 worker"];
  const ratios = shown.filter((k) => k === "heap" || k === "locked");
  for (const k of ratios) head.push(`packed / ${names[k]}`);
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "--:").join("|")}|`];
  const base = get("packed", 1);
  for (const n of counts) {
    const packed = get("packed", n);
    const cells = [String(n), ...shown.map((k) => cell(get(k, n)))];
    cells.push(packed !== undefined && base ? `${(packed / base).toFixed(2)}x` : "-");
    for (const k of ratios) {
      const other = get(k, n);
      cells.push(packed !== undefined && other ? `${(packed / other).toFixed(2)}x` : "-");
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  const page = get("page", 1);
  if (page !== undefined)
    lines.push("", `page allocator (BuddyAllocator), 1 thread, not shared: ${fmt(page)} ops/s`);
  const nulls = results.reduce((n, r) => n + r.nulls, 0);
  lines.push(`allocations that returned null, all runs: ${nulls}`);
  return lines.join("\n");
}

function cell(v: number | undefined): string {
  return v === undefined ? "-" : fmt(v);
}
