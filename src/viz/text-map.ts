/**
 * The memory map as text, for a terminal: a grid of characters in address order, each character
 * standing for an equal run of bytes. `.` all free, `#` all allocated, `+` both, space unmanaged.
 * Pure: model in, lines out.
 */
import { hex } from "./format.js";
import type { MapModel } from "./types.js";

/** Options of {@link textMap}. */
export interface TextMapOptions {
  /** Characters per line (default 64). */
  columns?: number;
  /** Most lines (default 16); each character covers more bytes when the memory is larger. */
  rows?: number;
}

/**
 * Draws `model` as lines of `columns` characters, each prefixed by its first address. Each
 * character covers a power-of-two number of pages, the smallest that fits in `rows` lines.
 */
export function textMap(model: MapModel, options: TextMapOptions = {}): string[] {
  const columns = options.columns ?? 64;
  const span = Math.max(model.pageSize, model.end - model.start);
  const cellBytes = textMapCellBytes(model, options);
  const cells = Math.ceil(span / cellBytes);
  const free = new Float64Array(cells);
  const used = new Float64Array(cells);
  for (const b of model.blocks) {
    const into = b.free ? free : used;
    let at = Math.max(b.address, model.start);
    const end = Math.min(b.address + b.size, model.start + cells * cellBytes);
    while (at < end) {
      const i = Math.floor((at - model.start) / cellBytes);
      const cellEnd = model.start + (i + 1) * cellBytes;
      into[i] += Math.min(end, cellEnd) - at;
      at = Math.min(end, cellEnd);
    }
  }
  const width = hex(model.start + cells * cellBytes).length;
  const lines: string[] = [];
  for (let row = 0; row * columns < cells; row++) {
    let text = "";
    for (let c = row * columns; c < Math.min(cells, (row + 1) * columns); c++) {
      text += used[c] > 0 && free[c] > 0 ? "+" : used[c] > 0 ? "#" : free[c] > 0 ? "." : " ";
    }
    lines.push(`${hex(model.start + row * columns * cellBytes).padStart(width)} ${text}`);
  }
  return lines;
}

/** The bytes each character of {@link textMap} covers for `model` with the same options. */
export function textMapCellBytes(model: MapModel, options: TextMapOptions = {}): number {
  const columns = options.columns ?? 64;
  const maxRows = options.rows ?? 16;
  const span = Math.max(model.pageSize, model.end - model.start);
  let cellBytes = model.pageSize;
  while (Math.ceil(span / cellBytes / columns) > maxRows) cellBytes *= 2;
  return cellBytes;
}
