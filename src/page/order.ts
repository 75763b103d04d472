/**
 * Order arithmetic. A block of order k spans 2^k pages. These helpers work on small
 * integers (orders, bit positions, 32-bit words); addresses stay plain numbers elsewhere.
 * `orderForPages` is the one ceil(log2) of the library (the simulator and the heap use it too);
 * the number predicates are in src/numbers.ts.
 */

/** log2 of a power of two `n` (exact for every power of two up to 2^53). */
export function log2Exact(n: number): number {
  return Math.round(Math.log2(n));
}

/**
 * The smallest order whose block holds `pages` pages: ceil(log2(pages)), for pages >= 1.
 * (`orderOfCount` in validate.ts writes the int32 case out again on purpose: it is on the
 * allocPages path, where a call would cost V8's inlining budget.)
 */
export function orderForPages(pages: number): number {
  if ((pages | 0) === pages && pages > 0) return 32 - Math.clz32(pages - 1); // no libm call
  const k = log2Exact(pages);
  return 2 ** k >= pages ? k : k + 1;
}

/** Powers of two 2^0..2^63, exact as doubles. */
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/**
 * 2^k for an integer k in 0..63. On an operation's path use this, not `2 ** k`: with a variable
 * exponent V8 calls libm's pow, a slow call that also allocated (a profile of a large heap
 * allocation once showed it as the main cost).
 */
export function pow2(k: number): number {
  return POW2[k];
}

/** Index of the lowest set bit of a non-zero 32-bit word (count trailing zeros). */
export function ctz32(word: number): number {
  return 31 - Math.clz32(word & -word);
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
