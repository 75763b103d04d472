/** Plain-text tables for the terminal: columns padded to their widest cell. */

/**
 * Lays out `rows` under `headers`, two spaces between columns; columns listed in `left` are
 * left-aligned, the others right-aligned (numbers). Returns the lines (header, rule, rows).
 */
export function textTable(headers: string[], rows: string[][], left: number[] = [0]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}
