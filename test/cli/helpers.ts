/** Running CLI commands in-process with captured output, in a temporary directory. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/cli.js";
import type { CliIO } from "../../src/cli/io.js";

/** A CliIO that records what a command prints. */
export interface CapturedIO extends CliIO {
  stdout: string[];
  stderr: string[];
  progressText: string[];
}

/** An IO rooted at `cwd` (default: a new temporary directory). */
export function captureIO(cwd = mkdtempSync(join(tmpdir(), "buddy-cli-"))): CapturedIO {
  const io: CapturedIO = {
    stdout: [],
    stderr: [],
    progressText: [],
    out: (line) => io.stdout.push(...line.split("\n")),
    err: (line) => io.stderr.push(...line.split("\n")),
    progress: { write: (t: string) => io.progressText.push(t), isTTY: false },
    cwd,
    argv: [],
  };
  return io;
}

/** Runs `argv` in-process; returns the exit code and the captured output. */
export async function cli(argv: string[], io = captureIO()): Promise<{ code: number; io: CapturedIO }> {
  io.argv = argv.slice(1);
  const code = await run(argv, io);
  return { code, io };
}
