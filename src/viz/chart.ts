/**
 * Line charts as SVG: a few series over a shared x axis, with ticks at round numbers. Pure: data
 * in, SVG text out. Used for a replay's use and fragmentation over time.
 */
import { escapeXml, num } from "./format.js";

/** One line of a chart. */
export interface ChartSeries {
  /** Legend text. */
  name: string;
  /** CSS colour of the line. */
  color: string;
  /** Points as [x, y], x increasing. */
  points: [number, number][];
}

/** Options of {@link lineChartSvg}. */
export interface ChartOptions {
  /** Title drawn above the plot. */
  title: string;
  /** Caption of the x axis. */
  xLabel: string;
  /** Formats a y tick (default: the number). */
  yFormat?: (y: number) => string;
  /** Formats an x tick (default: the number with thousands separators). */
  xFormat?: (x: number) => string;
  /** Lower and upper bound of the y axis (default: 0 and the largest y, rounded up). */
  yRange?: [number, number];
  /** Width of the SVG in pixels (default 460). */
  width?: number;
  /** Height of the SVG in pixels (default 220). */
  height?: number;
}

const M = { left: 58, right: 30, top: 28, bottom: 38 };

/** Round tick values covering [lo, hi], about `count` of them. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push(Number(t.toPrecision(12)));
  return out;
}

/** Draws `series` as an SVG document with axes, ticks, a title and a legend. */
export function lineChartSvg(series: ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 460;
  const height = options.height ?? 220;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const xMin = Math.min(xMax, ...all.map((p) => p[0]));
  const [yLo, yHiRaw] = options.yRange ?? [0, Math.max(0, ...all.map((p) => p[1]))];
  const yTicks = ticks(yLo, yHiRaw > yLo ? yHiRaw : yLo + 1);
  const yHi = Math.max(yHiRaw, yTicks[yTicks.length - 1]);
  const plotW = width - M.left - M.right;
  const plotH = height - M.top - M.bottom;
  const sx = (x: number) => M.left + (xMax === xMin ? 0 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => M.top + plotH - ((y - yLo) / (yHi - yLo || 1)) * plotH;
  const yFormat = options.yFormat ?? ((y: number) => String(y));
  const xFormat = options.xFormat ?? ((x: number) => Math.round(x).toLocaleString("en-US"));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<style>.chart text{font:11px system-ui,sans-serif;fill:#444}.chart .grid{stroke:#e6e6e6}.chart .axis{stroke:#888}</style>`,
    `<text x="${M.left}" y="16" style="font-weight:600;font-size:13px">${escapeXml(options.title)}</text>`,
  ];
  for (const t of yTicks) {
    const y = num(sy(t));
    out.push(`<line class="grid" x1="${M.left}" x2="${M.left + plotW}" y1="${y}" y2="${y}"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" dy="4" text-anchor="end">${escapeXml(yFormat(t))}</text>`);
  }
  for (const t of ticks(xMin, xMax, 4)) {
    const x = num(sx(t));
    out.push(`<line class="axis" x1="${x}" x2="${x}" y1="${M.top + plotH}" y2="${M.top + plotH + 4}"/>`);
    out.push(`<text x="${x}" y="${M.top + plotH + 16}" text-anchor="middle">${escapeXml(xFormat(t))}</text>`);
  }
  out.push(
    `<line class="axis" x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}"/>`,
    `<text x="${M.left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  let legendX = M.left + plotW;
  for (const s of [...series].reverse()) {
    const pts = s.points.map(([x, y]) => `${num(sx(x), 1)},${num(sy(y), 1)}`).join(" ");
    out.push(`<polyline class="series" fill="none" stroke="${s.color}" stroke-width="1.6" points="${pts}"/>`);
    legendX -= 22 + s.name.length * 6.2;
    out.push(`<rect x="${num(legendX)}" y="7" width="12" height="3" fill="${s.color}"/>`);
    out.push(`<text x="${num(legendX + 16)}" y="12">${escapeXml(s.name)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n");
}
