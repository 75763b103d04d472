/**
 * Order arithmetic. A block of order k spans 2^k pages. These helpers work on small
 * integers (orders, bit positions, 32-bit words); addresses stay plain numbers elsewhere.
 */

/** True when `n` is a positive integer power of two (any size up to 2^53). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** log2 of a power of two `n` (exact for every power of two up to 2^53). */
export function log2Exact(n: number): number {
  return Math.round(Math.log2(n));
}

/** The smallest order whose block holds `pages` pages: ceil(log2(pages)), for pages >= 1. */
export function orderForPages(pages: number): number {
  const k = log2Exact(pages);
  return 2 ** k >= pages ? k : k + 1;
}

/** Index of the lowest set bit of a non-zero 32-bit word (count trailing zeros). */
export function ctz32(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** True when `n` is a safe integer >= 0. */
export function isSafeNonNegative(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Pages [firstPage, endPage) as maximal aligned blocks of order at most `maxOrder`, in address
 * order, flattened as (page, order) pairs.
 */
export function alignedBlocks(firstPage: number, endPage: number, maxOrder: number): number[] {
  const blocks: number[] = [];
  for (let page = firstPage; page < endPage; ) {
    let k = Math.min(maxOrder, Math.floor(Math.log2(endPage - page)));
    while (2 ** k > endPage - page || page % 2 ** k !== 0) k--;
    blocks.push(page, k);
    page += 2 ** k;
  }
  return blocks;
}
