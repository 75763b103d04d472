/**
 * A small deterministic PRNG for the built-in workloads: the same seed gives the same operations
 * on every machine and every run (xorshift32, Marsaglia 2003; period 2^32 - 1, never 0).
 */

/** A seeded 32-bit xorshift generator. */
export class Rng {
  private x: number;

  /** @param seed any integer; 0 is replaced by a fixed non-zero constant (xorshift cannot leave 0). */
  constructor(seed: number) {
    this.x = seed | 0 || 0x9e3779b9 | 0;
  }

  /** The next raw 32-bit value, as an unsigned integer 0..2^32-1. */
  nextU32(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x;
    return x >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** An integer in [0, n) for 1 <= n <= 2^32. */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi], both inclusive. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** An index into `weights` drawn with probability proportional to its weight (weights >= 0, sum > 0). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}
