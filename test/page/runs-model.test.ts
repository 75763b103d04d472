/**
 * Model-based test of exact runs: random exact runs (with and without align and limit), resizes
 * and frees, mixed with power-of-two blocks, run against a reference model that is nothing but a
 * map of which pages are free and which allocation owns the others. After every step:
 * - the free blocks are exactly the maximal aligned blocks of the model's free pages;
 * - the live allocations, their sizes and tags are the model's;
 * - `check()` passes.
 * An allocation returns null only when the model has no fitting run; a resize returns false only
 * when the pages after the allocation are not all free, and then nothing changed; bad input throws
 * an AllocError and changes nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AllocErrorCode, BuddyAllocator } from "../../src/index.js";
import { decomposeRun, expectRejected, snapshot } from "./helpers.js";

/** Pages in the modelled address space. */
const SPACE = 160;

interface Config {
  pageSize: number;
  maxOrder: number;
  sectionOrder: number;
  /** Absolute page number of the modelled space's first page. */
  basePage: number;
  /** Managed page ranges [first, end) relative to basePage, sorted, disjoint. */
  regions: [number, number][];
}

interface Live {
  pages: number;
  tag: number;
}

class Model {
  /** 1 for a managed page. */
  readonly managed = new Uint8Array(SPACE);
  /** Relative start page of the allocation owning each page, or -1. */
  readonly owner = new Int32Array(SPACE).fill(-1);
  readonly live = new Map<number, Live>();

  constructor(readonly cfg: Config) {
    for (const [first, end] of cfg.regions) this.managed.fill(1, first, end);
  }

  address(rel: number): number {
    return (this.cfg.basePage + rel) * this.cfg.pageSize;
  }

  rel(address: number): number {
    return address / this.cfg.pageSize - this.cfg.basePage;
  }

  isFree(rel: number): boolean {
    return rel >= 0 && rel < SPACE && this.managed[rel] === 1 && this.owner[rel] === -1;
  }

  /** True when pages [rel, rel + count) are all free. */
  allFree(rel: number, count: number): boolean {
    for (let p = rel; p < rel + count; p++) if (!this.isFree(p)) return false;
    return true;
  }

  /** Whether some `count` free pages start at a multiple of `align` pages (absolute) and end at or below `limit` bytes. */
  runExists(count: number, alignPages: number, limit: number): boolean {
    for (let rel = 0; rel + count <= SPACE; rel++) {
      if ((this.cfg.basePage + rel) % alignPages !== 0) continue;
      if (this.address(rel + count) > limit) break;
      if (this.allFree(rel, count)) return true;
    }
    return false;
  }

  take(rel: number, pages: number, tag: number): void {
    expect(this.allFree(rel, pages), `pages ${rel}..${rel + pages} were not all free`).toBe(true);
    this.owner.fill(rel, rel, rel + pages);
    this.live.set(rel, { pages, tag });
  }

  release(rel: number): void {
    const b = this.live.get(rel)!;
    this.owner.fill(-1, rel, rel + b.pages);
    this.live.delete(rel);
  }

  freeBlocks(): { address: number; order: number }[] {
    const out: { address: number; order: number }[] = [];
    for (let i = 0; i < SPACE; ) {
      if (!this.isFree(i)) {
        i++;
        continue;
      }
      let j = i;
      while (j < SPACE && this.isFree(j)) j++;
      const { basePage, maxOrder, pageSize } = this.cfg;
      out.push(...decomposeRun(basePage + i, basePage + j, maxOrder, pageSize));
      i = j;
    }
    return out;
  }
}

type Op =
  | { kind: "block"; count: number; tag: number }
  | { kind: "run"; count: number; tag: number; alignShift: number; limitPick: number }
  | { kind: "resize"; pick: number; count: number }
  | { kind: "free"; pick: number }
  | { kind: "at"; page: number; count: number; tag: number }
  | { kind: "bad"; which: number; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("block" as const),
      count: fc.integer({ min: 1, max: 40 }),
      tag: fc.integer({ min: 0, max: 9 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("run" as const),
      count: fc.integer({ min: 1, max: 48 }),
      tag: fc.integer({ min: 0, max: 9 }),
      alignShift: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 7 })),
      limitPick: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: SPACE })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("resize" as const),
      pick: fc.nat(),
      count: fc.integer({ min: 1, max: 64 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("at" as const),
      page: fc.integer({ min: 0, max: SPACE - 1 }),
      count: fc.integer({ min: 1, max: 24 }),
      tag: fc.integer({ min: 0, max: 9 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("bad" as const),
      which: fc.integer({ min: 0, max: 5 }),
      pick: fc.nat(),
    }),
  },
);

function verify(a: BuddyAllocator, m: Model, step: string): void {
  a.check();
  expect(
    [...a.freeBlocks()].map(({ address, order }) => ({ address, order })),
    `${step}: free blocks`,
  ).toEqual(m.freeBlocks());
  const live = [...m.live.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([rel, b]) => ({ address: m.address(rel), size: b.pages * m.cfg.pageSize, tag: b.tag }));
  expect(
    [...a.allocatedBlocks()].map(({ address, size, tag }) => ({ address, size, tag })),
    `${step}: live allocations`,
  ).toEqual(live);
  for (const l of live) {
    expect(a.sizeOf(l.address), `${step}: sizeOf`).toBe(l.size);
    for (const byte of [l.address, l.address + l.size - 1, l.address + Math.floor(l.size / 2)]) {
      const info = a.blockAt(byte);
      expect(info, `${step}: blockAt(${byte})`).toMatchObject({
        address: l.address,
        size: l.size,
        free: false,
        tag: l.tag,
      });
    }
  }
}

function runOp(a: BuddyAllocator, m: Model, op: Op, step: string): void {
  const { pageSize, maxOrder } = m.cfg;
  const lives = [...m.live.keys()].sort((x, y) => x - y);
  const pickLive = (pick: number) => (lives.length === 0 ? undefined : lives[pick % lives.length]);
  switch (op.kind) {
    case "block": {
      const count = Math.min(op.count, 2 ** maxOrder);
      const got = a.allocPages(count, { tag: op.tag });
      const order = Math.ceil(Math.log2(count));
      if (got === null) {
        // A block of `order` is free somewhere iff an aligned range of 2^order pages is all free.
        expect(m.runExists(2 ** order, 2 ** order, Number.POSITIVE_INFINITY), `${step}: block null`).toBe(
          false,
        );
      } else {
        expect(got % (pageSize * 2 ** order), `${step}: block alignment`).toBe(0);
        m.take(m.rel(got), 2 ** order, op.tag);
      }
      return;
    }
    case "run": {
      const count = Math.min(op.count, 2 ** maxOrder);
      const align = op.alignShift < 0 ? undefined : pageSize * 2 ** op.alignShift;
      const limit = op.limitPick < 0 ? undefined : m.address(op.limitPick);
      const got = a.allocPages(count, { exact: true, tag: op.tag, align, limit });
      const alignPages = align === undefined ? 1 : 2 ** op.alignShift;
      const exists = m.runExists(count, alignPages, limit ?? Number.POSITIVE_INFINITY);
      expect(
        got !== null,
        `${step}: exact run of ${count} (align ${align}, limit ${limit}) returned ${got}`,
      ).toBe(exists);
      if (got !== null) {
        expect((got / pageSize) % alignPages, `${step}: run alignment`).toBe(0);
        if (limit !== undefined) expect(got + count * pageSize).toBeLessThanOrEqual(limit);
        m.take(m.rel(got), count, op.tag);
      }
      return;
    }
    case "resize": {
      const rel = pickLive(op.pick);
      if (rel === undefined) return;
      const b = m.live.get(rel)!;
      const count = Math.min(op.count, 2 ** maxOrder);
      const before = snapshot(a);
      const ok = a.resize(m.address(rel), count);
      const fits = count <= b.pages || m.allFree(rel + b.pages, count - b.pages);
      expect(ok, `${step}: resize ${b.pages} -> ${count}`).toBe(fits);
      if (!ok) {
        expect(snapshot(a), `${step}: a refused resize changed something`).toEqual(before);
        return;
      }
      m.release(rel);
      m.take(rel, count, b.tag);
      return;
    }
    case "at": {
      const count = Math.min(op.count, 2 ** maxOrder);
      const address = m.address(op.page);
      const got = a.allocAt(address, count, { exact: true, tag: op.tag });
      expect(got, `${step}: allocAt exact`).toBe(m.allFree(op.page, count) ? address : null);
      if (got !== null) m.take(op.page, count, op.tag);
      return;
    }
    case "free": {
      const rel = pickLive(op.pick);
      if (rel === undefined) return;
      a.free(m.address(rel));
      m.release(rel);
      return;
    }
    case "bad": {
      const rel = pickLive(op.pick);
      const live = rel === undefined ? undefined : m.address(rel);
      const notLive = m.address(SPACE - 1) + pageSize; // past the space: never live
      const cases: [() => unknown, AllocErrorCode][] = [
        [() => a.allocPages(1, { exact: "yes" as unknown as boolean }), "INVALID_ARGUMENT"],
        [() => a.allocPages(1, { exact: 1 as unknown as boolean }), "INVALID_ARGUMENT"],
        // A bad count is INVALID_ARGUMENT whether or not the address is live (src/errors.ts).
        [() => a.resize(live ?? notLive, 0), "INVALID_ARGUMENT"],
        [() => a.resize(live ?? notLive, 2 ** maxOrder + 1), "INVALID_ARGUMENT"],
        [() => a.resize(notLive, 1), "NOT_ALLOCATED"],
        [() => a.sizeOf(live === undefined ? notLive : live + pageSize), "NOT_ALLOCATED"],
      ];
      const [fn, code] = cases[op.which];
      if (op.which === 5 && live !== undefined && m.live.has(rel! + 1)) return; // that page is live itself
      expectRejected(a, fn, code);
      return;
    }
  }
}

function run(cfg: Config, ops: Op[]): void {
  const a = new BuddyAllocator({
    pageSize: cfg.pageSize,
    maxOrder: cfg.maxOrder,
    sectionOrder: cfg.sectionOrder,
  });
  for (const [first, end] of cfg.regions) {
    a.addRegion((cfg.basePage + first) * cfg.pageSize, (end - first) * cfg.pageSize);
  }
  const m = new Model(cfg);
  verify(a, m, "start");
  ops.forEach((op, i) => {
    const step = `step ${i} ${JSON.stringify(op)}`;
    runOp(a, m, op, step);
    verify(a, m, step);
  });
}

/** Up to three managed ranges inside the space, possibly adjacent, possibly with gaps. */
const regionsArb: fc.Arbitrary<[number, number][]> = fc
  .uniqueArray(fc.integer({ min: 1, max: SPACE - 1 }), { minLength: 1, maxLength: 5 })
  .chain((cuts) => {
    const edges = [0, ...cuts.sort((x, y) => x - y), SPACE];
    const ranges: [number, number][] = [];
    for (let i = 0; i + 1 < edges.length; i++) ranges.push([edges[i], edges[i + 1]]);
    return fc.subarray(ranges, { minLength: 1 });
  });

const configArb: fc.Arbitrary<Config> = fc
  .record({
    pageSize: fc.constantFrom(1, 4096),
    maxOrder: fc.integer({ min: 2, max: 7 }),
    sectionOrder: fc.integer({ min: 0, max: 2 }),
    basePage: fc.constantFrom(0, 64, 96, 2 ** 20),
    regions: regionsArb,
  })
  .map((c) => ({ ...c, sectionOrder: Math.min(c.sectionOrder, c.maxOrder) }));

const RUNS = Number(process.env.MODEL_RUNS ?? 1000);

describe("exact runs, model-based", () => {
  it("agree with a model of free pages over random runs, blocks, resizes and frees", () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { minLength: 1, maxLength: 120 }), (cfg, ops) => run(cfg, ops)),
      { numRuns: RUNS },
    );
  });

  it("agree with the model on one region of a single large section", () => {
    const cfg = {
      pageSize: 4096,
      maxOrder: 7,
      sectionOrder: 7,
      basePage: 0,
      regions: [[0, SPACE]] as [number, number][],
    };
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 200 }), (ops) => run(cfg, ops)),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
