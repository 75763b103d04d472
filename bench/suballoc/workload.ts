/**
 * The GPU-buffer suballocation workload (issue 11): one 256 MiB buffer in 256-byte pages
 * (WebGPU's offset alignment), requests log-uniform from 256 B to 4 MiB. Every peer replays the
 * same seeded random stream: each operation draws the same number of values whatever its outcome,
 * so the streams stay aligned even when the peers' allocations fail at different points.
 *
 * 1. Fill: allocate until the first null; what is held and requested at that point.
 * 2. Churn: free a random half of the live allocations, then CHURN_OPS operations alternating the
 *    allocation of a new request and the free of a random live allocation.
 * 3. Speed (the only timed part): the churn continues in rounds of BURST allocations (one timed
 *    loop) then BURST frees of random live allocations (another), so allocation and free are
 *    timed apart; sizes and victims are drawn outside the timed loops.
 */
import { Rng } from "../../src/sim/random.js";
import { SEED } from "../workloads.js";

/** The buffer: 256 MiB at address 0, 256-byte pages, orders 0..20 (one block is the whole buffer). */
export const BUFFER = { bytes: 2 ** 28, pageSize: 256, maxOrder: 20 } as const;
/** Requests: log-uniform in [MIN_REQUEST, MAX_REQUEST) bytes. */
export const MIN_REQUEST = 256;
export const MAX_REQUEST = 4 * 2 ** 20;
/** Alternating operations of phase 2. */
export const CHURN_OPS = 200_000;
/** Allocations (and then frees) per timed loop of the speed phase. */
export const BURST = 32;

/** What the workload needs of a peer; the burst methods are the timed loops and call the allocator directly. */
export interface SubPeer {
  /** An allocation of `pages` pages (`bytes` requested), or null. Untimed phases only. */
  alloc(pages: number, bytes: number): number | null;
  free(address: number): void;
  /** Bytes held by the live allocation at `address`. */
  sizeOf(address: number): number;
  /** Timed: allocates pages[0..n), writes the addresses that were not null to `out` from 0; returns how many. */
  allocBurst(pages: Int32Array, n: number, out: Float64Array): number;
  /** Timed: frees addresses[from..to). */
  freeBurst(addresses: Float64Array, from: number, to: number): void;
  /** The allocator's own fragmentation figure (for ours: `stats().fragmentation`, over free blocks). */
  fragmentation(): number;
  /** Free memory in address order as [address, bytes] pieces (adjacent pieces are merged by the caller). */
  freePieces(): Iterable<readonly [number, number]>;
  /** Bytes of the largest free block (first-fit: free range); cheaper than walking `freePieces`. */
  largestFreeBlock(): number;
  /** Verifies the allocator's invariants; throws when one is broken. */
  check(): void;
  /** After every allocation was freed: null when the allocator is whole again, else what is wrong. */
  verifyDrained(): string | null;
}

const DOUBLINGS = Math.log2(MAX_REQUEST / MIN_REQUEST);
/** A request in bytes from a uniform draw u in [0, 1): 256 * 2^(14u), log-uniform in [256 B, 4 MiB). */
const bytesFrom = (u: number) => Math.floor(MIN_REQUEST * 2 ** (DOUBLINGS * u));

const pagesOf = (bytes: number) => Math.ceil(bytes / BUFFER.pageSize);

/** Free bytes, contiguous free runs (adjacent free blocks merged) and the largest of them. */
export function freeRuns(p: SubPeer): { freeBytes: number; runs: number; largestRun: number } {
  let freeBytes = 0;
  let runs = 0;
  let largestRun = 0;
  let start = -1;
  let end = -1;
  for (const [address, bytes] of p.freePieces()) {
    freeBytes += bytes;
    if (address !== end) {
      if (start >= 0) largestRun = Math.max(largestRun, end - start);
      start = address;
      runs++;
    }
    end = address + bytes;
  }
  if (start >= 0) largestRun = Math.max(largestRun, end - start);
  return { freeBytes, runs, largestRun };
}

/** Phase 1, at the first null. Bytes unless named. */
export interface FillResult {
  liveAllocations: number;
  /** Bytes asked for by the live allocations. */
  requestedBytes: number;
  /** The same rounded up to whole 256-byte pages. */
  pageBytes: number;
  /** Bytes the allocator holds for them (sum of sizeOf). */
  heldBytes: number;
  /** requestedBytes / buffer. */
  requestedShare: number;
  /** heldBytes / buffer. */
  heldShare: number;
  /** (held - requested) / held: the share of held bytes nobody asked for. */
  waste: number;
  /** (held - requested) / requested: how much more is held than asked (the "41% more"). */
  overRequested: number;
  /** Free bytes at the first null, the number of contiguous free runs, the largest one. */
  freeBytes: number;
  freeRuns: number;
  largestFreeRun: number;
  /** The request that failed, in bytes, and as whole pages. */
  failingRequest: number;
  failingRequestPageBytes: number;
}

/** Phase 2, after the churn. */
export interface ChurnResult {
  ops: number;
  halvedTo: number;
  allocs: number;
  failures: number;
  liveAllocations: number;
  requestedShare: number;
  heldShare: number;
  /** The allocator's own figure: 1 - largest free block / free bytes. */
  fragmentation: number;
  /** 1 - largest contiguous free run / free bytes (adjacent free blocks together). */
  runFragmentation: number;
  largestFreeRun: number;
  freeBytes: number;
  /**
   * The churn loop's time, bookkeeping included (sizeOf on every allocation, the generic `alloc`
   * closure): a rough figure; phase 3 is the measurement.
   */
  ns: number;
}

/** Phase 3: the timed loops. */
export interface SpeedResult {
  ops: number;
  allocCalls: number;
  allocFailures: number;
  frees: number;
  allocNs: number;
  freeNs: number;
  nsPerAlloc: number;
  nsPerFree: number;
  /** (allocNs + freeNs) / ops. */
  nsPerOp: number;
}

export interface SuballocRun {
  fill: FillResult;
  churn: ChurnResult;
  speed: SpeedResult;
}

/** One run of the three phases on a fresh peer; what stays live, `drain` frees. */
export function runSuballoc(p: SubPeer, speedOps: number): { result: SuballocRun; drain: () => void } {
  const rng = new Rng(SEED);
  // Live table: address, requested bytes, held bytes; swap-remove on free.
  const cap = BUFFER.bytes / BUFFER.pageSize;
  const addr = new Float64Array(cap);
  const req = new Float64Array(cap);
  const held = new Float64Array(cap);
  let n = 0;
  let requested = 0;
  let pageBytes = 0;
  let heldBytes = 0;
  const remove = (i: number) => {
    p.free(addr[i]);
    requested -= req[i];
    pageBytes -= pagesOf(req[i]) * BUFFER.pageSize;
    heldBytes -= held[i];
    n--;
    addr[i] = addr[n];
    req[i] = req[n];
    held[i] = held[n];
  };
  const add = (address: number, bytes: number) => {
    addr[n] = address;
    req[n] = bytes;
    held[n] = p.sizeOf(address);
    requested += bytes;
    pageBytes += pagesOf(bytes) * BUFFER.pageSize;
    heldBytes += held[n];
    n++;
  };

  // Phase 1: fill until the first null.
  let failing = 0;
  for (;;) {
    const bytes = bytesFrom(rng.next());
    const address = p.alloc(pagesOf(bytes), bytes);
    if (address === null) {
      failing = bytes;
      break;
    }
    add(address, bytes);
  }
  const atNull = freeRuns(p);
  const fill: FillResult = {
    liveAllocations: n,
    requestedBytes: requested,
    pageBytes,
    heldBytes,
    requestedShare: requested / BUFFER.bytes,
    heldShare: heldBytes / BUFFER.bytes,
    waste: (heldBytes - requested) / heldBytes,
    overRequested: (heldBytes - requested) / requested,
    freeBytes: atNull.freeBytes,
    freeRuns: atNull.runs,
    largestFreeRun: atNull.largestRun,
    failingRequest: failing,
    failingRequestPageBytes: pagesOf(failing) * BUFFER.pageSize,
  };

  // Phase 2: free a random half, then alternate alloc / free.
  for (let k = n >> 1; k > 0; k--) remove(rng.below(n));
  const halvedTo = n;
  let allocs = 0;
  let failures = 0;
  const churnStart = process.hrtime.bigint();
  for (let i = 0; i < CHURN_OPS; i++) {
    const draw = rng.next();
    if ((i & 1) === 0) {
      allocs++;
      const bytes = bytesFrom(draw);
      const address = p.alloc(pagesOf(bytes), bytes);
      if (address === null) failures++;
      else add(address, bytes);
    } else if (n > 0) remove(Math.floor(draw * n));
  }
  const churnNs = Number(process.hrtime.bigint() - churnStart);
  const afterChurn = freeRuns(p);
  const churn: ChurnResult = {
    ops: CHURN_OPS,
    halvedTo,
    allocs,
    failures,
    liveAllocations: n,
    requestedShare: requested / BUFFER.bytes,
    heldShare: heldBytes / BUFFER.bytes,
    fragmentation: p.fragmentation(),
    runFragmentation: afterChurn.freeBytes === 0 ? 0 : 1 - afterChurn.largestRun / afterChurn.freeBytes,
    largestFreeRun: afterChurn.largestRun,
    freeBytes: afterChurn.freeBytes,
    ns: churnNs,
  };

  // Phase 3, timed: rounds of BURST allocations, then as many frees as allocations succeeded.
  const pages = new Int32Array(BURST);
  const got = new Float64Array(BURST);
  let allocCalls = 0;
  let allocFailures = 0;
  let frees = 0;
  let allocNs = 0;
  let freeNs = 0;
  while (allocCalls + frees < speedOps) {
    for (let i = 0; i < BURST; i++) pages[i] = pagesOf(bytesFrom(rng.next()));
    let t0 = process.hrtime.bigint();
    const m = p.allocBurst(pages, BURST, got);
    allocNs += Number(process.hrtime.bigint() - t0);
    allocCalls += BURST;
    allocFailures += BURST - m;
    for (let i = 0; i < m; i++) addr[n++] = got[i];
    // BURST victims drawn whatever m is (aligned streams); the first m are moved to the end.
    for (let i = 0; i < BURST; i++) {
      const u = rng.next();
      if (i < m) {
        const j = Math.floor(u * (n - i));
        const t = addr[j];
        addr[j] = addr[n - 1 - i];
        addr[n - 1 - i] = t;
      }
    }
    t0 = process.hrtime.bigint();
    p.freeBurst(addr, n - m, n);
    freeNs += Number(process.hrtime.bigint() - t0);
    n -= m;
    frees += m;
  }
  const ops = allocCalls + frees;
  const speed: SpeedResult = {
    ops,
    allocCalls,
    allocFailures,
    frees,
    allocNs,
    freeNs,
    nsPerAlloc: allocNs / allocCalls,
    nsPerFree: freeNs / frees,
    nsPerOp: (allocNs + freeNs) / ops,
  };

  return {
    result: { fill, churn, speed },
    drain: () => {
      for (let i = 0; i < n; i++) p.free(addr[i]);
      n = 0;
    },
  };
}
