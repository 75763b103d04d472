/**
 * The one error type of buddy-alloc. Every function that rejects its input throws an
 * `AllocError` whose `code` says what kind of mistake it was, before it changes any state.
 * Running out of memory is not an error: allocation functions return `null`.
 */

/** What went wrong, as a stable string a caller can switch on. */
export type AllocErrorCode =
  /** A number that is not a safe non-negative integer, not a power of two, or out of range. */
  | "INVALID_ARGUMENT"
  /** A region that overlaps memory the allocator already manages. */
  | "OVERLAP"
  /** An address that is not the start of a live block (double free, interior pointer, never allocated). */
  | "NOT_ALLOCATED"
  /** Metadata that breaks an invariant (from `check()`), or bytes that are not a valid saved heap. */
  | "CORRUPT";

/** An error with a machine-readable {@link AllocErrorCode}; the message names the offending value. */
export class AllocError extends Error {
  /** What kind of mistake this was. */
  readonly code: AllocErrorCode;

  constructor(code: AllocErrorCode, message: string) {
    super(message);
    this.name = "AllocError";
    this.code = code;
  }
}

/** Formats a number for an error message: hex for addresses, plain for anything else. */
export function show(value: unknown): string {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 4096) {
    return `0x${value.toString(16)}`;
  }
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
