/**
 * Controlled interleavings: each worker's atomic accesses to the allocator's buffer are
 * scheduling points (see interleave-worker.ts), and the test grants them one at a time, choosing
 * the next worker from a seeded random source that sometimes keeps one worker running for a
 * while and sometimes switches at every step. So a worker is regularly paused in the middle of a
 * claim or a release while the others run, the situations the COAL marks exist for, and each run
 * is reproducible from its seed. After every round (all blocks freed) the allocator must pass
 * check() and be whole, and no page may ever have been handed to two live blocks.
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ConcurrentBuddy } from "../../src/index.js";

const BOOT = new URL("./ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./interleave-worker.ts", import.meta.url).href;

interface Scenario {
  pages: number;
  maxOrder: number;
  orders: number[];
  workers: number;
  rounds: number;
  ops: number;
  seed: number;
  /** Longest expected run of one worker's steps before a switch (1 = switch at every step). */
  maxRun: number;
  /**
   * One worker per round (the victim) is only let run one step at a time, each time after about
   * `maxRun` steps of the others: it is paused inside every read-then-CAS window of its calls
   * while the others allocate and free around it (a preempted thread).
   */
  victim?: boolean;
}

const SEEDS = Number(process.env.INTERLEAVE_SEEDS ?? 1);
const TIMEOUT = 60_000 * SEEDS;

/** Runs `s` once per seed (see SEEDS). */
async function explore(variant: "packed" | "node", s: Scenario): Promise<{ nulls: number; steps: number }> {
  let nulls = 0;
  let steps = 0;
  for (let i = 0; i < SEEDS; i++) {
    const r = await exploreOnce(variant, { ...s, seed: s.seed + 7919 * i });
    nulls += r.nulls;
    steps += r.steps;
  }
  return { nulls, steps };
}

async function exploreOnce(
  variant: "packed" | "node",
  s: Scenario,
): Promise<{ nulls: number; steps: number }> {
  const a = ConcurrentBuddy.create({ size: s.pages, pageSize: 1, maxOrder: s.maxOrder, variant });
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (1 + s.workers)));
  ctrl[0] = -1;
  const owners = new SharedArrayBuffer(4 * s.pages);
  const pool = Array.from(
    { length: s.workers },
    (_, id) =>
      new Worker(BOOT, {
        workerData: {
          entry: ENTRY,
          buffer: a.buffer,
          owners,
          ctrl: ctrl.buffer,
          id,
          rounds: s.rounds,
          seed: s.seed,
          ops: s.ops,
          orders: s.orders,
        },
      }),
  );
  const results = pool.map(
    (w) =>
      new Promise<{ failures: string[]; nulls: number }>((resolve, reject) => {
        w.on("message", (m) => {
          if (m !== "ready") resolve(m);
        });
        w.once("error", reject);
      }),
  );
  await Promise.all(pool.map((w) => new Promise((resolve) => w.once("message", resolve))));
  let x = s.seed | 1;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  let steps = 0;
  try {
    for (let round = 0; round < s.rounds; round++) {
      for (let i = 0; i < s.workers; i++) ctrl[1 + i] = 0;
      Atomics.store(ctrl, 0, round);
      Atomics.notify(ctrl, 0);
      // Per round, how often the schedule switches worker: from every step to rarely.
      const switchOdds = 1 + random(s.maxRun);
      const victim = s.victim ? random(s.workers) : -1;
      let current = -1;
      for (;;) {
        const runnable: number[] = [];
        for (let i = 0; i < s.workers; i++) {
          let g = Atomics.load(ctrl, 1 + i);
          while (g === 0 || g === 2) {
            if (Atomics.wait(ctrl, 1 + i, g, 10_000) === "timed-out") throw new Error(`worker ${i} stuck`);
            g = Atomics.load(ctrl, 1 + i);
          }
          if (g === 1) runnable.push(i);
        }
        if (runnable.length === 0) break;
        if (victim >= 0) {
          const others = runnable.filter((i) => i !== victim);
          current =
            others.length === 0 || (runnable.includes(victim) && random(s.maxRun) === 0)
              ? victim
              : others[random(others.length)];
        } else if (!runnable.includes(current) || random(switchOdds) === 0) {
          current = runnable[random(runnable.length)];
        }
        Atomics.store(ctrl, 1 + current, 2);
        Atomics.notify(ctrl, 1 + current);
        steps++;
      }
      try {
        a.check();
      } catch (e) {
        throw new Error(`seed ${s.seed}, round ${round}: ${String(e)}`);
      }
      expect(a.stats().freePages, `seed ${s.seed}, round ${round}`).toBe(a.pages);
    }
  } finally {
    // Let the workers run free if the controller stopped early.
    Atomics.store(ctrl, 0, s.rounds);
    for (let i = 0; i < s.workers; i++) Atomics.store(ctrl, 1 + i, 2);
    Atomics.notify(ctrl, 0);
  }
  const reports = await Promise.all(results);
  await Promise.all(pool.map((w) => w.terminate()));
  for (const r of reports) expect(r.failures).toEqual([]);
  return { nulls: reports.reduce((n, r) => n + r.nulls, 0), steps };
}

/** The scenarios, each run on both tree variants. */
const SCENARIOS: [name: string, scenario: Scenario][] = [
  [
    "one worker paused inside every step while two others churn the same bunch",
    {
      pages: 32,
      maxOrder: 5,
      orders: [0, 0, 1, 2, 5],
      workers: 3,
      rounds: 250,
      ops: 5,
      seed: 0x7ac7,
      maxRun: 30,
      victim: true,
    },
  ],
  [
    "40 pages in two trees, two workers, very long pauses",
    { pages: 40, maxOrder: 5, orders: [0, 1, 3, 5], workers: 2, rounds: 400, ops: 6, seed: 7780, maxRun: 60 },
  ],
  [
    "16 pages in one bunch, a second tier above: long pauses mid-operation",
    {
      pages: 32,
      maxOrder: 5,
      orders: [0, 0, 1, 5],
      workers: 3,
      rounds: 300,
      ops: 4,
      seed: 0xaba,
      maxRun: 40,
    },
  ],
  [
    "32 pages, two tiers: small blocks against whole-tree blocks",
    {
      pages: 32,
      maxOrder: 5,
      orders: [0, 0, 0, 1, 4, 5],
      workers: 3,
      rounds: 150,
      ops: 6,
      seed: 0x5eed,
      maxRun: 8,
    },
  ],
  [
    "200 pages, three tiers and a phantom tail",
    {
      pages: 200,
      maxOrder: 8,
      orders: [0, 1, 2, 4, 5, 6, 7],
      workers: 3,
      rounds: 100,
      ops: 8,
      seed: 0xabcdef,
      maxRun: 8,
    },
  ],
];

describe.each(["packed", "node"] as const)("controlled interleavings (%s tree)", (variant) => {
  for (const [name, scenario] of SCENARIOS) {
    it(
      name,
      async () => {
        const r = await explore(variant, scenario);
        if (process.env.STRESS_LOG) console.log(r);
      },
      TIMEOUT,
    );
  }
});
