/**
 * The visualisations: pure functions from allocator state to SVG, HTML and text. Re-exports only.
 * @module buddy-alloc/viz
 */
export { type ChartOptions, type ChartSeries, lineChartSvg } from "./chart.js";
export { escapeXml, formatBytes } from "./format.js";
export { type MapGeometry, type MemoryMapOptions, mapGeometry, memoryMapSvg } from "./memory-map.js";
export { COLOR_MODES, type ColorBy } from "./palette.js";
export { type ReportRun, type RunFigures, type SimulationReport, simulationReportHtml } from "./report.js";
export { type TextMapOptions, textMap } from "./text-map.js";
export type { MapBlock, MapModel, SeriesPoint } from "./types.js";
