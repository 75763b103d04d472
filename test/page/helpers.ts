/** Shared helpers of the page allocator tests (not a test file itself). */
import { expect } from "vitest";
import { AllocError, type AllocErrorCode, type BuddyAllocator } from "../../src/index.js";

/** Runs `fn`, expects it to throw an `AllocError` with `code`, and returns that error. */
export function expectCode(fn: () => unknown, code: AllocErrorCode): AllocError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected AllocError ${code}, nothing was thrown`).toBeInstanceOf(AllocError);
  const error = caught as AllocError;
  expect(error.code, error.message).toBe(code);
  expect(error.name).toBe("AllocError");
  return error;
}

/** Everything observable about an allocator, as plain data that `toEqual` can compare. */
export function snapshot(a: BuddyAllocator) {
  return {
    free: [...a.freeBlocks()].map((b) => ({ address: b.address, order: b.order })),
    allocated: [...a.allocatedBlocks()].map((b) => ({ address: b.address, order: b.order, tag: b.tag })),
    stats: a.stats(),
    regions: a.regions().map((r) => ({ start: r.start, length: r.length })),
  };
}

/** Expects `fn` to throw `code` and to leave every observable part of `a` as it was. */
export function expectRejected(a: BuddyAllocator, fn: () => unknown, code: AllocErrorCode): AllocError {
  const before = snapshot(a);
  const error = expectCode(fn, code);
  expect(snapshot(a)).toEqual(before);
  a.check();
  return error;
}

/** The free blocks of `a` as plain `{address, order}` objects, in the order the allocator reports them. */
export function freeList(a: BuddyAllocator): { address: number; order: number }[] {
  return [...a.freeBlocks()].map((b) => ({ address: b.address, order: b.order }));
}

/** The live blocks of `a` as plain `{address, order, tag}` objects. */
export function allocatedList(a: BuddyAllocator): { address: number; order: number; tag: number }[] {
  return [...a.allocatedBlocks()].map((b) => ({ address: b.address, order: b.order, tag: b.tag }));
}

/** `{address, order}` shorthand. */
export function blk(order: number, address: number): { address: number; order: number } {
  return { address, order };
}

/** Sorts blocks by address (copy). */
export function byAddress<T extends { address: number }>(blocks: readonly T[]): T[] {
  return [...blocks].sort((x, y) => x.address - y.address);
}

/**
 * The unique free-block decomposition a buddy allocator with eager merging must report for the free
 * page run `[firstPage, endPage)` (absolute page numbers, i.e. address / pageSize): from the start of
 * the run, repeatedly the largest naturally aligned block of order <= maxOrder that starts there and
 * fits in the run.
 */
export function decomposeRun(
  firstPage: number,
  endPage: number,
  maxOrder: number,
  pageSize: number,
): { address: number; order: number }[] {
  const out: { address: number; order: number }[] = [];
  let page = firstPage;
  while (page < endPage) {
    let order = 0;
    while (order < maxOrder && page % 2 ** (order + 1) === 0 && page + 2 ** (order + 1) <= endPage) order++;
    out.push({ address: page * pageSize, order });
    page += 2 ** order;
  }
  return out;
}
