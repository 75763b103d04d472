/**
 * Damaged metadata is detected, never a hang and never a wrong answer: stats() and
 * liveAllocations() walk within bounds and throw CORRUPT on lists that loop; check() catches a
 * swapped pair of bitmap bits and an owner word on a page no block owns; Heap.open with
 * `verify` runs the whole check; and a seeded fuzz of single-byte changes to the metadata finds
 * no change that check() accepts and that later makes the heap hand out memory twice, refuse a
 * live pointer or lose a live byte (damage.ts). HEAP_FUZZ=<changes> sets its size (default 3000).
 */
import { describe, expect, it } from "vitest";
import { type AllocError, Heap } from "../../src/index.js";
import { damage, populate } from "./damage.js";
import { expectCode } from "./helpers.js";

const MiB = 1 << 20;

/** A heap with two slabs of the 32-byte class, a large block, and free pages between. */
function small() {
  const heap = new Heap(new ArrayBuffer(MiB));
  const objects: number[] = [];
  for (let i = 0; i < 200; i++) objects.push(heap.malloc(32)!);
  const large = heap.malloc(20_000)!;
  heap.malloc(5000);
  for (let i = 0; i < 200; i += 7) heap.free(objects[i]);
  heap.check();
  return { heap, objects, large };
}

function catchCorrupt(f: () => unknown): AllocError {
  try {
    f();
  } catch (e) {
    if ((e as AllocError).code === "CORRUPT") return e as AllocError;
    throw e;
  }
  throw new Error("expected CORRUPT");
}

describe("walks of damaged metadata are bounded", () => {
  it("a page-allocator free list that points at itself: stats() and liveAllocations() throw CORRUPT at once", () => {
    const { heap } = small();
    const map = heap.core.pages.map;
    const order = [...heap.core.pages.stats().freeBlocksByOrder.keys()].find((k) => map.head(k) >= 0)!;
    const head = map.head(order);
    map.links[map.linkBase + 2 * head] = head; // next = itself
    const t0 = performance.now();
    catchCorrupt(() => heap.stats());
    catchCorrupt(() => [...heap.liveAllocations()]);
    catchCorrupt(() => heap.check());
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("a slab class list or a free-stretch list that loops: CORRUPT from stats(), liveAllocations() and check()", () => {
    for (const hurt of ["class list", "stretch list"]) {
      const { heap } = small();
      const h = heap.core;
      if (hurt === "class list") {
        const head = h.i32[h.listBase + 1];
        expect(head).toBeGreaterThanOrEqual(0);
        h.side[(head << 2) + 2] = head; // the head's next: itself
      } else {
        const stretch = [...Array(h.pageCount).keys()].find((p) => (h.side[p << 2] & 255) === 254)!;
        h.side[(stretch << 2) + 2] = stretch;
      }
      catchCorrupt(() => heap.stats());
      catchCorrupt(() => [...heap.liveAllocations()]);
      catchCorrupt(() => heap.check());
    }
  });

  it("a slab tag naming no class: CORRUPT, not a TypeError", () => {
    const { heap, objects } = small();
    const a = heap.core.pages;
    const slot = a.slotOf(objects[0]);
    a.map.links[a.map.linkBase + 2 * slot] = 0x100 + 200; // tag: class 200
    for (const f of [() => heap.stats(), () => [...heap.liveAllocations()], () => heap.check()])
      catchCorrupt(f);
  });

  it("a free count its bitmap does not back: malloc throws CORRUPT instead of running past the bitmap", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const p = heap.malloc(32)!;
    const h = heap.core;
    const slab = (p - h.firstPage) / h.pageSize;
    const t = (p + h.trailer[1]) >>> 2;
    h.i32.fill(0, t + 1, t + 1 + h.bitmapWords[1]); // every object live, but the count says otherwise
    expect(catchCorrupt(() => heap.malloc(32)).message).toMatch(new RegExp(`slab at page ${slab}`));
  });
});

describe("check() catches damage that would hand out a live block again", () => {
  it("a live and a free bit of a slab bitmap swapped (same free count)", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    const a = heap.malloc(32)!;
    const b = heap.malloc(32)!;
    heap.free(b);
    heap.check();
    const h = heap.core;
    const t = (a + h.trailer[1]) >>> 2;
    const ia = (a - h.firstPage) / 32;
    const ib = (b - h.firstPage) / 32;
    h.i32[t + 1] ^= (1 << ia) | (1 << ib); // a now free, b now live
    expect(catchCorrupt(() => heap.check()).message).toMatch(/slack/);
  });

  it("an owner word on a page outside every block", () => {
    const { heap, objects } = small();
    const h = heap.core;
    const slab = (objects[0] - h.firstPage) / h.pageSize;
    const inside = [...Array(h.pageCount).keys()].find(
      (p) =>
        p > 0 &&
        h.side[p << 2] === 0 &&
        h.side[(p - 1) << 2] === 0 &&
        h.pages.blockAt(h.firstPage + p * h.pageSize)?.free,
    )!;
    h.side[inside << 2] = (slab << 8) | 2; // claims to be a page of the slab of class 1
    expect(catchCorrupt(() => heap.check()).message).toMatch(new RegExp(`page ${inside}`));
  });

  it("Heap.open(memory, { verify: true }) refuses a valid header over zeroed metadata", () => {
    const { heap, large } = small();
    expect(Heap.open(heap.buffer, { verify: true }).usableSize(large)).toBe(20_480); // sound: opens
    const l = heap.core.layout;
    new Uint8Array(heap.buffer).fill(0, l.start + 128, l.firstPage);
    const opened = Heap.open(heap.buffer); // the header alone is fine
    expect(opened.start).toBe(0);
    catchCorrupt(() => Heap.open(heap.buffer, { verify: true }));
    expectCode(() => Heap.open(heap.buffer, { verify: 1 as unknown as boolean }), "INVALID_ARGUMENT");
  });
});

describe("single-byte damage to the metadata (seeded fuzz)", () => {
  const changes = Number(process.env.HEAP_FUZZ ?? 3000);

  it(`${changes} changes: none that check() accepts leads to overlap, a refused live pointer or a lost byte`, () => {
    const pops = [populate("4 KiB pages", MiB, 4096, 7), populate("256-byte pages", 512 << 10, 256, 11)];
    for (const p of pops) expect(p.live.size).toBeGreaterThan(300);
    const report = damage(pops, changes, 20_261_205);
    if (process.env.HEAP_FUZZ !== undefined) {
      const { problems, byKind, ...figures } = report;
      console.log(JSON.stringify({ ...figures, problems: problems.length, byKind }));
    }
    expect(report.problems.slice(0, 10)).toEqual([]);
    // Most changes are caught at once; what check() accepts is bytes nothing reads (links of
    // pages that start no free block, the padding of a trailer) or values that stay valid.
    expect(report.accepted).toBeLessThan(changes * 0.3);
    for (const kind of ["class heads", "stretch index"] as const)
      expect(report.byKind[kind].accepted).toBe(0);
  }, 600_000);
});
