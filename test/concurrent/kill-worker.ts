/**
 * Worker of the kill test (not a test file; bundled by kill.test.ts so it starts fast). It runs
 * a busy alloc/free loop on a ConcurrentBuddy and keeps the blocks it holds where the test can
 * read them, so that the test can kill it at any moment and still know what it held:
 *
 *   live[0]          its thread id (written once attached, before the loop)
 *   live[1]          operations done (alloc or free calls that returned)
 *   live[2]          the block being freed, address + 1 (0: none): set before the block leaves
 *                    its slot and cleared after free returns, so a free cut off names its block
 *   live[3]          1 once the loop has stopped and every block is freed (survivors only)
 *   live[4 + i]      slot i: a block held, address + 1 (0: empty)
 *
 * An allocation cut off between `allocOrder` returning and the slot store leaves one block the
 * list does not name; the test finds it in `allocatedBlocks()` (at most one).
 *
 * A victim runs until it is terminated. A survivor runs trials: for each message {buffer, live,
 * stop, seed} it attaches, loops until stop[0] is set, frees everything, sets live[3] and posts
 * its thread id; it never waits on anything but the test's messages.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { ConcurrentBuddy } from "../../src/index.js";

/** What the test sends: one trial's allocator and shared words. */
export interface Trial {
  buffer: SharedArrayBuffer;
  live: SharedArrayBuffer;
  stop: SharedArrayBuffer;
  seed: number;
  /** Most blocks held at once (slots). */
  budget: number;
  /** Largest order requested. */
  maxRequestOrder: number;
}

/** Header words of `live` before the slots. */
export const SLOTS_AT = 4;

function run(t: Trial, victim: boolean): void {
  const a = ConcurrentBuddy.attach(t.buffer);
  const live = new Int32Array(t.live);
  const stop = new Int32Array(t.stop);
  Atomics.store(live, 0, a.threadId);
  let x = t.seed | 0 || 1;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  let ops = 0;
  while (victim || Atomics.load(stop, 0) === 0) {
    const i = SLOTS_AT + random(t.budget);
    const held = live[i];
    if (held === 0) {
      let k = 0;
      while (k < t.maxRequestOrder && random(2) === 0) k++;
      const p = a.allocOrder(k);
      if (p !== null) live[i] = p + 1;
    } else {
      live[2] = held;
      live[i] = 0;
      a.free(held - 1);
      live[2] = 0;
    }
    live[1] = ++ops;
  }
  for (let i = SLOTS_AT; i < SLOTS_AT + t.budget; i++) {
    if (live[i] !== 0) a.free(live[i] - 1);
    live[i] = 0;
  }
  Atomics.store(live, 3, 1);
  // A survivor's handle ends with its trial: its record goes back to the pool.
  if (!victim) parentPort!.postMessage(a.threadId);
}

// The test imports this module for its types and SLOTS_AT: only a worker runs.
if (!isMainThread) {
  const job = workerData as { role: "victim" | "survivor"; trial?: Trial };
  if (job.role === "victim") run(job.trial!, true);
  else parentPort!.on("message", (t: Trial) => run(t, false));
}
