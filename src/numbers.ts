/**
 * Number predicates every layer shares (errors, the page and concurrent allocators, the simulator;
 * the heap may use them too). The lowest layer: it imports nothing. Neither converts its argument:
 * a BigInt, a string or an object is simply not a match, and none of the caller's code runs.
 */

/** True when `n` is a safe integer >= 0. */
export function isSafeNonNegative(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** True when `n` is a positive integer power of two (any size up to 2^53). */
export function isPowerOfTwo(n: unknown): n is number {
  return isSafeNonNegative(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
