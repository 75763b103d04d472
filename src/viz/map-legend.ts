/**
 * The memory map's legends, one per colouring (only the current one is displayed, by CSS): the
 * swatches of what the map shows, wrapped onto as many lines as the width needs.
 */
import { escapeXml, formatBytes } from "./format.js";
import { FREE_COLOR, freeOrderColor, orderColor, tagColor, USED_COLOR } from "./palette.js";
import type { MapModel } from "./types.js";

/** One legend entry: its swatch colours (drawn side by side) and its words. */
interface Entry {
  colors: string[];
  label: string;
}

const LINE = 18;
const CHAR = 6.2;

/** The legends' SVG, placed from `x`, `y` (top), and the height they take (the tallest of them). */
export function mapLegend(
  model: MapModel,
  x: number,
  y: number,
  width: number,
): { svg: string; height: number } {
  const orders = [...new Set(model.blocks.map((b) => b.order))].sort((a, b) => a - b);
  const tags = [...new Set(model.blocks.filter((b) => !b.free).map((b) => b.tag))].sort((a, b) => a - b);
  const tagLabel = (t: number) => (t === 0 ? "no tag" : (model.tagNames?.[t] ?? `tag ${t}`));
  const legends: [string, Entry[]][] = [
    [
      "legend-state",
      [
        { colors: [FREE_COLOR], label: "free" },
        { colors: [USED_COLOR], label: "allocated" },
      ],
    ],
    [
      "legend-order",
      [
        { colors: [], label: "order (allocated, free):" },
        ...orders.map((k) => ({ colors: [orderColor(k), freeOrderColor(k)], label: `${k}` })),
      ],
    ],
    [
      "legend-tag",
      [
        { colors: [FREE_COLOR], label: "free" },
        ...tags.map((t) => ({ colors: [tagColor(t)], label: tagLabel(t) })),
      ],
    ],
  ];
  let lines = 1;
  const parts = legends.map(([cls, entries]) => {
    const laid = layout(entries, x, y, width);
    lines = Math.max(lines, laid.lines);
    return `<g class="legend-item ${cls}">${laid.svg}</g>`;
  });
  const caption = `${formatBytes(model.pageSize)} pages, ${formatBytes(model.end - model.start)}`;
  const captionY = y + lines * LINE + 10;
  parts.push(`<text x="${x}" y="${captionY}">${escapeXml(caption)}</text>`);
  return { svg: parts.join("\n"), height: lines * LINE + 14 };
}

function layout(entries: Entry[], x0: number, y0: number, width: number): { svg: string; lines: number } {
  let x = x0;
  let line = 0;
  const out: string[] = [];
  for (const e of entries) {
    const w = e.colors.length * 14 + 4 + e.label.length * CHAR + 12;
    if (x > x0 && x + w > width) {
      x = x0;
      line++;
    }
    const y = y0 + line * LINE;
    e.colors.forEach((c, i) => {
      out.push(`<rect x="${x + i * 14}" y="${y}" width="12" height="12" fill="${c}"/>`);
    });
    out.push(`<text x="${x + e.colors.length * 14 + 4}" y="${y + 10}">${escapeXml(e.label)}</text>`);
    x += w;
  }
  return { svg: out.join(""), lines: line + 1 };
}
