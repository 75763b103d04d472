/**
 * `npm run bench:heap [-- --ops 5000000 --runs 5 --workload W3,mixed,efficiency --peer ...]`:
 * replays each speed workload on every peer, each run in a fresh process (JS peers through
 * run-one.ts, native malloc through native/heap.c), and prints per workload the median ns per
 * operation, the ratio to native malloc and to ours, the bytes each allocator holds beyond what
 * was requested per live allocation, and our metadata per page. Peers too slow for millions of
 * operations (their free is linear) run a scaled-down count, printed in the table.
 *
 * The `efficiency` workload is talc's heap-efficiency benchmark (efficiency.ts): `--rounds`
 * rounds per peer (ours, thi.ng, thi.ng-as-shipped), each in a fresh process, printed next to
 * talc's published figures with where the arena went at the failure point
 * (`npm run bench:heap -- --workload efficiency` runs it alone).
 *
 * The `shared` workload is W3 on ONE heap in a SharedArrayBuffer from several worker_threads at
 * once (shared.ts): the threaded heap with own and cross-worker frees, the locked heap, and one
 * worker on a plain ArrayBuffer, for each count of `--workers`; `--ops` is then the W3 steps of
 * a measurement, split among its workers (default SHARED_OPS), and `--runs` the runs per
 * configuration.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_SEED } from "./efficiency.js";
import { EFFICIENCY_PEERS, runEfficiency } from "./efficiency-report.js";
import { buildNative, type NativeRun, runNative } from "./native/run.js";
import { runShared } from "./shared.js";
import { WORKLOADS, type WorkloadName } from "./workload.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PEERS = ["ours", "ours-shared", "c", "thi.ng", "alloc"];
const ALL_PEERS = [...new Set([...PEERS, ...EFFICIENCY_PEERS])];
const ALL_WORKLOADS = [...WORKLOADS, "efficiency", "shared"];
/** The shared section's default W3 steps of a measurement, split among its workers (when --ops is not given). */
const SHARED_OPS = 8_000_000;
const { values: opt } = parseArgs({
  options: {
    ops: { type: "string" },
    runs: { type: "string", default: "5" },
    workload: { type: "string", default: ALL_WORKLOADS.join(",") },
    peer: { type: "string", default: ALL_PEERS.join(",") },
    "thing-ops": { type: "string", default: "100000" },
    "thing-runs": { type: "string", default: "1" },
    rounds: { type: "string", default: "40" },
    "thing-rounds": { type: "string", default: "40" },
    seed: { type: "string", default: String(DEFAULT_SEED) },
    workers: { type: "string", default: "1,2,4" },
    "pool-mib": { type: "string", default: "64" },
    threads: { type: "string", default: "64" },
    ring: { type: "string", default: "16384" },
    "no-page-locks": { type: "boolean", default: false },
    "no-pretouch": { type: "boolean", default: false },
    "reuse-heap": { type: "boolean", default: false },
    out: { type: "string", default: "bench/heap/results/latest.json" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log(
    `usage: npm run bench:heap -- [--ops N] [--runs N] [--workload ${ALL_WORKLOADS.join(",")}] [--peer ${ALL_PEERS.join(",")}] [--thing-ops N] [--thing-runs N] [--rounds N] [--thing-rounds N] [--seed N] [--reuse-heap] [--workers 1,2,4] [--pool-mib N] [--threads N] [--ring N] [--no-page-locks] [--no-pretouch] [--out FILE]\n` +
      "  efficiency: --rounds rounds per peer (--thing-rounds for the thi.ng peers), seeded by --seed; --reuse-heap keeps one allocator across rounds as talc does\n" +
      `  shared: --workers worker counts, --ops W3 steps of a measurement, split among its workers (default ${SHARED_OPS}), --runs runs per configuration, --pool-mib the SharedArrayBuffer, --threads the threaded heap's slots, --ring capacity of each cross-free ring (a power of two), --no-page-locks leaves the page-lock counter out, --no-pretouch leaves the pool's pages to be mapped on first touch in the timed loop`,
  );
  process.exit(0);
}
const ops = Number(opt.ops ?? "5000000");
const sharedOps = Number(opt.ops ?? String(SHARED_OPS));
const runs = Number(opt.runs);
const thingOps = Math.min(ops, Number(opt["thing-ops"]));
const thingRuns = Math.min(runs, Number(opt["thing-runs"]));
const requested = opt.workload.split(",");
const requestedPeers = opt.peer.split(",");
for (const w of requested) if (!ALL_WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);
for (const p of requestedPeers)
  if (!ALL_PEERS.includes(p)) throw new Error(`unknown peer ${p} (${ALL_PEERS.join(", ")})`);
const workloads = requested.filter((w) => w !== "efficiency" && w !== "shared") as WorkloadName[];
const efficiency = requested.includes("efficiency");
const shared = requested.includes("shared");
const sharedWorkers = opt.workers.split(",").map(Number);
const poolMiB = Number(opt["pool-mib"]);
const threads = Number(opt.threads);
const ring = Number(opt.ring);
// the speed workloads' peers; the efficiency peers are picked from the same --peer list
const peers = workloads.length > 0 ? requestedPeers.filter((p) => PEERS.includes(p)) : [];
const efficiencyPeers = efficiency ? requestedPeers.filter((p) => EFFICIENCY_PEERS.includes(p)) : [];
const rounds = Number(opt.rounds);
const thingRounds = Number(opt["thing-rounds"]);
const seed = Number(opt.seed);
for (const n of [
  ops,
  sharedOps,
  runs,
  thingOps,
  thingRuns,
  rounds,
  thingRounds,
  ...sharedWorkers,
  poolMiB,
  ring,
])
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`bad count ${n}`);
if (!Number.isSafeInteger(seed)) throw new Error(`bad seed ${opt.seed}`);
if ((ring & (ring - 1)) !== 0) throw new Error(`--ring must be a power of two, got ${ring}`);
if (!Number.isSafeInteger(threads) || threads < Math.max(...sharedWorkers))
  throw new Error(`--threads ${opt.threads} is fewer than the most workers`);

interface Run extends NativeRun {
  metadataBytesPerPage?: number | null;
  drainError?: string | null;
}

const notes: string[] = [];
if (peers.includes("thi.ng") && (thingOps < ops || thingRuns < runs)) {
  notes.push(
    `thi.ng runs ${thingOps.toLocaleString("en-US")} operations ${thingRuns} time(s): its free walks the used blocks (O(live)), about 1 ms per operation once ~50,000 blocks are live`,
  );
}

function runChild(peer: string, workload: WorkloadName, n: number): Promise<Run> {
  const args = ["--expose-gc", "--import", "tsx", "bench/heap/run-one.ts", peer, workload, String(n)];
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    child.on("error", fail);
    child.on("close", (code) =>
      code === 0 ? ok(JSON.parse(out.trim())) : fail(new Error(`${peer} ${workload}: exit ${code}\n${err}`)),
    );
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const cc = peers.includes("c") ? buildNative() : null;
if (peers.includes("c") && cc === null) notes.push("no C compiler (cc): the native malloc column is skipped");
const active = peers.filter((p) => p !== "c" || cc !== null);
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, cc },
  config: {
    ops,
    runs,
    thingOps,
    thingRuns,
    workloads: requested,
    peers: active,
    ...(efficiency
      ? { efficiency: { rounds, thingRounds, seed, reuseHeap: opt["reuse-heap"], peers: efficiencyPeers } }
      : {}),
    ...(shared ? { shared: { workers: sharedWorkers, ops: sharedOps, poolMiB, threads, ring } } : {}),
  },
  notes,
  workloads: {},
};

let failed = false;
for (const w of workloads) {
  const results = new Map<string, Run[]>(active.map((p) => [p, []]));
  for (let r = 0; r < runs; r++) {
    for (const p of [...active]) {
      if (p === "thi.ng" && r >= thingRuns) continue;
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${w}: ${p} run ${r + 1}/${runs}`);
      const n = p === "thi.ng" ? thingOps : ops;
      try {
        results.get(p)!.push(p === "c" ? runNative(w, n) : await runChild(p, w, n));
      } catch (e) {
        notes.push(`${p} skipped: ${String(e).split("\n").slice(0, 3).join(" ")}`);
        active.splice(active.indexOf(p), 1);
        results.delete(p);
      }
    }
  }
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  const base = (p: string) => (results.has(p) ? median(results.get(p)!.map((x) => x.nsPerOp)) : null);
  const cMedian = base("c");
  const oursMedian = base("ours");
  const reference = results.get("c")?.[0] ?? results.get("ours")?.[0];
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const [p, rs] of results) {
    const med = median(rs.map((x) => x.nsPerOp));
    const first = rs[0];
    const drain = rs.find((x) => x.drainError)?.drainError ?? null;
    if (drain) failed = true;
    const overhead = first.footprint < 0 ? null : (first.footprint - first.liveBytes) / first.liveCount;
    const sameOps =
      first.ops !== reference?.ops
        ? "n/a"
        : rs.every((x) => x.allocs === reference.allocs && x.frees === reference.frees && x.failures === 0)
          ? "same"
          : "DIFFERS";
    rows.push([
      p,
      med.toFixed(1),
      Math.min(...rs.map((x) => x.nsPerOp)).toFixed(1),
      cMedian ? `${(med / cMedian).toFixed(2)}x` : "-",
      oursMedian ? `${(med / oursMedian).toFixed(2)}x` : "-",
      overhead === null ? "-" : overhead.toFixed(1),
      first.metadataBytesPerPage ? first.metadataBytesPerPage.toFixed(2) : "-",
      String(first.failures),
      first.ops.toLocaleString("en-US"),
      drain ? `DRAIN FAILED: ${drain}` : sameOps,
    ]);
    summary[p] = { medianNsPerOp: med, overheadBytesPerAllocation: overhead, runs: rs };
  }
  (report.workloads as Record<string, unknown>)[w] = summary;
  const head = ["peer", "median ns/op", "min", "vs malloc", "vs ours", "overhead B/alloc", "meta B/page"];
  const table = [[...head, "failures", "ops/run", "replay"], ...rows];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(`\n${w} (${runs} runs each; 64 MiB pool, half of it live)`);
  for (const row of table) {
    console.log(
      row.map((c, j) => (j === 0 || j === 9 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  "),
    );
  }
}
if (efficiency) {
  const e = await runEfficiency(
    { root, peers: efficiencyPeers, rounds, thingRounds, seed, reuse: opt["reuse-heap"] },
    notes,
  );
  (report.workloads as Record<string, unknown>).efficiency = e.summary;
  if (e.failed) failed = true;
}
if (shared) {
  const s = await runShared(
    {
      workers: sharedWorkers,
      ops: sharedOps,
      runs,
      poolBytes: poolMiB * 2 ** 20,
      threads,
      ringCapacity: ring,
      countPageLocks: !opt["no-page-locks"],
      pretouch: !opt["no-pretouch"],
    },
    notes,
  );
  (report.workloads as Record<string, unknown>).shared = s.summary;
  if (s.failed) failed = true;
}
for (const n of notes) console.log(`note: ${n}`);
if (workloads.length > 0)
  console.log(
    "overhead B/alloc: (bytes the allocator holds after the run - bytes requested) / live allocations;" +
      " ours: slab and large pages + metadata, malloc: mallinfo2 arena + mmapped, thi.ng: used + free blocks, alloc: power-of-two blocks",
  );
const out = resolve(root, opt.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
if (failed) process.exitCode = 1;
