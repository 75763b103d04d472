/** Where a command reads its context and writes its output, so tests can run commands in-process. */
import { codeOf, reasonOf } from "./file-errors.js";
import type { ProgressStream } from "./progress.js";

/** A command's surroundings. */
export interface CliIO {
  /** Prints one line of results (stdout). */
  out(line: string): void;
  /** Prints one line of diagnostics (stderr). */
  err(line: string): void;
  /** Where progress bars are drawn (stderr; drawn only when it is a TTY unless forced). */
  progress: ProgressStream;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** The arguments after the command name, as typed (for the report's subtitle). */
  argv: string[];
}

/** The process's IO, and whether writing to stdout failed for a reason other than a closed pipe. */
export interface ProcessIO extends CliIO {
  /** The first stdout error other than EPIPE ("cannot write to standard output: reason"), or null. */
  outputError(): string | null;
}

/**
 * The real process's stdout, stderr and working directory. A reader that goes away (`| head -1`)
 * is not an error: the lines it would have read are dropped and the command finishes its work
 * (its files are written, its exit code is its own). Any other failure to write stdout (a full
 * disk) is reported once on stderr and makes the exit code 1 (see {@link ProcessIO.outputError}).
 */
export function processIO(argv: string[]): ProcessIO {
  let closedOut = false;
  let closedErr = false;
  let failure: string | null = null;
  const outFailed = (error: unknown) => {
    closedOut = true;
    if (codeOf(error) === "EPIPE" || failure !== null) return;
    failure = `cannot write to standard output: ${reasonOf(error)}`;
    if (!closedErr) process.stderr.write(`buddy-alloc: ${failure}\n`);
    process.exitCode = 1; // the event may come after the command has set its own exit code
  };
  process.stdout.on("error", outFailed);
  process.stderr.on("error", () => {
    closedErr = true;
  });
  // Writes to a file descriptor can fail synchronously (a file on a full disk); pipes report
  // their errors as events, after the stream is already marked destroyed.
  const write = (stream: NodeJS.WriteStream, text: string, failed: (error: unknown) => void) => {
    if (stream.destroyed) return failed({ code: "EPIPE" });
    try {
      stream.write(text);
    } catch (error) {
      failed(error);
    }
  };
  return {
    out: (line) => {
      if (!closedOut) write(process.stdout, `${line}\n`, outFailed);
    },
    err: (line) => {
      if (!closedErr)
        write(process.stderr, `${line}\n`, () => {
          closedErr = true;
        });
    },
    progress: {
      write: (text: string) => {
        if (!closedErr)
          write(process.stderr, text, () => {
            closedErr = true;
          });
        return true;
      },
      get isTTY() {
        return process.stderr.isTTY;
      },
      get columns() {
        return process.stderr.columns;
      },
    },
    cwd: process.cwd(),
    argv,
    outputError: () => failure,
  };
}
