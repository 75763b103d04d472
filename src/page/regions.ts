/**
 * The managed regions: two arrays of byte addresses sorted by start, `regionStart[i]` and
 * `regionEnd[i]` (exclusive), that never overlap. Adjacent regions stay separate entries.
 */
import { AllocError, showAddress } from "../errors.js";

/** Index of the first region starting after `address` (binary search). */
export function regionIndexAfter(starts: readonly number[], address: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] <= address) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The index at which region [first, end) (bytes) goes in the sorted lists.
 * @throws AllocError OVERLAP naming the managed region it overlaps.
 */
export function placeRegion(
  starts: readonly number[],
  ends: readonly number[],
  first: number,
  end: number,
): number {
  const at = regionIndexAfter(starts, first);
  const other = at > 0 && ends[at - 1] > first ? at - 1 : at < starts.length && starts[at] < end ? at : -1;
  if (other >= 0) {
    throw new AllocError(
      "OVERLAP",
      `region ${showAddress(first)}..${showAddress(end)} overlaps managed region ${showAddress(starts[other])}..${showAddress(ends[other])}`,
    );
  }
  return at;
}
