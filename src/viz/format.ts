/** Text helpers shared by the visualisations: XML escaping and human-readable numbers. */

const XML: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` safe inside XML/HTML text and double- or single-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML[c]);
}

/** A byte count with a binary unit: "512 B", "4 KiB", "1.5 MiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  return `${text} ${units[unit]}`;
}

/** An address as `0x` and lowercase hex digits. */
export function hex(address: number): string {
  return `0x${address.toString(16)}`;
}

/** An integer with thousands separators: "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A number with at most `digits` decimals and no trailing zeros, for SVG coordinates. */
export function num(n: number, digits = 2): string {
  return String(Number(n.toFixed(digits)));
}
