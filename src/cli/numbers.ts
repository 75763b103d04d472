/** Parsing of the command line's numbers: byte sizes with binary units, and counts. */
import { show } from "../errors.js";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
};

/** A usage mistake on the command line: the command prints the message and the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A byte size such as `65536`, `64MiB`, `64M` or `1.5GiB` (units are binary: K = 1024).
 * @throws UsageError unless it is a whole number of bytes >= 1.
 */
export function parseBytes(option: string, text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
  if (!(Number.isSafeInteger(bytes) && bytes >= 1)) {
    const what = negative(text) ? "cannot be negative" : "must be a size in bytes";
    throw new UsageError(`--${option} ${what}: give one such as 65536, 64MiB or 1GiB, got ${show(text)}`);
  }
  return bytes;
}

/**
 * A whole number in [min, max], written with optional `_` or `,` separators or a k/m suffix
 * (`200000`, `200_000`, `200k`, `2m`).
 * @throws UsageError otherwise.
 */
export function parseCount(option: string, text: string, min: number, max: number): number {
  const m = /^([0-9][0-9_,]*)([kKmM]?)$/.exec(text.trim());
  const n = m
    ? Number(m[1].replace(/[_,]/g, "")) * (m[2] === "" ? 1 : /k/i.test(m[2]) ? 1e3 : 1e6)
    : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    const range = `a whole number from ${min} to ${max.toLocaleString("en-US")}`;
    throw new UsageError(
      negative(text)
        ? `--${option} cannot be negative: give ${range}, got ${show(text)}`
        : `--${option} must be ${range}, got ${show(text)}`,
    );
  }
  return n;
}

/** True when `text` reads as a negative number ("-5", "-1.5GiB"). */
function negative(text: string): boolean {
  return /^-\s*[0-9.]/.test(text.trim());
}
