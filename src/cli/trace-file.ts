/**
 * Reads a trace file line by line (streaming, so a trace larger than memory as text still parses
 * into its compact operation list) and reports a bad line as FILE:LINE.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { OpList } from "../sim/ops.js";
import { TraceError, TraceParser } from "../sim/trace.js";

/** A trace file that cannot be read or parsed; the message starts with the file (and line). */
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
 * @throws TraceFileError "PATH:LINE: what is wrong" for a bad line, "PATH: reason" when unreadable.
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
    const code = (error as NodeJS.ErrnoException).code;
    throw new TraceFileError(`${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`, 0);
  } finally {
    lines.close();
    stream.destroy();
  }
  return parser.finish();
}
