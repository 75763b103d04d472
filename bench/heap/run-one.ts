/**
 * Child-process entry of the heap benchmark: ONE peer, ONE workload, ONE run, printed as a JSON
 * line. Only that peer's module is loaded, so the driver's call sites stay monomorphic and no
 * JIT or GC state is shared between peers.
 * Usage: node --expose-gc --import tsx bench/heap/run-one.ts <peer> <W3|mixed> <ops>
 */
import type { CreatePeer } from "./peers/peer.js";
import { POOL_BYTES, runWorkload, WORKLOADS, type WorkloadName } from "./workload.js";

const loaders: Record<string, () => Promise<CreatePeer>> = {
  ours: async () => (await import("./peers/ours.js")).createOurs,
  "ours-shared": async () => (await import("./peers/ours.js")).createOursShared,
  "thi.ng": async () => (await import("./peers/thing.js")).createThing,
  alloc: async () => (await import("./peers/alloc.js")).createAlloc as CreatePeer,
};

const [peer, workload, opsArg] = process.argv.slice(2);
const load = loaders[peer];
if (!load || !WORKLOADS.includes(workload as WorkloadName)) {
  throw new Error(`usage: run-one.ts <${Object.keys(loaders).join("|")}> <${WORKLOADS.join("|")}> <ops>`);
}
const p = (await load())(POOL_BYTES);
(globalThis as { gc?: () => void }).gc?.();
const { result, live } = runWorkload(workload as WorkloadName, p.subject, Number(opsArg));
const footprint = p.footprint();
for (let i = 0; i < live.count; i++) p.subject.free(live.handles[i]);
let drainError: string | null;
try {
  drainError = p.verifyDrained();
} catch (e) {
  drainError = String(e);
}
process.stdout.write(
  `${JSON.stringify({ ...result, nsPerOp: result.ns / result.ops, footprint, metadataBytesPerPage: p.metadataBytesPerPage, drainError })}\n`,
);
