/** Running CLI commands in-process with captured output, or as a process, in a temporary directory. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
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

/** What a `buddy-alloc` process did. */
export interface ProcessResult {
  /** Exit code (null when a signal ended it). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Runs `buddy-alloc ARGS` as its own Node process (src/cli/main.ts through tsx's loader) in
 * `cwd`. With `closeStdout`, the read end of its stdout pipe is closed before it writes
 * anything, as `| head -0` would; with `stdoutFd`, its stdout is that file descriptor.
 */
export function spawnCli(
  args: string[],
  options: { cwd: string; closeStdout?: boolean; stdoutFd?: number },
): Promise<ProcessResult> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ["--import", TSX, MAIN, ...args], {
      cwd: options.cwd,
      stdio: ["ignore", options.stdoutFd ?? "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    if (options.closeStdout) child.stdout?.destroy();
    else child.stdout?.on("data", (c) => (stdout += c));
    child.stderr?.on("data", (c) => (stderr += c));
    child.on("error", fail);
    child.on("close", (code, signal) => ok({ code, signal, stdout, stderr }));
  });
}
