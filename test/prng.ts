/** The seeded PRNG the tests draw from (not a test file). */

/** A seeded xorshift32 source: each call gives an integer in [0, n). */
export function xorshift(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}
