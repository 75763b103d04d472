/** Unit tests of every public operation of BuddyAllocator, one behaviour at a time. */
import { describe, expect, it } from "vitest";
import { BuddyAllocator } from "../../src/index.js";
import {
  allocatedList,
  blk,
  decomposeRun,
  expectCode,
  expectRejected,
  freeList,
  snapshot,
} from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PAGE = 4096;
const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2**53 - 1

function alloc4k(maxOrder = 20): BuddyAllocator {
  return new BuddyAllocator({ pageSize: PAGE, maxOrder });
}

/** An allocator with one region of `pages` pages at `start`. */
function withRegion(start: number, pages: number, maxOrder = 20): BuddyAllocator {
  const a = alloc4k(maxOrder);
  a.addRegion(start, pages * PAGE);
  return a;
}

// biome-ignore lint/suspicious/noExplicitAny: deliberately passing wrong types, as a JavaScript caller could
type Any = any;

describe("constructor", () => {
  it("defaults to 4 KiB pages and maxOrder 20", () => {
    const a = new BuddyAllocator({});
    expect(a.pageSize).toBe(4096);
    expect(a.maxOrder).toBe(20);
    const s = a.stats();
    expect(s.freeBlocksByOrder).toEqual(new Array(21).fill(0));
  });

  it("accepts any power-of-two page size from 1 and maxOrder 0..31", () => {
    for (const pageSize of [1, 2, 8, 512, 4096, 65536, 2 ** 30]) {
      expect(new BuddyAllocator({ pageSize }).pageSize).toBe(pageSize);
    }
    for (const maxOrder of [0, 1, 12, 31]) {
      const a = new BuddyAllocator({ pageSize: 1, maxOrder });
      expect(a.maxOrder).toBe(maxOrder);
      expect(a.stats().freeBlocksByOrder).toHaveLength(maxOrder + 1);
    }
  });

  it.each([0, 3, 12, 4095, -4096, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "4096", null])(
    "rejects pageSize %s",
    (pageSize) => {
      expectCode(() => new BuddyAllocator({ pageSize: pageSize as Any }), "INVALID_ARGUMENT");
    },
  );

  it.each([-1, 32, 64, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "4", null])(
    "rejects maxOrder %s",
    (maxOrder) => {
      expectCode(() => new BuddyAllocator({ maxOrder: maxOrder as Any }), "INVALID_ARGUMENT");
    },
  );
});

describe("addRegion", () => {
  it("rounds a region inward to whole pages (start 100, length 10000 -> one page at 4096)", () => {
    const a = alloc4k();
    expect(a.addRegion(100, 10000)).toEqual({ start: 4096, length: 4096 });
    expect(a.regions()).toEqual([{ start: 4096, length: 4096 }]);
    expect(freeList(a)).toEqual([blk(0, 4096)]);
    expect(a.stats().totalBytes).toBe(4096);
    expect(a.blockAt(100)).toBeNull();
    expect(a.blockAt(4095)).toBeNull();
    expect(a.blockAt(8192)).toBeNull();
    a.check();
  });

  it("rounds both ends of an unaligned region", () => {
    const a = alloc4k();
    // [4095, 16383) -> [4096, 12288): pages 1 and 2, which are not buddies.
    expect(a.addRegion(4095, 12288)).toEqual({ start: 4096, length: 8192 });
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(0, 0x2000)]);
    // The partial pages around it are still unmanaged: [12288, 16384) can be added now.
    expect(a.addRegion(12288, 4096)).toEqual({ start: 12288, length: 4096 });
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(1, 0x2000)]);
    a.check();
  });

  it("leaves an already aligned region alone", () => {
    const a = alloc4k();
    expect(a.addRegion(0x10000, 0x8000)).toEqual({ start: 0x10000, length: 0x8000 });
    expect(freeList(a)).toEqual([blk(3, 0x10000)]);
  });

  it("splits an odd region into naturally aligned blocks", () => {
    const a = withRegion(0x3000, 13); // pages 3..15
    expect(freeList(a)).toEqual([blk(0, 0x3000), blk(2, 0x4000), blk(3, 0x8000)]);
    expect(a.stats().freePages).toBe(13);
    a.check();
  });

  it("keeps blocks larger than maxOrder as several max-order blocks", () => {
    const a = withRegion(0, 10, 2);
    expect(freeList(a)).toEqual([blk(2, 0), blk(2, 0x4000), blk(1, 0x8000)]);
    const b = withRegion(0, 3, 0);
    expect(freeList(b)).toEqual([blk(0, 0), blk(0, 0x1000), blk(0, 0x2000)]);
    expect(b.stats().freeBlocksByOrder).toEqual([3]);
    a.check();
    b.check();
  });

  it("merges free buddies across regions added separately", () => {
    const a = alloc4k();
    a.addRegion(0x1000, 0x1000);
    a.addRegion(0x3000, 0x1000);
    a.addRegion(0x2000, 0x1000);
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(1, 0x2000)]);
    a.addRegion(0x0, 0x1000);
    expect(freeList(a)).toEqual([blk(2, 0x0)]);
    // The regions stay as they were added.
    expect(a.regions()).toEqual([
      { start: 0x0, length: 0x1000 },
      { start: 0x1000, length: 0x1000 },
      { start: 0x2000, length: 0x1000 },
      { start: 0x3000, length: 0x1000 },
    ]);
    a.check();
  });

  it("merges a block freed later with a buddy from another region", () => {
    const a = alloc4k();
    a.addRegion(0, PAGE);
    expect(a.allocPages(1)).toBe(0);
    a.addRegion(PAGE, PAGE);
    expect(freeList(a)).toEqual([blk(0, PAGE)]);
    a.free(0);
    expect(freeList(a)).toEqual([blk(1, 0)]);
    a.check();
  });

  it("manages sparse regions far apart (0 and 2**40, 2**50)", () => {
    const a = alloc4k();
    a.addRegion(2 ** 50, 4 * PAGE);
    a.addRegion(2 ** 40, 4 * PAGE);
    a.addRegion(0, 4 * PAGE);
    expect(freeList(a)).toEqual([blk(2, 0), blk(2, 2 ** 40), blk(2, 2 ** 50)]);
    expect(a.regions()).toEqual([
      { start: 0, length: 4 * PAGE },
      { start: 2 ** 40, length: 4 * PAGE },
      { start: 2 ** 50, length: 4 * PAGE },
    ]);
    expect(a.stats().totalBytes).toBe(12 * PAGE);
    expect(a.blockAt(2 ** 40 + 5)).toEqual({
      address: 2 ** 40,
      order: 2,
      size: 4 * PAGE,
      free: true,
      tag: 0,
      exact: false,
    });
    expect(a.blockAt(2 ** 40 - 1)).toBeNull();
    expect(a.blockAt(2 ** 40 + 4 * PAGE)).toBeNull();
    expect(a.allocAt(2 ** 50 + 2 * PAGE, 2)).toBe(2 ** 50 + 2 * PAGE);
    expect(a.allocPages(4)).toBe(0);
    expect(a.allocPages(4)).toBe(2 ** 40);
    a.free(2 ** 40);
    a.free(2 ** 50 + 2 * PAGE);
    expect(freeList(a)).toEqual([blk(2, 2 ** 40), blk(2, 2 ** 50)]);
    a.check();
  });

  it("handles regions ending at Number.MAX_SAFE_INTEGER with 1-byte pages", () => {
    const a = new BuddyAllocator({ pageSize: 1, maxOrder: 20 });
    // [2**53 - 16, 2**53 - 1): 15 pages = 8 + 4 + 2 + 1
    expect(a.addRegion(2 ** 53 - 16, 15)).toEqual({ start: 2 ** 53 - 16, length: 15 });
    expect(freeList(a)).toEqual([
      blk(3, 2 ** 53 - 16),
      blk(2, 2 ** 53 - 8),
      blk(1, 2 ** 53 - 4),
      blk(0, 2 ** 53 - 2),
    ]);
    expect(a.blockAt(MAX_SAFE - 1)).toEqual({
      address: MAX_SAFE - 1,
      order: 0,
      size: 1,
      free: true,
      tag: 0,
      exact: false,
    });
    expect(a.blockAt(MAX_SAFE)).toBeNull();
    expect(a.allocPages(1)).toBe(MAX_SAFE - 1);
    expect(a.allocPages(8)).toBe(2 ** 53 - 16);
    expect(a.allocAt(2 ** 53 - 6, 2)).toBe(2 ** 53 - 6);
    expect(freeList(a)).toEqual([blk(1, 2 ** 53 - 8), blk(1, 2 ** 53 - 4)]);
    a.check();
    a.free(2 ** 53 - 6);
    a.free(MAX_SAFE - 1);
    a.free(2 ** 53 - 16);
    expect(freeList(a)).toEqual([
      blk(3, 2 ** 53 - 16),
      blk(2, 2 ** 53 - 8),
      blk(1, 2 ** 53 - 4),
      blk(0, 2 ** 53 - 2),
    ]);
    // start + length may not exceed MAX_SAFE_INTEGER; the last address itself can be a page.
    expectRejected(a, () => a.addRegion(MAX_SAFE, 1), "INVALID_ARGUMENT");
    const c = new BuddyAllocator({ pageSize: 1, maxOrder: 20 });
    expectRejected(c, () => c.addRegion(2 ** 52, 2 ** 52), "INVALID_ARGUMENT");
    expectRejected(c, () => c.addRegion(1, MAX_SAFE), "INVALID_ARGUMENT");
    const b = new BuddyAllocator({ pageSize: 1, maxOrder: 0 });
    expect(b.addRegion(MAX_SAFE - 1, 1)).toEqual({ start: MAX_SAFE - 1, length: 1 });
    expect(b.allocPages(1)).toBe(MAX_SAFE - 1);
    a.check();
    b.check();
  });

  it("handles regions near Number.MAX_SAFE_INTEGER with 4 KiB pages", () => {
    const a = alloc4k();
    // [2**53 - 5 pages, 2**53 - 1) rounds down at the end to [2**53 - 5 pages, 2**53 - 1 page): 4 pages,
    // page numbers 2**41 - 5 .. 2**41 - 2 -> order 0, order 1, order 0.
    expect(a.addRegion(2 ** 53 - 5 * PAGE, 5 * PAGE - 1)).toEqual({
      start: 2 ** 53 - 5 * PAGE,
      length: 4 * PAGE,
    });
    expect(freeList(a)).toEqual([
      blk(0, 2 ** 53 - 5 * PAGE),
      blk(1, 2 ** 53 - 4 * PAGE),
      blk(0, 2 ** 53 - 2 * PAGE),
    ]);
    expect(a.allocPages(2)).toBe(2 ** 53 - 4 * PAGE);
    expect(a.blockAt(MAX_SAFE - PAGE - 5)).toEqual({
      address: 2 ** 53 - 2 * PAGE,
      order: 0,
      size: PAGE,
      free: true,
      tag: 0,
      exact: false,
    });
    // The last page [2**53 - 4096, 2**53) would end beyond MAX_SAFE_INTEGER.
    expectRejected(a, () => a.addRegion(2 ** 53 - PAGE, PAGE), "INVALID_ARGUMENT");
    // [2**53 - 4096, 2**53 - 1) holds no whole page.
    expectRejected(a, () => a.addRegion(2 ** 53 - PAGE, PAGE - 1), "INVALID_ARGUMENT");
    a.check();
  });

  it("adds 1 TiB at once as 256 blocks of order 20", () => {
    // Cost grows with the number of aligned blocks, not pages: this should take well under a second
    // (not asserted, to keep the test robust on slow machines).
    const a = alloc4k();
    expect(a.addRegion(0, TiB)).toEqual({ start: 0, length: TiB });
    const s = a.stats();
    expect(s.totalBytes).toBe(TiB);
    expect(s.freeBytes).toBe(TiB);
    expect(s.allocatedBytes).toBe(0);
    expect(s.totalPages).toBe(TiB / PAGE);
    expect(s.freePages).toBe(TiB / PAGE);
    expect(s.freeBlocksByOrder).toEqual([...new Array(20).fill(0), 256]);
    expect(s.largestFreeBlock).toBe(4 * GiB);
    expect(s.fragmentation).toBeCloseTo(1 - 1 / 256, 12);
    const free = freeList(a);
    expect(free).toEqual(Array.from({ length: 256 }, (_, i) => blk(20, i * 4 * GiB)));
    // (No check() here: it may walk every page, which is allowed to take a while for 2**28 pages.)
    // One page splits one order-20 block into orders 0..19 plus the page.
    expect(a.allocPages(1)).toBe(0);
    expect(a.stats().freeBlocksByOrder).toEqual([...new Array(20).fill(1), 255]);
    expect(a.allocPages(2 ** 20)).toBe(4 * GiB);
    a.free(0);
    a.free(4 * GiB);
    expect(freeList(a)).toEqual(free);
    expect(a.stats().freeBytes).toBe(TiB);
  });

  it("adds a large unaligned region as its aligned decomposition", () => {
    const a = alloc4k();
    const start = 2 ** 40 + 3 * PAGE;
    const pages = 2 ** 22 - 7;
    expect(a.addRegion(start, pages * PAGE)).toEqual({ start, length: pages * PAGE });
    expect(freeList(a)).toEqual(decomposeRun(start / PAGE, start / PAGE + pages, 20, PAGE));
    expect(a.stats().freePages).toBe(pages);
    a.check();
  });

  it("rejects a region with no whole page", () => {
    const a = withRegion(0x100000, 4);
    expectRejected(a, () => a.addRegion(100, 4000), "INVALID_ARGUMENT");
    expectRejected(a, () => a.addRegion(1, 4096), "INVALID_ARGUMENT");
    expectRejected(a, () => a.addRegion(4096, 4095), "INVALID_ARGUMENT");
    expectRejected(a, () => a.addRegion(0, 0), "INVALID_ARGUMENT");
    expectRejected(a, () => a.addRegion(8192, 0), "INVALID_ARGUMENT");
  });

  it.each([
    [-4096, 8192],
    [1.5, 4096],
    [Number.NaN, 4096],
    [0, -4096],
    [0, 4096.5],
    [0, Number.NaN],
    [0, Number.POSITIVE_INFINITY],
    [2 ** 53, 4096],
    [0, 2 ** 53],
    ["0", 4096],
    [0, "4096"],
    [undefined, 4096],
  ])("rejects addRegion(%s, %s)", (start, length) => {
    const a = withRegion(0x100000, 4);
    expectRejected(a, () => a.addRegion(start as Any, length as Any), "INVALID_ARGUMENT");
  });

  it("rejects overlap with managed memory", () => {
    const a = withRegion(0x10000, 16); // [0x10000, 0x20000)
    expect(a.allocPages(1)).toBe(0x10000);
    expectRejected(a, () => a.addRegion(0x10000, 0x10000), "OVERLAP"); // the same
    expectRejected(a, () => a.addRegion(0x1f000, 0x2000), "OVERLAP"); // the last page and beyond
    expectRejected(a, () => a.addRegion(0xf000, 0x2000), "OVERLAP"); // before and the first (allocated) page
    expectRejected(a, () => a.addRegion(0x12000, 0x1000), "OVERLAP"); // inside
    expectRejected(a, () => a.addRegion(0, 0x100000), "OVERLAP"); // around
    // Touching is fine.
    expect(a.addRegion(0xf000, 0x1000)).toEqual({ start: 0xf000, length: 0x1000 });
    expect(a.addRegion(0x20000, 0x1000)).toEqual({ start: 0x20000, length: 0x1000 });
    a.check();
  });
});

describe("allocPages", () => {
  it("rounds the page count up to a power of two", () => {
    const a = withRegion(0, 64);
    expect(a.allocPages(3)).toBe(0);
    expect(a.orderOf(0)).toBe(2);
    expect(a.stats().allocatedBytes).toBe(4 * PAGE);
    expect(a.allocPages(5)).toBe(0x8000);
    expect(a.orderOf(0x8000)).toBe(3);
    expect(a.allocPages(4)).toBe(0x4000);
    expect(a.orderOf(0x4000)).toBe(2);
    expect(a.allocPages(17)).toBe(0x20000);
    expect(a.orderOf(0x20000)).toBe(5);
    expect(a.stats().allocatedBytes).toBe((4 + 8 + 4 + 32) * PAGE);
    expect(freeList(a)).toEqual([blk(4, 0x10000)]);
    a.check();
  });

  it("takes the smallest free order first, even at a higher address", () => {
    const a = withRegion(0, 8);
    a.addRegion(0x100000, PAGE);
    expect(a.allocPages(1)).toBe(0x100000);
    expect(a.allocPages(1)).toBe(0);
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(1, 0x2000), blk(2, 0x4000)]);
  });

  it("takes the block freed last within an order (LIFO)", () => {
    const a = alloc4k();
    a.addRegion(0x5000, PAGE);
    a.addRegion(0x9000, PAGE);
    a.addRegion(0x3000, PAGE);
    expect(a.allocPages(1)).toBe(0x3000);
    expect(a.allocPages(1)).toBe(0x9000);
    a.free(0x3000);
    expect(a.allocPages(1)).toBe(0x3000);
    expect(a.allocPages(1)).toBe(0x5000);
    expect(a.allocPages(1)).toBeNull();
  });

  it("takes the first block in list order that fits below a limit, walking past those that do not", () => {
    const a = alloc4k();
    a.addRegion(0x5000, PAGE);
    a.addRegion(0x9000, PAGE);
    a.addRegion(0x3000, PAGE); // the order-0 list is now 0x3000, 0x9000, 0x5000 (LIFO)
    expect(a.allocPages(1, { limit: 0x6000 })).toBe(0x3000);
    expect(a.allocPages(1, { limit: 0x6000 })).toBe(0x5000); // 0x9000 ends above the limit
    expect(a.allocPages(1, { limit: 0x9000 })).toBeNull();
    expect(a.allocPages(1, { limit: 0xa000 })).toBe(0x9000);
  });

  it("returns the low half when it splits and keeps the high halves free", () => {
    const a = withRegion(0, 16);
    expect(a.allocPages(1)).toBe(0);
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(1, 0x2000), blk(2, 0x4000), blk(3, 0x8000)]);
    a.check();
  });

  it("falls back to a smaller block that lies aligned when no free block is as large as the alignment", () => {
    const a = withRegion(0, 3); // o1 @0, o0 @0x2000: nothing of order 2 or more
    expect(a.allocPages(1, { align: 0x4000 })).toBe(0); // the order-1 block at 0 is 16 KiB aligned
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(0, 0x2000)]);
    expect(a.allocPages(1, { align: 0x4000 })).toBeNull(); // 0x1000 and 0x2000 are not
    // An alignment beyond the largest order: only blocks at multiples of it can serve.
    const b = withRegion(0, 8, 2); // maxOrder 2: o2 @0, o2 @0x4000
    expect(b.allocPages(1, { align: 2 ** 40 })).toBe(0);
    expect(b.allocPages(1, { align: 2 ** 40 })).toBeNull();
    b.check();
  });

  it("honours an alignment larger than the block", () => {
    const a = withRegion(0x1000, 15); // o0 @0x1000, o1 @0x2000, o2 @0x4000, o3 @0x8000
    expect(a.allocPages(1, { align: 0x4000 })).toBe(0x4000);
    expect(freeList(a)).toEqual([
      blk(0, 0x1000),
      blk(1, 0x2000),
      blk(0, 0x5000),
      blk(1, 0x6000),
      blk(3, 0x8000),
    ]);
    expect(a.allocPages(2, { align: 0x8000 })).toBe(0x8000);
    expect(a.allocPages(1, { align: 0x10000 })).toBeNull();
    // Alignment alone takes the smallest free order that is aligned as a whole (order 1 here),
    // its LIFO head, without walking the lists: 0xa000 (freed last), not the older 0x2000.
    expect(a.allocPages(1, { align: 0x2000 })).toBe(0xa000);
    expect(freeList(a)).toEqual([
      blk(0, 0x1000),
      blk(1, 0x2000),
      blk(0, 0x5000),
      blk(1, 0x6000),
      blk(0, 0xb000),
      blk(2, 0xc000),
    ]);
    for (const address of [0x4000, 0x8000, 0xa000]) a.free(address);
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(1, 0x2000), blk(2, 0x4000), blk(3, 0x8000)]);
    a.check();
  });

  it("treats an alignment at or below the block size as no constraint", () => {
    for (const align of [1, 2, 512, PAGE, 2 * PAGE]) {
      const a = withRegion(0x1000, 15);
      expect(a.allocPages(2, { align })).toBe(0x2000);
    }
  });

  it("keeps the whole block below a limit (DMA32 style)", () => {
    const low = 2 ** 32 - 8 * PAGE;
    const a = alloc4k();
    a.addRegion(low, 8 * PAGE); // order 3 just below 4 GiB
    a.addRegion(2 ** 32 + PAGE, PAGE); // one page above 4 GiB: the smallest free block
    expect(a.allocPages(1)).toBe(2 ** 32 + PAGE);
    a.free(2 ** 32 + PAGE);
    expect(a.allocPages(1, { limit: 2 ** 32 })).toBe(low);
    a.free(low);
    // A limit cutting through a free block: only a part of it that ends below the limit is usable.
    expect(a.allocPages(1, { limit: 2 ** 32 - 4 * PAGE })).toBe(low);
    expect(a.allocPages(4, { limit: 2 ** 32 - 4 * PAGE })).toBeNull();
    expect(a.allocPages(2, { limit: 2 ** 32 - 4 * PAGE })).toBe(low + 2 * PAGE);
    // The end may equal the limit exactly.
    expect(a.allocPages(4, { limit: 2 ** 32 })).toBe(low + 4 * PAGE);
    expect(a.allocPages(1, { limit: low })).toBeNull();
    expect(a.allocPages(1, { limit: 0 })).toBeNull();
    expect(a.allocPages(1, { limit: low + 2 * PAGE - 1 })).toBeNull();
    expect(a.allocPages(1, { limit: low + 2 * PAGE + 1 })).toBe(low + PAGE);
    // Low memory is used up: limited requests fail although a high page is free.
    expect(a.allocPages(1, { limit: 2 ** 32 })).toBeNull();
    expect(a.allocPages(1, { limit: 2 ** 32 + PAGE })).toBeNull();
    expect(a.allocPages(1, { limit: 2 ** 32 + 2 * PAGE })).toBe(2 ** 32 + PAGE);
    a.check();
  });

  it("with limit 2**32 only ever returns blocks ending below 4 GiB", () => {
    const a = alloc4k();
    a.addRegion(2 ** 32 - MiB, MiB);
    a.addRegion(2 ** 32, 16 * MiB);
    a.addRegion(2 ** 32 - 16 * MiB, PAGE); // a lone low page
    a.addRegion(2 ** 33 + PAGE, PAGE); // a lone high page, smaller than anything below 4 GiB
    const counts = [1, 2, 3, 4, 5, 8, 16, 7, 1, 32, 2, 64, 1, 9];
    let served = 0;
    for (let i = 0; i < 1000; i++) {
      const count = counts[i % counts.length];
      const address = a.allocPages(count, { limit: 2 ** 32 });
      if (address === null) {
        // Nothing free below the limit could hold it.
        const order = Math.ceil(Math.log2(count));
        for (const f of a.freeBlocks()) {
          if (f.order >= order) expect(f.address + 2 ** order * PAGE).toBeGreaterThan(2 ** 32);
        }
        continue;
      }
      served += 2 ** a.orderOf(address);
      expect(address + 2 ** a.orderOf(address) * PAGE).toBeLessThanOrEqual(2 ** 32);
    }
    // All 257 low pages are in use, high memory untouched.
    expect(served).toBe(257);
    expect(a.stats().freeBytes).toBe(16 * MiB + PAGE);
    expect(a.allocPages(1)).toBe(2 ** 33 + PAGE);
    a.check();
  });

  it("stores the tag", () => {
    const a = withRegion(0, 16);
    const x = a.allocPages(2, { tag: 65535 })!;
    const y = a.allocPages(1, { tag: 7, align: PAGE, limit: 2 ** 40 })!;
    const z = a.allocPages(1)!;
    expect(a.tagOf(x)).toBe(65535);
    expect(a.tagOf(y)).toBe(7);
    expect(a.tagOf(z)).toBe(0);
    expect(allocatedList(a)).toEqual([
      { address: 0, order: 1, tag: 65535 },
      { address: 0x2000, order: 0, tag: 7 },
      { address: 0x3000, order: 0, tag: 0 },
    ]);
  });

  it("accepts absent options", () => {
    const a = withRegion(0, 4);
    expect(a.allocPages(1, {})).toBe(0);
    expect(a.allocPages(1, undefined)).toBe(0x1000);
    expect(a.allocPages(1, { align: undefined, limit: undefined, tag: undefined })).toBe(0x2000);
  });

  it("allows a count of exactly 2**maxOrder", () => {
    const a = withRegion(0, 32, 4);
    expect(a.allocPages(16)).toBe(0);
    expect(a.orderOf(0)).toBe(4);
  });

  it.each([
    ["count 0", [0]],
    ["count -1", [-1]],
    ["count 1.5", [1.5]],
    ["count NaN", [Number.NaN]],
    ["count Infinity", [Number.POSITIVE_INFINITY]],
    ["count above 2**maxOrder", [2 ** 20 + 1]],
    ["count as string", ["1"]],
    ["align 0", [1, { align: 0 }]],
    ["align 3", [1, { align: 3 }]],
    ["align 6144", [1, { align: 6144 }]],
    ["align -4096", [1, { align: -4096 }]],
    ["align 1.5", [1, { align: 1.5 }]],
    ["align 2**53", [1, { align: 2 ** 53 }]],
    ["align NaN", [1, { align: Number.NaN }]],
    ["limit -1", [1, { limit: -1 }]],
    ["limit 1.5", [1, { limit: 1.5 }]],
    ["limit NaN", [1, { limit: Number.NaN }]],
    ["limit 2**53", [1, { limit: 2 ** 53 }]],
    ["tag -1", [1, { tag: -1 }]],
    ["tag 65536", [1, { tag: 65536 }]],
    ["tag 1.5", [1, { tag: 1.5 }]],
    ["tag NaN", [1, { tag: Number.NaN }]],
  ])("rejects %s without changing anything", (_name, args) => {
    const a = withRegion(0, 16);
    a.allocPages(1);
    expectRejected(a, () => (a.allocPages as Any)(...args), "INVALID_ARGUMENT");
  });

  it("returns null when out of memory, never throws", () => {
    const a = withRegion(0, 4);
    for (let i = 0; i < 4; i++) expect(a.allocPages(1)).toBe(i * PAGE);
    const before = snapshot(a);
    expect(a.allocPages(1)).toBeNull();
    expect(a.allocOrder(0)).toBeNull();
    expect(a.allocAt(0, 1)).toBeNull();
    expect(snapshot(a)).toEqual(before);
    // Fragmented: two free pages that are not buddies cannot serve two pages.
    a.free(0);
    a.free(0x2000);
    const fragmented = snapshot(a);
    expect(a.allocPages(2)).toBeNull();
    expect(a.allocPages(4)).toBeNull();
    expect(snapshot(a)).toEqual(fragmented);
    // The empty allocator.
    const empty = alloc4k();
    expect(empty.allocPages(1)).toBeNull();
    expect(empty.allocPages(2 ** 20)).toBeNull();
    a.check();
  });
});

describe("allocOrder", () => {
  it("returns a block of exactly that order, smallest free order first", () => {
    const a = withRegion(0x1000, 15); // o0 @0x1000, o1 @0x2000, o2 @0x4000, o3 @0x8000
    expect(a.allocOrder(2)).toBe(0x4000);
    expect(a.allocOrder(2, 9)).toBe(0x8000);
    expect(a.orderOf(0x8000)).toBe(2);
    expect(a.tagOf(0x8000)).toBe(9);
    expect(a.tagOf(0x4000)).toBe(0);
    expect(a.allocOrder(3)).toBeNull();
    expect(a.allocOrder(0)).toBe(0x1000);
    expect(freeList(a)).toEqual([blk(1, 0x2000), blk(2, 0xc000)]);
    a.check();
  });

  it("serves maxOrder", () => {
    const a = withRegion(0, 8, 3);
    expect(a.allocOrder(3)).toBe(0);
    expect(a.allocOrder(0)).toBeNull();
  });

  it.each([
    [-1, 0],
    [5, 0],
    [1.5, 0],
    [Number.NaN, 0],
    ["1", 0],
    [0, -1],
    [0, 65536],
    [0, 0.5],
  ])("rejects allocOrder(%s, %s)", (order, tag) => {
    const a = withRegion(0, 16, 4);
    expectRejected(a, () => a.allocOrder(order as Any, tag as Any), "INVALID_ARGUMENT");
  });
});

describe("allocAt", () => {
  it("takes the block at an address and splits the free block around it", () => {
    const a = withRegion(0, 16);
    expect(a.allocAt(0x5000, 1)).toBe(0x5000);
    expect(freeList(a)).toEqual([blk(2, 0x0), blk(0, 0x4000), blk(1, 0x6000), blk(3, 0x8000)]);
    expect(allocatedList(a)).toEqual([{ address: 0x5000, order: 0, tag: 0 }]);
    expect(a.allocAt(0xc000, 3)).toBe(0xc000);
    expect(a.orderOf(0xc000)).toBe(2);
    expect(freeList(a)).toEqual([blk(2, 0x0), blk(0, 0x4000), blk(1, 0x6000), blk(2, 0x8000)]);
    // A whole free block.
    expect(a.allocAt(0x6000, 2)).toBe(0x6000);
    expect(freeList(a)).toEqual([blk(2, 0x0), blk(0, 0x4000), blk(2, 0x8000)]);
    a.check();
  });

  it("returns null when any part is allocated or unmanaged", () => {
    const a = withRegion(0, 16);
    a.allocAt(0x5000, 1);
    const before = snapshot(a);
    expect(a.allocAt(0x4000, 2)).toBeNull(); // contains 0x5000
    expect(a.allocAt(0x0, 8)).toBeNull(); // contains 0x5000
    expect(a.allocAt(0x5000, 1)).toBeNull(); // is 0x5000
    expect(a.allocAt(0x0, 32)).toBeNull(); // beyond the region
    expect(a.allocAt(0x10000, 1)).toBeNull(); // unmanaged
    expect(a.allocAt(2 ** 40, 1)).toBeNull(); // unmanaged
    expect(snapshot(a)).toEqual(before);
    const b = withRegion(0, 3);
    expect(b.allocAt(0, 4)).toBeNull(); // page 3 is unmanaged
    expect(b.allocAt(0x2000, 2)).toBeNull();
    expect(b.allocAt(0x2000, 1)).toBe(0x2000);
  });

  it("takes a whole max-order block from a separately added region", () => {
    const a = alloc4k(1);
    a.addRegion(0, 2 * PAGE);
    a.addRegion(2 * PAGE, 2 * PAGE);
    expect(a.allocAt(0x2000, 2)).toBe(0x2000);
    expect(freeList(a)).toEqual([blk(1, 0)]);
  });

  it.each([
    ["an address not aligned to the block size", 0x1000, 2],
    ["an address not aligned to the block size (4 pages)", 0x2000, 4],
    ["an address not aligned to a page", 0x1001, 1],
    ["count 0", 0, 0],
    ["count above 2**maxOrder", 0, 2 ** 20 + 1],
    ["a negative address", -4096, 1],
    ["a fractional address", 0.5, 1],
    ["a NaN address", Number.NaN, 1],
    ["an unsafe address", 2 ** 53, 1],
  ])("rejects %s", (_name, address, count) => {
    const a = withRegion(0, 16);
    a.allocPages(1);
    expectRejected(a, () => a.allocAt(address, count), "INVALID_ARGUMENT");
  });
});

describe("free", () => {
  it("merges with free buddies as far as possible", () => {
    const a = withRegion(0, 16);
    for (let i = 0; i < 16; i++) expect(a.allocPages(1)).toBe(i * PAGE);
    expect(freeList(a)).toEqual([]);
    a.free(0x0000);
    expect(freeList(a)).toEqual([blk(0, 0x0)]);
    a.free(0x2000);
    expect(freeList(a)).toEqual([blk(0, 0x0), blk(0, 0x2000)]);
    a.free(0x1000);
    expect(freeList(a)).toEqual([blk(1, 0x0), blk(0, 0x2000)]);
    a.free(0x3000);
    expect(freeList(a)).toEqual([blk(2, 0x0)]);
    for (const page of [15, 9, 12, 8, 10, 13, 14, 4, 6, 5]) a.free(page * PAGE);
    // Pages 7 and 11 are still allocated.
    expect(freeList(a)).toEqual([
      blk(2, 0x0),
      blk(1, 0x4000),
      blk(0, 0x6000),
      blk(1, 0x8000),
      blk(0, 0xa000),
      blk(2, 0xc000),
    ]);
    a.check();
    a.free(7 * PAGE);
    expect(freeList(a)).toEqual([blk(3, 0x0), blk(1, 0x8000), blk(0, 0xa000), blk(2, 0xc000)]);
    a.free(11 * PAGE);
    expect(freeList(a)).toEqual([blk(4, 0x0)]);
    expect(a.stats().allocatedBytes).toBe(0);
    a.check();
  });

  it("frees the whole block", () => {
    const a = withRegion(0, 16);
    expect(a.allocPages(8)).toBe(0);
    expect(a.allocPages(4)).toBe(0x8000);
    a.free(0);
    expect(freeList(a)).toEqual([blk(3, 0x0), blk(2, 0xc000)]);
    a.free(0x8000);
    expect(freeList(a)).toEqual([blk(4, 0x0)]);
  });

  it("does not merge beyond maxOrder", () => {
    const a = withRegion(0, 4, 1);
    for (let i = 0; i < 4; i++) a.allocPages(1);
    for (let i = 3; i >= 0; i--) a.free(i * PAGE);
    expect(freeList(a)).toEqual([blk(1, 0), blk(1, 0x2000)]);
    a.check();
  });

  it("rejects addresses that are not the start of a live block", () => {
    const a = withRegion(0, 16);
    a.addRegion(0x100000, PAGE);
    expect(a.allocPages(4)).toBe(0);
    expect(a.allocPages(1)).toBe(0x100000);
    a.free(0x100000);
    expectRejected(a, () => a.free(0x100000), "NOT_ALLOCATED"); // double free
    expectRejected(a, () => a.free(0x1000), "NOT_ALLOCATED"); // interior page
    expectRejected(a, () => a.free(0x800), "NOT_ALLOCATED"); // interior byte
    expectRejected(a, () => a.free(0x1), "NOT_ALLOCATED"); // interior byte
    expectRejected(a, () => a.free(0x8000), "NOT_ALLOCATED"); // never allocated (free block)
    expectRejected(a, () => a.free(0x5000), "NOT_ALLOCATED"); // never allocated (inside a free block)
    expectRejected(a, () => a.free(0x200000), "NOT_ALLOCATED"); // outside every region
    expectRejected(a, () => a.free(2 ** 50), "NOT_ALLOCATED"); // outside every region
    a.free(0);
    expectRejected(a, () => a.free(0), "NOT_ALLOCATED"); // double free after merging
    expect(freeList(a)).toEqual([blk(4, 0), blk(0, 0x100000)]);
  });

  it.each([-1, -4096, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "0", undefined])(
    "rejects free(%s) as INVALID_ARGUMENT",
    (address) => {
      const a = withRegion(0, 16);
      a.allocPages(1);
      expectRejected(a, () => a.free(address as Any), "INVALID_ARGUMENT");
    },
  );
});

describe("tags and orders", () => {
  it("reads and changes the tag and order of a live block", () => {
    const a = withRegion(0, 16);
    const x = a.allocPages(4, { tag: 12 })!;
    const y = a.allocOrder(1, 34)!;
    expect(a.tagOf(x)).toBe(12);
    expect(a.orderOf(x)).toBe(2);
    expect(a.tagOf(y)).toBe(34);
    expect(a.orderOf(y)).toBe(1);
    a.setTag(x, 65535);
    expect(a.tagOf(x)).toBe(65535);
    a.setTag(y, 0);
    expect(a.tagOf(y)).toBe(0);
    expect(a.blockAt(x + 1)!.tag).toBe(65535);
    expect(allocatedList(a)).toEqual([
      { address: x, order: 2, tag: 65535 },
      { address: y, order: 1, tag: 0 },
    ]);
    a.free(x);
    const z = a.allocPages(4)!;
    expect(z).toBe(x);
    expect(a.tagOf(z)).toBe(0); // a new allocation does not inherit the old tag
    a.check();
  });

  it("rejects addresses that are not live block starts", () => {
    const a = withRegion(0, 16);
    const x = a.allocPages(4, { tag: 5 })!;
    for (const address of [x + PAGE, x + 1, 0x8000, 0x10000, 2 ** 40]) {
      expectRejected(a, () => a.tagOf(address), "NOT_ALLOCATED");
      expectRejected(a, () => a.orderOf(address), "NOT_ALLOCATED");
      expectRejected(a, () => a.setTag(address, 1), "NOT_ALLOCATED");
    }
    a.free(x);
    expectRejected(a, () => a.tagOf(x), "NOT_ALLOCATED");
    expectRejected(a, () => a.orderOf(x), "NOT_ALLOCATED");
    expectRejected(a, () => a.setTag(x, 1), "NOT_ALLOCATED");
  });

  it("rejects bad numbers", () => {
    const a = withRegion(0, 16);
    const x = a.allocPages(1, { tag: 5 })!;
    for (const tag of [-1, 65536, 1.5, Number.NaN, "1"]) {
      expectRejected(a, () => a.setTag(x, tag as Any), "INVALID_ARGUMENT");
    }
    for (const address of [-1, 0.5, Number.NaN, 2 ** 53]) {
      expectRejected(a, () => a.tagOf(address), "INVALID_ARGUMENT");
      expectRejected(a, () => a.orderOf(address), "INVALID_ARGUMENT");
      expectRejected(a, () => a.setTag(address, 1), "INVALID_ARGUMENT");
    }
    expect(a.tagOf(x)).toBe(5);
  });
});

describe("blockAt", () => {
  it("finds the free or allocated block containing any byte", () => {
    const a = withRegion(0x10000, 16);
    const x = a.allocPages(2, { tag: 3 })!; // 0x10000, leaves o1 @0x12000, o2 @0x14000, o3 @0x18000
    expect(x).toBe(0x10000);
    expect(a.blockAt(0x10000)).toEqual({
      address: 0x10000,
      order: 1,
      size: 0x2000,
      free: false,
      tag: 3,
      exact: false,
    });
    expect(a.blockAt(0x11fff)).toEqual({
      address: 0x10000,
      order: 1,
      size: 0x2000,
      free: false,
      tag: 3,
      exact: false,
    });
    expect(a.blockAt(0x12000)).toEqual({
      address: 0x12000,
      order: 1,
      size: 0x2000,
      free: true,
      tag: 0,
      exact: false,
    });
    expect(a.blockAt(0x16abc)).toEqual({
      address: 0x14000,
      order: 2,
      size: 0x4000,
      free: true,
      tag: 0,
      exact: false,
    });
    expect(a.blockAt(0x1ffff)).toEqual({
      address: 0x18000,
      order: 3,
      size: 0x8000,
      free: true,
      tag: 0,
      exact: false,
    });
    a.check();
  });

  it("returns null for unmanaged addresses", () => {
    const a = withRegion(0x10000, 4);
    a.addRegion(0x20000, PAGE);
    for (const address of [0, 0xffff, 0x14000, 0x1ffff, 0x21000, 2 ** 40, MAX_SAFE]) {
      expect(a.blockAt(address)).toBeNull();
    }
    expect(a.blockAt(0x20fff)).toEqual({
      address: 0x20000,
      order: 0,
      size: PAGE,
      free: true,
      tag: 0,
      exact: false,
    });
  });

  it.each([-1, 0.5, Number.NaN, 2 ** 53])("rejects blockAt(%s)", (address) => {
    const a = withRegion(0, 4);
    expectRejected(a, () => a.blockAt(address), "INVALID_ARGUMENT");
  });
});

describe("regions", () => {
  it("lists the rounded regions sorted by start", () => {
    const a = alloc4k();
    expect(a.regions()).toEqual([]);
    a.addRegion(0x50000 + 1, 0x3000);
    a.addRegion(0x10000, 0x1000);
    a.addRegion(2 ** 40, 0x10000 + 100);
    a.addRegion(0x30000, 0x4000);
    expect(a.regions()).toEqual([
      { start: 0x10000, length: 0x1000 },
      { start: 0x30000, length: 0x4000 },
      { start: 0x51000, length: 0x2000 },
      { start: 2 ** 40, length: 0x10000 },
    ]);
    expect(a.stats().totalBytes).toBe(0x1000 + 0x4000 + 0x2000 + 0x10000);
  });
});

describe("stats", () => {
  it("starts empty", () => {
    const s = alloc4k(5).stats();
    expect(s).toMatchObject({
      totalBytes: 0,
      freeBytes: 0,
      allocatedBytes: 0,
      totalPages: 0,
      freePages: 0,
      freeBlocksByOrder: [0, 0, 0, 0, 0, 0],
      largestFreeBlock: 0,
      fragmentation: 0,
    });
  });

  it("counts bytes, pages and blocks", () => {
    const a = withRegion(0, 13, 3); // o3 @0, o2 @0x8000, o0 @0xc000
    a.addRegion(0x100000, 2 * PAGE); // o1
    let s = a.stats();
    expect(s).toMatchObject({
      totalBytes: 15 * PAGE,
      freeBytes: 15 * PAGE,
      allocatedBytes: 0,
      totalPages: 15,
      freePages: 15,
      freeBlocksByOrder: [1, 1, 1, 1],
      largestFreeBlock: 8 * PAGE,
    });
    expect(s.fragmentation).toBeCloseTo(1 - 8 / 15, 12);
    a.allocPages(3); // order 2 @0x8000
    a.allocPages(1); // order 0 @0xc000
    s = a.stats();
    expect(s).toMatchObject({
      totalBytes: 15 * PAGE,
      freeBytes: 10 * PAGE,
      allocatedBytes: 5 * PAGE,
      totalPages: 15,
      freePages: 10,
      freeBlocksByOrder: [0, 1, 0, 1],
      largestFreeBlock: 8 * PAGE,
    });
    expect(s.fragmentation).toBeCloseTo(1 - 8 / 10, 12);
  });

  it("computes fragmentation as 1 - largest / free", () => {
    const a = withRegion(0, 4);
    expect(a.stats().fragmentation).toBe(0); // one free block
    a.allocPages(1); // free: o0 @0x1000, o1 @0x2000
    const s = a.stats();
    expect(s.largestFreeBlock).toBe(2 * PAGE);
    expect(s.freeBytes).toBe(3 * PAGE);
    expect(s.fragmentation).toBeCloseTo(1 / 3, 12);
    a.allocPages(2);
    expect(a.stats().fragmentation).toBe(0); // one free page
    a.allocPages(1);
    expect(a.stats()).toMatchObject({ freeBytes: 0, largestFreeBlock: 0, fragmentation: 0 });
  });

  it("reports metadata: some, and at most 12 bytes per page for a 1 GiB region", () => {
    const empty = alloc4k();
    expect(empty.stats().metadataBytes).toBeGreaterThanOrEqual(0);
    const a = alloc4k();
    a.addRegion(0, GiB);
    const s = a.stats();
    expect(s.totalPages).toBe(GiB / PAGE);
    expect(s.metadataBytes).toBeGreaterThan(0);
    expect(s.metadataBytes / s.totalPages).toBeLessThanOrEqual(12);
    // Allocating every page still fits (metadata may grow, but not past the bound).
    for (let i = 0; i < 1000; i++) a.allocPages(1 + (i % 5));
    const t = a.stats();
    expect(t.metadataBytes / t.totalPages).toBeLessThanOrEqual(12);
    a.check();
  });
});

describe("iterators", () => {
  it("report free and allocated blocks in address order", () => {
    const a = alloc4k();
    a.addRegion(0x40000, 16 * PAGE);
    a.addRegion(0x0, 16 * PAGE);
    const p = a.allocPages(1, { tag: 1 })!;
    const q = a.allocPages(2, { tag: 2 })!;
    const r = a.allocAt(0x48000, 8)!;
    expect([p, q, r]).toEqual([0x0, 0x2000, 0x48000]);
    expect(allocatedList(a)).toEqual([
      { address: 0x0, order: 0, tag: 1 },
      { address: 0x2000, order: 1, tag: 2 },
      { address: 0x48000, order: 3, tag: 0 },
    ]);
    expect(freeList(a)).toEqual([blk(0, 0x1000), blk(2, 0x4000), blk(3, 0x8000), blk(3, 0x40000)]);
    // Fresh iterators each time.
    expect(freeList(a)).toEqual(freeList(a));
    const it1 = a.freeBlocks();
    expect(it1[Symbol.iterator]()).toBe(it1);
  });
});

describe("pageSize 1", () => {
  it("works with 1-byte pages", () => {
    const a = new BuddyAllocator({ pageSize: 1, maxOrder: 3 });
    expect(a.addRegion(5, 20)).toEqual({ start: 5, length: 20 }); // [5, 25)
    expect(freeList(a)).toEqual([blk(0, 5), blk(1, 6), blk(3, 8), blk(3, 16), blk(0, 24)]);
    expect(a.allocPages(3)).toBe(8);
    expect(freeList(a)).toEqual([blk(0, 5), blk(1, 6), blk(2, 12), blk(3, 16), blk(0, 24)]);
    expect(a.allocAt(7, 1)).toBe(7);
    expect(a.allocPages(1, { align: 8 })).toBe(16); // cut from the order-3 block, not the lone page at 24
    expect(a.blockAt(13)).toEqual({ address: 12, order: 2, size: 4, free: true, tag: 0, exact: false });
    expect(a.stats()).toMatchObject({ totalBytes: 20, freeBytes: 14, totalPages: 20, freePages: 14 });
    a.free(8);
    a.free(7);
    a.free(16);
    expect(freeList(a)).toEqual([blk(0, 5), blk(1, 6), blk(3, 8), blk(3, 16), blk(0, 24)]);
    a.check();
  });
});
