/** recordTrace: what it writes for each allocator, and that its traces replay to the same state. */
import { describe, expect, it } from "vitest";
import { ConcurrentBuddy } from "../../src/concurrent/concurrent-buddy.js";
import { AllocError } from "../../src/errors.js";
import { Heap } from "../../src/heap/index.js";
import { BuddyAllocator } from "../../src/page/buddy-allocator.js";
import { heapTarget } from "../../src/sim/heap-target.js";
import { pageTarget } from "../../src/sim/page-target.js";
import { recordTrace } from "../../src/sim/recorder.js";
import { replay } from "../../src/sim/replay.js";
import { parseTrace, TRACE_HEADER } from "../../src/sim/trace.js";

const body = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

describe("recordTrace on a BuddyAllocator", () => {
  it("records allocPages, allocOrder and allocAt in bytes, with tags, and frees by id", () => {
    const pages = new BuddyAllocator({ pageSize: 4096, maxOrder: 6 });
    pages.addRegion(0, 64 * 4096);
    const rec = recordTrace(pages);
    const a = rec.allocator.allocPages(3, { tag: 5 })!;
    const b = rec.allocator.allocOrder(2)!;
    const c = rec.allocator.allocAt(32 * 4096, 1)!;
    rec.allocator.free(b);
    rec.allocator.free(a);
    expect(c).toBe(32 * 4096);
    expect(rec.text().startsWith(`${TRACE_HEADER}\n`)).toBe(true);
    expect(body(rec.text())).toEqual(["a 1 12288 5", "a 2 16384", "a 3 4096", "f 2", "f 1"]);
    expect(rec.operations).toBe(5);
  });

  it("passes everything else through to the allocator and does not record calls that throw", () => {
    const pages = new BuddyAllocator({ pageSize: 256, maxOrder: 4 });
    pages.addRegion(0, 16 * 256);
    const rec = recordTrace(pages);
    const p = rec.allocator.allocPages(1)!;
    rec.allocator.free(p);
    expect(() => rec.allocator.free(p)).toThrow(AllocError); // double free: thrown, not recorded
    expect(() => rec.allocator.allocPages(0)).toThrow(AllocError);
    expect(rec.allocator.pageSize).toBe(256);
    expect(rec.allocator.stats().freeBytes).toBe(16 * 256);
    expect([...rec.allocator.freeBlocks()]).toEqual([{ address: 0, order: 4 }]);
    expect(body(rec.text())).toEqual(["a 1 256", "f 1"]);
  });

  it("records failed allocations (a larger allocator may satisfy them)", () => {
    const pages = new BuddyAllocator({ pageSize: 4096, maxOrder: 2 });
    pages.addRegion(0, 4 * 4096);
    const rec = recordTrace(pages);
    expect(rec.allocator.allocPages(4)).toBe(0);
    expect(rec.allocator.allocPages(1)).toBeNull();
    expect(body(rec.text())).toEqual(["a 1 16384", "a 2 4096"]);
    expect(() => parseTrace(rec.text())).not.toThrow();
  });

  it("streams lines to a writer when one is given", () => {
    const pages = new BuddyAllocator({ pageSize: 4096, maxOrder: 3 });
    pages.addRegion(0, 8 * 4096);
    const chunks: string[] = [];
    const rec = recordTrace(pages, { write: (c) => chunks.push(c) });
    rec.allocator.free(rec.allocator.allocOrder(1)!);
    expect(chunks).toEqual([`${TRACE_HEADER}\n`, "a 1 8192\n", "f 1\n"]);
    expect(rec.text()).toBe("");
  });

  it("a recorded program replays to the same allocated bytes and free-block orders", () => {
    const original = new BuddyAllocator({ pageSize: 4096, maxOrder: 8 });
    original.addRegion(0, 256 * 4096);
    const rec = recordTrace(original);
    const live: number[] = [];
    let x = 12345;
    let failures = 0;
    for (let i = 0; i < 400; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      if (live.length > 0 && x % 3 === 0) rec.allocator.free(live.splice(x % live.length, 1)[0]);
      else {
        const p = rec.allocator.allocPages(1 + (x % 5));
        if (p !== null) live.push(p);
        else failures++;
      }
    }
    const target = pageTarget({ memory: 256 * 4096, maxOrder: 8 });
    const result = replay(parseTrace(rec.text()), target);
    expect(failures).toBeGreaterThan(0); // it filled memory: failed requests are in the trace too
    expect(result.failures).toBe(failures);
    expect(target.usage().usedBytes).toBe(original.stats().allocatedBytes);
    // Same requests in the same order on the same geometry: the same blocks, placed the same way.
    const free = target
      .map()
      .blocks.filter((b) => b.free)
      .map((b) => [b.address, b.order]);
    expect(free.sort((a, b) => a[0] - b[0])).toEqual(
      [...original.freeBlocks()].map((b) => [b.address, b.order]),
    );
  });
});

describe("recordTrace on the other allocators", () => {
  it("ConcurrentBuddy: alloc(count) and allocOrder in bytes", () => {
    const c = ConcurrentBuddy.create({ size: 16 * 4096, pageSize: 4096 });
    const rec = recordTrace(c);
    const a = rec.allocator.alloc(3)!;
    rec.allocator.allocOrder(0);
    rec.allocator.free(a);
    expect(body(rec.text())).toEqual(["a 1 12288", "a 2 4096", "f 1"]);
  });

  it("Heap: malloc, calloc, realloc (a move is a free and an allocation) and free", () => {
    const heap = new Heap(new ArrayBuffer(1 << 20));
    const rec = recordTrace(heap);
    const h = rec.allocator;
    const a = h.malloc(24)!;
    const b = h.calloc(4, 10)!;
    const c = h.realloc(a, 5000)!; // grows out of its size class: moves
    h.free(b);
    h.free(c);
    expect(c).not.toBe(a);
    expect(body(rec.text())).toEqual(["a 1 24", "a 2 40", "f 1", "a 3 5000", "f 2", "f 3"]);
    const target = heapTarget({ memory: 1 << 20 });
    const r = replay(parseTrace(rec.text()), target);
    expect(r.liveBlocks).toBe(0);
    expect(target.heap.stats().liveAllocations).toBe(0);
  });

  it("Heap: allocArray and a free by the view", () => {
    const heap = new Heap(new ArrayBuffer(1 << 20));
    const rec = recordTrace(heap);
    const view = rec.allocator.allocArray(Float64Array, 10)!;
    rec.allocator.free(view);
    expect(body(rec.text())).toEqual(["a 1 80", "f 1"]);
  });

  it("Heap: scoped and scopedArray, freed by their using scope or by free() (once)", () => {
    const heap = new Heap(new ArrayBuffer(1 << 20));
    const rec = recordTrace(heap);
    const h = rec.allocator;
    let owner: unknown;
    {
      using block = h.scoped(100)!;
      owner = block.heap;
      using arr = h.scopedArray(Float64Array, 4)!;
      arr.view[0] = 1;
    }
    const c = h.scoped(5000)!;
    c.free();
    c.free(); // does nothing, records nothing
    expect(body(rec.text())).toEqual(["a 1 100", "a 2 32", "f 2", "f 1", "a 3 5000", "f 3"]);
    expect(heap.stats().liveAllocations).toBe(0);
    expect(owner).toBe(h); // its frees go through the recorder
    const target = heapTarget({ memory: 1 << 20 });
    expect(replay(parseTrace(rec.text()), target).liveBlocks).toBe(0);
  });

  it("Heap: malloc's alignment reaches the heap", () => {
    const heap = new Heap(new ArrayBuffer(1 << 20));
    const rec = recordTrace(heap);
    rec.allocator.malloc(10);
    expect(rec.allocator.malloc(10, 256)! % 256).toBe(0);
    expect(rec.allocator.scoped(10, 512)!.ptr % 512).toBe(0);
    expect(body(rec.text())).toEqual(["a 1 10", "a 2 10", "a 3 10"]);
  });

  it("rejects objects it cannot record", () => {
    expect(() => recordTrace({})).toThrow(TypeError);
  });
});
