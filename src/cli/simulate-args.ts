/**
 * The options of `buddy-alloc simulate`, checked and turned into a list of runs before anything
 * runs or is written.
 */
import type { TargetKind } from "../sim/target.js";
import { isTargetKind, TARGET_KINDS } from "../sim/targets.js";
import { isWorkloadName, WORKLOADS, type WorkloadName } from "../sim/workloads.js";
import { parseBytes, parseCount, UsageError } from "./numbers.js";
import { type OptionSpec, parseOptions } from "./options.js";

/** One replay to do: a workload (or the trace) on one kind of allocator. */
export interface PlannedRun {
  /** A built-in workload, or null for the trace file. */
  workload: WorkloadName | null;
  target: TargetKind;
}

/** Everything `simulate` was asked to do. Sizes in bytes. */
export interface SimulatePlan {
  runs: PlannedRun[];
  /** The trace file to replay, or null. */
  trace: string | null;
  memory: number;
  pageSize: number;
  /** Run the heap in guard mode (red zones and poison). */
  guard: boolean;
  /** Operations per built-in workload. */
  ops: number;
  seed: number;
  /** Where the HTML report goes. */
  out: string;
  /** Write the workload's operations as a trace here (one built-in workload only), or null. */
  saveTrace: string | null;
  /** Write the final allocator's bytes here (one heap or concurrent run only), or null. */
  save: string | null;
  /** Draw a progress bar: true, false, or undefined for "when stderr is a terminal". */
  progress: boolean | undefined;
}

/** The suite `simulate` runs with no --workload, --trace or --allocator. */
export const DEFAULT_RUNS: readonly PlannedRun[] = [
  { workload: "steady", target: "page" },
  { workload: "steady", target: "concurrent" },
  { workload: "fill-drain", target: "page" },
  { workload: "kernel", target: "page" },
  { workload: "small", target: "heap" },
  { workload: "buffers", target: "page" },
  { workload: "buffers", target: "page-exact" },
];

const OPTIONS: Record<string, OptionSpec> = {
  workload: { type: "string", short: "w" },
  trace: { type: "string", short: "t" },
  allocator: { type: "string", short: "a" },
  memory: { type: "string", short: "m" },
  "page-size": { type: "string" },
  guard: { type: "boolean" },
  ops: { type: "string", short: "n" },
  seed: { type: "string" },
  out: { type: "string", short: "o" },
  "save-trace": { type: "string" },
  save: { type: "string" },
  progress: { type: "boolean" },
  "no-progress": { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** Parses simulate's arguments (after the word `simulate`); null when --help was asked for. */
export function parseSimulateArgs(argv: string[]): SimulatePlan | null {
  const { values } = parseOptions(argv, OPTIONS);
  if (values.help) return null;
  const str = (k: string) => values[k] as string | undefined;
  for (const k of ["trace", "out", "save-trace", "save"]) {
    if (str(k) === "") throw new UsageError(`--${k} needs a file name, got an empty one`);
  }
  const pageSize = str("page-size") === undefined ? 4096 : parseBytes("page-size", str("page-size")!);
  if ((pageSize & (pageSize - 1)) !== 0)
    throw new UsageError(`--page-size must be a power of two, got ${pageSize}`);
  const plan: SimulatePlan = {
    runs: [],
    trace: str("trace") ?? null,
    memory: str("memory") === undefined ? 64 * 2 ** 20 : parseBytes("memory", str("memory")!),
    pageSize,
    guard: values.guard === true,
    ops: str("ops") === undefined ? 200_000 : parseCount("ops", str("ops")!, 1, 20_000_000),
    seed: str("seed") === undefined ? 1 : parseCount("seed", str("seed")!, 0, 2 ** 32 - 1),
    out: str("out") ?? "reports/simulate.html",
    saveTrace: str("save-trace") ?? null,
    save: str("save") ?? null,
    progress: values["no-progress"] ? false : values.progress ? true : undefined,
  };
  if (plan.memory < pageSize)
    throw new UsageError(`--memory (${plan.memory}) is smaller than one page (${pageSize})`);
  const allocators =
    str("allocator") === undefined ? null : list("allocator", str("allocator")!, isTargetKind);
  if (plan.trace !== null) {
    if (str("workload") !== undefined) throw new UsageError("give --workload or --trace, not both");
    plan.runs = (allocators ?? ["page"]).map((target) => ({ workload: null, target }));
  } else if (str("workload") === undefined && allocators === null) {
    plan.runs = [...DEFAULT_RUNS];
  } else {
    const names =
      str("workload") === undefined || str("workload") === "all"
        ? (Object.keys(WORKLOADS) as WorkloadName[])
        : list("workload", str("workload")!, isWorkloadName);
    for (const workload of names) {
      for (const target of allocators ?? [WORKLOADS[workload].target]) plan.runs.push({ workload, target });
    }
  }
  if (
    plan.saveTrace !== null &&
    !(plan.trace === null && new Set(plan.runs.map((r) => r.workload)).size === 1)
  ) {
    throw new UsageError("--save-trace needs exactly one --workload");
  }
  const saveable = plan.runs.length === 1 && ["heap", "concurrent"].includes(plan.runs[0].target);
  if (plan.save !== null && !saveable) {
    throw new UsageError(
      "--save needs exactly one run, on --allocator heap or concurrent (their state is bytes)",
    );
  }
  return plan;
}

function list<T extends string>(option: string, text: string, valid: (s: string) => s is T): T[] {
  const items = text.split(",").map((s) => s.trim());
  for (const item of items) {
    if (!valid(item)) {
      const known =
        option === "allocator" ? TARGET_KINDS.join(", ") : `${Object.keys(WORKLOADS).join(", ")}, all`;
      throw new UsageError(`unknown --${option} ${JSON.stringify(item)} (known: ${known})`);
    }
  }
  return [...new Set(items as T[])];
}
