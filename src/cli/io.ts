/** Where a command reads its context and writes its output, so tests can run commands in-process. */
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

/** The real process's stdout, stderr and working directory. */
export function processIO(argv: string[]): CliIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: process.stderr,
    cwd: process.cwd(),
    argv,
  };
}
