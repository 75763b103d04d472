/** What the shared-heap driver (shared.ts) and its workers (shared-worker.ts) exchange. */

/**
 * threaded, cross, locked: heaps on shared memory; plain: one heap over an ArrayBuffer; driver:
 * the same W3 loop with an allocator that does nothing (malloc bumps a counter, free returns), to
 * show how far the machine and the driver themselves scale.
 */
export type SharedMode = "threaded" | "cross" | "locked" | "plain" | "driver";

/** What the driver passes each worker. */
export interface SharedJob {
  entry: string;
  mode: SharedMode;
  /** The heap (modes threaded, cross, locked). */
  memory: SharedArrayBuffer | null;
  /** Bytes of the plain heap's ArrayBuffer (mode plain). */
  poolBytes: number;
  worker: number;
  workers: number;
  /** W3 operations this worker runs. */
  ops: number;
  /** Live bytes this worker keeps at most (the pool's half, split among the workers). */
  liveTarget: number;
  seed: number;
  /** Int32 words: [GATE] 0 until the driver opens it; [DONE] workers past their timed phase. */
  control: SharedArrayBuffer;
  /** Mode cross: one ring per worker (RING_HEADER below), worker i consumes ring i; capacity a power of two. */
  rings: SharedArrayBuffer | null;
  ringCapacity: number;
  /** Count the outermost page-lock acquisitions of this handle (threaded heaps; wraps an internal method). */
  countPageLocks: boolean;
  /** Mode plain: write one byte per 4 KiB of the ArrayBuffer before reporting ready. */
  pretouch: boolean;
}

/** What a worker posts at the end. Times are process.hrtime nanoseconds (one clock for all threads). */
export interface SharedReport {
  worker: number;
  threadId: number;
  startNs: number;
  endNs: number;
  /** W3 steps: mallocs plus the frees the workload asked for. */
  steps: number;
  allocs: number;
  failures: number;
  /** Frees of this worker's own blocks in the timed phase. */
  localFrees: number;
  /** Blocks handed to the next worker. */
  pushed: number;
  /** Pushes that found the ring full (freed locally instead, counted in localFrees). */
  ringFull: number;
  /** Frees of blocks from the inbox (all timed): blocks another worker allocated. */
  crossFrees: number;
  /** Of crossFrees, those made after this worker's own W3 loop ended, while it waited for the others. */
  crossFreesAfter: number;
  /** Heap calls in the timed phase: allocs (failed ones included) + localFrees + crossFrees. */
  heapOps: number;
  /** Outermost page-lock acquisitions in the timed phase, or null when not counted. */
  pageLocks: number | null;
}

export const GATE = 0;
export const DONE = 1;
/** Int32 words per ring: head at 0, tail at 16 (separate cache lines), entries from 32. */
export const RING_HEADER = 32;

/**
 * Writes one byte in every 4 KiB of `buffer`, so that the kernel maps its pages now rather than on
 * first touch inside the timed loop (where threads of one process also contend on page faults).
 */
export function touch(buffer: ArrayBuffer | SharedArrayBuffer): void {
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 0;
}
