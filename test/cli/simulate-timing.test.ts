/**
 * simulate's ns/op column times the allocator alone (issue 13): with a page allocator whose
 * accounting and sampling calls (reservedBytes, usage) are made slow on purpose, the column still
 * shows only what alloc and free cost.
 */
import { describe, expect, it, vi } from "vitest";
import type { SimTarget, TargetKind } from "../../src/sim/target.js";
import { captureIO, cli } from "./helpers.js";

const slowed = { allocs: 0 };

vi.mock("../../src/sim/targets.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/sim/targets.js")>();
  const spin = (us: number) => {
    const end = performance.now() + us / 1000;
    while (performance.now() < end);
  };
  /** The real page allocator, with 40 µs added to reservedBytes and usage (not to alloc or free). */
  const slow = (options: { memory: number; pageSize: number }): SimTarget => {
    const t = real.makeTarget("page", options);
    return {
      ...t,
      alloc: (size, tag) => {
        slowed.allocs++;
        return t.alloc(size, tag);
      },
      reservedBytes: (size, address) => {
        spin(40);
        return t.reservedBytes(size, address);
      },
      usage: () => {
        spin(40);
        return t.usage();
      },
    };
  };
  return {
    ...real,
    makeTarget: (kind: TargetKind, o: { memory: number; pageSize: number }) =>
      kind === "page" ? slow(o) : real.makeTarget(kind, o),
    freshTargets: (kind: TargetKind, o: { memory: number; pageSize: number }) =>
      kind === "page" ? () => slow(o) : real.freshTargets(kind, o),
  };
});

describe("simulate's ns/op", () => {
  it("is the allocator's time alone, not the replay's accounting or sampling", async () => {
    const io = captureIO();
    const { code } = await cli(["simulate", "-w", "steady", "-n", "2000", "-m", "1MiB", "-o", "r.html"], io);
    expect(code).toBe(0);
    expect(slowed.allocs).toBeGreaterThan(0); // the slowed allocator ran
    const rule = io.stdout.findIndex((l) => /^-+ {2}-+/.test(l));
    const ns = Number(io.stdout[rule + 1].trim().split(/ {2,}/)[3].replace(/,/g, ""));
    // About half the operations are allocations: 40 µs each in reservedBytes would be >= 15,000.
    expect(ns).toBeLessThan(5_000);
    expect(io.stdout).toContain(
      "ns/op: the allocator alone, the faster of 2 timed replays on fresh allocators (no sampling or accounting inside the clock)",
    );
  });
});
