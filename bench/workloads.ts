/**
 * The benchmark workloads and their PRNG, generic over a tiny allocator interface. The same
 * logic is written in C in bench/native/buddy.c, so every peer replays exactly the same
 * operations (as long as the same allocations fail). Only the op loops are timed.
 */

import { Rng } from "../src/sim/random.js";

/** What a workload needs from an allocator. `free` gets the order; allocators that remember it ignore it. */
export interface PageAllocator {
  allocOrder(order: number): number | null;
  free(address: number, order: number): void;
}

export type WorkloadName = "W1" | "W1-85" | "W2";
export const WORKLOADS: readonly WorkloadName[] = ["W1", "W1-85", "W2"];

/** Seed of every run. */
export const SEED = 0x9e3779b9;
/** The pool of every run: one region of 1 GiB at address 0 in 4 KiB pages, orders 0..20. */
export const POOL = { bytes: 2 ** 30, pageSize: 4096, maxOrder: 20 } as const;

/**
 * A draw in 0..n-1 (n < 2^31), as the C driver makes it: the top 31 bits of the next xorshift32
 * state, modulo n. Both sides drop the top bit because JS's `%` on a uint32 above 2^31 is a float
 * remainder (a libm call in V8) while an int32 remainder is one instruction, as it is in C.
 */
function below(rng: Rng, n: number): number {
  return (rng.nextU32() >>> 1) % n;
}

/** One run's counters. `ns` covers the op loops only. */
export interface RunResult {
  ops: number;
  ns: number;
  failures: number;
  allocs: number;
  frees: number;
  livePages: number;
}

/*
 * The live table: module-level, as C's are globals, and only ever read through these bindings.
 * Where it lived decided 1.5 ns of every JS peer's W1 operation: a table the workload function
 * returned, or even one it allocated before calling a callback, cost V8 a reload of its length
 * and data pointer on each access (measured with the page-counting stub of peers/driver.ts).
 */
let liveAddresses = new Float64Array(0);
let liveOrders = new Uint8Array(0);
let liveCount = 0;

/** Tables for `pages` live blocks at most, reused across runs. */
function liveTables(pages: number): void {
  if (liveAddresses.length !== pages) {
    liveAddresses = new Float64Array(pages);
    liveOrders = new Uint8Array(pages);
  }
  liveCount = 0;
}

/** Untimed: frees every block the last run left live, so the allocator should be whole again. */
export function freeLive(a: PageAllocator): void {
  for (let i = 0; i < liveCount; i++) a.free(liveAddresses[i], liveOrders[i]);
  liveCount = 0;
}

/**
 * W1 / W1-85: allocate while live pages are below `targetPages`, else free a random live block.
 * The PRNG state lives in a local here (not in an Rng object) so the loop costs what C's
 * does: the same steps, bit for bit, as `Rng.nextU32` and `below`; the order is
 * k = ctz(r | 2^10), so P(k) = 2^-(k+1) for k < 10 and the rest at 10.
 */
export function runSteady(
  a: PageAllocator,
  ops: number,
  totalPages: number,
  targetPercent: number,
): RunResult {
  // `| 0` (floor, below 2^31) keeps the target a small integer: from Math.floor, or from a pool
  // size that was a heap number (2^30 is not a Smi), V8 compares it as a double on every operation.
  const target = ((totalPages * targetPercent) / 100) | 0;
  liveTables(totalPages);
  let x = SEED | 0;
  let n = 0;
  let livePages = 0;
  let failures = 0;
  let allocs = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (livePages < target) {
      const r = x | 1024;
      const k = 31 - Math.clz32(r & -r);
      const address = a.allocOrder(k);
      if (address === null) {
        failures++;
        continue;
      }
      liveAddresses[n] = address;
      liveOrders[n] = k;
      n++;
      livePages += 1 << k;
      allocs++;
    } else {
      const idx = (x >>> 1) % n;
      const k = liveOrders[idx];
      a.free(liveAddresses[idx], k);
      livePages -= 1 << k;
      n--;
      liveAddresses[idx] = liveAddresses[n];
      liveOrders[idx] = liveOrders[n];
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  liveCount = n;
  return { ops, ns, failures, allocs, frees: ops - allocs - failures, livePages };
}

/** W2: fill with order-0 blocks until null, shuffle (untimed), free all in that order; repeat. */
export function runFillDrain(a: PageAllocator, ops: number, totalPages: number): RunResult {
  liveTables(totalPages);
  const rng = new Rng(SEED);
  let done = 0;
  let ns = 0;
  let allocs = 0;
  while (done < ops) {
    let n = 0;
    let t0 = process.hrtime.bigint();
    for (;;) {
      done++;
      const address = a.allocOrder(0);
      if (address === null) break;
      liveAddresses[n++] = address;
    }
    ns += Number(process.hrtime.bigint() - t0);
    allocs += n;
    for (let i = n; i > 1; i--) {
      const j = below(rng, i);
      const t = liveAddresses[i - 1];
      liveAddresses[i - 1] = liveAddresses[j];
      liveAddresses[j] = t;
    }
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) a.free(liveAddresses[i], 0);
    ns += Number(process.hrtime.bigint() - t0);
    done += n;
  }
  return { ops: done, ns, failures: 0, allocs, frees: allocs, livePages: 0 };
}

/** Runs one workload by name; what it leaves live, `freeLive` frees. */
export function runWorkload(
  name: WorkloadName,
  a: PageAllocator,
  ops: number,
  totalPages: number,
): RunResult {
  if (name === "W2") return runFillDrain(a, ops, totalPages);
  return runSteady(a, ops, totalPages, name === "W1" ? 50 : 85);
}
