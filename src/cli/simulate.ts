/**
 * `buddy-alloc simulate`: replays built-in workloads or a trace file on the allocators, prints a
 * table, and writes an HTML report (summary, use and fragmentation over time, memory maps).
 * All or nothing: every output path is checked before anything runs, and the files are written
 * together after every run has finished, or none of them is (outputs.ts).
 */
import { resolve } from "node:path";
import type { ConcurrentBuddy } from "../concurrent/concurrent-buddy.js";
import type { Heap } from "../heap/index.js";
import type { OpList } from "../sim/ops.js";
import { replay } from "../sim/replay.js";
import type { SimTarget } from "../sim/target.js";
import { freshTargets, makeTarget } from "../sim/targets.js";
import { timeOps } from "../sim/timing.js";
import { formatTrace } from "../sim/trace.js";
import { WORKLOADS } from "../sim/workloads.js";
import { formatBytes } from "../viz/format.js";
import { type ReportRun, SUMMARY_HEADERS, simulationReportHtml, summaryCells } from "../viz/report.js";
import type { CliIO } from "./io.js";
import { checkDistinct, checkOutput, type Output, writeOutputs } from "./outputs.js";
import { ProgressBar } from "./progress.js";
import type { SimulatePlan } from "./simulate-args.js";
import { textTable } from "./text-table.js";
import { readTraceFile } from "./trace-file.js";

/** Timed passes of the allocator alone per run (on fresh allocators; the fastest counts). */
export const TIMED_PASSES = 2;

/** What the ns/op column measures, printed under the table. */
export const NS_PER_OP_NOTE = `ns/op: the allocator alone, the faster of ${TIMED_PASSES} timed replays on fresh allocators (no sampling or accounting inside the clock)`;

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
 * @throws FileError for an output that cannot be written or UsageError for outputs that clash
 *   (both before anything runs), TraceFileError for a bad trace (also before), AllocError from
 *   an allocator, FileError when writing fails at the end (then nothing is left written).
 */
export async function simulate(plan: SimulatePlan, io: CliIO): Promise<SimulateOutcome> {
  const report = checkOutput("--out", "cannot write the report", plan.out, io.cwd);
  const outputs: Output[] = [report];
  const saveTrace =
    plan.saveTrace === null
      ? null
      : checkOutput("--save-trace", "cannot write the trace", plan.saveTrace, io.cwd);
  if (saveTrace) outputs.push(saveTrace);
  const save =
    plan.save === null
      ? null
      : checkOutput("--save", "cannot write the allocator's bytes", plan.save, io.cwd);
  if (save) outputs.push(save);
  checkDistinct(
    outputs,
    plan.trace === null ? [] : [{ name: "the --trace file", path: resolve(io.cwd, plan.trace) }],
  );
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
    const sizes = { memory: plan.memory, pageSize: plan.pageSize, guard: plan.guard };
    const target = makeTarget(run.target, sizes);
    const name = workload?.name ?? plan.trace!;
    const bar = new ProgressBar(io.progress, `${name} on ${run.target}`.padEnd(24), plan.progress);
    // The measured run: use, fragmentation and waste over time, the final state. Its own clock
    // includes the replay's accounting, so ns/op comes from timed passes of the allocator alone
    // on fresh allocators afterwards (the measured run has warmed the code up for them).
    const steps = 1 + TIMED_PASSES;
    const result = replay(ops, target, { onProgress: (done, total) => bar.update(done, total * steps) });
    const timing = timeOps(ops, freshTargets(run.target, sizes), {
      passes: TIMED_PASSES,
      onPass: (done, passes) => bar.update(1 + done, 1 + passes),
    });
    bar.clear();
    target.check();
    const map = target.map();
    if (workload && run.target !== "heap") map.tagNames = workload.tags;
    const figures = { ...result, nsPerOp: timing.nsPerOp, elapsedMs: timing.elapsedMs };
    runs.push({
      workload: name,
      description: workload?.description ?? `the trace in ${plan.trace}`,
      target: target.label,
      totalBytes: target.totalBytes,
      figures,
      map,
    });
    targets.push(target);
  }
  for (const line of textTable(SUMMARY_HEADERS, runs.map(summaryCells), [0, 1])) io.out(line);
  io.out("");
  io.out(NS_PER_OP_NOTE);
  const subtitle = `buddy-alloc simulate ${io.argv.join(" ")}`.trim();
  const files: { output: Output; data: () => string | Uint8Array }[] = [
    {
      output: report,
      data: () => simulationReportHtml({ title: "buddy-alloc simulation", subtitle, runs }),
    },
  ];
  const ops = lastOps;
  if (saveTrace && ops !== null) files.push({ output: saveTrace, data: () => formatTrace(ops) });
  if (save) files.push({ output: save, data: () => savedBytes(targets[0]) });
  writeOutputs(files);
  if (saveTrace) io.out(`trace written to ${saveTrace.path}`);
  if (save)
    io.out(
      `${targets[0].kind} state written to ${save.path} (open it with: buddy-alloc inspect ${plan.save})`,
    );
  io.out(`report written to ${report.path}`);
  return { runs, targets, reportPath: report.path };
}

/** The bytes of a heap's or a concurrent allocator's buffer, as `inspect` reads them back. */
function savedBytes(target: SimTarget): Uint8Array {
  const holder = target as SimTarget & { heap?: Heap; concurrent?: ConcurrentBuddy };
  const buffer = holder.heap?.buffer ?? holder.concurrent?.buffer;
  if (buffer === undefined) throw new Error(`the ${target.kind} allocator's state cannot be saved`);
  return new Uint8Array(buffer.slice(0));
}
