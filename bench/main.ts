/**
 * `npm run bench:page [-- --runs 5 --ops 5000000 --workload W1,W2 --peer ours,c]`: replays each
 * workload on every peer, each JS run in a fresh child process, and prints one table per
 * workload (median / min / max ns per op over the runs) plus bench/results/latest.json.
 * `--workload suballoc` is the GPU-buffer suballocation workload (issue 11; bench/suballoc/):
 * exact runs against power-of-two blocks in one 256 MiB buffer of 256-byte pages.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runJsonChild } from "./child.js";
import { buildNative, type NativeRun, runNativeOnce, selfCheckNative } from "./native/run.js";
import { SUBALLOC_PEERS, type SubPeerName } from "./suballoc/peers.js";
import { runSuballocSection } from "./suballoc/section.js";
import { POOL, WORKLOADS, type WorkloadName } from "./workloads.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values: opt } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    ops: { type: "string", default: "5000000" },
    workload: { type: "string", default: [...WORKLOADS, "suballoc"].join(",") },
    peer: { type: "string", default: "ours,ours-pages,c,set-buddy,mempool,driver,c-driver" }, // see PEERS
    "mempool-ops": { type: "string", default: "100000" },
    "mempool-mib": { type: "string", default: "64" },
    "suballoc-peer": { type: "string", default: SUBALLOC_PEERS.join(",") },
    "suballoc-ops": { type: "string", default: "1000000" }, // timed ops per suballoc run
    out: { type: "string", default: "bench/results/latest.json" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log(
    "usage: npm run bench:page -- [--runs N] [--ops N] [--workload W1,W1-85,W2,suballoc]\n" +
      "                        [--peer ours,ours-pages,c,set-buddy,mempool,driver,c-driver]\n" +
      "                        [--mempool-ops N] [--mempool-mib N]\n" +
      `                        [--suballoc-peer ${SUBALLOC_PEERS.join(",")}] [--suballoc-ops N] [--out FILE]`,
  );
  process.exit(0);
}
const runs = Number(opt.runs);
const ops = Number(opt.ops);
const mempoolOps = Math.min(ops, Number(opt["mempool-ops"]));
const mempoolBytes = Number(opt["mempool-mib"]) * 2 ** 20;
const selected = opt.workload.split(",");
const suballoc = selected.includes("suballoc");
const workloads = selected.filter((w) => w !== "suballoc") as WorkloadName[];
const suballocPeers = opt["suballoc-peer"].split(",") as SubPeerName[];
const suballocOps = Number(opt["suballoc-ops"]);
const peers = opt.peer.split(",");
const PEERS = ["ours", "ours-pages", "c", "set-buddy", "mempool", "driver", "c-driver"];
/** Native peers: the C allocator, and the C driver against a stub (no allocator). */
const NATIVE = ["c", "c-driver"];
/** The driver-only peers, whose time is subtracted to get an allocator's own share. */
const DRIVERS = ["driver", "c-driver"];
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);
for (const p of peers) if (!PEERS.includes(p)) throw new Error(`unknown peer ${p} (${PEERS.join(", ")})`);
for (const p of suballocPeers)
  if (!SUBALLOC_PEERS.includes(p))
    throw new Error(`unknown suballoc peer ${p} (${SUBALLOC_PEERS.join(", ")})`);
for (const n of [runs, ops, mempoolOps, mempoolBytes, suballocOps]) {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected positive integers, got ${n}`);
}

/** One (peer, workload) run, from the C program or a run-one.ts child. */
interface Run extends Omit<NativeRun, "metadataBytesPerPage"> {
  metadataBytesPerPage: number | null;
  drainError?: string | null;
}

/** Runs bench/run-one.ts in a fresh Node process and parses its JSON line. */
function runChild(peer: string, workload: WorkloadName, n: number, poolBytes: number): Promise<Run> {
  const args = [peer, workload, String(n), String(poolBytes)];
  return runJsonChild<Run>(root, "bench/run-one.ts", args, `${peer} ${workload}`);
}

/** A transient status line, only on a terminal, so piped output is just the tables. */
const progress = (text: string) => {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
};

/** Counters that match native C's exactly when the same operation sequence was replayed. */
const REPLAY_KEYS = ["allocs", "frees", "failures", "livePages"] as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** A value that should be identical in every run; shows the range if it is not. */
const same = (xs: number[], digits = 0) => {
  const lo = Math.min(...xs).toFixed(digits);
  const hi = Math.max(...xs).toFixed(digits);
  return lo === hi ? lo : `${lo}..${hi}`;
};

/**
 * What an operation costs the allocator itself: each median minus its own language's driver run
 * against a stub (the JS driver costs more than C's, and that difference is not the allocator's).
 */
function allocatorShare(
  ours: number | null,
  driver: number | null,
  c: number | null,
  cDriver: number | null,
) {
  if (ours === null || driver === null || c === null || cDriver === null) return null;
  return { ours: ours - driver, c: c - cDriver, ratio: (ours - driver) / (c - cDriver) };
}

const nativePeers = peers.filter((p) => NATIVE.includes(p));
const nativeCc = nativePeers.length > 0 && workloads.length > 0 ? buildNative() : null;
const notes: string[] = [];
if (nativePeers.length > 0 && workloads.length > 0 && !nativeCc)
  notes.push("no C compiler (cc) found: the native C rows are skipped");
const jsPeers = peers.filter((p) => !NATIVE.includes(p));
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, cc: nativeCc },
  config: {
    runs,
    ops,
    pool: POOL,
    mempoolOps,
    mempoolPoolBytes: mempoolBytes,
    workloads: selected,
    peers,
    ...(suballoc ? { suballocPeers, suballocOps } : {}),
  },
  notes,
  workloads: {},
};

let failed = false;
for (const w of workloads) {
  const results = new Map<string, { runs: Run[]; ops: number; poolBytes: number }>();
  if (nativeCc) {
    progress(`${w}: native C self-check`);
    selfCheckNative(w, ops);
    for (const p of nativePeers) results.set(p, { runs: [], ops, poolBytes: POOL.bytes });
  }
  for (const p of jsPeers) results.set(p, { runs: [], ops: 0, poolBytes: 0 });
  for (let r = 0; r < runs; r++) {
    // Round-robin over all peers, C included, so slow drift (thermal, other load on a shared
    // machine) hits every peer alike; C's runs were once taken back to back and its median
    // moved 40% between invocations while ours did not.
    if (nativeCc) {
      for (const p of nativePeers) {
        progress(`${w}: ${p} run ${r + 1}/${runs}`);
        results.get(p)?.runs.push(runNativeOnce(w, ops, p === "c-driver"));
      }
    }
    for (const p of jsPeers) {
      const entry = results.get(p)!;
      entry.ops = p === "mempool" ? mempoolOps : ops;
      entry.poolBytes = p === "mempool" ? mempoolBytes : POOL.bytes;
      progress(`${w}: ${p} run ${r + 1}/${runs}`);
      entry.runs.push(await runChild(p, w, entry.ops, entry.poolBytes));
    }
  }

  const c = results.get("c");
  const base = (p: string) => {
    const e = results.get(p);
    return e ? median(e.runs.map((x) => x.nsPerOp)) : null;
  };
  const cMedian = base("c");
  const oursMedian = base("ours");
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const [p, e] of results) {
    const ns = e.runs.map((x) => x.nsPerOp);
    const med = median(ns);
    const drain = e.runs.find((x) => x.drainError)?.drainError ?? null;
    if (drain) failed = true;
    const first = e.runs[0];
    const replay =
      p === "c" || !c
        ? "-"
        : e.ops === c.ops && e.poolBytes === c.poolBytes
          ? e.runs.every((x) => REPLAY_KEYS.every((k) => x[k] === c.runs[0][k]))
            ? "same"
            : "DIFFERS"
          : "n/a";
    const meta = first.metadataBytesPerPage;
    rows.push([
      p,
      med.toFixed(1),
      Math.min(...ns).toFixed(1),
      Math.max(...ns).toFixed(1),
      cMedian ? `${(med / cMedian).toFixed(2)}x` : "-",
      oursMedian ? `${(med / oursMedian).toFixed(2)}x` : "-",
      same(e.runs.map((x) => x.failures)),
      w === "W2" || DRIVERS.includes(p)
        ? "-"
        : same(
            e.runs.map((x) => x.fragmentation),
            4,
          ),
      meta === null ? "-" : meta.toFixed(2),
      `${first.ops.toLocaleString("en-US")}${e.poolBytes === POOL.bytes ? "" : ` @${e.poolBytes / 2 ** 20} MiB`}`,
      drain ? `DRAIN FAILED: ${drain}` : replay,
    ]);
    summary[p] = {
      medianNsPerOp: med,
      minNsPerOp: Math.min(...ns),
      maxNsPerOp: Math.max(...ns),
      ratioVsC: cMedian ? med / cMedian : null,
      ratioVsOurs: oursMedian ? med / oursMedian : null,
      opsPerRun: first.ops,
      poolBytes: e.poolBytes,
      failures: first.failures,
      fragmentation: first.fragmentation,
      metadataBytesPerPage: meta,
      sameOpsAsC: replay,
      drainError: drain,
      runs: e.runs,
    };
  }
  (report.workloads as Record<string, unknown>)[w] = summary;

  const head = ["peer", "median ns/op", "min", "max", "vs C", "vs ours", "failures", "frag", "meta B/page"];
  const table = [[...head, "ops/run", "replay"], ...rows];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  progress("");
  console.log(`\n${w} (${runs} run${runs === 1 ? "" : "s"} each, median ns per operation)`);
  for (const [i, row] of table.entries()) {
    console.log(
      row
        .map((cell, j) => (j === 0 || j >= 9 ? cell.padEnd(widths[j]) : cell.padStart(widths[j])))
        .join("  "),
    );
    if (i === 0) console.log(widths.map((x) => "-".repeat(x)).join("  "));
  }
  const net = allocatorShare(base("ours"), base("driver"), cMedian, base("c-driver"));
  if (net) {
    summary.allocatorShare = net;
    console.log(
      `allocator's share (median minus its driver's): ours ${net.ours.toFixed(1)} ns, C ${net.c.toFixed(1)} ns, ` +
        `${net.ratio.toFixed(2)}x`,
    );
  }
}

if (suballoc) {
  const section = await runSuballocSection({
    root,
    runs,
    speedOps: suballocOps,
    peers: suballocPeers,
    progress,
  });
  (report.workloads as Record<string, unknown>).suballoc = section.summary;
  notes.push(...section.notes);
  if (section.failed) failed = true;
}

if (jsPeers.includes("mempool") && workloads.length > 0) {
  notes.push(
    `mempool (@thi.ng/malloc MemPool) runs ${mempoolOps.toLocaleString("en-US")} ops on a ${mempoolBytes / 2 ** 20} MiB ` +
      "pool, not the others' 1 GiB: its free walks the used and free lists (O(live blocks)), so its ns/op " +
      "is not comparable and grows with pool size (at 1 GiB one 100k-op W1 run took ~70 s on the 2-core " +
      "dev box, and one W2 round alone is 524k ops; --mempool-mib 1024 to try). Each block also spends a header page (4 KiB alignment), " +
      "so under W1-85 it cannot reach the target and most of its ops are failed mallocs.",
  );
}
if (workloads.length > 0)
  notes.push(
    "replay: 'same' = identical alloc/free/failure counts to native C, i.e. the same operation sequence; " +
      "frag = 1 - largest free block / free bytes at the end; meta B/page = metadata bytes per managed page " +
      "(ours: stats().metadataBytes / totalPages; C: sizeof(struct page)).",
  );
console.log(`\n${notes.map((n) => `note: ${n}`).join("\n")}`);
const outFile = resolve(root, opt.out);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${opt.out}`);
if (failed) {
  console.error("a peer did not return to a whole pool after draining, or a check failed (see above)");
  process.exit(1);
}
