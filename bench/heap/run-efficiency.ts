/**
 * Child-process entry of the heap-efficiency benchmark: ONE peer, rounds [first, first + count),
 * each on a fresh arena (or, with `reuse`, on the same allocator after freeing the previous
 * round's blocks, as talc does), printed as one JSON line.
 * Usage: node --expose-gc --import tsx bench/heap/run-efficiency.ts <peer> <first> <count> <seed> [reuse]
 */
import { ARENA_BYTES, runRound } from "./efficiency.js";
import type { CreateEfficiencyPeer, EfficiencyPeer } from "./peers/peer.js";

const loaders: Record<string, () => Promise<CreateEfficiencyPeer>> = {
  ours: async () => (await import("./peers/ours.js")).createOursEfficiency,
  "thi.ng": async () => (await import("./peers/thing.js")).createThingEfficiency,
  "thi.ng-as-shipped": async () => {
    const { createThingEfficiency } = await import("./peers/thing.js");
    return (bytes) => createThingEfficiency(bytes, true);
  },
};

const [peer, firstArg, countArg, seedArg, mode] = process.argv.slice(2);
const load = loaders[peer];
const first = Number(firstArg);
const count = Number(countArg);
const seed = Number(seedArg);
if (!load || !Number.isSafeInteger(first) || !(count > 0) || !Number.isSafeInteger(seed)) {
  throw new Error(
    `usage: run-efficiency.ts <${Object.keys(loaders).join("|")}> <first> <count> <seed> [reuse]`,
  );
}
const reuse = mode === "reuse";
const create = await load();
const gc = (globalThis as { gc?: () => void }).gc;
const rounds: unknown[] = [];
const counters: Record<string, number> = {};
let p: EfficiencyPeer<unknown> | null = null;
for (let r = first; r < first + count; r++) {
  if (!reuse || p === null) {
    p = null;
    gc?.();
    p = create(ARENA_BYTES);
  }
  const { result, live } = runRound(p.subject, r, seed);
  const breakdown = p.breakdown(result);
  let drainError: string | null;
  try {
    drainError = p.drain(live.handles, !reuse);
  } catch (e) {
    drainError = String(e);
  }
  for (const [k, v] of Object.entries(p.counters() ?? {})) counters[k] = (counters[k] ?? 0) + v;
  rounds.push({ ...result, breakdown, drainError });
  process.stderr.write(`progress ${r - first + 1}/${count}\n`);
}
process.stdout.write(`${JSON.stringify({ peer, reuse, rounds, counters })}\n`);
