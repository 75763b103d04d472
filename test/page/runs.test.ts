/** Exact runs of the page allocator, case by case (the model test covers random sequences). */
import { describe, expect, it } from "vitest";
import { BuddyAllocator } from "../../src/index.js";
import { blk, expectRejected, freeList } from "./helpers.js";

const PAGE = 4096;

function fresh(pages = 64, maxOrder = 10): BuddyAllocator {
  const a = new BuddyAllocator({ pageSize: PAGE, maxOrder });
  a.addRegion(0, pages * PAGE);
  return a;
}

describe("allocPages with exact", () => {
  it("takes exactly count pages from the start of a block and frees the tail at once", () => {
    const a = fresh(8);
    const run = a.allocPages(5, { exact: true, tag: 9 })!;
    expect(run).toBe(0);
    expect(a.sizeOf(run)).toBe(5 * PAGE);
    expect(a.tagOf(run)).toBe(9);
    expect(a.orderOf(run)).toBe(3); // the smallest block that would hold it
    expect(freeList(a)).toEqual([blk(0, 5 * PAGE), blk(1, 6 * PAGE)]);
    expect([...a.allocatedBlocks()]).toEqual([{ address: 0, order: 3, tag: 9, size: 5 * PAGE, exact: true }]);
    expect(a.blockAt(4 * PAGE + 17)).toEqual({
      address: 0,
      order: 3,
      size: 5 * PAGE,
      free: false,
      tag: 9,
      exact: true,
    });
    a.check();
    a.free(run);
    expect(freeList(a)).toEqual([blk(3, 0)]);
  });

  it("finds a run spread over adjacent free blocks when no single block holds it", () => {
    const a = fresh(16, 4);
    const pages = Array.from({ length: 16 }, () => a.allocPages(1)!);
    for (const i of [3, 4, 5, 6, 7, 8, 9]) a.free(pages[i]); // 3/0, 4/2, 8/1: seven pages, no block above 4
    expect(a.allocPages(8, { exact: true })).toBeNull();
    const run = a.allocPages(7, { exact: true })!;
    expect(run).toBe(3 * PAGE);
    expect(freeList(a)).toEqual([]);
    a.check();
  });

  it("returns null only when no run fits align and limit", () => {
    const a = fresh(32, 5);
    expect(a.allocPages(3, { exact: true, limit: 2 * PAGE })).toBeNull(); // cannot end by page 2
    const low = a.allocPages(3, { exact: true, limit: 3 * PAGE })!;
    expect(low).toBe(0);
    expect(a.allocPages(3, { exact: true, align: 8 * PAGE, limit: 11 * PAGE })).toBe(8 * PAGE);
    expect(a.allocPages(3, { exact: true, align: 8 * PAGE, limit: 11 * PAGE })).toBeNull();
    const aligned = a.allocPages(3, { exact: true, align: 16 * PAGE })!;
    expect(aligned).toBe(16 * PAGE);
    a.check();
  });

  it("rejects an exact option that is not a boolean, changing nothing", () => {
    const a = fresh();
    for (const exact of ["yes", 1, null, {}]) {
      expectRejected(a, () => a.allocPages(3, { exact: exact as unknown as boolean }), "INVALID_ARGUMENT");
    }
  });
});

describe("resize", () => {
  it("grows in place over free pages, shrinks by freeing the tail, and refuses without changing anything", () => {
    const a = fresh(16, 4);
    const run = a.allocPages(3, { exact: true })!;
    expect(a.resize(run, 6)).toBe(true);
    expect(a.sizeOf(run)).toBe(6 * PAGE);
    const blocker = a.allocAt(6 * PAGE, 1, { exact: true })!;
    expect(blocker).toBe(6 * PAGE);
    const before = JSON.stringify([freeList(a), [...a.allocatedBlocks()]]);
    expect(a.resize(run, 7)).toBe(false);
    expect(JSON.stringify([freeList(a), [...a.allocatedBlocks()]])).toBe(before);
    expect(a.resize(run, 2)).toBe(true);
    expect(freeList(a)).toEqual([blk(1, 2 * PAGE), blk(1, 4 * PAGE), blk(0, 7 * PAGE), blk(3, 8 * PAGE)]);
    a.check();
  });

  it("makes a power-of-two block a run, and keeps its tag", () => {
    const a = fresh(16, 4);
    const block = a.allocPages(4, { tag: 5 })!;
    expect(a.resize(block, 3)).toBe(true);
    expect(a.sizeOf(block)).toBe(3 * PAGE);
    expect(a.tagOf(block)).toBe(5);
    expect(a.blockAt(block)!.exact).toBe(true);
    a.free(block);
    expect(freeList(a)).toEqual([blk(4, 0)]);
  });

  it("rejects a count of 0, a count above the largest block, and an address that is not live", () => {
    const a = fresh(16, 4);
    const run = a.allocPages(3, { exact: true })!;
    expectRejected(a, () => a.resize(run, 0), "INVALID_ARGUMENT");
    expectRejected(a, () => a.resize(run, 17), "INVALID_ARGUMENT");
    expectRejected(a, () => a.resize(run, 1.5), "INVALID_ARGUMENT");
    expectRejected(a, () => a.resize(run + PAGE, 2), "NOT_ALLOCATED");
    expectRejected(a, () => a.resize(8 * PAGE, 2), "NOT_ALLOCATED");
    expectRejected(a, () => a.sizeOf(8 * PAGE), "NOT_ALLOCATED");
  });
});
