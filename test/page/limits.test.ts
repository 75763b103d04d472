import { describe, expect, it } from "vitest";
import { BuddyAllocator } from "../../src/index.js";

describe("limits of one allocator", () => {
  it("refuses a region whose metadata would exceed about 2^30 pages, at once and changing nothing", () => {
    const a = new BuddyAllocator();
    a.addRegion(0, 1 << 20);
    const before = [...a.freeBlocks()];
    expect(() => a.addRegion(2 ** 40, 2 ** 52)).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect([...a.freeBlocks()]).toEqual(before);
    expect(a.regions()).toEqual([{ start: 0, length: 1 << 20 }]);
    a.check();
  });

  it("keeps metadata proportional to the memory added, not to the span between regions", () => {
    const near = new BuddyAllocator();
    near.addRegion(0, 1 << 20);
    near.addRegion(1 << 20, 1 << 20);
    const far = new BuddyAllocator();
    far.addRegion(0, 1 << 20);
    far.addRegion(2 ** 40, 1 << 20);
    expect(far.stats().metadataBytes).toBeLessThanOrEqual(near.stats().metadataBytes * 1.1);
    expect(far.stats().metadataBytes / far.stats().totalPages).toBeLessThanOrEqual(12);
  });

  it("refuses to extend a region past the metadata limit, changing nothing", () => {
    const a = new BuddyAllocator({ pageSize: 1, maxOrder: 20 });
    a.addRegion(0, 4096);
    const before = [...a.freeBlocks()];
    expect(() => a.extendRegion(2 ** 31)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect([...a.freeBlocks()]).toEqual(before);
    expect(a.regions()).toEqual([{ start: 0, length: 4096 }]);
    a.extendRegion(8192); // still grows within the limit
    expect(a.stats().freeBytes).toBe(8192);
    a.check();
  });
});
