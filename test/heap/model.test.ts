/**
 * Model-based test: long random sequences of malloc, calloc, realloc, free, usableSize and bad
 * calls against a Heap and a model of its live blocks. Every block is filled with a pattern
 * unique to it and verified before it is freed or reallocated (no overlap, no lost byte); every
 * new block is checked against the model's live blocks and the heap's metadata; after every step
 * `check()` passes and `liveAllocations()` is exactly the model. A bad call must throw the right
 * code and leave every byte of the buffer as it was.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Heap } from "../../src/index.js";
import { patternByte as bytesOf, expectCode, HeapModel } from "./helpers.js";

type Op =
  | { kind: "malloc"; size: number; align: number }
  | { kind: "calloc"; count: number; size: number }
  | { kind: "realloc"; pick: number; size: number }
  | { kind: "free"; pick: number }
  | { kind: "usable"; pick: number }
  | { kind: "freeBad"; how: "interior" | "stale" | "random"; pick: number; offset: number }
  | { kind: "badSize"; op: "malloc" | "calloc" | "realloc"; value: number }
  | { kind: "badAlign"; value: number };

function arbitraries(heapBytes: number) {
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 2048 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(0, 1, 15, 16, 17, 128, 129, 1024, 2047, 2048, 2049, 4095, 4096, 4097),
    },
    { weight: 2, arbitrary: fc.integer({ min: 2049, max: 16384 }) },
    { weight: 1, arbitrary: fc.integer({ min: 16385, max: heapBytes / 4 }) },
  );
  const pick = fc.nat();
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant("malloc" as const),
        size,
        align: fc.constantFrom(0, 0, 0, 8, 32, 64, 256, 4096, 8192),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("calloc" as const),
        count: fc.integer({ min: 0, max: 40 }),
        size: fc.integer({ min: 0, max: 300 }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("realloc" as const), pick, size }) },
    { weight: 7, arbitrary: fc.record({ kind: fc.constant("free" as const), pick }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("usable" as const), pick }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("freeBad" as const),
        how: fc.constantFrom("interior" as const, "stale" as const, "random" as const),
        pick,
        offset: fc.integer({ min: 1, max: 5000 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("badSize" as const),
        op: fc.constantFrom("malloc" as const, "calloc" as const, "realloc" as const),
        value: fc.constantFrom(-1, -16, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, heapBytes * 2),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("badAlign" as const),
        value: fc.constantFrom(3, 24, -8, 0.5, 2 ** 40),
      }),
    },
  );
  return op;
}

/** Runs `f`, which must throw `code` and change no byte of the buffer. */
function rejects(heap: Heap, f: () => unknown, code: "NOT_ALLOCATED" | "INVALID_ARGUMENT"): void {
  const before = new Uint8Array(heap.buffer).slice();
  seen.rejected++;
  expectCode(f, code);
  expect(Buffer.compare(before, new Uint8Array(heap.buffer))).toBe(0);
}

/** What the runs exercised, so that a test that stopped reaching a path fails. */
const seen = { nulls: 0, large: 0, inPlace: 0, moved: 0, rejected: 0 };

function step(m: HeapModel, op: Op, freed: number[]): void {
  const heap = m.heap;
  const ptrs = [...m.live.keys()];
  const chosen = ptrs.length === 0 ? null : ptrs[("pick" in op ? op.pick : 0) % ptrs.length];
  switch (op.kind) {
    case "malloc": {
      const p = op.align === 0 ? heap.malloc(op.size) : heap.malloc(op.size, op.align);
      if (p === null) seen.nulls++;
      else m.add(p, op.size, Math.max(op.align, heap.minAlign));
      if (op.size > heap.maxSmall && p !== null) seen.large++;
      return;
    }
    case "calloc": {
      const p = heap.calloc(op.count, op.size);
      if (p === null) return;
      expect(new Uint8Array(heap.buffer, p, op.count * op.size).every((b) => b === 0)).toBe(true);
      m.add(p, op.count * op.size);
      return;
    }
    case "realloc": {
      if (chosen === null) return;
      m.verify(chosen);
      const old = m.live.get(chosen)!;
      const pagesOf = (size: number) => Math.ceil(size / heap.pageSize);
      const shrinksRun =
        old.size > heap.maxSmall && op.size > heap.maxSmall && pagesOf(op.size) <= pagesOf(old.size);
      const q = heap.realloc(chosen, op.size);
      // A large block is an exact run: shrinking it (or keeping its pages) is always in place.
      if (shrinksRun) expect(q, `realloc ${old.size} -> ${op.size} of a run`).toBe(chosen);
      if (q === null) {
        m.verify(chosen);
        return;
      }
      const kept = Math.min(old.size, op.size);
      m.live.delete(chosen);
      const bytes = m.bytes;
      for (let i = 0; i < kept; i++) {
        if (bytes[q + i] !== bytesOf(old.id, i)) throw new Error(`realloc ${chosen}->${q} lost byte ${i}`);
      }
      if (q !== chosen) freed.push(chosen);
      if (q === chosen && op.size !== old.size) seen.inPlace++;
      if (q !== chosen) seen.moved++;
      m.add(q, op.size);
      return;
    }
    case "free": {
      if (chosen === null) {
        heap.free(null);
        return;
      }
      m.verify(chosen);
      heap.free(chosen);
      m.live.delete(chosen);
      freed.push(chosen);
      return;
    }
    case "usable": {
      if (chosen === null) return;
      const size = m.live.get(chosen)!.size;
      expect(heap.usableSize(chosen)).toBeGreaterThanOrEqual(size);
      // Large blocks are exact runs: no more than the pages the size needs.
      if (size > heap.maxSmall)
        expect(heap.usableSize(chosen)).toBe(Math.ceil(size / heap.pageSize) * heap.pageSize);
      return;
    }
    case "freeBad": {
      let target: number | null = null;
      if (op.how === "interior" && chosen !== null) {
        const b = m.live.get(chosen)!;
        if (b.size > 1) target = chosen + 1 + (op.offset % (b.size - 1));
      } else if (op.how === "stale" && freed.length > 0) {
        target = freed[op.pick % freed.length];
      } else if (op.how === "random") {
        target = (op.pick * 7919 + op.offset) % (heap.buffer.byteLength + 4096);
      }
      if (target === null || m.live.has(target)) return;
      rejects(heap, () => heap.free(target), "NOT_ALLOCATED");
      rejects(heap, () => heap.usableSize(target), "NOT_ALLOCATED");
      rejects(heap, () => heap.realloc(target, 10), "NOT_ALLOCATED");
      return;
    }
    case "badSize": {
      const v = op.value;
      if (op.op === "malloc") rejects(heap, () => heap.malloc(v), "INVALID_ARGUMENT");
      else if (op.op === "calloc") rejects(heap, () => heap.calloc(v, 2), "INVALID_ARGUMENT");
      else if (chosen !== null) rejects(heap, () => heap.realloc(chosen, v), "INVALID_ARGUMENT");
      return;
    }
    case "badAlign":
      rejects(heap, () => heap.malloc(16, op.value), "INVALID_ARGUMENT");
      return;
  }
}

const CONFIGS = [
  { name: "256-byte pages, 192 KiB, minAlign 16", bytes: 192 * 1024, options: { pageSize: 256 } },
  {
    name: "4 KiB pages, 1 MiB at offset 4096, minAlign 8",
    bytes: 1 << 20,
    options: { pageSize: 4096, minAlign: 8, start: 4096, length: (1 << 20) - 8192 },
  },
  {
    name: "1 KiB pages in a SharedArrayBuffer, minAlign 64",
    bytes: 256 * 1024,
    options: { pageSize: 1024, minAlign: 64 },
    shared: true,
  },
];

describe("Heap model-based", () => {
  for (const cfg of CONFIGS) {
    it(`random sequences agree with the model: ${cfg.name}`, () => {
      fc.assert(
        fc.property(fc.array(arbitraries(cfg.bytes), { minLength: 100, maxLength: 600 }), (ops) => {
          const buffer = cfg.shared ? new SharedArrayBuffer(cfg.bytes) : new ArrayBuffer(cfg.bytes);
          const outside = new Uint8Array(buffer);
          outside.fill(0xa5);
          const heap = new Heap(buffer, cfg.options);
          const m = new HeapModel(heap);
          const freed: number[] = [];
          for (const [i, op] of ops.entries()) {
            step(m, op, freed);
            heap.check();
            expect(m.actual()).toEqual(m.expected());
            if (i % 64 === 63) m.verifyAll();
          }
          m.verifyAll();
          for (const p of [...m.live.keys()]) {
            m.verify(p);
            heap.free(p);
            m.live.delete(p);
          }
          heap.check();
          heap.trim();
          const s = heap.stats();
          expect(s.liveAllocations).toBe(0);
          expect(s.freeBytes).toBe(s.pageBytes);
          // Bytes outside [start, start + length) were never touched.
          const { start = 0, length = cfg.bytes - start } = cfg.options as {
            start?: number;
            length?: number;
          };
          expect(outside.subarray(0, start).every((b) => b === 0xa5)).toBe(true);
          expect(outside.subarray(start + length).every((b) => b === 0xa5)).toBe(true);
        }),
        { numRuns: 60 },
      );
      expect(
        Object.values(seen).every((n) => n > 0),
        JSON.stringify(seen),
      ).toBe(true);
    });
  }
});
