/**
 * Timing of an allocator alone on an operation list. `replay` measures what happened (use,
 * fragmentation, waste, the time series) and does bookkeeping for it on every operation; here
 * only the allocator's own calls run inside the clock: each pass replays the operations on a
 * fresh target with nothing else but reading the list and keeping each live block's address.
 */
import { OP_ALLOC, type OpList } from "./ops.js";
import type { SimTarget } from "./target.js";

/** Options of {@link timeOps}. */
export interface TimeOptions {
  /** Timed passes, each on a fresh target; the fastest counts (default 2). */
  passes?: number;
  /** Called after each pass with the passes done and the total (e.g. to draw a progress bar). */
  onPass?: (done: number, passes: number) => void;
}

/** What {@link timeOps} measured. */
export interface OpTiming {
  /** Wall-clock nanoseconds per operation of the fastest pass. */
  nsPerOp: number;
  /** Milliseconds of the fastest pass. */
  elapsedMs: number;
  /** Milliseconds of each pass, in order. */
  passMs: number[];
}

/**
 * Times `target.alloc` and `target.free` over `ops`: `passes` times, each on a new target from
 * `make`, with one clock reading before and after the whole list. Nothing else is called on the
 * targets (no usage, no reservedBytes). Failed allocations cost their call; frees of blocks that
 * failed are skipped, as in `replay`. Warm the code up first (a `replay` of the same list does)
 * and expect noise from the machine: `npm run bench` is the place for careful numbers.
 * @throws whatever the target throws (a free it rejects: a corrupt list).
 */
export function timeOps(ops: OpList, make: () => SimTarget, options: TimeOptions = {}): OpTiming {
  const passes = Math.max(1, Math.floor(options.passes ?? 2));
  const passMs: number[] = [];
  for (let p = 0; p < passes; p++) {
    passMs.push(timedPass(ops, make()));
    options.onPass?.(p + 1, passes);
  }
  const elapsedMs = Math.min(...passMs);
  return { nsPerOp: ops.length === 0 ? 0 : (elapsedMs * 1e6) / ops.length, elapsedMs, passMs };
}

function timedPass(ops: OpList, target: SimTarget): number {
  const address = new Float64Array(ops.slots).fill(-1);
  const { kind, slot, size, tag } = ops;
  const n = ops.length;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const s = slot[i];
    if (kind[i] === OP_ALLOC) {
      const a = target.alloc(size[i], tag[i]);
      if (a !== null) address[s] = a;
    } else {
      const a = address[s];
      if (a >= 0) {
        target.free(a);
        address[s] = -1;
      }
    }
  }
  return performance.now() - started;
}
