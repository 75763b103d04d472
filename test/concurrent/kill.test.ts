import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ConcurrentBuddy } from "../../src/index.js";
import { bundledWorker, xorshift } from "../worker-bundle.js";
import { SLOTS_AT, type Trial } from "./kill-worker.js";

const TRIALS = Number(process.env.KILL_TRIALS ?? 120);
const PAGES = 4096;
const MAX_ORDER = 10;
const BUDGET = 48;
const WATCHDOG_MS = 10_000;

const bundle = bundledWorker(new URL("./kill-worker.ts", import.meta.url), "buddy-kill-");

/** Resolves once `ready()` holds, polling; rejects after WATCHDOG_MS naming `what`. */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WATCHDOG_MS;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`watchdog: ${what}`);
    await new Promise((r) => setTimeout(r, 0));
  }
}

function newTrial(a: ConcurrentBuddy, seed: number): Trial {
  return {
    buffer: a.buffer,
    live: new SharedArrayBuffer(4 * (SLOTS_AT + BUDGET)),
    stop: new SharedArrayBuffer(4),
    seed,
    budget: BUDGET,
    maxRequestOrder: 6,
  };
}

/** Frees every allocated block, then allocates every top-order block and frees them again. */
function expectWholeAfterFreeing(a: ConcurrentBuddy, at: string): void {
  for (const b of [...a.allocatedBlocks()]) a.free(b.address);
  a.check();
  expect(a.stats().freePages, at).toBe(a.pages);
  const tops: number[] = [];
  for (let r = 0; r < a.pages >> a.maxOrder; r++) {
    const p = a.allocOrder(a.maxOrder);
    expect(p, `${at}: top-order block ${r}`).not.toBeNull();
    tops.push(p!);
  }
  for (const p of tops) a.free(p);
  a.check();
}

describe.each(["packed", "node"] as const)("killed workers are recovered (%s tree)", (variant) => {
  it(`${TRIALS} seeded trials: a victim terminated mid-loop, recovered while a survivor runs`, async () => {
    const survivor = new Worker(bundle(), { workerData: { role: "survivor" } });
    let survivorError: unknown = null;
    survivor.on("error", (e) => {
      survivorError = e;
    });
    const outcomes = { none: 0, alloc: 0, free: 0 };
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        const seed = 0x51ed + 7919 * trial + (variant === "node" ? 104729 : 0);
        const random = xorshift(seed);
        const at = `seed ${seed}`;
        const a = ConcurrentBuddy.create({
          size: PAGES * 4096,
          maxOrder: MAX_ORDER,
          variant,
          threadId: 1_000_000,
        });
        const s = newTrial(a, seed * 3);
        const sLive = new Int32Array(s.live);
        const sDone = new Promise<number>((resolve) => survivor.once("message", resolve));
        survivor.postMessage(s);
        const v = newTrial(a, seed * 5);
        const vLive = new Int32Array(v.live);
        const victim = new Worker(bundle(), { workerData: { role: "victim", trial: v } });
        victim.on("error", () => {});
        // Let the victim fill its slots, then kill it at a seeded moment some operations later.
        const killAt = 200 + random(4000);
        await until(
          () => Atomics.load(vLive, 1) >= killAt,
          `${at}: victim never reached ${killAt} operations`,
        );
        await victim.terminate();
        const victimId = vLive[0];
        // Nobody waits on the dead thread: the survivor keeps going before the recovery...
        const before = Atomics.load(sLive, 1);
        await until(() => Atomics.load(sLive, 1) >= before + 500, `${at}: survivor stalled after the kill`);
        const found = a.recover(victimId);
        outcomes[found]++;
        // ...and after it.
        const after = Atomics.load(sLive, 1);
        await until(() => Atomics.load(sLive, 1) >= after + 500, `${at}: survivor stalled after recover`);
        Atomics.store(new Int32Array(s.stop), 0, 1);
        const survivorId = await Promise.race([
          sDone,
          new Promise<number>((_, reject) =>
            setTimeout(() => reject(new Error(`watchdog: ${at}: survivor did not stop`)), WATCHDOG_MS),
          ),
        ]);
        if (survivorError !== null) throw survivorError;
        expect(a.recover(survivorId), at).toBe("none");

        // Only the victim's blocks are left. check() passes with them in place.
        a.check();
        const allocated = new Map([...a.allocatedBlocks()].map((b) => [b.address, b.order]));
        const recorded: number[] = [];
        for (let i = SLOTS_AT; i < SLOTS_AT + BUDGET; i++) if (vLive[i] !== 0) recorded.push(vLive[i] - 1);
        for (const p of recorded) expect(allocated.has(p), `${at}: recorded block ${p} was freed`).toBe(true);
        const transit = vLive[2] - 1;
        const unknown = [...allocated.keys()].filter((p) => p !== transit && !recorded.includes(p));
        // A block allocated but not yet recorded, only if the victim died between the two.
        expect(
          unknown.length,
          `${at}: unrecorded blocks ${unknown} (recover said ${found})`,
        ).toBeLessThanOrEqual(found === "none" ? 1 : 0);
        expectWholeAfterFreeing(a, at);
      }
    } finally {
      await survivor.terminate();
    }
    if (process.env.STRESS_LOG) console.log(variant, outcomes);
    // Many kills land inside an allocator call (a fifth to a third): the recovery had work to do.
    // (Only asserted over enough trials: a short run, KILL_TRIALS=16 on other Node versions, may
    // by chance land few.)
    if (TRIALS >= 50) expect(outcomes.alloc + outcomes.free).toBeGreaterThan(TRIALS / 10);
  }, 120_000);
});
