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

/** Blocks still allocated after a run, so the caller can drain and verify the allocator. */
export interface Live {
  count: number;
  addresses: Float64Array;
  orders: Uint8Array;
}

/**
 * W1 / W1-85: allocate while live pages are below `targetPages`, else free a random live block.
 * The PRNG state lives in a local here (not in an Rng object) so the loop costs what C's
 * does: the same steps, bit for bit, as `Rng.nextU32` and `below`; the order is
 * k = ctz(r | 2^10), so P(k) = 2^-(k+1) for k < 10 and the rest at 10.
 */
export function runSteady(a: PageAllocator, ops: number, totalPages: number, targetPercent: number) {
  const target = Math.floor((totalPages * targetPercent) / 100);
  const addresses = new Float64Array(totalPages);
  const orders = new Uint8Array(totalPages);
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
      addresses[n] = address;
      orders[n] = k;
      n++;
      livePages += 1 << k;
      allocs++;
    } else {
      const idx = (x >>> 1) % n;
      const k = orders[idx];
      a.free(addresses[idx], k);
      livePages -= 1 << k;
      n--;
      addresses[idx] = addresses[n];
      orders[idx] = orders[n];
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const result: RunResult = { ops, ns, failures, allocs, frees: ops - allocs - failures, livePages };
  const live: Live = { count: n, addresses, orders };
  return { result, live };
}

/** W2: fill with order-0 blocks until null, shuffle (untimed), free all in that order; repeat. */
export function runFillDrain(a: PageAllocator, ops: number, totalPages: number) {
  const addresses = new Float64Array(totalPages);
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
      addresses[n++] = address;
    }
    ns += Number(process.hrtime.bigint() - t0);
    allocs += n;
    for (let i = n; i > 1; i--) {
      const j = below(rng, i);
      const t = addresses[i - 1];
      addresses[i - 1] = addresses[j];
      addresses[j] = t;
    }
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) a.free(addresses[i], 0);
    ns += Number(process.hrtime.bigint() - t0);
    done += n;
  }
  const result: RunResult = { ops: done, ns, failures: 0, allocs, frees: allocs, livePages: 0 };
  const live: Live = { count: 0, addresses, orders: new Uint8Array(0) };
  return { result, live };
}

/** Runs one workload by name. */
export function runWorkload(name: WorkloadName, a: PageAllocator, ops: number, totalPages: number) {
  if (name === "W2") return runFillDrain(a, ops, totalPages);
  return runSteady(a, ops, totalPages, name === "W1" ? 50 : 85);
}
