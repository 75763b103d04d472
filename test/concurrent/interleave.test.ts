/**
 * Controlled interleavings: each worker's atomic accesses to the allocator's buffer are
 * scheduling points (see interleave-worker.ts), and the test grants them one at a time, choosing
 * the next worker from a seeded random source that sometimes keeps one worker running for a
 * while and sometimes switches at every step. So a worker is regularly paused in the middle of a
 * claim or a release while the others run, the situations the COAL marks exist for, and each run
 * is reproducible from its seed. After every round (all blocks freed) the allocator must pass
 * check() and be whole, and no page may ever have been handed to two live blocks.
 *
 * Deaths (`deaths`): each round one worker dies in the middle of an alloc or free (at a seeded
 * atomic step it is never granted again, see interleave-worker.ts) and another worker recovers
 * it under the schedule while the third keeps going (or the test does, after the round, when the
 * supervisor's script ended first). After the round: check() passes with the dead worker's
 * blocks still allocated, they are exactly the blocks it held (plus the one it was freeing, if
 * that free was cut off before it took the block), and once they are freed the memory is whole
 * and every top-order block can be allocated.
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
  /** One worker per round dies at one of its first `deaths` atomic steps inside alloc/free calls. */
  deaths?: number;
}

/** Recoveries by outcome, and by whom: a worker under the schedule, or the test after the round. */
interface Recoveries {
  deaths: number;
  byWorker: number;
  byTest: number;
  none: number;
  alloc: number;
  free: number;
}

const SEEDS = Number(process.env.INTERLEAVE_SEEDS ?? 1);
const TIMEOUT = 60_000 * SEEDS;

/** Runs `s` once per seed (see SEEDS). */
interface Outcome {
  nulls: number;
  steps: number;
  rec: Recoveries;
}

async function explore(variant: "packed" | "node", s: Scenario): Promise<Outcome> {
  const total: Outcome = { nulls: 0, steps: 0, rec: noRecoveries() };
  for (let i = 0; i < SEEDS; i++) {
    const r = await exploreOnce(variant, { ...s, seed: s.seed + 7919 * i });
    total.nulls += r.nulls;
    total.steps += r.steps;
    for (const key of Object.keys(r.rec) as (keyof Recoveries)[]) total.rec[key] += r.rec[key];
  }
  return total;
}

function noRecoveries(): Recoveries {
  return { deaths: 0, byWorker: 0, byTest: 0, none: 0, alloc: 0, free: 0 };
}

async function exploreOnce(variant: "packed" | "node", s: Scenario): Promise<Outcome> {
  // With deaths the test's own handle needs an id no worker has (it may recover them).
  const threadId = s.deaths ? 1000 : undefined;
  const a = ConcurrentBuddy.create({ size: s.pages, pageSize: 1, maxOrder: s.maxOrder, variant, threadId });
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (4 + s.workers)));
  ctrl[0] = -1;
  const VICTIM = 1 + s.workers;
  const DEATH_STEP = 2 + s.workers;
  const DEAD_ID = 3 + s.workers;
  ctrl[VICTIM] = -1;
  ctrl[DEAD_ID] = -1;
  const graves = new SharedArrayBuffer(4 * 64 * s.workers);
  const rec = noRecoveries();
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
          graves,
          workers: s.workers,
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
      new Promise<{
        failures: string[];
        nulls: number;
        recovered: Record<"none" | "alloc" | "free", number>;
      }>((resolve, reject) => {
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
      if (s.deaths) {
        ctrl[VICTIM] = random(s.workers);
        ctrl[DEATH_STEP] = 1 + random(s.deaths);
      }
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
      if (s.deaths) buryVictim(a, round, s, ctrl, new Int32Array(graves), new Int32Array(owners), rec);
      try {
        a.check();
      } catch (e) {
        throw new Error(`seed ${s.seed}, round ${round}: ${String(e)}`);
      }
      expect(a.stats().freePages, `seed ${s.seed}, round ${round}`).toBe(a.pages);
      if (s.deaths) expectTopBlocks(a, `seed ${s.seed}, round ${round}`);
    }
  } finally {
    // Let the workers run free if the controller stopped early.
    Atomics.store(ctrl, 0, s.rounds);
    for (let i = 0; i < s.workers; i++) Atomics.store(ctrl, 1 + i, 2);
    Atomics.notify(ctrl, 0);
  }
  const reports = await Promise.all(results);
  await Promise.all(pool.map((w) => w.terminate()));
  for (const r of reports) {
    expect(r.failures).toEqual([]);
    for (const key of ["none", "alloc", "free"] as const) {
      rec[key] += r.recovered[key];
      rec.byWorker += r.recovered[key];
    }
  }
  return { nulls: reports.reduce((n, r) => n + r.nulls, 0), steps, rec };
}

/**
 * After a round with a death: recovers the dead handle if its supervisor did not, checks the
 * tree with its blocks still allocated and that they are the blocks it held, then frees them.
 */
function buryVictim(
  a: ConcurrentBuddy,
  round: number,
  s: Scenario,
  ctrl: Int32Array,
  graves: Int32Array,
  owners: Int32Array,
  rec: Recoveries,
): void {
  const at = `seed ${s.seed}, round ${round}`;
  const v = ctrl[1 + s.workers];
  const grave = graves.subarray(64 * v, 64 * v + 64);
  if (grave[63] !== round + 1) return;
  rec.deaths++;
  const dead = ctrl[3 + s.workers];
  if (dead >= 0) {
    rec[a.recover(dead)]++;
    rec.byTest++;
    ctrl[3 + s.workers] = -1;
  }
  try {
    a.check();
  } catch (e) {
    throw new Error(`${at}, after recovering worker ${v}: ${String(e)}`);
  }
  const held = Array.from(grave.subarray(2, 2 + grave[0]));
  const freeing = grave[1] - 1;
  const live = [...a.allocatedBlocks()].map((b) => b.address);
  // The free cut off took its block or not: either way nothing else is left allocated.
  const expected = [...held, ...(live.includes(freeing) ? [freeing] : [])].sort((x, y) => x - y);
  expect(live, at).toEqual(expected);
  for (const p of live) a.free(p);
  for (let p = 0; p < owners.length; p++) if (owners[p] === v + 1) owners[p] = 0;
}

/** Every top-order block can be allocated (then they are freed again). */
function expectTopBlocks(a: ConcurrentBuddy, at: string): void {
  const tops: number[] = [];
  for (let r = 0; r < Math.floor(a.pages / 2 ** a.maxOrder); r++) {
    const p = a.allocOrder(a.maxOrder);
    expect(p, `${at}: top-order block ${r}`).not.toBeNull();
    tops.push(p!);
  }
  for (const p of tops) a.free(p);
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

/** Scenarios where a worker dies each round and is recovered (see the top of this file). */
const DEATH_SCENARIOS: [name: string, scenario: Scenario][] = [
  [
    "a worker dies mid-call each round in 32 pages, two tiers; another recovers it while a third runs",
    {
      pages: 32,
      maxOrder: 5,
      orders: [0, 0, 1, 2, 4, 5],
      workers: 3,
      rounds: 200,
      ops: 6,
      seed: 0xdead,
      maxRun: 8,
      deaths: 40,
    },
  ],
  [
    "a worker dies mid-call each round in 200 pages, three tiers and a phantom tail",
    {
      pages: 200,
      maxOrder: 8,
      orders: [0, 1, 2, 4, 6, 8],
      workers: 3,
      rounds: 100,
      ops: 8,
      seed: 0xbeef,
      maxRun: 20,
      deaths: 60,
    },
  ],
];

describe.each(["packed", "node"] as const)("controlled interleavings with deaths (%s tree)", (variant) => {
  for (const [name, scenario] of DEATH_SCENARIOS) {
    it(
      name,
      async () => {
        const { rec } = await explore(variant, scenario);
        if (process.env.STRESS_LOG) console.log(rec);
        // Most rounds have a death, recovered mostly by a worker under the schedule, and the
        // recoveries found allocations and frees in flight.
        expect(rec.deaths).toBeGreaterThan(scenario.rounds * SEEDS * 0.5);
        expect(rec.byWorker).toBeGreaterThan(rec.deaths * 0.3);
        expect(rec.alloc).toBeGreaterThan(0);
        expect(rec.free).toBeGreaterThan(0);
      },
      TIMEOUT,
    );
  }
});

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
