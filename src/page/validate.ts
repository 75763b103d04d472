/**
 * Argument checks of the page allocator (and of the concurrent one, which shares them). Each throws
 * AllocError with a message naming the value, before anything changes; none of them is on the
 * success path of alloc/free.
 *
 * The rule (src/errors.ts, INVALID_ARGUMENT): a number argument that is not a safe non-negative
 * integer, or is out of range, is INVALID_ARGUMENT, and so is an options argument that is neither
 * undefined nor an object. Nothing is converted before it is checked: a check that does arithmetic
 * (`count - 1`, `address | 0`) first makes sure it has a number (`typeof`), or a BigInt would throw
 * a TypeError and an object's `valueOf` would run. Messages show counts, orders, tags and sizes in
 * decimal (`showCount`), addresses in hex (`showAddress`).
 */
import { AllocError, showAddress, showCount } from "../errors.js";
import { isPowerOfTwo, isSafeNonNegative } from "../numbers.js";
import { orderForPages } from "./order.js";
import { MAX_SECTION_ORDER } from "./page-map.js";
import type { BuddyOptions } from "./types.js";

/** Largest tag value a block can carry. */
export const MAX_TAG = 0xffff;

/**
 * The order that holds `count` pages: ceil(log2 count).
 * @throws AllocError INVALID_ARGUMENT unless count is an integer in 1..2^maxOrder.
 */
export function orderOfCount(count: number, maxOrder: number): number {
  // Every count up to 2^31 takes integer arithmetic: ceil(log2 count) = 32 - clz32(count - 1),
  // written out here rather than a call to order.ts's orderForPages, which would cost inlining
  // budget. Never Math.log2 or a variable `2 ** k` on this path: both are calls into libm, which
  // once made allocPages several times the cost of allocOrder (docs/benchmarks.md, "The page allocator").
  // `typeof` first: `count >>> 0` or `count - 1` would throw on a BigInt and call an object's
  // valueOf. `>>> 0` admits 0..2^32-1; 0 and counts above 2^31 get order 32 (clz32 of -1, or of
  // 2^31 and more, is 0), above every maxOrder, so the slow path refuses them: no `count > 0`,
  // whose bytes pay for the `typeof` in V8's inlining budget (the rule on `take` in page-map.ts).
  if (typeof count === "number" && count >>> 0 === count) {
    const order = 32 - Math.clz32(count - 1);
    if (order <= maxOrder) return order;
  }
  return orderOfLargeCount(count, maxOrder);
}

/** `orderOfCount` for counts of 2^31 and more, and for every bad count. */
function orderOfLargeCount(count: number, maxOrder: number): number {
  if (!Number.isInteger(count) || count < 1 || count > 2 ** maxOrder) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `count must be an integer in 1..${2 ** maxOrder}, got ${showCount(count)}`,
    );
  }
  return orderForPages(count);
}

/** @throws AllocError INVALID_ARGUMENT: `order` is not an integer in 0..maxOrder. */
export function rejectOrder(order: unknown, maxOrder: number): never {
  throw new AllocError(
    "INVALID_ARGUMENT",
    `order must be an integer in 0..${maxOrder}, got ${showCount(order)}`,
  );
}

/** @throws AllocError INVALID_ARGUMENT unless `tag` is an integer in 0..MAX_TAG. */
export function validateTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `tag must be an integer in 0..${MAX_TAG}, got ${showCount(tag)}`,
    );
  }
}

/** @throws AllocError INVALID_ARGUMENT for an align that is not a power of two or a limit that is not a safe integer >= 0. */
export function validatePlacement(align: number | undefined, limit: number | undefined): void {
  if (align !== undefined && !isPowerOfTwo(align)) {
    throw new AllocError("INVALID_ARGUMENT", `align must be a power of two, got ${showCount(align)}`);
  }
  if (limit !== undefined && !isSafeNonNegative(limit)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `limit must be a safe non-negative integer, got ${showAddress(limit)}`,
    );
  }
}

/** @throws AllocError INVALID_ARGUMENT unless `exact` is a boolean. */
export function validateExact(exact: unknown): void {
  if (typeof exact !== "boolean") {
    throw new AllocError("INVALID_ARGUMENT", `exact must be a boolean, got ${showCount(exact)}`);
  }
}

/**
 * The whole pages of [start, start + length) as [first, end) in bytes.
 * @throws AllocError INVALID_ARGUMENT for bad numbers or a range without a whole page.
 */
export function wholePages(pageSize: number, start: number, length: number): [number, number] {
  if (!isSafeNonNegative(start)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `region start must be a safe non-negative integer, got ${showAddress(start)}`,
    );
  }
  if (!isSafeNonNegative(length)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `region length must be a safe non-negative integer, got ${showCount(length)}`,
    );
  }
  if (start + length > Number.MAX_SAFE_INTEGER) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `region ${showAddress(start)}+${showCount(length)} ends beyond 2^53 - 1`,
    );
  }
  const first = Math.ceil(start / pageSize) * pageSize;
  const end = Math.floor((start + length) / pageSize) * pageSize;
  if (end <= first) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `region ${showAddress(start)}+${showCount(length)} holds no whole page of ${pageSize} bytes`,
    );
  }
  return [first, end];
}

/**
 * `options` itself, when it is undefined or an object that is not an array (a class instance will
 * do; its fields are read once each by the caller).
 * @throws AllocError INVALID_ARGUMENT for null, a primitive, an array or a function.
 */
export function optionsObject<T extends object>(options: T | undefined, what: string): T | undefined {
  if (options === undefined) return undefined;
  let isArray = true;
  try {
    isArray = Array.isArray(options); // throws only for a revoked Proxy
  } catch {}
  if (typeof options !== "object" || options === null || isArray) {
    throw new AllocError("INVALID_ARGUMENT", `${what} must be an object, got ${showCount(options)}`);
  }
  return options;
}

/**
 * The allocator's options with their defaults: pageSize 4096 (bytes), maxOrder 20, sectionOrder
 * min(maxOrder, 8). Each field is read once.
 * @throws AllocError INVALID_ARGUMENT for options that are not an object, a bad option or a largest
 * block beyond 2^53 bytes.
 */
export function validateOptions(
  options: BuddyOptions | undefined,
): Required<Pick<BuddyOptions, "pageSize" | "maxOrder" | "sectionOrder">> {
  const { pageSize = 4096, maxOrder = 20, sectionOrder: section } = optionsObject(options, "options") ?? {};
  if (!isPowerOfTwo(pageSize)) {
    throw new AllocError("INVALID_ARGUMENT", `pageSize must be a power of two, got ${showCount(pageSize)}`);
  }
  if (!Number.isInteger(maxOrder) || maxOrder < 0 || maxOrder > 31) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `maxOrder must be an integer in 0..31, got ${showCount(maxOrder)}`,
    );
  }
  if (pageSize * 2 ** maxOrder > 2 ** 53) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `a block of order ${maxOrder} with pageSize ${pageSize} exceeds the safe-integer range`,
    );
  }
  const sectionOrder = section === undefined ? Math.min(maxOrder, MAX_SECTION_ORDER) : section;
  if (!Number.isInteger(sectionOrder) || sectionOrder < 0 || sectionOrder > Math.min(maxOrder, 16)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `sectionOrder must be an integer in 0..${Math.min(maxOrder, 16)}, got ${showCount(sectionOrder)}`,
    );
  }
  return { pageSize, maxOrder, sectionOrder };
}

/**
 * @throws AllocError INVALID_ARGUMENT unless `end` (bytes) is a safe non-negative integer at or
 * above the last of the region ends `regionEnd` (sorted), and there is a region.
 */
export function validateExtension(end: unknown, regionEnd: readonly number[]): void {
  if (!isSafeNonNegative(end)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `extendRegion: end must be a safe non-negative integer, got ${showAddress(end)}`,
    );
  }
  const last = regionEnd.length - 1;
  if (last < 0) throw new AllocError("INVALID_ARGUMENT", "extendRegion: there is no region to extend");
  if (end < regionEnd[last]) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `extendRegion: ${showAddress(end)} is below the last region's end ${showAddress(regionEnd[last])}`,
    );
  }
}
