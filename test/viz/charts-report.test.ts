/** Line charts, the text map and the HTML report. */
import { describe, expect, it } from "vitest";
import { pageTarget } from "../../src/sim/page-target.js";
import { replay } from "../../src/sim/replay.js";
import { parseTrace } from "../../src/sim/trace.js";
import { WORKLOADS } from "../../src/sim/workloads.js";
import { lineChartSvg, ticks } from "../../src/viz/chart.js";
import { formatBytes } from "../../src/viz/format.js";
import { SUMMARY_HEADERS, simulationReportHtml, summaryCells } from "../../src/viz/report.js";
import { textMap } from "../../src/viz/text-map.js";
import type { MapModel } from "../../src/viz/types.js";

describe("lineChartSvg", () => {
  it("draws one polyline per series with one point per input point", () => {
    const svg = lineChartSvg(
      [
        {
          name: "a",
          color: "red",
          points: [
            [0, 0],
            [5, 0.5],
            [10, 1],
          ],
        },
        {
          name: "b<",
          color: "blue",
          points: [
            [0, 1],
            [10, 0],
          ],
        },
      ],
      { title: "t", xLabel: "x", yRange: [0, 1] },
    );
    const lines = svg.match(/<polyline[^>]*points="([^"]*)"/g)!;
    expect(lines.length).toBe(2);
    expect(lines.map((l) => l.split('points="')[1].trim().split(" ").length).sort()).toEqual([2, 3]);
    expect(svg).toContain("b&lt;");
  });

  it("ticks are round numbers covering the range", () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(0, 200000, 4)).toEqual([0, 50000, 100000, 150000, 200000]);
  });
});

describe("textMap", () => {
  it("marks free, allocated, mixed and unmanaged cells", () => {
    const model: MapModel = {
      start: 0,
      end: 8 * 4096,
      pageSize: 4096,
      blocks: [
        { address: 0, size: 4096, free: false, order: 0, tag: 0 },
        { address: 4096, size: 4096, free: true, order: 0, tag: 0 },
        { address: 2 * 4096, size: 2 * 4096, free: true, order: 1, tag: 0 },
        { address: 4 * 4096, size: 2 * 4096, free: false, order: 1, tag: 0 },
      ],
    };
    expect(textMap(model, { columns: 8 })).toEqual(["   0x0 #...##  "]);
    expect(textMap(model, { columns: 4, rows: 1 })).toEqual(["   0x0 +.# "]);
  });
});

describe("simulationReportHtml", () => {
  it("holds the summary, two charts and one map per run, every block drawn once", () => {
    const target = pageTarget({ memory: 1 << 20 });
    const figures = replay(WORKLOADS.steady.generate({ memory: 1 << 20, pageSize: 4096, ops: 2000 }), target);
    const map = target.map();
    const run = {
      workload: "steady",
      description: "d",
      target: target.label,
      totalBytes: 1 << 20,
      figures,
      map,
    };
    const html = simulationReportHtml({ title: "T & co", runs: [run, run] });
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("<title>T &amp; co</title>");
    expect((html.match(/<svg[^>]*class="bmap/g) ?? []).length).toBe(2);
    expect((html.match(/<svg[^>]*class="chart"/g) ?? []).length).toBe(4);
    expect((html.match(/<(rect|path) class="block /g) ?? []).length).toBe(2 * map.blocks.length);
    expect(html).toContain(`<td>${summaryCells(run)[4]}</td>`);
    expect(summaryCells(run)[4]).toBe(
      `${formatBytes(figures.peakUsedBytes)} (${((figures.peakUsedBytes / (1 << 20)) * 100).toFixed(1)}%)`,
    );
  });

  it("shows the rounding waste over the run and at the end, in the table and the run's figures", () => {
    const ops = parseTrace("a 1 12288\na 2 20480\n"); // 3 and 5 pages: blocks of 4 and 8
    const target = pageTarget({ memory: 1 << 20 });
    const figures = replay(ops, target);
    const run = {
      workload: "w",
      description: "d",
      target: target.label,
      totalBytes: 1 << 20,
      figures,
      map: target.map(),
    };
    expect(SUMMARY_HEADERS.at(-1)).toBe("waste avg/end");
    // Samples hold 4 pages (1 wasted) and 12 pages (4 wasted): 5 of 16 over the run, 4 of 12 at the end.
    expect(summaryCells(run).at(-1)).toBe("31.3% / 33.3%");
    const html = simulationReportHtml({ title: "t", runs: [run] });
    expect(html).toContain("<td>31.3% / 33.3%</td>");
    expect(html).toContain(
      "<td>rounding waste at the end</td><td>16 KiB: 33.3% of the bytes held, 50.0% on top of those requested</td>",
    );
    expect(html).toContain("<td>rounding waste over the run</td><td>31.3% of the bytes held</td>");
  });
});
