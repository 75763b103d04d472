/**
 * The files a command writes, checked before it does any work and written together at its end,
 * all or none (atomic-write.ts). The check asks what a write at the end needs: the path is not
 * a directory, its directory exists or can be created (no file stands in the way), and a file
 * can be created there (a temporary file is created and removed again). Problems are reported
 * with the path as the user gave it.
 */
import { closeSync, lstatSync, openSync, realpathSync, rmSync, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { AtomicWriteError, besidePath, writeFilesAtomic } from "./atomic-write.js";
import { codeOf, FileError, reasonOf, showPath } from "./file-errors.js";
import { UsageError } from "./numbers.js";

/** A file a command will write, checked by {@link checkOutput}. */
export interface Output {
  /** The option that names it, e.g. "--out". */
  option: string;
  /** What the message says when it cannot be written, e.g. "cannot write the report". */
  what: string;
  /** The path as the user gave it. */
  given: string;
  /** The absolute path (relative paths resolved against the working directory). */
  path: string;
  /** Where the bytes go: `path`, or the file a symbolic link at `path` points to. */
  target: string;
}

/**
 * Checks that `given` (resolved against `cwd`) can be written at the end of the command.
 * @throws FileError "what: given: reason" when it cannot.
 */
export function checkOutput(option: string, what: string, given: string, cwd: string): Output {
  const fail = (reason: string) => new FileError(what, given, reason);
  if (given === "") throw new UsageError(`${option} needs a file name, got an empty one`);
  if (given.endsWith("/") || given.endsWith(sep)) throw fail("is a directory name (it ends with /)");
  const path = resolve(cwd, given);
  let target = path;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw fail("is a directory");
    if (!stats.isFile()) throw fail("is not a regular file (a device, a pipe or a socket)");
    if (lstatSync(path).isSymbolicLink()) target = realpathSync(path);
  } catch (error) {
    if (error instanceof FileError) throw error;
    const code = codeOf(error);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw fail(reasonOf(error));
  }
  // The nearest directory that exists: the file's own, or the one its missing directories
  // will be made in. Messages name it as the user wrote it when they can.
  let dir = target === path ? dirname(given) : dirname(target);
  let absolute = dirname(target);
  const shown = () => (resolve(cwd, dir) === absolute ? showDir(dir) : showPath(absolute));
  for (;;) {
    try {
      if (!statSync(absolute).isDirectory()) throw fail(`${shown()} is not a directory`);
      break;
    } catch (error) {
      if (error instanceof FileError) throw error;
      const code = codeOf(error);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(absolute) === absolute)
        throw fail(`${shown()}: ${reasonOf(error)}`);
      dir = dirname(dir);
      absolute = dirname(absolute);
    }
  }
  // Can a file be created there? (A directory that must be made is made in this one.)
  const probe = besidePath(resolve(absolute, "probe"), "probe");
  try {
    closeSync(openSync(probe, "wx", 0o600));
  } catch (error) {
    const why = codeOf(error) === "ENOENT" ? "" : ` (${reasonOf(error)})`;
    throw fail(`cannot create files in ${shown()}${why}`);
  }
  rmSync(probe, { force: true });
  return { option, what, given, path, target };
}

/**
 * Refuses two outputs naming the same file, and an output that would replace an input (`name`
 * says what the input is in the message, e.g. "the --trace file").
 * @throws UsageError naming the options.
 */
export function checkDistinct(
  outputs: readonly Output[],
  inputs: readonly { name: string; path: string }[],
): void {
  outputs.forEach((a, i) => {
    for (const b of outputs.slice(i + 1)) {
      if (a.target === b.target)
        throw new UsageError(`${a.option} and ${b.option} name the same file: ${showPath(b.given)}`);
    }
    for (const input of inputs) {
      if (a.target === realOrSame(input.path))
        throw new UsageError(`${a.option} would replace ${input.name}: ${showPath(a.given)}`);
    }
  });
}

/**
 * Writes each output's data, all or none.
 * @throws FileError naming the output that could not be written (nothing of this call is left).
 */
export function writeOutputs(files: readonly { output: Output; data: () => string | Uint8Array }[]): void {
  try {
    writeFilesAtomic(files.map((f) => ({ path: f.output.target, data: f.data })));
  } catch (error) {
    if (!(error instanceof AtomicWriteError)) throw error;
    const output = files[error.index].output;
    throw new FileError(output.what, output.given, reasonOf(error.cause));
  }
}

function showDir(dir: string): string {
  return dir === "." ? "the current directory" : showPath(dir);
}

function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
