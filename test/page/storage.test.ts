import { describe, expect, it } from "vitest";
import { AllocError, BuddyAllocator } from "../../src/index.js";
import { pageStorageBytes, pageStorageIn } from "../../src/page/page-map.js";

const options = { pageSize: 4096, maxOrder: 12 };
const MiB = 1 << 20;

function sharedStorage(start: number, maxLength: number) {
  const pages = BuddyAllocator.storagePages(options, start, maxLength);
  const buffer = new SharedArrayBuffer(pageStorageBytes(pages, options.maxOrder));
  return { buffer, pages, views: () => pageStorageIn(buffer, 0, pages, options.maxOrder) };
}

describe("BuddyAllocator over caller storage", () => {
  it("initialises a fresh region and keeps every list in the storage", () => {
    const s = sharedStorage(MiB, 16 * MiB);
    const a = BuddyAllocator.inStorage(options, MiB, 3 * MiB, s.views(), { fresh: true });
    expect([...a.freeBlocks()]).toEqual([
      { address: MiB, order: 8 },
      { address: 2 * MiB, order: 9 },
    ]);
    expect(a.stats().metadataBytes).toBeLessThan(1024); // the page metadata is the caller's
    a.check();
  });

  it("re-opens the same storage with every allocation intact", () => {
    const s = sharedStorage(MiB, 16 * MiB);
    const a = BuddyAllocator.inStorage(options, MiB, 4 * MiB, s.views(), { fresh: true });
    const x = a.allocPages(3, { tag: 9 })!;
    const y = a.allocOrder(5)!;
    const b = BuddyAllocator.inStorage(options, MiB, 4 * MiB, s.views(), { fresh: false });
    b.check();
    expect([...b.allocatedBlocks()]).toEqual([...a.allocatedBlocks()]);
    expect(b.tagOf(x)).toBe(9);
    b.free(y); // a second handle frees; the first sees it
    expect(() => a.free(y)).toThrowError(AllocError);
    expect([...a.freeBlocks()]).toEqual([...b.freeBlocks()]);
    a.check();
  });

  it("extends the region in place and merges the new pages with their buddies", () => {
    const s = sharedStorage(0, 8 * MiB);
    const a = BuddyAllocator.inStorage(options, 0, MiB, s.views(), { fresh: true });
    a.extendRegion(2 * MiB);
    expect([...a.freeBlocks()]).toEqual([{ address: 0, order: 9 }]);
    a.extendRegion(8 * MiB);
    expect(a.regions()).toEqual([{ start: 0, length: 8 * MiB }]);
    expect(a.stats().freeBlocksByOrder[11]).toBe(1);
    a.check();
  });

  it("refuses storage that is too small, and growth beyond it, changing nothing", () => {
    const s = sharedStorage(0, MiB);
    expect(() => BuddyAllocator.inStorage(options, 0, 4 * MiB, s.views(), { fresh: true })).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    const a = BuddyAllocator.inStorage(options, 0, MiB, s.views(), { fresh: true });
    const before = [...a.freeBlocks()];
    expect(() => a.extendRegion(4 * MiB)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => a.extendRegion(MiB / 2)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => a.addRegion(64 * MiB, MiB)).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect([...a.freeBlocks()]).toEqual(before);
    a.check();
  });

  it("extends an allocator with its own metadata too", () => {
    const a = new BuddyAllocator(options);
    a.addRegion(0, 3 * 4096);
    const p = a.allocOrder(0)!;
    a.extendRegion(300 * 4096 * 4);
    a.free(p);
    expect(a.stats().freePages).toBe(1200);
    a.check();
  });
});
