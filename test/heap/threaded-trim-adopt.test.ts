/**
 * Regression: `trim()` on a threaded heap adopts the slabs of closed threads (gather.ts
 * `adoptAbandoned`). It used to push them above the adopting thread's kept empty slab, which must
 * stay the head of its class list: check() then threw CORRUPT "empty slab ... is not the head",
 * and the buried empty slab kept its pages past the trim. Found by the threaded model test.
 */
import { describe, expect, it } from "vitest";
import { Heap } from "../../src/index.js";

describe("threaded Heap: trim() after a close adopts slabs without burying an empty one", () => {
  it("a closed thread's slab adopted next to the adopter's kept empty slab", () => {
    const buffer = new ArrayBuffer(256 * 1024);
    const a = new Heap(buffer, { pageSize: 1024, threads: 2 });
    const b = Heap.open(buffer);
    const keep = a.malloc(16)!;
    b.free(b.malloc(16)); // b's slab of the 16-byte class is empty now, kept at the head of b's list
    a.close(); // slot 0 still owns the slab that holds `keep`
    b.trim(); // adopts it
    b.check();
    expect([...b.liveAllocations()].map((x) => x.ptr)).toEqual([keep]);
    b.free(keep);
    b.trim();
    b.check();
    const s = b.stats();
    expect(s.freeBytes).toBe(s.pageBytes); // after freeing everything and one trim: all pages free
  });
});
