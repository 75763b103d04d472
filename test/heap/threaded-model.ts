/**
 * The model of the threaded-heap model-based tests (threaded-model.test.ts; not a test file).
 *
 * Model-based test of a threaded heap (`threads` > 0) over a plain ArrayBuffer, with several
 * handles in this one JS thread. Each handle claims its own thread slot, so the handles act as
 * separate threads, deterministically: a block freed by another handle than the one whose slab
 * holds it is a cross-thread free (a bit in the slab's remote-free bitmap), taken back by the
 * owner later. Random commands: malloc (small, large, aligned), calloc, realloc and free from
 * any handle, double frees (from the same or another handle, right after the first free or much
 * later), close and re-open of handles, trim, grow.
 *
 * After every step: check() passes; every live block holds its pattern (no overlap, no lost
 * byte); liveAllocations() is exactly the model, each naming a valid thread slot; a double free
 * is NOT_ALLOCATED and changes no byte. At the end everything is freed, all handles but one
 * close, and after trim() every page is free again and one block of all the pages fits.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { slotOfThread } from "../../src/heap/threads.js";
import { Heap } from "../../src/index.js";
import { expectCode, fill, firstMismatch } from "./helpers.js";

export type Op =
  | { kind: "malloc"; h: number; size: number; align: number }
  | { kind: "calloc"; h: number; count: number; size: number }
  | { kind: "realloc"; h: number; pick: number; size: number }
  | { kind: "free"; h: number; pick: number }
  | { kind: "freeTwice"; h: number; h2: number; pick: number }
  | { kind: "freeStale"; h: number; pick: number }
  | { kind: "close"; h: number }
  | { kind: "open"; h: number }
  | { kind: "trim"; h: number }
  | { kind: "grow"; h: number; pages: number };

/** A resizable ArrayBuffer (ES2024; the project's lib is ES2022). */
type ResizableCtor = new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;

export interface Config {
  name: string;
  bytes: number;
  maxBytes?: number;
  handles: number;
  options: { pageSize: number; threads: number; minAlign?: number; start?: number };
}

export const CONFIGS: Config[] = [
  {
    name: "3 handles, 4 slots, 1 KiB pages, 256 KiB",
    bytes: 256 * 1024,
    handles: 3,
    options: { pageSize: 1024, threads: 4 },
  },
  {
    name: "4 handles, 5 slots, 256-byte pages, growable 96 KiB -> 384 KiB, at offset 4096",
    bytes: 96 * 1024,
    maxBytes: 384 * 1024,
    handles: 4,
    options: { pageSize: 256, threads: 5, start: 4096 },
  },
  {
    name: "2 handles, 2 slots, 4 KiB pages, 512 KiB, minAlign 8",
    bytes: 512 * 1024,
    handles: 2,
    options: { pageSize: 4096, threads: 2, minAlign: 8 },
  },
];

/** Random commands for `cfg`; with `trim` false no random `trim()` (the end of each run still trims). */
export function arbitraries(cfg: Config, trim = true): fc.Arbitrary<Op> {
  const h = fc.integer({ min: 0, max: cfg.handles - 1 });
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 2048 }) },
    { weight: 2, arbitrary: fc.constantFrom(0, 1, 16, 17, 128, 2048, 2049, 4096, 8192, 8193) },
    { weight: 2, arbitrary: fc.integer({ min: 2049, max: 16384 }) },
    { weight: 1, arbitrary: fc.integer({ min: 16385, max: Math.max(16385, Math.floor(cfg.bytes / 5)) }) },
  );
  const pick = fc.nat();
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        kind: fc.constant("malloc" as const),
        h,
        size,
        align: fc.constantFrom(0, 0, 0, 0, 8, 32, 64, 256, 1024, 4096),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("calloc" as const),
        h,
        count: fc.integer({ min: 0, max: 40 }),
        size: fc.integer({ min: 0, max: 300 }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("realloc" as const), h, pick, size }) },
    { weight: 9, arbitrary: fc.record({ kind: fc.constant("free" as const), h, pick }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("freeTwice" as const), h, h2: h, pick }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("freeStale" as const), h, pick }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("close" as const), h }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("open" as const), h }) },
    { weight: trim ? 1 : 0, arbitrary: fc.record({ kind: fc.constant("trim" as const), h }) },
    {
      weight: cfg.maxBytes === undefined ? 0 : 1,
      arbitrary: fc.record({ kind: fc.constant("grow" as const), h, pages: fc.integer({ min: 1, max: 40 }) }),
    },
  );
}

/** What the runs exercised, so that a test that stopped reaching a path fails. */
export interface Seen {
  crossFrees: number;
  ownFrees: number;
  crossReallocs: number;
  doubleFrees: number;
  pendingDoubleFrees: number;
  large: number;
  nulls: number;
  closes: number;
  trimmed: number;
  grows: number;
}

export class Model {
  /** Live blocks: pointer -> requested size and pattern id. */
  readonly live = new Map<number, { size: number; id: number }>();
  /** Pointers freed and not live again (for double frees). */
  readonly freed = new Set<number>();
  /** Owner thread of each live block, as the last liveAllocations() said. */
  owner = new Map<number, number>();
  private nextId = 1;
  readonly handles: (Heap | null)[];
  /** Every thread id a handle of this heap got. */
  readonly ids = new Set<number>();
  readonly start: number;

  constructor(
    readonly buffer: ArrayBuffer,
    first: Heap,
    count: number,
    readonly seen: Seen,
  ) {
    this.start = first.start;
    this.handles = [first];
    for (let i = 1; i < count; i++) this.handles.push(Heap.open(buffer, { start: this.start }));
    for (const h of this.handles) this.ids.add(h!.threadId);
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.buffer);
  }

  /** Handle `i`, or the next open one if it is closed. */
  handle(i: number): Heap {
    for (let k = 0; k < this.handles.length; k++) {
      const h = this.handles[(i + k) % this.handles.length];
      if (h !== null) return h;
    }
    throw new Error("no open handle");
  }

  pick(n: number): number | null {
    if (this.live.size === 0) return null;
    return [...this.live.keys()][n % this.live.size];
  }

  add(heap: Heap, ptr: number, size: number, align: number): void {
    expect(ptr % align, `${ptr} aligned to ${align}`).toBe(0);
    expect(ptr).toBeGreaterThanOrEqual(heap.core.firstPage);
    expect(ptr + size).toBeLessThanOrEqual(heap.start + heap.length);
    expect(heap.usableSize(ptr)).toBeGreaterThanOrEqual(size);
    const end = ptr + Math.max(size, 1);
    for (const [p, b] of this.live) {
      if (p < end && ptr < p + Math.max(b.size, 1)) {
        throw new Error(`new block ${ptr}+${size} overlaps live ${p}+${b.size}`);
      }
    }
    const id = this.nextId++;
    this.live.set(ptr, { size, id });
    this.freed.delete(ptr);
    fill(this.bytes, ptr, size, id);
  }

  verify(ptr: number): void {
    const b = this.live.get(ptr)!;
    const at = firstMismatch(this.bytes, ptr, b.size, b.id);
    if (at >= 0) throw new Error(`block ${ptr}+${b.size} (id ${b.id}) lost its byte ${at}`);
  }

  /** Frees `ptr` from `heap`, counting whether it was a cross-thread free. */
  free(heap: Heap, ptr: number): void {
    this.verify(ptr);
    if (this.owner.get(ptr) === heap.threadId) this.seen.ownFrees++;
    else this.seen.crossFrees++;
    heap.free(ptr);
    this.live.delete(ptr);
    this.freed.add(ptr);
  }

  /** `ptr` is not live: every handle's free, realloc and usableSize refuse it and change nothing. */
  refuse(heap: Heap, ptr: number): void {
    const before = this.bytes.slice();
    const listed = [...heap.liveAllocations()];
    expectCode(() => heap.free(ptr), "NOT_ALLOCATED");
    expectCode(() => heap.realloc(ptr, 10), "NOT_ALLOCATED");
    expectCode(() => heap.usableSize(ptr), "NOT_ALLOCATED");
    expect(Buffer.compare(before, this.bytes), "a refused free changed bytes").toBe(0);
    expect([...heap.liveAllocations()]).toEqual(listed);
    heap.check();
    this.seen.doubleFrees++;
  }

  /** The invariants that hold after every step. */
  expectSound(): void {
    const heap = this.handle(0);
    heap.check();
    const actual = [...heap.liveAllocations()];
    const expected = [...this.live].map(([ptr, b]) => ({ ptr, size: b.size })).sort((a, b) => a.ptr - b.ptr);
    expect(actual.map(({ ptr, size }) => ({ ptr, size }))).toEqual(expected);
    const threads = heap.threads;
    this.owner = new Map();
    for (const a of actual) {
      // A thread id is (generation << 8) | slot (src/heap/threads.ts).
      const slot = slotOfThread(a.thread);
      expect(
        Number.isInteger(a.thread) && a.thread >= 0 && slot >= 0 && slot < threads,
        `thread ${a.thread}`,
      ).toBe(true);
      this.owner.set(a.ptr, a.thread);
    }
    for (const ptr of this.live.keys()) this.verify(ptr);
  }

  step(op: Op): void {
    const heap = this.handle(op.h);
    switch (op.kind) {
      case "malloc": {
        const p = op.align === 0 ? heap.malloc(op.size) : heap.malloc(op.size, op.align);
        if (p === null) this.seen.nulls++;
        else this.add(heap, p, op.size, Math.max(op.align, heap.minAlign));
        if (p !== null && op.size > heap.maxSmall) this.seen.large++;
        return;
      }
      case "calloc": {
        const p = heap.calloc(op.count, op.size);
        if (p === null) return;
        const n = op.count * op.size;
        expect(this.bytes.subarray(p, p + n).every((b) => b === 0)).toBe(true);
        this.add(heap, p, n, heap.minAlign);
        return;
      }
      case "realloc": {
        const p = this.pick(op.pick);
        if (p === null) return;
        this.verify(p);
        const old = this.live.get(p)!;
        if (this.owner.get(p) !== heap.threadId) this.seen.crossReallocs++;
        const q = heap.realloc(p, op.size);
        if (q === null) {
          this.seen.nulls++;
          this.verify(p);
          return;
        }
        const kept = Math.min(old.size, op.size);
        const at = firstMismatch(this.bytes, q, kept, old.id);
        if (at >= 0) throw new Error(`realloc ${p} -> ${q} lost byte ${at}`);
        this.live.delete(p);
        if (q !== p) this.freed.add(p);
        this.add(heap, q, op.size, heap.minAlign);
        return;
      }
      case "free": {
        const p = this.pick(op.pick);
        if (p === null) heap.free(null);
        else this.free(heap, p);
        return;
      }
      case "freeTwice": {
        // The second free right after the first: the object may still be a pending remote free.
        const p = this.pick(op.pick);
        if (p === null) return;
        this.free(heap, p);
        this.refuse(this.handle(op.h2), p);
        this.seen.pendingDoubleFrees++;
        return;
      }
      case "freeStale": {
        const stale = [...this.freed].filter((p) => !this.live.has(p));
        if (stale.length === 0) return;
        this.refuse(heap, stale[op.h % stale.length]);
        return;
      }
      case "close": {
        const i = op.h;
        const h = this.handles[i];
        if (h === null || this.handles.filter((x) => x !== null).length < 2) return;
        h.close();
        h.close(); // a second close does nothing
        expectCode(() => h.malloc(16), "CLOSED");
        expectCode(() => h.trim(), "CLOSED");
        this.handles[i] = null;
        this.seen.closes++;
        return;
      }
      case "open": {
        const i = op.h;
        if (this.handles[i] !== null) return;
        const h = Heap.open(this.buffer, { start: this.start });
        const live = this.handles.filter((x) => x !== null).map((x) => x!.threadId);
        const claimed = new Set(live.map(slotOfThread));
        expect(claimed.has(slotOfThread(h.threadId)), `slot of ${h.threadId} claimed twice`).toBe(false);
        // A thread id names one handle: never one an earlier handle had.
        expect(this.ids.has(h.threadId), `thread id ${h.threadId} given twice`).toBe(false);
        this.ids.add(h.threadId);
        this.handles[i] = h;
        return;
      }
      case "trim": {
        const slabs = heap.stats().slabBytes;
        heap.trim();
        if (heap.stats().slabBytes < slabs) this.seen.trimmed++;
        return;
      }
      case "grow": {
        if (heap.length + op.pages * heap.pageSize > heap.maxLength) return;
        expect(heap.grow(op.pages * heap.pageSize)).toBe(true);
        this.seen.grows++;
        return;
      }
    }
  }
}

/** A fresh Seen: every counter 0. */
function newSeen(): Seen {
  return {
    crossFrees: 0,
    ownFrees: 0,
    crossReallocs: 0,
    doubleFrees: 0,
    pendingDoubleFrees: 0,
    large: 0,
    nulls: 0,
    closes: 0,
    trimmed: 0,
    grows: 0,
  };
}

/**
 * Runs `numRuns` random command sequences of `cfg` against a fresh heap each, then frees
 * everything, closes all handles but one and expects all memory back; finally expects that the
 * runs exercised cross-thread frees and reallocs, double frees, large blocks, closes (and random
 * trims, growth when they are enabled). `endOnFailure`: report the first failing sequence
 * without shrinking it.
 */
export function runModel(cfg: Config, numRuns: number, trim: boolean, endOnFailure = false): Seen {
  const seen = newSeen();
  fc.assert(
    fc.property(fc.array(arbitraries(cfg, trim), { minLength: 80, maxLength: 300 }), (ops) => {
      const buffer =
        cfg.maxBytes === undefined
          ? new ArrayBuffer(cfg.bytes)
          : new (ArrayBuffer as unknown as ResizableCtor)(cfg.bytes, { maxByteLength: cfg.maxBytes });
      const first = new Heap(buffer, cfg.options);
      expect(first.shared).toBe(false);
      expect(first.threads).toBe(cfg.options.threads);
      const m = new Model(buffer, first, cfg.handles, seen);
      expect(new Set(m.handles.map((h) => h!.threadId)).size).toBe(cfg.handles);
      for (const op of ops) {
        m.step(op);
        m.expectSound();
      }
      // Everything freed (from the handles in turn: many cross-thread frees), all but one closed.
      let k = 0;
      for (const p of [...m.live.keys()]) m.free(m.handle(k++), p);
      m.expectSound();
      const survivor = m.handle(k);
      for (const h of m.handles) if (h !== null && h !== survivor) h.close();
      survivor.trim();
      survivor.check();
      expect([...survivor.liveAllocations()]).toEqual([]);
      const s = survivor.stats();
      expect(s.liveAllocations).toBe(0);
      expect(s.slabBytes).toBe(0);
      expect(s.freeBytes).toBe(s.pageBytes);
      // All the pages are one free run again: a single block of every page fits.
      const all = survivor.malloc(s.pageBytes);
      expect(all, `malloc(${s.pageBytes}) of an empty heap`).not.toBeNull();
      survivor.check();
      survivor.free(all);
      survivor.check();
      survivor.close();
    }),
    { numRuns, endOnFailure },
  );
  const wanted: (keyof Seen)[] = [
    "crossFrees",
    "ownFrees",
    "crossReallocs",
    "doubleFrees",
    "pendingDoubleFrees",
    "large",
    "nulls",
    "closes",
  ];
  if (trim) wanted.push("trimmed");
  if (cfg.maxBytes !== undefined) wanted.push("grows");
  for (const key of wanted) expect(seen[key], `${key}: ${JSON.stringify(seen)}`).toBeGreaterThan(0);
  return seen;
}
