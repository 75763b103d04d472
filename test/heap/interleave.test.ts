import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { WAITERS } from "../../src/heap/lock.js";
import { OP_NONE, R_OP, S_RECORD, S_SLABS, slotOfThread } from "../../src/heap/threads.js";
import { Heap } from "../../src/index.js";
import { bundledWorker, xorshift } from "../worker-bundle.js";
import {
  BOOK_WORDS,
  booked,
  CLOSING,
  COMMAND,
  CTRL_WORDS,
  FINISHED,
  GATE,
  GRANTED,
  IN_OP,
  OPS,
  PARKED,
  patternByte,
  RUNNING,
  type Setup,
  THREAD,
  WAITING,
} from "./interleave-worker.js";

const SEEDS = Number(process.env.INTERLEAVE_SEEDS ?? 4);
/** INTERLEAVE_SEED=n runs every scenario with seed n alone (to reproduce a failure). */
const ONLY_SEED = process.env.INTERLEAVE_SEED === undefined ? undefined : Number(process.env.INTERLEAVE_SEED);
const STUCK_MS = 10_000;

const bundle = bundledWorker(new URL("./interleave-worker.ts", import.meta.url), "heap-interleave-");

interface Scenario {
  workers: number;
  ops: number;
  /** Longest expected run of one worker's steps before a switch (1 = switch at every step). */
  maxRun: number;
  /** One worker dies; who recovers it. */
  dies?: "test" | "recoverer";
}

interface Outcome {
  steps: number;
  killed: number;
  /** Kills while the victim held the page lock; while it had a page-level operation recorded. */
  holdingLock: number;
  inFlight: number;
}

/** Most steps of one run: beyond, a thread spins for good (on a lock nobody will release). */
const MAX_STEPS = 200_000;

async function exploreOnce(s: Scenario, seed: number, outcome: Outcome): Promise<void> {
  const at = `seed ${seed}`;
  const random = xorshift(seed);
  const sab = new SharedArrayBuffer(256 << 10);
  const heap = new Heap(sab, { pageSize: 4096, threads: 8 });
  const core = heap.core;
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL_WORDS));
  const owners = new SharedArrayBuffer(sab.byteLength / 4);
  const books = new Int32Array(new SharedArrayBuffer(4 * BOOK_WORDS * s.workers));
  const roles: Setup["role"][] = Array.from({ length: s.workers }, () => "worker");
  if (s.dies === "recoverer") roles.push("recoverer");
  // One at a time, so that each gets the same thread id in every run of the seed.
  const pool: Worker[] = [];
  const reports: Promise<{ failures: string[] }>[] = [];
  try {
    for (let id = 0; id < roles.length; id++) {
      const job: Setup = {
        memory: sab,
        ctrl: ctrl.buffer as SharedArrayBuffer,
        owners,
        books: books.buffer as SharedArrayBuffer,
        id,
        workers: s.workers,
        role: roles[id],
        seed,
        ops: s.ops,
      };
      const w = new Worker(bundle(), { workerData: job });
      pool.push(w);
      const ready = new Promise<void>((resolve, reject) => {
        w.once("message", () => resolve());
        w.once("error", reject);
      });
      reports.push(
        ready.then(
          () =>
            new Promise((resolve, reject) => {
              w.once("message", resolve);
              w.once("error", reject);
            }),
        ),
      );
      await ready;
    }
    for (let id = 0; id < roles.length; id++) waitWhile(ctrl, GATE + id, (g) => g !== PARKED, at);

    // The schedule.
    const switchOdds = 1 + random(s.maxRun);
    const victim = s.dies ? random(s.workers) : -1;
    const victimThread = victim >= 0 ? ctrl[THREAD + victim] : -1;
    // Where the victim may die: at any step of a heap call, only while it holds the page lock, or
    // only while it does not.
    const where = random(3);
    const killOdds = 1 + random(20);
    // Not before this many operations of its script: by then it holds slabs and blocks.
    const killFrom = random(s.ops >> 1);
    const recoverAfter = random(300);
    const active = new Set<number>();
    for (let id = 0; id < s.workers; id++) {
      active.add(id);
      Atomics.store(ctrl, GATE + id, RUNNING);
      Atomics.notify(ctrl, GATE + id);
    }
    let dead = false;
    let recovering = false;
    let sinceKill = 0;
    let current = -1;
    let steps = 0;
    const finished: number[] = [];
    const holder = () => Atomics.load(core.i32, core.lockIndex) & ~WAITERS;
    for (;;) {
      const runnable: number[] = [];
      for (const id of active) {
        const g = waitWhile(ctrl, GATE + id, (v) => v === RUNNING || v === GRANTED, at);
        if (g === WAITING) runnable.push(id);
        else if (g === FINISHED) {
          active.delete(id);
          finished.push(id);
        }
      }
      if (dead && !recovering && (sinceKill >= recoverAfter || runnable.length === 0)) {
        if (s.dies === "recoverer") {
          // The recoverer joins the schedule: its steps interleave with the others'.
          await pool[victim].terminate();
          ctrl[COMMAND] = victimThread + 1;
          active.add(roles.length - 1);
          Atomics.store(ctrl, GATE + roles.length - 1, RUNNING);
          Atomics.notify(ctrl, GATE + roles.length - 1);
          recovering = true;
          continue;
        } else {
          // The test's thread recovers while the others are paused at their steps, once none of
          // them holds the page lock (it cannot wait for a thread it schedules itself).
          const h = holder();
          if (h === 0 || h === victimThread + 1) {
            await pool[victim].terminate();
            heap.recover(victimThread);
            recovering = true;
          }
        }
      }
      if (runnable.length === 0) break;
      let next = current;
      if (!runnable.includes(next) || random(switchOdds) === 0) next = runnable[random(runnable.length)];
      if (
        next === victim &&
        !dead &&
        ctrl[IN_OP + victim] === 1 &&
        ctrl[OPS + victim] >= killFrom &&
        (where === 0 || (where === 1) === (holder() === victimThread + 1)) &&
        random(killOdds) === 0
      ) {
        // The victim dies here: paused for good in the middle of a heap call.
        dead = true;
        outcome.killed++;
        if (holder() === victimThread + 1) outcome.holdingLock++;
        if (
          core.i32[core.slotsBase + core.slotWords * slotOfThread(victimThread) + S_RECORD + R_OP] !== OP_NONE
        ) {
          outcome.inFlight++;
        }
        active.delete(victim);
        ctrl[CLOSING + victim] = 1; // the others hand it nothing more
        continue;
      }
      current = next;
      if (dead) sinceKill++;
      Atomics.store(ctrl, GATE + current, GRANTED);
      Atomics.notify(ctrl, GATE + current);
      if (++steps > MAX_STEPS) throw new Error(`${at}: no end after ${MAX_STEPS} steps`);
    }
    outcome.steps += steps;
    if (process.env.STRESS_LOG) console.log(at, { steps, dead, victim });

    for (const id of finished) expect((await reports[id]).failures, `${at}: worker ${id}`).toEqual([]);
    expect(finished.length, `${at}: workers that finished`).toBe(
      roles.length - (dead ? 1 : 0) - (s.dies === "recoverer" && !dead ? 1 : 0),
    );
    expect(Atomics.load(core.i32, core.lockIndex), `${at}: page lock word`).toBe(0);
    try {
      heap.check();
    } catch (e) {
      throw new Error(`${at}: ${String(e)}`);
    }
    const live = new Map([...heap.liveAllocations()].map((a) => [a.ptr, a]));
    if (!dead) {
      expect([...live.values()], `${at}: live after every worker freed everything`).toEqual([]);
    } else {
      const { named, transit, pending } = booked(books, victim);
      const bytes = new Uint8Array(sab);
      for (const [p, size] of named) {
        expect(live.get(p)?.size, `${at}: the dead worker's block ${p}`).toBe(size);
      }
      // Its block in transit may be live or not. Any other live block must be named, but for at
      // most one it was allocating: of the size it asked for, its own (or, in a slab, another
      // worker's if that worker adopted the dead thread's slabs when it ran out of pages).
      const unnamed = [...live.values()]
        .filter((a) => !named.has(a.ptr) && a.ptr !== transit)
        .map(({ ptr, size, thread }) => ({ ptr, size, thread }));
      const adopted = core.i32[core.slotsBase + core.slotWords * slotOfThread(victimThread) + S_SLABS] === 0;
      const allowed = (a: { size: number; thread: number }) =>
        a.size === pending && (a.thread === victimThread || (adopted && a.size <= heap.maxSmall));
      expect(unnamed, `${at}: live blocks nobody names (pending request: ${pending} bytes)`).toEqual(
        unnamed.length === 1 && allowed(unnamed[0]) ? unnamed : [],
      );
      // Its named blocks still hold their patterns (nothing was handed out over them).
      const tags = new Int32Array(owners);
      for (const [p, size] of named) {
        const tag = tags[p >>> 4];
        for (let i = 0; i < size; i += 16) {
          expect(bytes[p + i], `${at}: block ${p} byte ${i}`).toBe(patternByte(tag, i));
        }
      }
      for (const p of live.keys()) heap.free(p);
    }
    heap.check();
    heap.trim();
    heap.check();
    const st = heap.stats();
    expect(st.freeBytes, `${at}: free bytes after trim`).toBe(st.pageBytes);
    const most = heap.pageSize * 2 ** core.layout.maxOrder;
    for (let left = st.pageBytes; left > 0; left -= most) {
      expect(heap.malloc(Math.min(left, most)), `${at}: large block with ${left} bytes left`).not.toBeNull();
    }
    expect(heap.malloc(1), `${at}: a full heap`).toBeNull();
  } finally {
    // Let every worker run free if the schedule stopped early.
    for (let id = 0; id < roles.length; id++) Atomics.store(ctrl, GATE + id, GRANTED);
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** Waits while `busy(word)` holds; @returns the word. */
function waitWhile(ctrl: Int32Array, index: number, busy: (v: number) => boolean, at: string): number {
  let g = Atomics.load(ctrl, index);
  while (busy(g)) {
    if (Atomics.wait(ctrl, index, g, STUCK_MS) === "timed-out") {
      throw new Error(`${at}: worker ${index - GATE} stuck (gate ${g})`);
    }
    g = Atomics.load(ctrl, index);
  }
  return g;
}

const SCENARIOS: [name: string, scenario: Scenario, seed: number][] = [
  ["three workers, no death, long runs", { workers: 3, ops: 60, maxRun: 40 }, 0x1e1],
  ["three workers, no death, a switch at almost every step", { workers: 3, ops: 60, maxRun: 2 }, 0x2e2],
  [
    "two workers, one dies, the test's thread recovers it",
    { workers: 2, ops: 80, maxRun: 20, dies: "test" },
    0x3e3,
  ],
  [
    "three workers, one dies, the test's thread recovers it",
    { workers: 3, ops: 80, maxRun: 8, dies: "test" },
    0x4e4,
  ],
  [
    "three workers, one dies, a recoverer recovers it among the others' steps",
    { workers: 3, ops: 80, maxRun: 8, dies: "recoverer" },
    0x5e5,
  ],
  [
    "two workers, one dies, a recoverer recovers it, long runs",
    { workers: 2, ops: 80, maxRun: 40, dies: "recoverer" },
    0x6e6,
  ],
];

describe("controlled interleavings of a threaded heap", () => {
  for (const [name, scenario, seed] of SCENARIOS) {
    it(
      `${name} (${ONLY_SEED === undefined ? `${SEEDS} seeds` : `seed ${ONLY_SEED}`})`,
      async () => {
        const outcome: Outcome = { steps: 0, killed: 0, holdingLock: 0, inFlight: 0 };
        if (ONLY_SEED !== undefined) await exploreOnce(scenario, ONLY_SEED, outcome);
        else for (let i = 0; i < SEEDS; i++) await exploreOnce(scenario, seed + 7919 * i, outcome);
        if (process.env.STRESS_LOG) console.log(name, outcome);
        if (scenario.dies) expect(outcome.killed, "seeds where the victim died").toBeGreaterThan(0);
      },
      60_000 + 20_000 * SEEDS,
    );
  }
});
