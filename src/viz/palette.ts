/**
 * Colours of the memory map, as one CSS stylesheet. A map's root element carries `by-state`,
 * `by-order` or `by-tag`; each block carries `free` or `used`, `o<order>` and `t<tag mod 12>`,
 * so switching the colouring is changing one class, with no redraw.
 */

/** How blocks are coloured. */
export type ColorBy = "state" | "order" | "tag";

/** Every colouring a map supports. */
export const COLOR_MODES: readonly ColorBy[] = ["state", "order", "tag"];

/** Fill of a free block when colouring by state (and the free entry of the legend). */
export const FREE_COLOR = "#cfe8c6";
/** Fill of an allocated block when colouring by state. */
export const USED_COLOR = "#3a6ea5";
/** Fill of memory that is not managed (gaps between regions). */
export const UNMANAGED_COLOR = "#e4e4e4";
/** Orders that get their own colour; larger orders share the last one. */
export const ORDER_COLORS = 32;
/** Tags cycle through this many colours (tag mod TAG_COLORS). */
export const TAG_COLORS = 12;

const TAG_PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
  "#2f4b7c",
  "#a05195",
];

/** The fill of an allocated block of `order` when colouring by order. */
export function orderColor(order: number): string {
  const k = Math.min(order, ORDER_COLORS - 1);
  return `hsl(${(215 + k * 37) % 360} 62% ${k % 2 === 0 ? 46 : 38}%)`;
}

/** The fill of a free block of `order` when colouring by order (a pale tint of the same hue). */
export function freeOrderColor(order: number): string {
  const k = Math.min(order, ORDER_COLORS - 1);
  return `hsl(${(215 + k * 37) % 360} 55% 88%)`;
}

/** The fill of an allocated block with `tag` when colouring by tag (tag 0: the state colour). */
export function tagColor(tag: number): string {
  return tag === 0 ? USED_COLOR : TAG_PALETTE[tag % TAG_COLORS];
}

/** The stylesheet every map embeds (the same for all maps, so several can share a page). */
export function mapStylesheet(): string {
  const rules = [
    `.bmap .free{fill:${FREE_COLOR}}`,
    `.bmap .used{fill:${USED_COLOR}}`,
    `.bmap .gap{fill:${UNMANAGED_COLOR}}`,
    `.bmap .block{stroke:#fff;stroke-width:var(--bmap-stroke,0)}`,
    `.bmap .block:hover{stroke:#000;stroke-width:1.5px}`,
    `.bmap text{font:11px system-ui,sans-serif;fill:#444}`,
    ".bmap .legend-item{display:none}",
    ".bmap.by-state .legend-state,.bmap.by-order .legend-order,.bmap.by-tag .legend-tag{display:inline}",
    `.bmap.by-tag .free,.bmap.by-order .free{fill:${FREE_COLOR}}`,
  ];
  for (let k = 0; k < ORDER_COLORS; k++) {
    rules.push(`.bmap.by-order .used.o${k}{fill:${orderColor(k)}}`);
    rules.push(`.bmap.by-order .free.o${k}{fill:${freeOrderColor(k)}}`);
  }
  for (let t = 0; t < TAG_COLORS; t++) rules.push(`.bmap.by-tag .used.t${t}{fill:${TAG_PALETTE[t]}}`);
  return rules.join("\n");
}
