/**
 * Finds the present section that holds an address. Section numbers (address / sectionBytes) can
 * be anywhere up to 2^53, so a dense Int32Array covers the low ones only while it stays small next
 * to the metadata (at most 8 entries per present section); the rest are found in a Map.
 */

/** Maps section numbers to present-section indices; rebuilt whenever sections are added. */
export class SectionDirectory {
  /** `dense[n]` is 1 + the index of section number n, or 0 when n is not present. */
  private readonly dense: Int32Array;
  private readonly sparse = new Map<number, number>();

  constructor(sectionNumbers: Float64Array) {
    const count = sectionNumbers.length;
    const budget = 8 * count + 64;
    let denseLength = 0;
    for (let i = 0; i < count && sectionNumbers[i] < budget; i++) denseLength = sectionNumbers[i] + 1;
    this.dense = new Int32Array(denseLength);
    for (let i = 0; i < count; i++) {
      const n = sectionNumbers[i];
      if (n < denseLength) this.dense[n] = i + 1;
      else this.sparse.set(n, i);
    }
  }

  /** Index of the present section numbered `n` (an integer >= 0), or -1. */
  indexOf(n: number): number {
    const dense = this.dense;
    if (n < dense.length) return dense[n] - 1;
    const index = this.sparse.get(n);
    return index === undefined ? -1 : index;
  }

  /** Bytes held (the dense array; the Map's few entries are not counted). */
  get byteLength(): number {
    return this.dense.byteLength;
  }
}

/** The longest run of consecutive section numbers in `numbers` (increasing): [index of its first, its length]. */
export function longestRun(numbers: Float64Array): [number, number] {
  let first = 0;
  let length = 0;
  for (let start = 0; start < numbers.length; ) {
    let end = start + 1;
    while (end < numbers.length && numbers[end] === numbers[end - 1] + 1) end++;
    if (end - start > length) {
      first = start;
      length = end - start;
    }
    start = end;
  }
  return [first, length];
}
