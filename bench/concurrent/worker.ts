/**
 * Bench worker (started through ts-worker.mjs). Serves rounds: for each message it opens the
 * round's allocator, waits at the start gate with the other workers, runs the churn workload
 * (timed), frees what it still holds (untimed) and posts its timing.
 *
 * Workload, per worker: `ops` operations; while it holds fewer than `live` blocks it allocates
 * with probability 1/2 (order k with probability 2^-(k+1), the rest at maxRequestOrder), else it
 * frees one of its blocks picked at random. Each worker has its own seed. Allocations are
 * counted as operations whether or not they return null.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BuddyAllocator, ConcurrentBuddy, Heap } from "../../src/index.js";
import { LockedBuddy } from "./locked-buddy.js";

/**
 * Which allocator a worker drives: ConcurrentBuddy with the packed or the node tree, the shared
 * Heap (the page allocator in the buffer behind the heap's futex lock; requests of whole pages
 * go straight to its page blocks), the minimal locked buddy (locked-buddy.ts), the
 * single-threaded page allocator (one worker only, not shared), or "private": a packed
 * ConcurrentBuddy per worker, shared with nobody, which shows how far this machine scales when
 * the workers share no memory at all (the ceiling for any shared allocator).
 */
export type Kind = "packed" | "node" | "heap" | "locked" | "page" | "private";

/** One round, as posted by the bench. */
export interface Round {
  buffer: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  workers: number;
  worker: number;
  ops: number;
  live: number;
  maxRequestOrder: number;
  size: number;
  pageSize: number;
  maxOrder: number;
}

/** What a worker reports after a round. Times are absolute (ms since the epoch, sub-ms precise). */
export interface RoundResult {
  start: number;
  end: number;
  ops: number;
  nulls: number;
}

interface Subject {
  allocOrder(order: number): number | null;
  free(address: number): void;
}

const kind = (workerData as { kind: Kind }).kind;

/** The Heap through the bench's interface: a block of order k is a malloc of pageSize * 2^k bytes. */
class HeapPages implements Subject {
  constructor(
    private readonly heap: Heap,
    private readonly pageSize: number,
  ) {}
  allocOrder(order: number): number | null {
    return this.heap.malloc(this.pageSize * 2 ** order);
  }
  free(address: number): void {
    this.heap.free(address);
  }
}

function open(r: Round): Subject {
  if (kind === "packed" || kind === "node") return ConcurrentBuddy.open(r.buffer, { threadId: r.worker });
  if (kind === "heap") return new HeapPages(Heap.open(r.buffer), r.pageSize);
  if (kind === "locked") return LockedBuddy.attach(r.buffer, r.pageSize, r.maxOrder, r.size / r.pageSize);
  if (kind === "private") {
    return ConcurrentBuddy.create({
      size: r.size,
      pageSize: r.pageSize,
      maxOrder: r.maxOrder,
      threadId: r.worker,
    });
  }
  const a = new BuddyAllocator({ pageSize: r.pageSize, maxOrder: r.maxOrder });
  a.addRegion(0, r.size);
  return a;
}

function churn(a: Subject, r: Round, held: Float64Array): { nulls: number; count: number } {
  let x = (0x9e3779b9 * (r.worker + 1)) | 0 || 1;
  let count = 0;
  let nulls = 0;
  const cap = r.maxRequestOrder;
  for (let i = 0; i < r.ops; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (count < r.live && (count === 0 || (x & 1) === 0)) {
      const bits = (x >>> 1) | (1 << cap);
      const order = 31 - Math.clz32(bits & -bits);
      const address = a.allocOrder(order);
      if (address === null) nulls++;
      else held[count++] = address;
    } else {
      const at = (x >>> 8) % count;
      a.free(held[at]);
      held[at] = held[--count];
    }
  }
  return { nulls, count };
}

parentPort!.on("message", (r: Round) => {
  const a = open(r);
  const held = new Float64Array(r.live);
  const gate = new Int32Array(r.gate);
  Atomics.add(gate, 0, 1);
  while (Atomics.load(gate, 0) < r.workers) {
    // spin: every worker of the round starts at once
  }
  const start = performance.timeOrigin + performance.now();
  const { nulls, count } = churn(a, r, held);
  const end = performance.timeOrigin + performance.now();
  for (let i = 0; i < count; i++) a.free(held[i]);
  const result: RoundResult = { start, end, ops: r.ops, nulls };
  parentPort!.postMessage(result);
});
