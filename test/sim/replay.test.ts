/** replay and the built-in workloads: figures consistent with each allocator's own statistics. */
import { describe, expect, it } from "vitest";
import { concurrentTarget } from "../../src/sim/concurrent-target.js";
import { heapTarget } from "../../src/sim/heap-target.js";
import { OP_ALLOC, type OpList } from "../../src/sim/ops.js";
import { pageTarget } from "../../src/sim/page-target.js";
import { meanWasteShare, replay } from "../../src/sim/replay.js";
import { makeTarget, TARGET_KINDS } from "../../src/sim/targets.js";
import { parseTrace } from "../../src/sim/trace.js";
import { WORKLOADS, type WorkloadName } from "../../src/sim/workloads.js";

const MEMORY = 4 << 20;
const params = { memory: MEMORY, pageSize: 4096, ops: 20_000, seed: 7 };

/** Every free names a live slot, every allocation a free one. */
function wellFormed(ops: OpList): boolean {
  const live = new Uint8Array(ops.slots);
  for (let i = 0; i < ops.length; i++) {
    const s = ops.slot[i];
    if (ops.kind[i] === OP_ALLOC) {
      if (live[s] || !(ops.size[i] >= 1)) return false;
      live[s] = 1;
    } else {
      if (!live[s]) return false;
      live[s] = 0;
    }
  }
  return true;
}

describe("built-in workloads", () => {
  it.each(Object.keys(WORKLOADS) as WorkloadName[])(
    "%s is deterministic, well formed and of the asked length",
    (name) => {
      const a = WORKLOADS[name].generate(params);
      const b = WORKLOADS[name].generate(params);
      const c = WORKLOADS[name].generate({ ...params, seed: 8 });
      expect(a.length).toBe(params.ops);
      expect(wellFormed(a)).toBe(true);
      expect([...a.size]).toEqual([...b.size]);
      expect([...a.slot]).toEqual([...b.slot]);
      expect([...a.size, ...a.slot]).not.toEqual([...c.size, ...c.slot]);
    },
  );

  it("steady keeps about half of memory live; kernel about 80%", () => {
    const steady = replay(WORKLOADS.steady.generate(params), pageTarget({ memory: MEMORY }));
    expect(steady.requestedBytes / MEMORY).toBeGreaterThan(0.45);
    expect(steady.requestedBytes / MEMORY).toBeLessThan(0.6);
    const kernel = replay(WORKLOADS.kernel.generate(params), pageTarget({ memory: MEMORY }));
    expect(kernel.peakRequestedBytes / MEMORY).toBeGreaterThan(0.75);
  });
});

describe("replay", () => {
  it.each(TARGET_KINDS)("on %s: counts add up and the used bytes are the allocator's", (kind) => {
    const workload =
      kind === "heap" ? WORKLOADS.small : kind === "page-exact" ? WORKLOADS.buffers : WORKLOADS.steady;
    const ops = workload.generate(params);
    const target = makeTarget(kind, { memory: MEMORY, pageSize: 4096 });
    const r = replay(ops, target, { samples: 50 });
    target.check();
    expect(r.operations).toBe(ops.length);
    expect(r.allocations + r.failures + r.frees + r.skippedFrees).toBe(ops.length);
    expect(r.allocations - r.frees).toBe(r.liveBlocks);
    expect(r.series.length).toBe(51);
    expect(r.series[0]).toMatchObject({ op: 0, usedBytes: 0, requestedBytes: 0 });
    expect(r.series[50].op).toBe(ops.length);
    expect(r.peakUsedBytes).toBeGreaterThanOrEqual(r.usedBytes);
    expect(r.usedBytes).toBeGreaterThanOrEqual(r.requestedBytes);
    expect(r.wasteBytes).toBe(r.usedBytes - r.requestedBytes);
    expect(r.meanWasteShare).toBe(meanWasteShare(r.series));
    expect(r.meanWasteShare).toBeGreaterThanOrEqual(0);
    expect(r.meanWasteShare).toBeLessThan(1);
    expect(r.fragmentation).toBe(target.usage().fragmentation);
    expect(r.maxFragmentation).toBe(Math.max(...r.series.map((p) => p.fragmentation)));
    const map = target.map();
    const live = map.blocks.filter((b) => !b.free);
    if (kind === "heap") {
      const heap = (target as ReturnType<typeof heapTarget>).heap;
      expect(heap.stats().usedBytes).toBe(r.requestedBytes);
      expect(heap.stats().liveAllocations).toBe(r.liveBlocks);
      expect([...heap.liveAllocations()].reduce((n, a) => n + heap.usableSize(a.ptr), 0)).toBe(r.usedBytes);
    } else {
      expect(target.usage().usedBytes).toBe(r.usedBytes);
      expect(live.length).toBe(r.liveBlocks);
      expect(live.reduce((n, b) => n + b.size, 0)).toBe(r.usedBytes);
    }
    // The map covers the managed memory exactly once.
    const covered = map.blocks.reduce((n, b) => n + b.size, 0);
    expect(covered).toBe(target.usage().totalBytes);
  });

  it("the heap target's reserved bytes are malloc's usable size, for every size band", () => {
    const t = heapTarget({ memory: 4 << 20 });
    for (const size of [
      1,
      8,
      15,
      16,
      17,
      100,
      128,
      129,
      1000,
      1500,
      2047,
      2048,
      2049,
      4096,
      5000,
      70_000,
      1 << 20,
    ]) {
      const p = t.heap.malloc(size)!;
      expect(t.reservedBytes(size, p)).toBe(t.heap.usableSize(p));
      t.heap.free(p);
    }
  });

  it("counts failures and skips the frees of failed allocations", () => {
    const ops = parseTrace("a 1 16384\na 2 4096\na 3 4096\nf 2\nf 1\nf 3\n");
    const target = pageTarget({ memory: 4 * 4096 });
    const r = replay(ops, target);
    expect(r).toMatchObject({
      allocations: 1,
      failures: 2,
      frees: 1,
      skippedFrees: 2,
      liveBlocks: 0,
      usedBytes: 0,
    });
    expect(r.peakUsedBytes).toBe(16384);
    expect(target.usage().usedBytes).toBe(0);
  });

  it("requests larger than the largest block fail instead of throwing", () => {
    const r = replay(parseTrace("a 1 1000000000\n"), pageTarget({ memory: 1 << 20 }));
    expect(r.failures).toBe(1);
    const c = replay(parseTrace("a 1 1000000000\n"), concurrentTarget({ memory: 1 << 20 }));
    expect(c.failures).toBe(1);
    const h = replay(parseTrace("a 1 1000000000\n"), heapTarget({ memory: 1 << 20 }));
    expect(h.failures).toBe(1);
  });

  it("reports progress up to the total", () => {
    const seen: number[] = [];
    replay(WORKLOADS.steady.generate({ ...params, ops: 1000 }), pageTarget({ memory: MEMORY }), {
      samples: 10,
      onProgress: (done, total) => {
        expect(total).toBe(1000);
        seen.push(done);
      },
    });
    expect(seen).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  it("the page-exact target holds what sizeOf says: whole pages, no power-of-two rounding", () => {
    const t = pageTarget({ memory: 1 << 20, exact: true });
    expect(t.kind).toBe("page-exact");
    for (const size of [1, 4095, 4096, 4097, 3 * 4096, 5 * 4096 + 1, 7 * 4096, 100_000]) {
      const p = t.alloc(size, 3)!;
      expect(t.reservedBytes(size, p)).toBe(Math.ceil(size / 4096) * 4096);
      const b = [...t.map().blocks].find((x) => x.address === p)!;
      expect(b).toMatchObject({ size: t.reservedBytes(size, p), free: false, tag: 3 });
      t.free(p);
    }
    expect(t.usage().usedBytes).toBe(0);
  });
});

describe("rounding waste", () => {
  const page = 4096;
  // 3, 5 and 6 pages, then the 3 freed: held as blocks of 4, 8, 8 pages, or as runs of 3, 5, 6.
  const trace = `a 1 ${3 * page}\na 2 ${5 * page}\na 3 ${6 * page}\nf 1\n`;

  it("exact runs of whole pages waste nothing; power-of-two blocks waste the rounding", () => {
    for (const kind of ["page-exact", "page", "concurrent"] as const) {
      const target = makeTarget(kind, { memory: 64 * page, pageSize: page });
      const r = replay(parseTrace(trace), target, { samples: 4 });
      expect(r.requestedBytes).toBe(11 * page);
      if (kind === "page-exact") {
        expect(r.usedBytes).toBe(11 * page);
        expect(r.wasteBytes).toBe(0);
        expect(r.meanWasteShare).toBe(0);
      } else {
        expect(r.usedBytes).toBe(16 * page);
        expect(r.wasteBytes).toBe(5 * page); // 8 - 5 and 8 - 6
        // Samples after each operation hold 4, 12, 20 and 16 pages, of which 1, 4, 6 and 5 are waste.
        expect(r.meanWasteShare).toBeCloseTo(16 / 52, 12);
      }
      expect(target.usage().usedBytes).toBe(r.usedBytes);
    }
  });

  it("bytes short of a whole page are waste for exact runs too", () => {
    const r = replay(
      parseTrace("a 1 5000\na 2 100\n"),
      makeTarget("page-exact", { memory: 1 << 20, pageSize: page }),
    );
    expect(r.usedBytes).toBe(3 * page);
    expect(r.wasteBytes).toBe(3 * page - 5100);
  });

  it("on the buffers workload exact runs waste far less than power-of-two blocks", () => {
    const ops = WORKLOADS.buffers.generate(params);
    const exact = replay(ops, makeTarget("page-exact", { memory: MEMORY, pageSize: page }));
    const pow2 = replay(ops, makeTarget("page", { memory: MEMORY, pageSize: page }));
    expect(exact.meanWasteShare).toBe(0); // whole pages
    expect(pow2.meanWasteShare).toBeGreaterThan(0.15);
    expect(pow2.meanWasteShare).toBeLessThan(0.4);
  });

  it("meanWasteShare weighs each sample by the bytes held", () => {
    const point = (usedBytes: number, requestedBytes: number) => ({
      op: 0,
      usedBytes,
      requestedBytes,
      fragmentation: 0,
      failures: 0,
    });
    expect(meanWasteShare([])).toBe(0);
    expect(meanWasteShare([point(0, 0)])).toBe(0);
    expect(meanWasteShare([point(0, 0), point(100, 50), point(300, 290)])).toBeCloseTo(60 / 400, 12);
  });
});
