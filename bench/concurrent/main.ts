/**
 * `npm run bench:concurrent`: the concurrent allocator's throughput table (see run.ts), then its
 * placement table (placement.ts: one thread, ConcurrentBuddy beside BuddyAllocator on the same
 * seeded stream, at 50% and 85% live).
 * Usage: tsx bench/concurrent/main.ts [--workers 1,2,4] [--ops N] [--runs R] [--size-mib M]
 *   [--page-size B] [--max-order K] [--live L] [--max-request-order K]
 *   [--kinds packed,node,heap,locked,page] [--json]
 *   [--placement-only] [--no-placement] [--placement-ops N] [--placement-seed S]
 *   [--placement-variant packed|node]
 * Default worker counts: 1, 2, then doubling up to the machine's available parallelism.
 * `--placement-only` skips the throughput rounds (a few seconds in all).
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { comparePlacement, type PlacementPair, placementTable } from "./placement.js";
import { type ConcurrentBenchOptions, KINDS, runConcurrentBench, table } from "./run.js";
import type { Kind } from "./worker.js";

const { values } = parseArgs({
  options: {
    workers: { type: "string" },
    ops: { type: "string", default: "2000000" },
    runs: { type: "string", default: "7" },
    "size-mib": { type: "string", default: "128" },
    "page-size": { type: "string", default: "4096" },
    "max-order": { type: "string" },
    live: { type: "string", default: "256" },
    "max-request-order": { type: "string", default: "4" },
    kinds: { type: "string" },
    json: { type: "boolean", default: false },
    "placement-only": { type: "boolean", default: false },
    "no-placement": { type: "boolean", default: false },
    "placement-ops": { type: "string", default: "200000" },
    "placement-seed": { type: "string", default: "625341585" },
    "placement-variant": { type: "string", default: "packed" },
  },
});

function defaultWorkers(): number[] {
  const out = [1, 2];
  for (let n = 4; n <= availableParallelism(); n *= 2) out.push(n);
  return out;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return n;
}

function kind(text: string): Kind {
  if (!KINDS.includes(text as Kind)) throw new Error(`--kinds takes ${KINDS.join(",")}, got ${text}`);
  return text as Kind;
}

const size = positive("size-mib", values["size-mib"]!) * 2 ** 20;
const pageSize = positive("page-size", values["page-size"]!);
const pages = size / pageSize;
const options: ConcurrentBenchOptions = {
  workers: values.workers ? values.workers.split(",").map((w) => positive("workers", w)) : defaultWorkers(),
  ops: positive("ops", values.ops!),
  runs: positive("runs", values.runs!),
  size,
  pageSize,
  maxOrder: values["max-order"]
    ? positive("max-order", values["max-order"])
    : Math.min(20, Math.floor(Math.log2(pages))),
  live: positive("live", values.live!),
  maxRequestOrder: positive("max-request-order", values["max-request-order"]!),
  kinds: values.kinds ? values.kinds.split(",").map(kind) : undefined,
  log: values.json ? undefined : (line) => console.error(line),
};

const variant = values["placement-variant"];
if (variant !== "packed" && variant !== "node") {
  throw new Error(`--placement-variant takes packed or node, got ${variant}`);
}
const placement = {
  ops: positive("placement-ops", values["placement-ops"]!),
  seed: positive("placement-seed", values["placement-seed"]!),
  variant: variant as "packed" | "node",
};

const results = values["placement-only"] ? [] : await runConcurrentBench(options);
const pairs: PlacementPair[] = values["no-placement"] ? [] : comparePlacement([0.5, 0.85], placement);
if (values.json) {
  console.log(
    JSON.stringify(
      { options: { ...options, log: undefined }, results, placement: { ...placement, pairs } },
      null,
      2,
    ),
  );
} else {
  if (!values["placement-only"]) {
    console.log(
      `\n${options.size / 2 ** 20} MiB in ${options.pageSize}-byte pages, maxOrder ${options.maxOrder}; ` +
        `${options.ops} ops per worker, at most ${options.live} live blocks each, orders 0..${options.maxRequestOrder}; ` +
        `median of ${options.runs} runs; ${availableParallelism()} CPUs\n`,
    );
    console.log(table(results));
  }
  if (pairs.length > 0) console.log(`\n${placementTable(pairs, placement)}`);
}
