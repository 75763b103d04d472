/**
 * Allocation with options, off the plain path: checks the options, then sends the request to
 * the plain buddy path, the constrained paths (constrained.ts) or the run paths (runs.ts). Kept
 * out of `BuddyAllocator` so that its plain `allocPages` stays small enough for V8 to inline.
 */
import { AllocError, showAddress } from "../errors.js";
import { isSafeNonNegative } from "../numbers.js";
import { type ConstrainedTarget, takeAligned, takeAt, takeBelow } from "./constrained.js";
import { log2Exact, pow2 } from "./order.js";
import { takeRun, takeRunAt } from "./runs.js";
import type { AllocAtOptions, AllocOptions } from "./types.js";
import { optionsObject, validateExact, validatePlacement, validateTag } from "./validate.js";

/**
 * `allocPages(count, options)` for a validated count whose block has `order`.
 * @returns the allocation's slot, or -1 when nothing fits.
 * @throws AllocError INVALID_ARGUMENT for options that are not an object, or a bad option.
 */
export function allocWithOptions(
  a: ConstrainedTarget,
  count: number,
  order: number,
  options: AllocOptions,
): number {
  const { align, limit, tag = 0, exact = false } = optionsObject(options, "allocPages: options")!;
  validateTag(tag);
  validatePlacement(align, limit);
  validateExact(exact);
  const alignOrder = align === undefined || align <= a.pageSize ? 0 : log2Exact(align / a.pageSize);
  if (exact) return takeRun(a, count, order, alignOrder, limit, tag);
  if (limit === undefined && alignOrder <= order) return a.map.take(order, tag);
  const slot =
    limit === undefined ? takeAligned(a, order, alignOrder) : takeBelow(a, order, alignOrder, limit);
  if (slot >= 0) a.map.setTag(slot, tag);
  return slot;
}

/**
 * `allocAt(address, count, options)` for a validated count whose block has `order`: the aligned
 * block at `address`, or with `exact` the run of `count` pages there.
 * @returns whether it was allocated (false: a page of it is allocated or not managed).
 * @throws AllocError INVALID_ARGUMENT for options that are not an object, a bad option, an address
 * that is not a safe non-negative integer or not aligned to the block size (to a page, with `exact`).
 */
export function allocAtWithOptions(
  a: ConstrainedTarget,
  address: number,
  count: number,
  order: number,
  options: AllocAtOptions | undefined,
): boolean {
  const { exact = false, tag = 0 } = optionsObject(options, "allocAt: options") ?? {};
  validateExact(exact);
  validateTag(tag);
  if (!isSafeNonNegative(address)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `allocAt: address must be a safe non-negative integer, got ${showAddress(address)}`,
    );
  }
  const size = exact ? a.pageSize : a.pageSize * pow2(order);
  if (address % size !== 0) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `allocAt: address ${showAddress(address)} is not aligned to the ${exact ? "page" : "block"} size ${size}`,
    );
  }
  if (!exact) {
    if (!takeAt(a, address, order)) return false;
    if (tag !== 0) a.map.setTag(a.slotOf(address), tag);
    return true;
  }
  const slot = takeRunAt(a, address, count);
  if (slot < 0) return false;
  a.map.setRun(slot, count);
  a.map.setTag(slot, tag);
  return true;
}
