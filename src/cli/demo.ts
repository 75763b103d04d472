/**
 * The demo run by `npm start`: drives a BuddyAllocator through a steady-state workload (random
 * block orders, about half the memory live) and reports what happened.
 */
import { BuddyAllocator } from "../page/buddy-allocator.js";
import type { AllocatorStats } from "../page/types.js";

/** Parameters of the demo workload. */
export interface DemoOptions {
  /** Bytes of memory managed (default 1 GiB). */
  memory: number;
  /** Bytes per page (default 4096). */
  pageSize: number;
  /** Operations to run (default 1,000,000). */
  ops: number;
  /** Fraction of pages kept live, 0..1 (default 0.5). */
  live: number;
  /** Largest order requested (default 10). */
  maxRequestOrder: number;
}

/** What the demo saw. */
export interface DemoResult {
  allocations: number;
  frees: number;
  failures: number;
  nsPerOp: number;
  stats: AllocatorStats;
}

/** Runs the workload; deterministic for given options (xorshift32 with a fixed seed). */
export function runDemo(options: DemoOptions): DemoResult {
  const a = new BuddyAllocator({ pageSize: options.pageSize });
  a.addRegion(0, options.memory);
  const target = a.totalPages * options.live;
  const live = new Float64Array(a.totalPages);
  const liveOrder = new Uint8Array(a.totalPages);
  let count = 0;
  let livePages = 0;
  let allocations = 0;
  let frees = 0;
  let failures = 0;
  let x = 0x9e3779b9 | 0;
  const started = performance.now();
  for (let i = 0; i < options.ops; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (livePages < target || count === 0) {
      const r = x | (1 << options.maxRequestOrder);
      const order = 31 - Math.clz32(r & -r);
      const address = a.allocOrder(order);
      if (address === null) {
        failures++;
        continue;
      }
      allocations++;
      live[count] = address;
      liveOrder[count++] = order;
      livePages += 2 ** order;
    } else {
      const j = (x >>> 1) % count;
      a.free(live[j]);
      frees++;
      livePages -= 2 ** liveOrder[j];
      live[j] = live[--count];
      liveOrder[j] = liveOrder[count];
    }
  }
  const nsPerOp = ((performance.now() - started) * 1e6) / options.ops;
  a.check();
  return { allocations, frees, failures, nsPerOp, stats: a.stats() };
}

/** Formats a byte count with a binary unit. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The demo's report as lines of text. */
export function formatDemo(options: DemoOptions, result: DemoResult): string[] {
  const s = result.stats;
  const lines = [
    `buddy-alloc demo: ${formatBytes(options.memory)} of ${formatBytes(options.pageSize)} pages, ` +
      `${options.ops.toLocaleString("en-US")} operations, about ${Math.round(options.live * 100)}% of pages live`,
    "",
    `  allocations     ${result.allocations.toLocaleString("en-US")}`,
    `  frees           ${result.frees.toLocaleString("en-US")}`,
    `  failed allocs   ${result.failures.toLocaleString("en-US")}`,
    `  speed           ${result.nsPerOp.toFixed(1)} ns/op`,
    `  allocated       ${formatBytes(s.allocatedBytes)} of ${formatBytes(s.totalBytes)}`,
    `  largest free    ${formatBytes(s.largestFreeBlock)}`,
    `  fragmentation   ${s.fragmentation.toFixed(3)}  (1 - largest free block / free bytes)`,
    `  metadata        ${formatBytes(s.metadataBytes)} (${(s.metadataBytes / s.totalPages).toFixed(2)} bytes per page)`,
    "",
    "  free blocks by order:",
  ];
  const widest = Math.max(1, ...s.freeBlocksByOrder);
  s.freeBlocksByOrder.forEach((n, order) => {
    const bar = "#".repeat(Math.ceil((n / widest) * 40));
    lines.push(
      `  ${String(order).padStart(4)} ${formatBytes(options.pageSize * 2 ** order).padStart(9)} ${String(n).padStart(7)} ${bar}`,
    );
  });
  return lines;
}
