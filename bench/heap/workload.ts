/**
 * The heap benchmark's workloads, written once more in C in native/heap.c so that every peer,
 * JavaScript or native, replays exactly the same operations (as long as no allocation fails):
 *
 * - W3: small objects. Sizes log-uniform over [16, 2048): an octave e in 0..6 drawn uniformly,
 *   then a size uniform in [16 << e, 32 << e). Allocate while fewer than LIVE_TARGET bytes
 *   (half of the 64 MiB pool) are live, else free a uniformly chosen live block.
 * - mixed: the same, except that one request in 16 is a large block, log-uniform over
 *   [4 KiB, 256 KiB) the same way (e in 0..5, size in [4096 << e, 8192 << e)).
 *
 * A failed allocation counts as a failure and frees a random live block instead. Only the
 * operation loop is timed; blocks are not written (the allocators' own cost, nothing else).
 * PRNG: xorshift32 seeded with 0x9E3779B9; `below(n)` is C's uint32 `x % n`, computed without
 * JavaScript's float `%` (a libm call in V8 for values above 2^31).
 */

export type WorkloadName = "W3" | "mixed";
export const WORKLOADS: readonly WorkloadName[] = ["W3", "mixed"];
export const SEED = 0x9e3779b9;
/** The pool every peer gets, and the live bytes the workloads hold. */
export const POOL_BYTES = 64 * 2 ** 20;
export const LIVE_TARGET = POOL_BYTES / 2;
const MAX_LIVE = 1 << 21;

/** What a peer offers the driver: a handle per allocation (a pointer, or an object), null when full. */
export interface HeapSubject<H> {
  malloc(size: number): H | null;
  free(handle: H): void;
}

/** One run's counters; `ns` covers the operation loop only. */
export interface RunResult {
  ops: number;
  ns: number;
  allocs: number;
  frees: number;
  failures: number;
  liveCount: number;
  liveBytes: number;
}

/** The handles still live after a run, for measuring and draining. */
export interface Live<H> {
  count: number;
  handles: H[];
}

/**
 * Replays `ops` operations of `workload` on `s`. `liveTarget` and `seed` default to the single
 * heap's figures; the shared-heap section (shared.ts) gives each worker its share of the live
 * bytes and its own seed.
 */
export function runWorkload<H>(
  workload: WorkloadName,
  s: HeapSubject<H>,
  ops: number,
  liveTarget = LIVE_TARGET,
  seed = SEED,
): { result: RunResult; live: Live<H> } {
  const handles: H[] = [];
  const sizes = new Float64Array(MAX_LIVE);
  const mixed = workload === "mixed";
  let x = seed | 0;
  let count = 0;
  let liveBytes = 0;
  let allocs = 0;
  let frees = 0;
  let failures = 0;
  const start = process.hrtime.bigint();
  for (let op = 0; op < ops; op++) {
    let free = liveBytes >= liveTarget;
    if (!free) {
      let size: number;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      let r = x >>> 0;
      if (mixed && r - Math.floor(r / 16) * 16 === 0) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        r = x >>> 0;
        const low = 4096 * 2 ** (r - Math.floor(r / 6) * 6);
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        r = x >>> 0;
        size = low + (r - Math.floor(r / low) * low);
      } else {
        if (mixed) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          r = x >>> 0;
        }
        const low = 16 << (r - Math.floor(r / 7) * 7);
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        r = x >>> 0;
        size = low + (r - Math.floor(r / low) * low);
      }
      const h = s.malloc(size);
      if (h === null) {
        failures++;
        free = count > 0;
      } else {
        handles[count] = h;
        sizes[count] = size;
        count++;
        liveBytes += size;
        allocs++;
      }
    }
    if (free) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const r = x >>> 0;
      const i = r - Math.floor(r / count) * count;
      s.free(handles[i]);
      liveBytes -= sizes[i];
      count--;
      handles[i] = handles[count];
      sizes[i] = sizes[count];
      frees++;
    }
  }
  const ns = Number(process.hrtime.bigint() - start);
  return {
    result: { ops, ns, allocs, frees, failures, liveCount: count, liveBytes },
    live: { count, handles },
  };
}
