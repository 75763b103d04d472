/**
 * Why a peer is where it is on the suballocation workload (not part of `bench:page`):
 *   npx tsx bench/suballoc/diagnose.ts [exact|pow2|first-fit]
 * Replays phases 1 and 2 of workload.ts (the same stream, so every replay makes the same calls)
 * on one peer through a wrapper:
 * - at the first null, the free memory sorted into contiguous runs by size;
 * - during the churn, each allocation sorted by path: a free block of the request's order or
 *   above existed (buddy peers cut one block, O(maxOrder)), none did and the allocation still
 *   succeeded (exact: found across adjacent free blocks by runs.ts findRun), or null (findRun
 *   looked everywhere). The path is read from stats() in one replay; later replays call nothing
 *   else (stats() walks the free lists and would leave the caches cold) and time the churn as a
 *   whole and the slow-path calls one by one (microseconds each, so the timer's own ~50 ns is
 *   noise there; timing every call alone was tried and its means were dominated by the timer).
 * The last of three timed replays is reported, so the JIT is warm.
 */
import { createPeer, SUBALLOC_PEERS, type SubPeerName } from "./peers.js";
import { BUFFER, runSuballoc, type SubPeer } from "./workload.js";

const name = (process.argv[2] ?? "exact") as SubPeerName;
if (!SUBALLOC_PEERS.includes(name)) throw new Error(`peer must be one of ${SUBALLOC_PEERS.join(", ")}`);

const MiB = 2 ** 20;
const fmtMiB = (b: number) => `${(b / MiB).toFixed(2)} MiB`;
const PATHS = ["block", "across", "null"] as const;

/** Replays phases 1-2; `onChurnAlloc` / `onChurnFree` wrap each churn call. */
function replay(
  onFirstNull: (p: SubPeer) => void,
  onChurnAlloc: (p: SubPeer, pages: number, bytes: number) => number | null,
  onChurnFree: (p: SubPeer, address: number) => void,
) {
  const inner = createPeer(name);
  let filling = true;
  const wrapper: SubPeer = {
    ...inner,
    alloc(pages, bytes) {
      if (!filling) return onChurnAlloc(inner, pages, bytes);
      const address = inner.alloc(pages, bytes);
      if (address === null) {
        onFirstNull(inner);
        filling = false;
      }
      return address;
    },
    free: (address) => (filling ? inner.free(address) : onChurnFree(inner, address)),
  };
  const { result, drain } = runSuballoc(wrapper, 1);
  inner.check();
  drain();
  const drained = inner.verifyDrained();
  if (drained) throw new Error(drained);
  return result;
}

// Replay 1: paths and the free runs at the first null.
const histogram = new Map<number, { runs: number; bytes: number }>();
let largestBlockAtNull = 0;
const path: number[] = [];
replay(
  (p) => {
    largestBlockAtNull = p.largestFreeBlock();
    let start = -1;
    let end = -1;
    const close = () => {
      if (start < 0) return;
      const k = Math.ceil(Math.log2((end - start) / BUFFER.pageSize));
      const h = histogram.get(k) ?? { runs: 0, bytes: 0 };
      h.runs++;
      h.bytes += end - start;
      histogram.set(k, h);
    };
    for (const [a, b] of p.freePieces()) {
      if (a !== end) {
        close();
        start = a;
      }
      end = a + b;
    }
    close();
  },
  (p, pages, bytes) => {
    const hasBlock = p.largestFreeBlock() >= BUFFER.pageSize * 2 ** Math.ceil(Math.log2(pages));
    const address = p.alloc(pages, bytes);
    path.push(address === null ? 2 : hasBlock ? 0 : 1);
    return address;
  },
  (p, address) => p.free(address),
);

// Replays 2-4: the churn timed as a whole (ChurnResult.ns), and the calls that took a slow path
// each timed alone (microseconds each: the timer's own cost does not matter there).
const slowNs = [0, 0, 0];
let result = null as ReturnType<typeof replay> | null;
for (let r = 0; r < 3; r++) {
  let i = 0;
  slowNs.fill(0);
  result = replay(
    () => {},
    (p, pages, bytes) => {
      const kind = path[i++];
      if (kind === 0) return p.alloc(pages, bytes);
      const t0 = process.hrtime.bigint();
      const address = p.alloc(pages, bytes);
      slowNs[kind] += Number(process.hrtime.bigint() - t0);
      return address;
    },
    (p, address) => p.free(address),
  );
}
const { fill: f, churn: c } = result!;

console.log(`${name}:\n`);
console.log(`phase 1, first null after ${f.liveAllocations} allocations:`);
console.log(
  `  buffer ${fmtMiB(BUFFER.bytes)} = requested ${fmtMiB(f.requestedBytes)} (${(100 * f.requestedShare).toFixed(2)}%)` +
    ` + rounding to 256 B ${fmtMiB(f.pageBytes - f.requestedBytes)}` +
    ` + beyond the pages (power-of-two blocks) ${fmtMiB(f.heldBytes - f.pageBytes)}` +
    ` + free ${fmtMiB(f.freeBytes)} (${((100 * f.freeBytes) / BUFFER.bytes).toFixed(2)}%)`,
);
console.log(
  `  failing request ${fmtMiB(f.failingRequest)}; largest contiguous free run ${fmtMiB(f.largestFreeRun)}` +
    `, largest free block ${fmtMiB(largestBlockAtNull)}, ${f.freeRuns} free runs`,
);
console.log("  free memory by contiguous run size (runs of at most that size):");
let cumulative = 0;
for (const [k, h] of [...histogram.entries()].sort((a, b) => a[0] - b[0])) {
  cumulative += h.bytes;
  const size = BUFFER.pageSize * 2 ** k;
  console.log(
    `    <= ${size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`}`.padEnd(16) +
      `${String(h.runs).padStart(5)} runs ${fmtMiB(h.bytes).padStart(11)}   cumulative ${fmtMiB(cumulative)}`,
  );
}

const counts = [0, 0, 0];
for (const k of path) counts[k]++;
const slowTotal = slowNs[1] + slowNs[2];
console.log(
  `\nphase 2 (${c.ops} ops, ${c.allocs} allocations, ${c.failures} null), ${(c.ns / 1e6).toFixed(0)} ms in all:`,
);
console.log(
  `  block   ${String(counts[0]).padStart(7)} calls: a free block of the request's order or above existed`,
);
for (const k of [1, 2]) {
  console.log(
    `  ${PATHS[k].padEnd(7)} ${String(counts[k]).padStart(7)} calls: ${(slowNs[k] / 1e6).toFixed(1)} ms` +
      ` (${((100 * slowNs[k]) / c.ns).toFixed(1)}% of the phase), mean ${(counts[k] ? slowNs[k] / counts[k] / 1e3 : 0).toFixed(1)} us`,
  );
}
console.log(
  `  everything else (block-path allocations, frees, bookkeeping): ${((c.ns - slowTotal) / c.ops).toFixed(0)} ns per op;` +
    ` all of it ${(c.ns / c.ops).toFixed(0)} ns per op`,
);
console.log(
  `  fragmentation ${c.fragmentation.toFixed(3)}, over contiguous runs ${c.runFragmentation.toFixed(3)}` +
    "  (across: no such block, the allocation succeeded anyway; null: it failed)",
);
