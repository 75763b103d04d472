/** Guard mode: red zones after allocations and poison in freed memory. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AllocError, Heap } from "../../src/index.js";

const MiB = 1 << 20;

function corrupt(fn: () => unknown): AllocError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AllocError);
  expect((caught as AllocError).code).toBe("CORRUPT");
  return caught as AllocError;
}

describe("guard mode", () => {
  it("finds a one-byte overflow of a slab object on free, naming the allocation", () => {
    const heap = new Heap(new ArrayBuffer(MiB), { guard: true });
    const p = heap.malloc(100)!;
    const bytes = new Uint8Array(heap.buffer);
    bytes.fill(7, p, p + 100); // its own bytes: fine
    heap.check();
    bytes[p + 100] = 7; // one past the end
    const e = corrupt(() => heap.check());
    expect(e.message).toContain(`0x${p.toString(16)}`);
    expect(e.message).toContain("100 bytes");
    corrupt(() => heap.free(p));
  });

  it("finds an overflow of a large block on free and on realloc", () => {
    const heap = new Heap(new ArrayBuffer(4 * MiB), { guard: true });
    const p = heap.malloc(20_000)!;
    const q = heap.malloc(30_000)!;
    const bytes = new Uint8Array(heap.buffer);
    bytes[p + 20_000 + 3] = 1;
    expect(corrupt(() => heap.free(p)).message).toContain("20000 bytes");
    bytes[q + 30_000] = 1;
    corrupt(() => heap.realloc(q, 40_000));
  });

  it("finds a write after free when the memory is handed out again", () => {
    const heap = new Heap(new ArrayBuffer(MiB), { guard: true });
    const p = heap.malloc(64)!;
    heap.free(p);
    new Uint8Array(heap.buffer)[p + 5] = 42; // a dangling write
    let again: number | null = null;
    const e = corrupt(() => {
      for (let i = 0; i < 1000; i++) again = heap.malloc(64);
    });
    expect(e.message).toContain("write after free");
    expect(e.message).toContain(`0x${p.toString(16)} of 64 bytes`);
    expect(again).toBeNull(); // it stopped at the first allocation of that memory
  });

  it("finds a write into a freed large block, anywhere in it", () => {
    const heap = new Heap(new ArrayBuffer(MiB), { guard: true });
    for (const offset of [0, 7, 10_001, 20_015]) {
      const p = heap.malloc(20_000)!;
      heap.free(p);
      new Uint8Array(heap.buffer)[p + offset] = 0;
      expect(corrupt(() => heap.malloc(20_000)).message).toContain("write after free");
      new Uint8Array(heap.buffer)[p + offset] = 0xdd; // mend it for the next round
    }
  });

  it("keeps requested bytes, calloc zeroes, realloc moves with the contents, usableSize is the request", () => {
    const heap = new Heap(new ArrayBuffer(MiB), { guard: true });
    const p = heap.calloc(10, 8)!;
    const bytes = new Uint8Array(heap.buffer);
    expect(bytes.subarray(p, p + 80).every((b) => b === 0)).toBe(true);
    expect(heap.usableSize(p)).toBe(80);
    bytes.fill(9, p, p + 80);
    const q = heap.realloc(p, 5000)!;
    expect(q).not.toBe(p);
    expect(bytes.subarray(q, q + 80).every((b) => b === 9)).toBe(true);
    heap.free(q);
    heap.check();
  });

  it("is kept in the header: Heap.open finds it", () => {
    const buffer = new ArrayBuffer(MiB);
    const heap = new Heap(buffer, { guard: true });
    const p = heap.malloc(32)!;
    const again = Heap.open(buffer);
    expect(again.guard).toBe(true);
    new Uint8Array(buffer)[p + 32] = 1;
    corrupt(() => again.free(p));
  });

  it("costs nothing when off: an overflow then goes unnoticed, as without guard mode", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    expect(heap.guard).toBe(false);
    const p = heap.malloc(100)!;
    new Uint8Array(heap.buffer)[p + 100] = 7;
    heap.check();
    heap.free(p);
  });

  it("refuses a guard option that is not a boolean", () => {
    expect(() => new Heap(new ArrayBuffer(MiB), { guard: "yes" as unknown as boolean })).toThrow(AllocError);
  });

  it("never reports a program that stays inside its allocations (random operations)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40_000 }), fc.nat()), {
          maxLength: 120,
        }),
        (ops) => {
          const heap = new Heap(new ArrayBuffer(2 * MiB), { guard: true, pageSize: 1024 });
          const bytes = new Uint8Array(heap.buffer);
          const live: { p: number; size: number }[] = [];
          for (const [kind, size, pick] of ops) {
            if (kind <= 1 || live.length === 0) {
              const p = heap.malloc(size);
              if (p === null) continue;
              bytes.fill(0xab, p, p + size);
              live.push({ p, size });
            } else {
              const i = pick % live.length;
              if (kind === 2) {
                heap.free(live[i].p);
                live.splice(i, 1);
              } else {
                const q = heap.realloc(live[i].p, size);
                if (q === null) continue;
                bytes.fill(0xcd, q, q + size);
                live[i] = { p: q, size };
              }
            }
            heap.check();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
