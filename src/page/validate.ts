/**
 * Argument checks of the page allocator. Each throws AllocError with a message naming the value,
 * before anything changes; none of them is on the success path of alloc/free.
 */
import { AllocError, show } from "../errors.js";
import { isPowerOfTwo, isSafeNonNegative, orderForPages } from "./order.js";
import { MAX_SECTION_ORDER } from "./page-map.js";
import type { BuddyOptions } from "./types.js";

/** Largest tag value a block can carry. */
export const MAX_TAG = 0xffff;

/**
 * The order that holds `count` pages: ceil(log2 count).
 * @throws AllocError INVALID_ARGUMENT unless count is an integer in 1..2^maxOrder.
 */
export function orderOfCount(count: number, maxOrder: number): number {
  // Every count below 2^31 takes integer arithmetic: ceil(log2 count) = 32 - clz32(count - 1).
  // (Math.log2 and a variable `2 ** k` are calls into libm, which made allocPages 3.7x allocOrder.)
  const order = 32 - Math.clz32(count - 1);
  if ((count | 0) === count && count > 0 && order <= maxOrder) return order;
  return orderOfLargeCount(count, maxOrder);
}

/** `orderOfCount` for counts of 2^31 and more, and for every bad count. */
function orderOfLargeCount(count: number, maxOrder: number): number {
  if (!Number.isInteger(count) || count < 1 || count > 2 ** maxOrder) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `count must be an integer in 1..${2 ** maxOrder}, got ${show(count)}`,
    );
  }
  return orderForPages(count);
}

/** @throws AllocError INVALID_ARGUMENT: `order` is not an integer in 0..maxOrder. */
export function rejectOrder(order: number, maxOrder: number): never {
  throw new AllocError("INVALID_ARGUMENT", `order must be an integer in 0..${maxOrder}, got ${show(order)}`);
}

/** @throws AllocError INVALID_ARGUMENT unless `tag` is an integer in 0..MAX_TAG. */
export function validateTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG) {
    throw new AllocError("INVALID_ARGUMENT", `tag must be an integer in 0..${MAX_TAG}, got ${show(tag)}`);
  }
}

/** @throws AllocError INVALID_ARGUMENT for an align that is not a power of two or a limit that is not a safe integer >= 0. */
export function validatePlacement(align: number | undefined, limit: number | undefined): void {
  if (align !== undefined && !isPowerOfTwo(align)) {
    throw new AllocError("INVALID_ARGUMENT", `align must be a power of two, got ${show(align)}`);
  }
  if (limit !== undefined && !isSafeNonNegative(limit)) {
    throw new AllocError("INVALID_ARGUMENT", `limit must be a safe non-negative integer, got ${show(limit)}`);
  }
}

/** @throws AllocError INVALID_ARGUMENT unless `exact` is a boolean. */
export function validateExact(exact: unknown): void {
  if (typeof exact !== "boolean") {
    throw new AllocError("INVALID_ARGUMENT", `exact must be a boolean, got ${show(exact)}`);
  }
}

/**
 * The whole pages of [start, start + length) as [first, end) in bytes.
 * @throws AllocError INVALID_ARGUMENT for bad numbers or a range without a whole page.
 */
export function wholePages(pageSize: number, start: number, length: number): [number, number] {
  if (!isSafeNonNegative(start) || !isSafeNonNegative(length) || start + length > Number.MAX_SAFE_INTEGER) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `region start and length must be safe non-negative integers, got ${show(start)}, ${show(length)}`,
    );
  }
  const first = Math.ceil(start / pageSize) * pageSize;
  const end = Math.floor((start + length) / pageSize) * pageSize;
  if (end <= first) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `region ${show(start)}+${show(length)} holds no whole page of ${pageSize} bytes`,
    );
  }
  return [first, end];
}

/**
 * The allocator's options with their defaults: pageSize 4096 (bytes), maxOrder 20, sectionOrder
 * min(maxOrder, 8).
 * @throws AllocError INVALID_ARGUMENT for a bad option or a largest block beyond 2^53 bytes.
 */
export function validateOptions(
  options: BuddyOptions,
): Required<Pick<BuddyOptions, "pageSize" | "maxOrder" | "sectionOrder">> {
  const { pageSize = 4096, maxOrder = 20 } = options;
  const sectionOrder = options.sectionOrder ?? Math.min(maxOrder, MAX_SECTION_ORDER);
  if (!isPowerOfTwo(pageSize)) {
    throw new AllocError("INVALID_ARGUMENT", `pageSize must be a power of two, got ${show(pageSize)}`);
  }
  if (!Number.isInteger(maxOrder) || maxOrder < 0 || maxOrder > 31) {
    throw new AllocError("INVALID_ARGUMENT", `maxOrder must be an integer in 0..31, got ${show(maxOrder)}`);
  }
  if (pageSize * 2 ** maxOrder > 2 ** 53) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `a block of order ${maxOrder} with pageSize ${pageSize} exceeds the safe-integer range`,
    );
  }
  if (!Number.isInteger(sectionOrder) || sectionOrder < 0 || sectionOrder > Math.min(maxOrder, 16)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `sectionOrder must be an integer in 0..${Math.min(maxOrder, 16)}, got ${show(sectionOrder)}`,
    );
  }
  return { pageSize, maxOrder, sectionOrder };
}
