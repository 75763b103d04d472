/**
 * `buddy-alloc simulate`: replays built-in workloads or a trace file on the allocators, prints a
 * table, and writes an HTML report (summary, use and fragmentation over time, memory maps).
 * Every file is written only after every run has finished, and atomically.
 */
import { resolve } from "node:path";
import type { ConcurrentBuddy } from "../concurrent/concurrent-buddy.js";
import type { Heap } from "../heap/index.js";
import { headOf, type OpList } from "../sim/ops.js";
import { replay } from "../sim/replay.js";
import type { SimTarget } from "../sim/target.js";
import { makeTarget } from "../sim/targets.js";
import { formatTrace } from "../sim/trace.js";
import { WORKLOADS } from "../sim/workloads.js";
import { formatBytes } from "../viz/format.js";
import { type ReportRun, SUMMARY_HEADERS, simulationReportHtml, summaryCells } from "../viz/report.js";
import { writeFileAtomic } from "./atomic-write.js";
import type { CliIO } from "./io.js";
import { ProgressBar } from "./progress.js";
import type { SimulatePlan } from "./simulate-args.js";
import { textTable } from "./text-table.js";
import { readTraceFile } from "./trace-file.js";

/** Operations replayed untimed on a throwaway allocator before each timed run. */
const WARMUP_OPS = 20_000;

/** What a simulation produced, for callers that want more than the printed table (tests). */
export interface SimulateOutcome {
  runs: ReportRun[];
  /** The targets at the end of their runs, in the order of `runs`. */
  targets: SimTarget[];
  /** Absolute path of the HTML report. */
  reportPath: string;
}

/**
 * Runs `plan`, printing through `io`.
 * @throws TraceFileError for a bad trace (before anything runs), AllocError from an allocator,
 *   or a file system error when writing.
 */
export async function simulate(plan: SimulatePlan, io: CliIO): Promise<SimulateOutcome> {
  const trace = plan.trace === null ? null : await readTraceFile(plan.trace, resolve(io.cwd, plan.trace));
  const runs: ReportRun[] = [];
  const targets: SimTarget[] = [];
  const params = { memory: plan.memory, pageSize: plan.pageSize, ops: plan.ops, seed: plan.seed };
  let lastOps: OpList | null = null;
  io.out(
    `buddy-alloc simulate: ${formatBytes(plan.memory)} of memory, ${formatBytes(plan.pageSize)} pages` +
      (trace
        ? `, trace ${plan.trace} (${trace.length.toLocaleString("en-US")} operations)`
        : `, ${plan.ops.toLocaleString("en-US")} operations per workload`),
  );
  io.out("");
  for (const run of plan.runs) {
    const workload = run.workload === null ? null : WORKLOADS[run.workload];
    const ops = trace ?? workload!.generate(params);
    lastOps = ops;
    const sizes = { memory: plan.memory, pageSize: plan.pageSize };
    // Warm-up: the first operations on a throwaway allocator, untimed, so that ns/op measures
    // compiled code rather than the JIT's first passes.
    replay(headOf(ops, WARMUP_OPS), makeTarget(run.target, sizes), { samples: 1 });
    const target = makeTarget(run.target, sizes);
    const name = workload?.name ?? plan.trace!;
    const bar = new ProgressBar(io.progress, `${name} on ${run.target}`.padEnd(24), plan.progress);
    const result = replay(ops, target, { onProgress: (done, total) => bar.update(done, total) });
    bar.clear();
    target.check();
    const map = target.map();
    if (workload && run.target !== "heap") map.tagNames = workload.tags;
    runs.push({
      workload: name,
      description: workload?.description ?? `the trace in ${plan.trace}`,
      target: target.label,
      totalBytes: target.totalBytes,
      figures: result,
      map,
    });
    targets.push(target);
  }
  for (const line of textTable(SUMMARY_HEADERS, runs.map(summaryCells), [0, 1])) io.out(line);
  io.out("");
  const reportPath = resolve(io.cwd, plan.out);
  const subtitle = `buddy-alloc simulate ${io.argv.join(" ")}`.trim();
  writeFileAtomic(reportPath, simulationReportHtml({ title: "buddy-alloc simulation", subtitle, runs }));
  if (plan.saveTrace !== null && lastOps !== null) {
    const path = resolve(io.cwd, plan.saveTrace);
    writeFileAtomic(path, formatTrace(lastOps));
    io.out(`trace written to ${path}`);
  }
  if (plan.save !== null) {
    const path = resolve(io.cwd, plan.save);
    writeFileAtomic(path, savedBytes(targets[0]));
    io.out(`${targets[0].kind} state written to ${path} (open it with: buddy-alloc inspect ${plan.save})`);
  }
  io.out(`report written to ${reportPath}`);
  return { runs, targets, reportPath };
}

/** The bytes of a heap's or a concurrent allocator's buffer, as `inspect` reads them back. */
function savedBytes(target: SimTarget): Uint8Array {
  const holder = target as SimTarget & { heap?: Heap; concurrent?: ConcurrentBuddy };
  const buffer = holder.heap?.buffer ?? holder.concurrent?.buffer;
  if (buffer === undefined) throw new Error(`the ${target.kind} allocator's state cannot be saved`);
  return new Uint8Array(buffer.slice(0));
}
