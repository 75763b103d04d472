/**
 * Replays an {@link OpList} against a {@link SimTarget}, timing the operations and sampling usage
 * and fragmentation over time. An allocation that fails is counted and its slot stays empty; a
 * later free of that slot is skipped (counted, not an error), so one trace can be replayed on
 * allocators of any capacity.
 *
 * Timing covers the replay loop: the allocator calls plus the replay's accounting on every
 * operation (`reservedBytes`, a few typed-array stores). Sampling (`usage()`, a walk of the free
 * blocks) and progress callbacks happen between timed chunks and are not counted, but their
 * effects on caches and the garbage collector are. To time the allocator alone, use `timeOps`
 * (timing.ts), as `buddy-alloc simulate` does for its ns/op column.
 */
import type { SeriesPoint } from "../viz/types.js";
import { OP_ALLOC, type OpList } from "./ops.js";
import type { SimTarget } from "./target.js";

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Points in the time series, besides the one before the first operation (default 200). */
  samples?: number;
  /** Called between chunks with operations done and the total (e.g. to draw a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/** What a replay measured. Bytes unless named otherwise. */
export interface ReplayResult {
  /** Operations in the list (allocations + frees, including failed and skipped ones). */
  operations: number;
  /** Allocations that succeeded. */
  allocations: number;
  /** Frees performed. */
  frees: number;
  /** Allocations that returned null. */
  failures: number;
  /** Frees skipped because their allocation had failed. */
  skippedFrees: number;
  /** Wall-clock nanoseconds per operation of the replay loop, its accounting included (see `timeOps` for the allocator alone). */
  nsPerOp: number;
  /** Milliseconds spent in the timed loop. */
  elapsedMs: number;
  /** Most bytes held by live blocks at once (as the allocator rounds them). */
  peakUsedBytes: number;
  /** Most bytes requested and live at once. */
  peakRequestedBytes: number;
  /** Bytes held by live blocks at the end (equals the allocator's own allocated bytes). */
  usedBytes: number;
  /** Bytes requested and still live at the end. */
  requestedBytes: number;
  /** Rounding waste at the end: bytes held by live blocks beyond what was requested (`usedBytes - requestedBytes`). */
  wasteBytes: number;
  /**
   * Rounding waste over the run: of the bytes held by live blocks, the share beyond what was
   * requested, over the samples of the time series weighted by the bytes held there
   * (`sum(used - requested) / sum(used)`; 0..1, 0 when nothing was ever held at a sample).
   */
  meanWasteShare: number;
  /** Blocks live at the end. */
  liveBlocks: number;
  /** Fragmentation at the end (0..1). */
  fragmentation: number;
  /** The highest fragmentation among the samples (0..1). */
  maxFragmentation: number;
  /** The time series: one point before the first operation, then about `samples` more. */
  series: SeriesPoint[];
}

/**
 * Runs every operation of `ops` on `target`, in order.
 * @throws whatever the target throws (AllocError) on a free it rejects: a corrupt list, never a
 *   consequence of a failed allocation.
 */
export function replay(ops: OpList, target: SimTarget, options: ReplayOptions = {}): ReplayResult {
  const samples = Math.max(1, Math.floor(options.samples ?? 200));
  const chunk = Math.max(1, Math.ceil(ops.length / samples));
  const address = new Float64Array(ops.slots).fill(-1);
  const reserved = new Float64Array(ops.slots);
  const requested = new Float64Array(ops.slots);
  const { kind, slot, size, tag } = ops;
  let allocations = 0;
  let frees = 0;
  let failures = 0;
  let skippedFrees = 0;
  let used = 0;
  let asked = 0;
  let peakUsed = 0;
  let peakAsked = 0;
  let live = 0;
  let elapsed = 0;
  const series: SeriesPoint[] = [point(0)];
  let maxFragmentation = series[0].fragmentation;

  function point(op: number): SeriesPoint {
    const u = target.usage();
    return { op, usedBytes: used, requestedBytes: asked, fragmentation: u.fragmentation, failures };
  }

  for (let from = 0; from < ops.length; from += chunk) {
    const to = Math.min(ops.length, from + chunk);
    const started = performance.now();
    for (let i = from; i < to; i++) {
      const s = slot[i];
      if (kind[i] === OP_ALLOC) {
        const a = target.alloc(size[i], tag[i]);
        if (a === null) {
          failures++;
          continue;
        }
        address[s] = a;
        const r = target.reservedBytes(size[i], a);
        reserved[s] = r;
        requested[s] = size[i];
        used += r;
        asked += size[i];
        live++;
        allocations++;
        if (used > peakUsed) peakUsed = used;
        if (asked > peakAsked) peakAsked = asked;
      } else {
        const a = address[s];
        if (a < 0) {
          skippedFrees++;
          continue;
        }
        target.free(a);
        address[s] = -1;
        used -= reserved[s];
        asked -= requested[s];
        live--;
        frees++;
      }
    }
    elapsed += performance.now() - started;
    const p = point(to);
    series.push(p);
    if (p.fragmentation > maxFragmentation) maxFragmentation = p.fragmentation;
    options.onProgress?.(to, ops.length);
  }
  return {
    operations: ops.length,
    allocations,
    frees,
    failures,
    skippedFrees,
    nsPerOp: ops.length === 0 ? 0 : (elapsed * 1e6) / ops.length,
    elapsedMs: elapsed,
    peakUsedBytes: peakUsed,
    peakRequestedBytes: peakAsked,
    usedBytes: used,
    requestedBytes: asked,
    wasteBytes: used - asked,
    meanWasteShare: meanWasteShare(series),
    liveBlocks: live,
    fragmentation: series[series.length - 1].fragmentation,
    maxFragmentation,
    series,
  };
}

/**
 * The share of held bytes that is rounding waste, over the points of a time series weighted by
 * the bytes held at each: `sum(used - requested) / sum(used)`, 0..1 (0 when nothing is held).
 */
export function meanWasteShare(series: readonly SeriesPoint[]): number {
  let held = 0;
  let waste = 0;
  for (const p of series) {
    held += p.usedBytes;
    waste += p.usedBytes - p.requestedBytes;
  }
  return held === 0 ? 0 : waste / held;
}
