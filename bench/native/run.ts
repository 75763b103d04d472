/**
 * Compiles bench/native/buddy.c (cc -O2 -march=native) into bench/native/build/ and runs the
 * self-checking build or the timed build. Returns null with a reason
 * when no C compiler is available, so the C column can be skipped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { WorkloadName } from "../workloads.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const source = `${here}buddy.c`;
const buildDir = `${here}build/`;

/** One run as printed by the C program (see buddy.c). */
export interface NativeRun {
  ops: number;
  ns: number;
  nsPerOp: number;
  failures: number;
  allocs: number;
  frees: number;
  livePages: number;
  fragmentation: number;
  metadataBytesPerPage: number;
}

/** Builds the three binaries (timed, self-checking, driver only); returns the compiler's version line, or null when `cc` is missing. */
export function buildNative(): string | null {
  const probe = spawnSync("cc", ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) return null;
  mkdirSync(buildDir, { recursive: true });
  const flags = ["-O2", "-march=native", "-std=c11", "-Wall", "-Wextra", "-Werror"];
  execFileSync("cc", [...flags, "-o", `${buildDir}buddy`, source]);
  execFileSync("cc", [...flags, "-DSELF_CHECK", "-o", `${buildDir}buddy-check`, source]);
  execFileSync("cc", [...flags, "-DDRIVER_ONLY", "-o", `${buildDir}buddy-driver`, source]);
  return probe.stdout.split("\n")[0];
}

function run(binary: string, workload: WorkloadName, ops: number, runs: number): NativeRun[] {
  const out = execFileSync(`${buildDir}${binary}`, [workload, String(ops), String(runs)], {
    encoding: "utf8",
  });
  return out
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as NativeRun);
}

/** Runs the self-checking build once; throws if any check fails. */
export function selfCheckNative(workload: WorkloadName, ops: number): void {
  run("buddy-check", workload, ops, 1);
}

/**
 * One timed run of the native build, in a process of its own like each JS run; with
 * `driverOnly`, of the same driver against the stub that only counts pages.
 */
export function runNativeOnce(workload: WorkloadName, ops: number, driverOnly = false): NativeRun {
  return run(driverOnly ? "buddy-driver" : "buddy", workload, ops, 1)[0];
}
