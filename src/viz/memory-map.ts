/**
 * The memory map: one SVG shape per block, laid out in address order, left to right and top to
 * bottom, in rows of `pageSize * 2^r` bytes (r chosen so the map is about twice as wide as tall).
 * Rows start at multiples of the row size, so a naturally aligned power-of-two block either lies
 * inside one row or covers whole consecutive rows: it is always one rectangle, and a split or a
 * merge shows as a rectangle cut in two or two rectangles becoming one. A block that is not
 * aligned that way (a run of pages, `exact`, whose size is not a power of two) is drawn with its
 * own size, as one <path> of several rectangles when it spans rows.
 * Pure: model in, SVG text out.
 */
import { escapeXml, formatBytes, hex, num } from "./format.js";
import { mapLegend } from "./map-legend.js";
import { type ColorBy, mapStylesheet, TAG_COLORS } from "./palette.js";
import type { MapBlock, MapModel } from "./types.js";

/** Options of {@link memoryMapSvg}. */
export interface MemoryMapOptions {
  /** The colouring shown first (default "state"); the others are a class change away. */
  colorBy?: ColorBy;
  /** Width of the drawing in pixels, labels included (default 960). */
  width?: number;
  /** Adds `<title>` tooltips to blocks when there are at most this many blocks (default 20,000). */
  tooltipLimit?: number;
  /**
   * Adds `data-address`, `data-size` (bytes), `data-order`, `data-free` and `data-tag` to each
   * block, and `data-exact="1"` to runs (default false).
   */
  dataAttributes?: boolean;
  /** Pages per row as a power of two (default: chosen from the size). */
  rowOrder?: number;
  /** Draws faint lines between pages when pages are at least 8 px wide (default false). */
  pageGrid?: boolean;
}

/** Where the map puts memory: rows of `rowBytes` from `origin`, cells of `cell` px per page. */
export interface MapGeometry {
  /** Address of the top-left corner (a multiple of rowBytes). */
  origin: number;
  /** Bytes per row. */
  rowBytes: number;
  /** Pages per row. */
  columns: number;
  /** Rows drawn. */
  rows: number;
  /** Pixel width (and height) of one page. */
  cell: number;
}

const LABEL_WIDTH = 86;

/** The row geometry {@link memoryMapSvg} uses for `model` drawn `width` px wide. */
export function mapGeometry(model: MapModel, width = 960, rowOrder?: number): MapGeometry {
  const pages = Math.max(1, Math.ceil((model.end - model.start) / model.pageSize));
  const r = rowOrder ?? Math.max(0, Math.ceil((Math.log2(pages) + 1) / 2));
  const rowBytes = model.pageSize * 2 ** r;
  const origin = Math.floor(model.start / rowBytes) * rowBytes;
  const rows = Math.max(1, Math.ceil((model.end - origin) / rowBytes));
  const columns = 2 ** r;
  return { origin, rowBytes, columns, rows, cell: (width - LABEL_WIDTH) / columns };
}

/** Rectangles [x, y, w, h] (pixels, map area) covering bytes [from, to). */
export function rectsOf(g: MapGeometry, pageSize: number, from: number, to: number): number[][] {
  const out: number[][] = [];
  let at = from;
  while (at < to) {
    const row = Math.floor((at - g.origin) / g.rowBytes);
    const rowStart = g.origin + row * g.rowBytes;
    const rowEnd = rowStart + g.rowBytes;
    if (at === rowStart && to >= rowEnd) {
      const whole = Math.floor((to - rowStart) / g.rowBytes);
      out.push([0, row * g.cell, g.columns * g.cell, whole * g.cell]);
      at = rowStart + whole * g.rowBytes;
      continue;
    }
    const end = Math.min(to, rowEnd);
    const x = ((at - rowStart) / pageSize) * g.cell;
    out.push([x, row * g.cell, ((end - at) / pageSize) * g.cell, g.cell]);
    at = end;
  }
  return out;
}

/**
 * Draws `model` as an SVG document: one element with class `block` per block, gaps (unmanaged
 * bytes between `start` and `end`) in grey, row addresses on the left and a legend below.
 */
export function memoryMapSvg(model: MapModel, options: MemoryMapOptions = {}): string {
  const width = options.width ?? 960;
  const g = mapGeometry(model, width, options.rowOrder);
  const mapHeight = g.rows * g.cell;
  const key = mapLegend(model, LABEL_WIDTH, mapHeight + 8, width);
  const height = Math.ceil(mapHeight + 8 + key.height + 4);
  const tooltips = model.blocks.length <= (options.tooltipLimit ?? 20_000);
  const stroke = g.cell >= 16 ? 2 : g.cell >= 4 ? 0.5 : 0;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="bmap by-${options.colorBy ?? "state"}" ` +
      `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" style="--bmap-stroke:${stroke}px" ` +
      `role="img" aria-label="memory map, ${model.blocks.length} blocks">`,
    `<style>${mapStylesheet()}</style>`,
  );
  out.push(`<g transform="translate(${LABEL_WIDTH} 0)" shape-rendering="crispEdges">`);
  for (const [x, y, w, h] of rectsOf(g, model.pageSize, model.start, model.end)) {
    out.push(`<rect class="gap" x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}"/>`);
  }
  for (const b of model.blocks) out.push(blockShape(g, model, b, tooltips, options.dataAttributes === true));
  if (options.pageGrid && g.cell >= 8) out.push(pageGrid(g));
  out.push("</g>");
  out.push(rowLabels(g));
  out.push(key.svg);
  out.push("</svg>");
  return out.join("\n");
}

function blockShape(g: MapGeometry, model: MapModel, b: MapBlock, tooltip: boolean, data: boolean): string {
  const cls = `block ${b.free ? "free" : "used"} o${b.order}${b.free || b.tag === 0 ? "" : ` t${b.tag % TAG_COLORS}`}`;
  let attrs = `class="${cls}"`;
  if (data) {
    attrs += ` data-address="${b.address}" data-size="${b.size}" data-order="${b.order}" data-free="${b.free ? 1 : 0}" data-tag="${b.tag}"`;
    if (b.exact) attrs += ' data-exact="1"';
  }
  const rects = rectsOf(g, model.pageSize, b.address, b.address + b.size);
  let shape: string;
  if (rects.length === 1) {
    const [x, y, w, h] = rects[0];
    shape = `<rect ${attrs} x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}"`;
  } else {
    const d = rects.map(([x, y, w, h]) => `M${num(x)} ${num(y)}h${num(w)}v${num(h)}h${num(-w)}z`).join("");
    shape = `<path ${attrs} d="${d}"`;
  }
  if (!tooltip) return `${shape}/>`;
  const name = b.free ? "free" : b.tag === 0 ? "allocated" : `tag ${b.tag}${tagName(model, b.tag)}`;
  const note = b.note ? `, ${b.note}` : "";
  const what = b.exact ? `run of ${b.size / model.pageSize} pages` : `order ${b.order}`;
  const title = `${hex(b.address)}: ${formatBytes(b.size)}, ${what}, ${name}${note}`;
  return `${shape}><title>${escapeXml(title)}</title>${rects.length === 1 ? "</rect>" : "</path>"}`;
}

/** Thin lines between the pages (not between blocks: block edges are drawn by their strokes). */
function pageGrid(g: MapGeometry): string {
  const w = g.columns * g.cell;
  const h = g.rows * g.cell;
  let d = "";
  for (let c = 1; c < g.columns; c++) d += `M${num(c * g.cell)} 0v${num(h)}`;
  for (let r = 1; r < g.rows; r++) d += `M0 ${num(r * g.cell)}h${num(w)}`;
  return `<path class="page-grid" d="${d}" stroke="#fff" stroke-opacity="0.45" stroke-width="0.6" fill="none" pointer-events="none"/>`;
}

function tagName(model: MapModel, tag: number): string {
  const name = model.tagNames?.[tag];
  return name ? ` (${name})` : "";
}

function rowLabels(g: MapGeometry): string {
  const every = Math.max(1, Math.ceil(14 / g.cell));
  const out: string[] = ['<g text-anchor="end">'];
  for (let row = 0; row < g.rows; row += every) {
    const y = row * g.cell + Math.min(g.cell * every, 14) - 3;
    out.push(`<text x="${LABEL_WIDTH - 6}" y="${num(y)}">${hex(g.origin + row * g.rowBytes)}</text>`);
  }
  out.push("</g>");
  return out.join("");
}
