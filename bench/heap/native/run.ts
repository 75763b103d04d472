/**
 * Builds native/heap.c with `cc -O2` into native/build/ (gitignored) and runs it, one process per
 * run. Returns null with no C compiler, so the native column is skipped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { WorkloadName } from "../workload.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const binary = `${here}build/heap`;

/** One run as printed by heap.c. */
export interface NativeRun {
  ops: number;
  ns: number;
  nsPerOp: number;
  allocs: number;
  frees: number;
  failures: number;
  liveCount: number;
  liveBytes: number;
  /** mallinfo2's arena + hblkhd, or -1 when the C library does not report it. */
  footprint: number;
}

/** Compiles the driver; returns the compiler's version line, or null when `cc` is missing. */
export function buildNative(): string | null {
  const probe = spawnSync("cc", ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) return null;
  mkdirSync(`${here}build`, { recursive: true });
  execFileSync("cc", ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", binary, `${here}heap.c`]);
  return probe.stdout.split("\n")[0];
}

/** One timed run of the native driver in its own process. */
export function runNative(workload: WorkloadName, ops: number): NativeRun {
  return JSON.parse(execFileSync(binary, [workload, String(ops)], { encoding: "utf8" })) as NativeRun;
}
