/**
 * The simulation report: one self-contained HTML page (inline CSS, SVG and a five-line script for
 * the colour buttons; nothing fetched) with a summary table, and for each run its figures, use
 * and fragmentation over time, and a memory map of the final state. Pure: data in, HTML out.
 */
import { lineChartSvg } from "./chart.js";
import { escapeXml, formatBytes, formatCount } from "./format.js";
import { memoryMapSvg } from "./memory-map.js";
import { COLOR_MODES } from "./palette.js";
import type { MapModel, SeriesPoint } from "./types.js";

/** The figures of one run that the report shows (a replay's result fits). Bytes unless named. */
export interface RunFigures {
  /** Operations run (allocations + frees, including failed and skipped ones). */
  operations: number;
  /** Allocations that succeeded. */
  allocations: number;
  /** Frees performed. */
  frees: number;
  /** Allocations that failed (returned null). */
  failures: number;
  /** Frees skipped because their allocation had failed. */
  skippedFrees: number;
  /** Nanoseconds per operation, shown as ns/op (the command line passes `timeOps`'s: the allocator alone). */
  nsPerOp: number;
  /** Most bytes held by live blocks at once (as the allocator rounds them). */
  peakUsedBytes: number;
  /** Most bytes requested and live at once. */
  peakRequestedBytes: number;
  /** Bytes held by live blocks at the end (as the allocator rounds them). */
  usedBytes: number;
  /** Bytes requested and still live at the end. */
  requestedBytes: number;
  /** Rounding waste at the end: bytes held beyond those requested (`usedBytes - requestedBytes`). */
  wasteBytes: number;
  /** Rounding waste over the run, as a share (0..1) of the bytes held (see ReplayResult). */
  meanWasteShare: number;
  /** Blocks live at the end. */
  liveBlocks: number;
  /** Fragmentation at the end: `1 - largest free block / free bytes` (0..1). */
  fragmentation: number;
  /** The highest fragmentation among the samples (0..1). */
  maxFragmentation: number;
  /** Use and fragmentation over the run, in operation order (drawn as the charts). */
  series: SeriesPoint[];
}

/** One run: a workload replayed on one allocator. */
export interface ReportRun {
  /** Workload name, e.g. "kernel" or a trace file's name. */
  workload: string;
  /** What the workload does. */
  description: string;
  /** Which allocator, e.g. "page allocator, 4096-byte pages". */
  target: string;
  /** Bytes the allocator manages. */
  totalBytes: number;
  /** What happened. */
  figures: RunFigures;
  /** The final state. */
  map: MapModel;
}

/** A whole report. */
export interface SimulationReport {
  /** Page title. */
  title: string;
  /** A line under the title (e.g. the command that made it). */
  subtitle?: string;
  /** The runs, in order. */
  runs: ReportRun[];
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:36px 0 4px;border-top:1px solid #ddd;padding-top:18px}
.sub,.desc{color:#666;margin:0 0 12px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}.buttons{margin:12px 0 6px}
.buttons button{font:inherit;margin-right:6px;padding:2px 10px;border:1px solid #bbb;background:#f6f6f6;border-radius:4px;cursor:pointer}
.small td,.small th{padding:1px 8px;font-size:12px}
`;

const SCRIPT = `document.querySelectorAll("button[data-color-by]").forEach((b) => b.addEventListener("click", () => {
  const svg = b.closest("section").querySelector("svg.bmap");
  svg.classList.remove("by-state", "by-order", "by-tag");
  svg.classList.add("by-" + b.dataset.colorBy);
}));`;

/** The share `part / whole` as a percentage with one decimal ("0.0%" when whole is 0). */
export function percent(part: number, whole: number): string {
  return `${whole === 0 ? "0.0" : ((part / whole) * 100).toFixed(1)}%`;
}

/** The summary table rows as cells (also what the command line prints). */
export function summaryCells(run: ReportRun): string[] {
  const f = run.figures;
  return [
    run.workload,
    run.target,
    formatCount(f.operations),
    f.nsPerOp.toFixed(1),
    `${formatBytes(f.peakUsedBytes)} (${percent(f.peakUsedBytes, run.totalBytes)})`,
    formatCount(f.failures),
    `${f.fragmentation.toFixed(3)} / ${f.maxFragmentation.toFixed(3)}`,
    `${percent(f.meanWasteShare, 1)} / ${percent(f.wasteBytes, f.usedBytes)}`,
  ];
}

/** Headers of {@link summaryCells}. */
export const SUMMARY_HEADERS = [
  "workload",
  "allocator",
  "operations",
  "ns/op",
  "peak use",
  "failures",
  "frag end/max",
  "waste avg/end",
];

/** The report as a complete HTML document. */
export function simulationReportHtml(report: SimulationReport): string {
  const rows = report.runs
    .map(
      (run) =>
        `<tr>${summaryCells(run)
          .map((c) => `<td>${escapeXml(c)}</td>`)
          .join("")}</tr>`,
    )
    .join("\n");
  const head = SUMMARY_HEADERS.map((h) => `<th>${escapeXml(h)}</th>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(report.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>${escapeXml(report.title)}</h1>
${report.subtitle ? `<p class="sub">${escapeXml(report.subtitle)}</p>` : ""}
<table class="summary"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<p class="desc">ns/op: the allocator's own time per operation: the run's operations replayed on a fresh allocator
with only its alloc and free calls inside the clock (the faster of two passes; <code>npm run bench</code> measures with more care). Peak use: most bytes in live blocks at once,
as the allocator rounds them. Fragmentation: 1 - largest free block / free bytes, at the end and the highest sampled.
Waste: rounding waste, the share of the bytes held by live blocks that was not requested (rounded up to a size class,
whole pages or a power of two of pages); over the run (the samples, weighted by bytes held) and at the end.</p>
${report.runs.map(runSection).join("\n")}
<script>${SCRIPT}</script>
</body></html>
`;
}

function runSection(run: ReportRun, index: number): string {
  const f = run.figures;
  const total = run.totalBytes;
  const use = lineChartSvg(
    [
      { name: "used", color: "#3a6ea5", points: f.series.map((p) => [p.op, p.usedBytes / total]) },
      { name: "requested", color: "#e08a2c", points: f.series.map((p) => [p.op, p.requestedBytes / total]) },
    ],
    {
      title: "memory in use",
      xLabel: "operations",
      yRange: [0, 1],
      yFormat: (y) => `${Math.round(y * 100)}%`,
    },
  );
  const frag = lineChartSvg(
    [
      {
        name: "1 - largest free / free",
        color: "#c44e52",
        points: f.series.map((p) => [p.op, p.fragmentation]),
      },
    ],
    { title: "fragmentation", xLabel: "operations", yRange: [0, 1] },
  );
  const figures: [string, string][] = [
    ["allocations", formatCount(f.allocations)],
    ["frees", formatCount(f.frees)],
    ["failed allocations", formatCount(f.failures)],
    ["frees skipped (their allocation failed)", formatCount(f.skippedFrees)],
    ["live blocks at the end", formatCount(f.liveBlocks)],
    [
      "in use at the end",
      `${formatBytes(f.usedBytes)} of ${formatBytes(total)} (${percent(f.usedBytes, total)})`,
    ],
    ["peak requested", `${formatBytes(f.peakRequestedBytes)} (${percent(f.peakRequestedBytes, total)})`],
    [
      "rounding waste at the end",
      `${formatBytes(f.wasteBytes)}: ${percent(f.wasteBytes, f.usedBytes)} of the bytes held, ` +
        `${percent(f.wasteBytes, f.requestedBytes)} on top of those requested`,
    ],
    ["rounding waste over the run", `${percent(f.meanWasteShare, 1)} of the bytes held`],
  ];
  const buttons = COLOR_MODES.map(
    (m) => `<button type="button" data-color-by="${m}">colour by ${m}</button>`,
  ).join("");
  return `<section id="run-${index + 1}">
<h2>${escapeXml(`${run.workload} on the ${run.target}`)}</h2>
<p class="desc">${escapeXml(run.description)}</p>
<table class="small">${figures.map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${escapeXml(v)}</td></tr>`).join("")}</table>
<div class="charts">${use}${frag}</div>
<div class="buttons">Final state, ${formatCount(run.map.blocks.length)} blocks: ${buttons}</div>
${memoryMapSvg(run.map)}
${freeListTable(run.map)}
</section>`;
}

function freeListTable(map: MapModel): string {
  const counts = new Map<number, number>();
  for (const b of map.blocks) if (b.free) counts.set(b.order, (counts.get(b.order) ?? 0) + 1);
  if (counts.size === 0) return "<p>No free blocks.</p>";
  const orders = [...counts.keys()].sort((a, b) => a - b);
  const cells = orders.map((k) => `<td>${formatCount(counts.get(k)!)}</td>`).join("");
  const head = orders.map((k) => `<th>${k} (${escapeXml(formatBytes(map.pageSize * 2 ** k))})</th>`).join("");
  return `<table class="small"><tr><th>free blocks by order</th>${head}</tr><tr><td></td>${cells}</tr></table>`;
}
