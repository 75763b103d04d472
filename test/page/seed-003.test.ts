/**
 * The tests of seed 003 (a Rust buddy frame allocator with MAX_ORDER 12 and 4 KiB frames), translated.
 * The seed's `add_range(n_frames_at(start, n))` is `addRegion(start, n * 4096)`, `available_bytes()` is
 * `stats().freeBytes`, `check_bins` compares the exact free blocks, `allocate_bytes(n * 4096)` /
 * `allocate_block(order)` are `allocPages(n)` / `allocOrder(order)`.
 */
import { describe, expect, it } from "vitest";
import { BuddyAllocator } from "../../src/index.js";
import { blk, byAddress, expectRejected, freeList } from "./helpers.js";

const FRAME = 4096;
const MAX_ORDER = 12;

function seedAllocator(): BuddyAllocator {
  return new BuddyAllocator({ pageSize: FRAME, maxOrder: MAX_ORDER });
}

/** `add_range(n_frames_at(start, n))`. */
function addFrames(a: BuddyAllocator, start: number, n: number): void {
  expect(a.addRegion(start, n * FRAME)).toEqual({ start, length: n * FRAME });
}

/** `check_bins`: exactly these free blocks (any order in the list), reported sorted by address. */
function checkBins(a: BuddyAllocator, expected: { address: number; order: number }[]): void {
  expect(freeList(a)).toEqual(byAddress(expected));
  a.check();
}

describe("seed 003: buddy_of (observed through merging)", () => {
  // The seed checks buddy_of(order, a) == b. Publicly that shows up as: two free blocks of order k at a and
  // b = a ^ (4096 << k), added separately, merge into one block of order k + 1 at min(a, b).
  const cases: [number, number, number][] = [
    [0, 0x0, 0x1000],
    [0, 0x1000, 0x0],
    [0, 0x2000, 0x3000],
    [0, 0x3000, 0x2000],
    [0, 0x170000, 0x171000],
    [1, 0x0, 0x2000],
    [1, 0x2000, 0x0],
    [2, 0x0, 0x4000],
    [2, 0x4000, 0x0],
    [3, 0x0, 0x8000],
    [3, 0x8000, 0x0],
    [4, 0x0, 0x10000],
    [4, 0x10000, 0x0],
    [4, 0x160000, 0x170000],
    [4, 0x170000, 0x160000],
  ];
  it.each(cases)("order %i: %i and %i are buddies", (order, first, second) => {
    const a = seedAllocator();
    addFrames(a, first, 2 ** order);
    checkBins(a, [blk(order, first)]);
    addFrames(a, second, 2 ** order);
    checkBins(a, [blk(order + 1, Math.min(first, second))]);
  });

  it("neighbours that are not buddies stay apart", () => {
    const a = seedAllocator();
    addFrames(a, 0x1000, 1);
    addFrames(a, 0x2000, 1); // buddy of 0x1000 is 0x0, not 0x2000
    checkBins(a, [blk(0, 0x1000), blk(0, 0x2000)]);
    addFrames(a, 0x4000, 2); // order 1 at 0x4000: its buddy is 0x6000, not 0x2000
    checkBins(a, [blk(0, 0x1000), blk(0, 0x2000), blk(1, 0x4000)]);
  });
});

describe("seed 003", () => {
  it("test_single_frame_binning", () => {
    const a = seedAllocator();
    addFrames(a, 0x0, 1);
    addFrames(a, 0x2000, 1);
    addFrames(a, 0x16000, 1);
    addFrames(a, 0xf480000, 1);
    expect(a.stats().freeBytes).toBe(0x4000);
    checkBins(a, [blk(0, 0x0), blk(0, 0x2000), blk(0, 0x16000), blk(0, 0xf480000)]);
  });

  it("test_bigger_block_binning", () => {
    const a = seedAllocator();
    addFrames(a, 0x2000, 1);
    addFrames(a, 0x6000, 4);
    addFrames(a, 0x10000, 64);
    expect(a.stats().freeBytes).toBe((1 + 4 + 64) * FRAME);
    checkBins(a, [
      blk(0, 0x2000),
      blk(1, 0x6000),
      blk(1, 0x8000),
      blk(4, 0x10000),
      blk(4, 0x40000),
      blk(5, 0x20000),
    ]);
  });

  it("test_complex_range_binning: 3 frames", () => {
    const a = seedAllocator();
    addFrames(a, 0x0, 3);
    expect(a.stats().freeBytes).toBe(3 * FRAME);
    checkBins(a, [blk(1, 0x0), blk(0, 0x2000)]);
  });

  it("test_complex_range_binning: 523 frames at 0x40000", () => {
    const a = seedAllocator();
    addFrames(a, 0x40000, 523);
    expect(a.stats().freeBytes).toBe(523 * FRAME);
    checkBins(a, [
      blk(8, 0x100000),
      blk(7, 0x80000),
      blk(6, 0x200000),
      blk(6, 0x40000),
      blk(3, 0x240000),
      blk(1, 0x248000),
      blk(0, 0x24a000),
    ]);
  });

  it("test_block_coalescing: two order-0 blocks merge, their neighbour cannot", () => {
    const a = seedAllocator();
    addFrames(a, 0x1000, 1);
    addFrames(a, 0x3000, 1);
    addFrames(a, 0x2000, 1);
    expect(a.stats().freeBytes).toBe(0x3000);
    checkBins(a, [blk(0, 0x1000), blk(1, 0x2000)]);
  });

  it("test_block_coalescing: four order-0 blocks merge into one order-2 block", () => {
    const a = seedAllocator();
    addFrames(a, 0x0, 1);
    addFrames(a, 0x2000, 1);
    addFrames(a, 0x3000, 1);
    addFrames(a, 0x1000, 1);
    expect(a.stats().freeBytes).toBe(0x4000);
    checkBins(a, [blk(2, 0x0)]);
  });

  it("test_block_coalescing: 1024 single frames merge into one order-10 block", () => {
    const a = seedAllocator();
    for (let i = 0; i < 1024; i++) addFrames(a, i * FRAME, 1);
    expect(a.stats().freeBytes).toBe(0x400000);
    checkBins(a, [blk(10, 0x0)]);
    expect(a.regions()).toHaveLength(1024);
  });

  it("test_empty_allocator", () => {
    const a = seedAllocator();
    expect(a.stats().freeBytes).toBe(0);
    expect(a.allocPages(1)).toBeNull();
    expect(a.allocOrder(0)).toBeNull();
    expect(a.allocOrder(MAX_ORDER)).toBeNull();
    checkBins(a, []);
  });

  it("test_block_larger_than_max_order", () => {
    const a = seedAllocator();
    addFrames(a, 0x0, 8192); // two blocks of the maximum order (12)
    checkBins(a, [blk(12, 0x0), blk(12, 0x1000000)]);
    // The seed returns None for order 13; in this API an order above maxOrder is a caller mistake.
    expectRejected(a, () => a.allocOrder(13), "INVALID_ARGUMENT");
    expectRejected(a, () => a.allocPages(8192), "INVALID_ARGUMENT");
    expectRejected(a, () => a.allocPages(4097), "INVALID_ARGUMENT");
    // The largest legal request is served.
    expect(a.allocPages(4096)).toBe(0x0);
    expect(a.allocOrder(12)).toBe(0x1000000);
    expect(a.allocOrder(12)).toBeNull();
    checkBins(a, []);
  });

  it("test_allocation", () => {
    const a = seedAllocator();
    addFrames(a, 0x2000, 1);
    addFrames(a, 0x6000, 4);
    addFrames(a, 0x10000, 64);
    expect(a.stats().freeBytes).toBe((1 + 4 + 64) * FRAME);
    const initial = [
      blk(0, 0x2000),
      blk(1, 0x6000),
      blk(1, 0x8000),
      blk(4, 0x10000),
      blk(4, 0x40000),
      blk(5, 0x20000),
    ];
    checkBins(a, initial);

    // Allocate 2 frames - should come from 0x6000
    expect(a.allocPages(2)).toBe(0x6000);
    // Allocate 1 frame - should come from 0x2000
    expect(a.allocPages(1)).toBe(0x2000);
    // Allocate another frame - this should force a larger block to split
    expect(a.allocPages(1)).toBe(0x8000);
    checkBins(a, [blk(0, 0x9000), blk(4, 0x10000), blk(5, 0x20000), blk(4, 0x40000)]);
    expect(a.stats().freeBytes).toBe((69 - 4) * FRAME);

    // Freeing everything restores the initial bins.
    a.free(0x8000);
    a.free(0x2000);
    a.free(0x6000);
    checkBins(a, initial);
  });
});
