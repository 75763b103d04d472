/** Shared helpers of the concurrent allocator tests (not a test file itself). */

/** The maximal naturally aligned blocks (order <= maxOrder) covering pages [first, end), in address order. */
export function maximalBlocks(
  first: number,
  end: number,
  maxOrder: number,
  pageSize: number,
): { address: number; order: number }[] {
  const out: { address: number; order: number }[] = [];
  for (let page = first; page < end; ) {
    let k = 0;
    while (k < maxOrder && page % 2 ** (k + 1) === 0 && page + 2 ** (k + 1) <= end) k++;
    out.push({ address: page * pageSize, order: k });
    page += 2 ** k;
  }
  return out;
}
