/**
 * The heap-efficiency workload, after talc's `benches/src/bin/heap_efficiency.rs` (talc v5): an
 * arena of ARENA_BYTES, and random actions until the first one that fails:
 *
 * - 50%: malloc(size, align). Size: a cap uniform in [16, 10000), then a size uniform in
 *   [4, cap). Align: `8 << (ctz(r16) / 2)` for a uniform 16-bit r16 (integer division; Rust's
 *   `0u16.trailing_zeros()` is 16, so r16 = 0 gives 8 << 8 = 2048): 8 with p 3/4, 16 with
 *   p 3/16, ... doubling while p quarters.
 * - 10%: free a uniformly chosen live allocation (nothing when none is live).
 * - 40%: realloc a uniformly chosen live allocation (nothing when none is live) to a size
 *   uniform in [1, 100000), keeping its alignment.
 *
 * At the first failure (malloc or realloc returning null; a failed realloc leaves its block as it
 * was), the round's efficiency is the requested bytes of the live allocations / ARENA_BYTES.
 *
 * Unlike talc, whose `fastrand` is seeded from the clock, the stream is seeded per round
 * (xoshiro128** seeded through splitmix32 from `seed` and the round number), so a round is
 * reproducible and every peer sees the same actions up to its own first failure. Uniform draws
 * take the high bits: `below(n) = floor(next() * n / 2^32)` (bias below n / 2^32).
 */

/** The arena every peer gets: 128 MiB, talc's HEAP_SIZE (1 << 27). */
export const ARENA_BYTES = 2 ** 27;
export const DEFAULT_SEED = 0x7a1c0de;
const MAX_ALLOC_SIZE = 10000;
const MAX_REALLOC_SIZE = MAX_ALLOC_SIZE * 10;

/** What a peer offers the efficiency driver. `realloc` keeps `align`, as Rust's GlobalAlloc does. */
export interface EfficiencySubject<H> {
  malloc(size: number, align: number): H | null;
  realloc(handle: H, size: number, align: number): H | null;
  free(handle: H): void;
}

/** The action that failed. `oldSize` is the block's size before a failed realloc. */
export interface Failure {
  op: "malloc" | "realloc";
  size: number;
  align: number;
  oldSize: number | null;
}

/** One round's outcome. */
export interface RoundResult {
  round: number;
  /** Requested bytes live at the failure / ARENA_BYTES. */
  efficiency: number;
  requestedBytes: number;
  liveCount: number;
  /** Actions taken before the failing one (free and realloc with nothing live count too). */
  steps: number;
  mallocs: number;
  frees: number;
  reallocs: number;
  failure: Failure;
  ms: number;
}

/** The live allocations after a round (for the peer's breakdown and for freeing them). */
export interface EfficiencyLive<H> {
  count: number;
  handles: H[];
}

/** A 32-bit generator: xoshiro128** (Blackman & Vigna), state seeded by splitmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: number) {
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) | 0;
    const mix = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
  }

  /** Uniform in [0, 2^32). */
  next(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, n) for n <= 2^21 (the product stays an exact double). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 4294967296);
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** talc's generate_align: `align_of::<usize>() << fastrand::u16(..).trailing_zeros() / 2`. */
export function alignOf(r16: number): number {
  const ctz = r16 === 0 ? 16 : 31 - Math.clz32(r16 & -r16);
  return 8 << (ctz >>> 1);
}

/** Runs round `round` of the workload on `s` until its first failure. */
export function runRound<H>(
  s: EfficiencySubject<H>,
  round: number,
  seed: number,
  arenaBytes = ARENA_BYTES,
): { result: RoundResult; live: EfficiencyLive<H> } {
  const rng = new Rng(seed, round);
  const handles: H[] = [];
  const sizes: number[] = [];
  const aligns: number[] = [];
  let count = 0;
  let live = 0;
  let steps = 0;
  let mallocs = 0;
  let frees = 0;
  let reallocs = 0;
  let failure: Failure;
  const start = process.hrtime.bigint();
  for (;;) {
    const action = rng.below(10);
    if (action <= 4) {
      const cap = 16 + rng.below(MAX_ALLOC_SIZE - 16);
      const size = 4 + rng.below(cap - 4);
      const align = alignOf(rng.next() >>> 16);
      const h = s.malloc(size, align);
      if (h === null) {
        failure = { op: "malloc", size, align, oldSize: null };
        break;
      }
      handles[count] = h;
      sizes[count] = size;
      aligns[count] = align;
      count++;
      live += size;
      mallocs++;
    } else if (action === 5) {
      if (count > 0) {
        const i = rng.below(count);
        s.free(handles[i]);
        live -= sizes[i];
        count--;
        handles[i] = handles[count];
        sizes[i] = sizes[count];
        aligns[i] = aligns[count];
        frees++;
      }
    } else if (count > 0) {
      const i = rng.below(count);
      const size = 1 + rng.below(MAX_REALLOC_SIZE - 1);
      const h = s.realloc(handles[i], size, aligns[i]);
      if (h === null) {
        failure = { op: "realloc", size, align: aligns[i], oldSize: sizes[i] };
        break;
      }
      handles[i] = h;
      live += size - sizes[i];
      sizes[i] = size;
      reallocs++;
    }
    steps++;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  handles.length = count;
  return {
    result: {
      round,
      efficiency: live / arenaBytes,
      requestedBytes: live,
      liveCount: count,
      steps,
      mallocs,
      frees,
      reallocs,
      failure,
      ms,
    },
    live: { count, handles },
  };
}

/**
 * talc's published results/heap-efficiency.csv (talc v5.0.x, commit c478204 "get the first
 * release candidate for V5 ready", 2026-03-19): percent of the arena in use at the first failure,
 * mean of 300 rounds, allocator names as in the CSV.
 */
export const TALC_REFERENCE: readonly { name: string; percent: number }[] = [
  { name: "DLmalloc", percent: 97.73739025741816 },
  { name: "RLSF", percent: 97.258368541797 },
  { name: "Talc v4", percent: 96.60892166694005 },
  { name: "Talc", percent: 95.23566796382268 },
  { name: "Galloc", percent: 81.53036357214053 },
  { name: "Buddy Alloc", percent: 58.940138290325805 },
];
/** The target: the best published figure (DLmalloc). */
export const TARGET_PERCENT = TALC_REFERENCE[0].percent;
