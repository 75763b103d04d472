/** timeOps: only the allocator's calls are timed, on fresh targets; freshTargets reuses a heap's memory. */
import { describe, expect, it } from "vitest";
import { OpListBuilder } from "../../src/sim/ops.js";
import { replay } from "../../src/sim/replay.js";
import type { SimTarget } from "../../src/sim/target.js";
import { freshTargets } from "../../src/sim/targets.js";
import { timeOps } from "../../src/sim/timing.js";

/** Busy-waits `us` microseconds. */
function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** A target whose alloc and free are instant and everything else takes 50 µs; counts its calls. */
function slowAroundTarget(calls: Record<string, number>, capacity = Number.POSITIVE_INFINITY): SimTarget {
  let next = 0;
  let live = 0;
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  return {
    kind: "page",
    label: "fake",
    totalBytes: 1 << 20,
    alloc() {
      count("alloc");
      if (live >= capacity) return null;
      live++;
      return next++ * 4096;
    },
    free() {
      count("free");
      live--;
    },
    reservedBytes(size) {
      count("reservedBytes");
      spin(50);
      return size;
    },
    usage() {
      count("usage");
      spin(50);
      return {
        totalBytes: 1 << 20,
        usedBytes: 0,
        freeBytes: 1 << 20,
        largestFreeBlock: 1 << 20,
        fragmentation: 0,
      };
    },
    map() {
      count("map");
      spin(50);
      return { start: 0, end: 1 << 20, pageSize: 4096, blocks: [] };
    },
    check() {
      count("check");
      spin(50);
    },
  };
}

function allocFreePairs(n: number) {
  const b = new OpListBuilder();
  for (let i = 0; i < n; i++) {
    b.alloc(i, 4096);
    b.free(i);
  }
  return b.build();
}

describe("timeOps", () => {
  it("times alloc and free alone: the target's other methods are never called", () => {
    const ops = allocFreePairs(500);
    const calls: Record<string, number> = {};
    let made = 0;
    const timing = timeOps(ops, () => {
      made++;
      return slowAroundTarget(calls);
    });
    expect(made).toBe(2);
    expect(timing.passMs.length).toBe(2);
    expect(calls).toEqual({ alloc: 1000, free: 1000 });
    expect(timing.elapsedMs).toBe(Math.min(...timing.passMs));
    expect(timing.nsPerOp).toBeCloseTo((timing.elapsedMs * 1e6) / ops.length, 6);
    // 500 reservedBytes calls of 50 µs would be >= 25,000 ns per operation.
    expect(timing.nsPerOp).toBeLessThan(5_000);
    // replay's own clock includes its accounting (reservedBytes), as documented.
    const replayed = replay(ops, slowAroundTarget({}), { samples: 5 });
    expect(replayed.nsPerOp).toBeGreaterThan(20_000);
  });

  it("skips the frees of failed allocations, as replay does, and reports each pass", () => {
    const calls: Record<string, number> = {};
    const b = new OpListBuilder();
    b.alloc(0, 10);
    b.alloc(1, 10); // fails: capacity 1
    b.free(1);
    b.free(0);
    const timing = timeOps(b.build(), () => slowAroundTarget(calls, 1), { passes: 3, onPass: () => {} });
    expect(calls).toEqual({ alloc: 6, free: 3 });
    expect(timing.passMs.length).toBe(3);
  });
});

describe("freshTargets", () => {
  it("makes empty heaps in one buffer, and new page allocators each time", () => {
    const heaps = freshTargets("heap", { memory: 1 << 20, pageSize: 4096 });
    const a = heaps() as SimTarget & { heap: { buffer: ArrayBufferLike } };
    const p = a.alloc(100, 0)!;
    a.alloc(50_000, 0);
    const b = heaps() as SimTarget & {
      heap: { buffer: ArrayBufferLike; stats(): { liveAllocations: number } };
    };
    expect(b.heap.buffer).toBe(a.heap.buffer);
    expect(b.heap.stats().liveAllocations).toBe(0);
    expect(b.alloc(100, 0)).toBe(p); // same placement as on a new heap
    b.check();
    const pages = freshTargets("page", { memory: 1 << 20, pageSize: 4096 });
    const x = pages();
    x.alloc(4096, 0);
    expect(pages().usage().usedBytes).toBe(0);
  });
});
