/**
 * Reads a trace file line by line (streaming, so a trace larger than memory as text still parses
 * into its compact operation list) and reports a bad line as FILE:LINE.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { OpList } from "../sim/ops.js";
import { TraceError, TraceParser } from "../sim/trace.js";
import { codeOf, reasonOf, showPath } from "./file-errors.js";

/**
 * A trace file that cannot be parsed ("FILE:LINE: what is wrong") or read ("cannot read the
 * trace: FILE: reason").
 */
export class TraceFileError extends Error {
  /** The 1-based line of the bad line, or 0 when the file could not be read. */
  readonly line: number;

  constructor(message: string, line: number) {
    super(message);
    this.name = "TraceFileError";
    this.line = line;
  }
}

/**
 * Parses the trace in the file `path` (opened at `resolved`, default `path` itself).
 * @throws TraceFileError "PATH:LINE: what is wrong" for a bad line, "cannot read the trace: PATH:
 *   reason" when it cannot be read (missing, a directory, not permitted).
 */
export async function readTraceFile(path: string, resolved = path): Promise<OpList> {
  const parser = new TraceParser();
  const stream = createReadStream(resolved, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) parser.line(line);
  } catch (error) {
    if (error instanceof TraceError) {
      throw new TraceFileError(
        `${path}:${error.line}: ${error.message.replace(/^line \d+: /, "")}`,
        error.line,
      );
    }
    const reason = codeOf(error) === "ENOENT" ? "no such file" : reasonOf(error);
    throw new TraceFileError(`cannot read the trace: ${showPath(path)}: ${reason}`, 0);
  } finally {
    lines.close();
    stream.destroy();
  }
  return parser.finish();
}
