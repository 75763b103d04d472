/**
 * Model-based test, one thread: random sequences of operations against ConcurrentBuddy and against
 * a per-page reference model. Several handles on the same buffer (as different threads would hold)
 * take turns. After every step: the free blocks are exactly the maximal aligned blocks of the
 * model's free pages (merging is complete once no operation is in flight), the allocated blocks
 * and stats agree, and `check()` passes. Placement is the allocator's choice, but with one thread
 * `null` must mean the model has no free block of that order, and a block handed out must be
 * aligned and wholly free. Rejected calls must throw the right code and change nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AllocError, type AllocErrorCode, ConcurrentBuddy } from "../../src/index.js";
import { maximalBlocks } from "./helpers.js";

interface Config {
  pageSize: number;
  pages: number;
  maxOrder: number;
  variant: "packed" | "node";
}

type Op =
  | { kind: "alloc"; count: number }
  | { kind: "allocOrder"; order: number }
  | { kind: "free"; pick: number }
  | { kind: "freeAddr"; page: number; off: number }
  | { kind: "doubleFree"; pick: number }
  | { kind: "bad"; which: number }
  | { kind: "handle"; pick: number; threadId: number | null };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("alloc" as const),
      count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 300 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("allocOrder" as const), order: fc.integer({ min: 0, max: 9 }) }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("freeAddr" as const),
      page: fc.integer({ min: 0, max: 320 }),
      off: fc.oneof(fc.constant(0), fc.nat()),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("doubleFree" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad" as const), which: fc.nat({ max: 13 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("handle" as const),
      pick: fc.nat(),
      threadId: fc.oneof(fc.constant(null), fc.nat({ max: 100 })),
    }),
  },
);

const configArb: fc.Arbitrary<Config> = fc
  .record({
    pageSize: fc.constantFrom(1, 16, 4096),
    pages: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 64, 256, 257)),
    maxOrder: fc.integer({ min: 0, max: 8 }),
    variant: fc.constantFrom("packed" as const, "node" as const),
  })
  // The top block may not exceed the memory rounded up to a power of two.
  .map((c) => ({ ...c, maxOrder: Math.min(c.maxOrder, Math.ceil(Math.log2(c.pages))) }));

class Model {
  /** Start page of the live block owning each page, -1 when free. */
  readonly owner: Int32Array;
  /** Live blocks: start page -> order. */
  readonly live = new Map<number, number>();
  readonly freed: number[] = [];

  constructor(readonly cfg: Config) {
    this.owner = new Int32Array(cfg.pages).fill(-1);
  }

  freeBlocks(): { address: number; order: number }[] {
    const out: { address: number; order: number }[] = [];
    for (let i = 0; i < this.cfg.pages; ) {
      if (this.owner[i] !== -1) {
        i++;
        continue;
      }
      let j = i;
      while (j < this.cfg.pages && this.owner[j] === -1) j++;
      out.push(...maximalBlocks(i, j, this.cfg.maxOrder, this.cfg.pageSize));
      i = j;
    }
    return out;
  }

  hasFree(order: number): boolean {
    return this.freeBlocks().some((b) => b.order >= order);
  }

  take(address: number, order: number): void {
    const page = address / this.cfg.pageSize;
    expect(page % 2 ** order, `block at ${address} of order ${order} is misaligned`).toBe(0);
    expect(page + 2 ** order).toBeLessThanOrEqual(this.cfg.pages);
    for (let p = page; p < page + 2 ** order; p++) {
      expect(this.owner[p], `page ${p} of the new block at ${address} was not free`).toBe(-1);
      this.owner[p] = page;
    }
    this.live.set(page, order);
  }

  release(page: number): void {
    const order = this.live.get(page)!;
    for (let p = page; p < page + 2 ** order; p++) this.owner[p] = -1;
    this.live.delete(page);
    this.freed.push(page * this.cfg.pageSize);
  }
}

function snapshot(a: ConcurrentBuddy) {
  return { free: [...a.freeBlocks()], allocated: [...a.allocatedBlocks()], stats: a.stats() };
}

function expectRejected(a: ConcurrentBuddy, fn: () => unknown, codes: AllocErrorCode[]): void {
  const before = snapshot(a);
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AllocError);
  expect(codes, (caught as AllocError).message).toContain((caught as AllocError).code);
  expect(snapshot(a)).toEqual(before);
}

function agree(a: ConcurrentBuddy, m: Model): void {
  a.check();
  const free = m.freeBlocks();
  expect([...a.freeBlocks()]).toEqual(free);
  const live = [...m.live.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([page, order]) => ({ address: page * m.cfg.pageSize, order }));
  expect([...a.allocatedBlocks()]).toEqual(live);
  const s = a.stats();
  const freePages = free.reduce((n, b) => n + 2 ** b.order, 0);
  const largest = free.reduce((n, b) => Math.max(n, 2 ** b.order * m.cfg.pageSize), 0);
  const byOrder = new Array<number>(m.cfg.maxOrder + 1).fill(0);
  for (const b of free) byOrder[b.order]++;
  expect(s).toEqual({
    totalBytes: m.cfg.pages * m.cfg.pageSize,
    freeBytes: freePages * m.cfg.pageSize,
    allocatedBytes: (m.cfg.pages - freePages) * m.cfg.pageSize,
    totalPages: m.cfg.pages,
    freePages,
    freeBlocksByOrder: byOrder,
    largestFreeBlock: largest,
    fragmentation: freePages === 0 ? 0 : 1 - largest / (freePages * m.cfg.pageSize),
    metadataBytes: a.buffer.byteLength,
  });
}

function run(cfg: Config, ops: Op[]): void {
  const first = ConcurrentBuddy.create({
    size: cfg.pages * cfg.pageSize,
    pageSize: cfg.pageSize,
    maxOrder: cfg.maxOrder,
    variant: cfg.variant,
  });
  expect(first.variant).toBe(cfg.variant);
  const handles = [first];
  let a = first;
  const m = new Model(cfg);
  agree(a, m);
  const top = 2 ** cfg.maxOrder;
  for (const op of ops) {
    switch (op.kind) {
      case "alloc":
      case "allocOrder": {
        const count = op.kind === "alloc" ? op.count : 2 ** op.order;
        const order = op.kind === "alloc" ? Math.ceil(Math.log2(count) - 1e-9) + 0 : op.order;
        if (count > top) {
          const call = op.kind === "alloc" ? () => a.alloc(count) : () => a.allocOrder(order);
          expectRejected(a, call, ["INVALID_ARGUMENT"]);
          break;
        }
        const expected = m.hasFree(order);
        const address = op.kind === "alloc" ? a.alloc(count) : a.allocOrder(order);
        expect(address !== null, `alloc of order ${order}: model has a free block: ${expected}`).toBe(
          expected,
        );
        if (address !== null) m.take(address, order);
        break;
      }
      case "free": {
        if (m.live.size === 0) break;
        const page = [...m.live.keys()][op.pick % m.live.size];
        a.free(page * cfg.pageSize);
        m.release(page);
        break;
      }
      case "freeAddr": {
        const address = op.page * cfg.pageSize + (op.off % cfg.pageSize);
        const page = address / cfg.pageSize;
        if (m.live.has(page)) {
          a.free(address);
          m.release(page);
        } else {
          expectRejected(a, () => a.free(address), ["NOT_ALLOCATED"]);
        }
        break;
      }
      case "doubleFree": {
        if (m.freed.length === 0) break;
        const address = m.freed[op.pick % m.freed.length];
        if (!m.live.has(address / cfg.pageSize)) {
          expectRejected(a, () => a.free(address), ["NOT_ALLOCATED"]);
        }
        break;
      }
      case "bad": {
        const calls: (() => unknown)[] = [
          () => a.alloc(0),
          () => a.alloc(-1),
          () => a.alloc(1.5),
          () => a.alloc(Number.NaN),
          () => a.alloc("1" as unknown as number),
          () => a.allocOrder(-1),
          () => a.allocOrder(cfg.maxOrder + 1),
          () => a.allocOrder(0.5),
          () => a.allocOrder(undefined as unknown as number),
          () => a.free(-cfg.pageSize),
          () => a.free(1.5),
          () => a.free(Number.NaN),
          () => a.free(String(cfg.pageSize) as unknown as number),
          () => a.free(2 ** 60),
        ];
        expectRejected(a, calls[op.which], ["INVALID_ARGUMENT"]);
        break;
      }
      case "handle": {
        if (op.pick % 3 === 0 || handles.length === 1) {
          const h = ConcurrentBuddy.attach(a.buffer, op.threadId === null ? {} : { threadId: op.threadId });
          handles.push(h);
          a = h;
        } else {
          a = handles[op.pick % handles.length];
        }
        break;
      }
    }
    agree(a, m);
  }
  for (const page of [...m.live.keys()]) {
    a.free(page * cfg.pageSize);
    m.release(page);
  }
  agree(a, m);
  expect([...a.freeBlocks()]).toEqual(maximalBlocks(0, cfg.pages, cfg.maxOrder, cfg.pageSize));
}

describe("ConcurrentBuddy against a page model (one thread)", () => {
  it("agrees after every operation", () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 120 }), (cfg, ops) => run(cfg, ops)),
      { numRuns: 400 },
    );
  });

  for (const variant of ["packed", "node"] as const) {
    it(`fills the memory with single pages, then frees it all (${variant})`, () => {
      const cfg = { pageSize: 16, pages: 200, maxOrder: 5, variant };
      const ops: Op[] = [
        ...Array.from({ length: 210 }, () => ({ kind: "alloc" as const, count: 1 })),
        ...Array.from({ length: 200 }, (_, i) => ({ kind: "free" as const, pick: i * 7 })),
      ];
      run(cfg, ops);
    });
  }
});
