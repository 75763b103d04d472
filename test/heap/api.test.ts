/**
 * Heap API, one behaviour at a time: classes and alignment, calloc, realloc in place and moving,
 * running full, typed arrays, scoped blocks, stats, growth of every kind of memory, opening and
 * refusing headers, and check() catching corruption.
 */
import { describe, expect, it } from "vitest";
import { classSizes } from "../../src/heap/size-classes.js";
import { Heap, MAX_SMALL, TAG_LARGE, TAG_SLAB } from "../../src/index.js";
import { expectCode } from "./helpers.js";

const MiB = 1 << 20;

describe("size classes and alignment", () => {
  it("has the documented classes for minAlign 16", () => {
    expect(classSizes(16)).toEqual([
      16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280,
      1536, 1792, 2048, 2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096, 4608, 5120, 5632, 6144, 6656, 7168,
      7680, 8192,
    ]);
  });

  it("serves every size up to MAX_SMALL from the smallest class that holds it", () => {
    const heap = new Heap(new ArrayBuffer(4 * MiB));
    const sizes = classSizes(16);
    for (let size = 0; size <= MAX_SMALL; size += 7) {
      const p = heap.malloc(size)!;
      expect(p % 16).toBe(0);
      expect(heap.usableSize(p)).toBe(sizes.find((c) => c >= size));
      heap.free(p);
    }
    heap.check();
  });

  it("aligns to any power of two asked", () => {
    const heap = new Heap(new ArrayBuffer(8 * MiB));
    for (const align of [1, 8, 16, 32, 64, 128, 256, 1024, 2048, 4096, 16384, 65536]) {
      for (const size of [0, 1, 100, 3000, 70000]) {
        const p = heap.malloc(size, align)!;
        expect(p % align).toBe(0);
        expect(heap.usableSize(p)).toBeGreaterThanOrEqual(size);
      }
    }
    heap.check();
    expect([...heap.liveAllocations()].length).toBe(60);
  });

  it("rejects bad sizes and alignments with INVALID_ARGUMENT", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    for (const size of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 * MiB, "8" as unknown as number]) {
      expectCode(() => heap.malloc(size), "INVALID_ARGUMENT");
      expectCode(() => heap.calloc(1, size), "INVALID_ARGUMENT");
    }
    expectCode(() => heap.calloc(2 ** 30, 2 ** 30), "INVALID_ARGUMENT");
    for (const align of [0, 3, 24, -16, 0.5]) expectCode(() => heap.malloc(8, align), "INVALID_ARGUMENT");
    const p = heap.malloc(8)!;
    expectCode(() => heap.realloc(p, -1), "INVALID_ARGUMENT");
    expectCode(() => heap.grow(-1), "INVALID_ARGUMENT");
  });
});

describe("malloc, calloc, realloc, free", () => {
  it("calloc zeroes recycled memory", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const bytes = new Uint8Array(heap.buffer);
    const p = heap.malloc(300)!;
    bytes.fill(0xff, p, p + 300);
    heap.free(p);
    const q = heap.calloc(30, 10)!;
    expect(q).toBe(p);
    expect(bytes.subarray(q, q + 300).every((b) => b === 0)).toBe(true);
  });

  it("realloc stays in place within a class and moves, keeping the bytes, across classes", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const bytes = new Uint8Array(heap.buffer);
    const p = heap.malloc(40)!;
    bytes.set([1, 2, 3, 4, 5], p);
    expect(heap.realloc(p, 48)).toBe(p);
    const q = heap.realloc(p, 500)!;
    expect(q).not.toBe(p);
    expect([...bytes.subarray(q, q + 5)]).toEqual([1, 2, 3, 4, 5]);
    expectCode(() => heap.free(p), "NOT_ALLOCATED");
    const r = heap.realloc(q, 3)!;
    expect([...bytes.subarray(r, r + 3)]).toEqual([1, 2, 3]);
    expect(heap.realloc(null, 10)).not.toBeNull();
    heap.check();
  });

  it("realloc grows a large block in place when the pages after it are free, and shrinks it in place", () => {
    const heap = new Heap(new ArrayBuffer(4 * MiB));
    const bytes = new Uint8Array(heap.buffer);
    const p = heap.malloc(64 * 1024, 1 << 20)!; // aligned to 1 MiB: the pages after it are free
    expect(heap.usableSize(p)).toBe(64 * 1024); // exactly the pages asked for
    bytes[p + 65535] = 77;
    expect(heap.realloc(p, 900 * 1024)).toBe(p);
    expect(heap.usableSize(p)).toBe(900 * 1024); // 225 pages, not a 256-page block
    expect(bytes[p + 65535]).toBe(77);
    expect(heap.realloc(p, 9000)).toBe(p);
    expect(heap.usableSize(p)).toBe(12288);
    heap.check();
    // A block right after it makes growth move. Only the stretch after p holds 2 MiB.
    const blocker = heap.malloc(2 * MiB)!;
    expect(blocker).toBe(p + 12288);
    const moved = heap.realloc(p, 40000)!;
    expect(moved).not.toBe(p);
    expect(bytes[moved + 8999]).toBe(0);
    heap.check();
  });

  it("realloc that cannot find room returns null and leaves the block intact", () => {
    const heap = new Heap(new ArrayBuffer(256 * 1024), { pageSize: 256 });
    const p = heap.malloc(1000)!;
    new Uint8Array(heap.buffer).fill(9, p, p + 1000);
    expect(heap.realloc(p, 200 * 1024)).toBeNull();
    expect(new Uint8Array(heap.buffer, p, 1000).every((b) => b === 9)).toBe(true);
    expect([...heap.liveAllocations()]).toEqual([{ ptr: p, size: 1000, tag: expect.any(Number), thread: 0 }]);
  });

  it("returns null when full, and empty slabs kept for reuse give their pages back under pressure", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const small: number[] = [];
    for (let p = heap.malloc(24); p !== null; p = heap.malloc(24)) small.push(p);
    expect(heap.malloc(5000)).toBeNull();
    for (const p of small) heap.free(p);
    const s = heap.stats();
    expect(s.classes[1].slabs).toBe(1); // the one empty slab a class keeps
    expect(s.freeBytes).toBe(s.pageBytes - 4096);
    let runs = 0;
    while (heap.malloc(16384) !== null) runs++; // the last one takes that slab's page
    expect(runs).toBe(Math.floor(s.pageBytes / 16384));
    heap.check();
  });

  it("free rejects double frees, interior pointers and strangers with NOT_ALLOCATED, non-pointers with INVALID_ARGUMENT", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const p = heap.malloc(100)!;
    const big = heap.malloc(10000)!;
    heap.free(p);
    expectCode(() => heap.free(p), "NOT_ALLOCATED");
    expectCode(() => heap.free(big + 16), "NOT_ALLOCATED");
    expectCode(() => heap.free(big + 4096), "NOT_ALLOCATED");
    expectCode(() => heap.free(8), "NOT_ALLOCATED"); // the header
    expectCode(() => heap.free(10 * MiB), "NOT_ALLOCATED");
    expectCode(() => heap.free(-4), "INVALID_ARGUMENT"); // not a pointer at all
    expect(() => heap.free(null)).not.toThrow();
    expect(() => heap.free(big)).not.toThrow();
    heap.check();
  });

  it("two handles on one ArrayBuffer are one heap", () => {
    const buffer = new ArrayBuffer(MiB);
    const a = new Heap(buffer);
    const b = Heap.open(buffer);
    const p = a.malloc(64)!;
    const q = b.malloc(64)!;
    expect(q).not.toBe(p);
    b.free(p);
    a.free(q);
    expect(a.stats().liveAllocations).toBe(0);
    b.check();
  });
});

describe("typed arrays and scopes", () => {
  it("allocArray returns a view over its block; free takes the view", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const f = heap.allocArray(Float64Array, 100)!;
    const g = heap.allocArray(BigInt64Array, 3)!;
    const u = heap.allocArray(Uint8Array, 0)!;
    expect(f.length).toBe(100);
    expect(f.buffer).toBe(heap.buffer);
    f.fill(1.5);
    g[2] = 7n;
    expect(heap.usableSize(f.byteOffset)).toBe(896); // the class above 800
    heap.free(f);
    heap.free(g);
    heap.free(u);
    expect(heap.stats().liveAllocations).toBe(0);
    expectCode(() => heap.free(new Float64Array(4)), "INVALID_ARGUMENT");
  });

  it("a scoped block frees itself when its scope ends, also by an exception, and only once", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    let ptr = 0;
    {
      using block = heap.scoped(256)!;
      ptr = block.ptr;
      expect(heap.usableSize(ptr)).toBe(256);
    }
    expectCode(() => heap.usableSize(ptr), "NOT_ALLOCATED");
    expect(() => {
      using arr = heap.scopedArray(Int32Array, 10)!;
      arr.view[0] = 1;
      throw new Error("boom");
    }).toThrow("boom");
    expect(heap.stats().liveAllocations).toBe(0);
    {
      using block = heap.scoped(10)!;
      block.free(); // disposal then does nothing
      expect(block.alive).toBe(false);
      heap.malloc(10); // may reuse the pointer: the disposal must not free it
    }
    expect(heap.stats().liveAllocations).toBe(1);
  });
});

describe("stats and liveAllocations", () => {
  it("reports requested, rounded and wasted bytes per class and for large blocks", () => {
    const heap = new Heap(new ArrayBuffer(4 * MiB));
    const a = heap.malloc(17)!;
    heap.malloc(20);
    const big = heap.malloc(10000)!;
    const s = heap.stats();
    const c32 = s.classes.find((c) => c.size === 32)!;
    expect(c32).toMatchObject({ liveObjects: 2, requestedBytes: 37, wastedBytes: 27, slabs: 1 });
    expect(c32.freeObjects).toBe(c32.objectsPerSlab - 2);
    expect(s.large).toEqual({ count: 1, requestedBytes: 10000, blockBytes: 12288, wastedBytes: 2288 });
    expect(s.usedBytes).toBe(10037);
    expect(s.wastedBytes).toBe(27 + 2288);
    expect(s.liveAllocations).toBe(3);
    expect(s.slabBytes + s.largeBytes + s.freeBytes).toBe(s.pageBytes);
    expect([...heap.liveAllocations()]).toEqual([
      { ptr: a, size: 17, tag: TAG_SLAB + 1, thread: 0 },
      { ptr: a + 32, size: 20, tag: TAG_SLAB + 1, thread: 0 },
      { ptr: big, size: 10000, tag: TAG_LARGE, thread: 0 },
    ]);
  });

  it("spends about 25 bytes of metadata per 4 KiB page on a large heap", () => {
    const s = new Heap(new ArrayBuffer(64 * MiB)).stats();
    expect(s.metadataBytesPerPage).toBeGreaterThan(25);
    expect(s.metadataBytesPerPage).toBeLessThan(26);
  });
});
