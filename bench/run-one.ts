/**
 * Child-process entry: runs ONE workload once on ONE peer and prints its result as a JSON
 * line. Only the chosen peer's module is loaded, so the workload's call sites stay
 * monomorphic and no JIT feedback or GC state is shared with other peers. Two untimed warm-up
 * runs come first.
 * Usage: node --import tsx bench/run-one.ts <peer> <workload> <ops> [poolBytes, default 1 GiB]
 */
import type { CreateSubject } from "./peers/peer.js";
import { freeLive, POOL, runWorkload, WORKLOADS, type WorkloadName } from "./workloads.js";

/** Untimed runs of the same workload before the timed one. */
const WARMUP_RUNS = 2;

const loaders: Record<string, () => Promise<{ create: CreateSubject }>> = {
  ours: () => import("./peers/ours.js"),
  "ours-pages": () => import("./peers/ours-pages.js"),
  "set-buddy": () => import("./peers/set-buddy.js"),
  mempool: () => import("./peers/mempool.js"),
  driver: () => import("./peers/driver.js"),
};

const [peer, workload, opsArg, poolArg] = process.argv.slice(2);
const load = loaders[peer];
if (!load || !WORKLOADS.includes(workload as WorkloadName)) {
  throw new Error(
    `usage: run-one.ts <${Object.keys(loaders).join("|")}> <${WORKLOADS.join("|")}> <ops> [poolBytes]`,
  );
}
const { create } = await load();
const pool = { ...POOL, bytes: poolArg ? Number(poolArg) : POOL.bytes };
const totalPages = (pool.bytes / pool.pageSize) | 0; // an int32, as in C (see runSteady's target)
// Untimed warm-up runs on throwaway instances, so the timed run measures the JIT's steady state
// (V8 needs a few million operations to settle its inlining); native C has nothing to warm up.
for (let w = 0; w < WARMUP_RUNS; w++)
  runWorkload(workload as WorkloadName, create(pool).allocator, Number(opsArg), totalPages);
const subject = create(pool);
(globalThis as { gc?: () => void }).gc?.();

const result = runWorkload(workload as WorkloadName, subject.allocator, Number(opsArg), totalPages);
const fragmentation = subject.fragmentation();

// Self-check, untimed: free what is still live; the allocator must be whole again.
freeLive(subject.allocator);
let drainError: string | null;
try {
  drainError = subject.verifyDrained();
} catch (e) {
  drainError = String(e);
}

const out = {
  ...result,
  nsPerOp: result.ns / result.ops,
  fragmentation,
  metadataBytesPerPage: subject.metadataBytesPerPage,
  drainError,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
