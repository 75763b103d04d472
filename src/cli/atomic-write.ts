/**
 * Writes a set of files all or none. Each file's bytes go to a temporary file beside it, and
 * only when every one of them is written are they renamed over their targets (a rename within
 * one directory is atomic on POSIX file systems: a reader sees the old file or the new one,
 * never half of one). A failure at any step undoes the whole set: temporary files are removed,
 * files already replaced get their old contents back (kept as a hard link, or a copy, until the
 * end), new files are removed, and directories this call created are removed again.
 */
import {
  copyFileSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { codeOf } from "./file-errors.js";

/** One file to write; `data` may be a function, called only when its turn comes. */
export interface FileToWrite {
  /** Absolute path of the file. */
  path: string;
  /** The bytes, or a function returning them (so large contents need not all be held at once). */
  data: string | Uint8Array | (() => string | Uint8Array);
}

/** A failed {@link writeFilesAtomic}: which file failed, and the file system's error as `cause`. */
export class AtomicWriteError extends Error {
  /** Index of the file that failed in the list given. */
  readonly index: number;

  constructor(index: number, path: string, cause: unknown) {
    super(`cannot write ${path}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "AtomicWriteError";
    this.index = index;
  }
}

let sequence = 0;

/** A name for a temporary file beside `path`, e.g. `.report.html.4242.1a.k3x9.tmp`. */
export function besidePath(path: string, suffix: string): string {
  const unique = `${process.pid}.${(sequence++).toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${unique}.${suffix}`);
}

/**
 * Writes every file, creating missing parent directories, or none of them.
 * @throws AtomicWriteError naming the file that failed, after undoing everything it did.
 */
export function writeFilesAtomic(files: readonly FileToWrite[]): void {
  const created: string[] = []; // directories made here, outermost first
  const temps: (string | null)[] = files.map(() => null);
  const backups: (string | null)[] = files.map(() => null);
  const placed: boolean[] = files.map(() => false);
  let i = 0;
  try {
    for (i = 0; i < files.length; i++) {
      makeDirectories(dirname(files[i].path), created);
      const data = files[i].data;
      const temp = besidePath(files[i].path, "tmp");
      temps[i] = temp;
      writeFileSync(temp, typeof data === "function" ? data() : data, { flag: "wx" });
    }
    for (i = 0; i < files.length; i++) {
      backups[i] = keepOld(files[i].path);
      renameSync(temps[i]!, files[i].path);
      temps[i] = null;
      placed[i] = true;
    }
  } catch (cause) {
    undo(files, temps, backups, placed, created);
    throw new AtomicWriteError(i, files[i].path, cause);
  }
  for (const backup of backups) if (backup !== null) quietly(() => rmSync(backup, { force: true }));
}

/** Writes `data` to `path` atomically (see {@link writeFilesAtomic}), creating missing directories. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  try {
    writeFilesAtomic([{ path, data }]);
  } catch (error) {
    throw error instanceof AtomicWriteError ? error.cause : error;
  }
}

/** Creates `dir` and its missing parents one by one, appending each one made to `created`. */
function makeDirectories(dir: string, created: string[]): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      statSync(d);
      break;
    } catch (error) {
      if (codeOf(error) !== "ENOENT" || dirname(d) === d) break;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    mkdirSync(d);
    created.push(d);
  }
}

/** A hard link (or else a copy) of the file at `path` beside it, or null when there is no file. */
function keepOld(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return null; // renaming over it fails, and nothing is replaced
  } catch {
    return null;
  }
  const backup = besidePath(path, "old");
  try {
    linkSync(path, backup);
  } catch {
    copyFileSync(path, backup);
  }
  return backup;
}

function undo(
  files: readonly FileToWrite[],
  temps: (string | null)[],
  backups: (string | null)[],
  placed: boolean[],
  created: string[],
): void {
  for (let j = files.length - 1; j >= 0; j--) {
    const temp = temps[j];
    const backup = backups[j];
    if (temp !== null) quietly(() => rmSync(temp, { force: true }));
    if (placed[j]) {
      if (backup !== null) quietly(() => renameSync(backup, files[j].path));
      else quietly(() => rmSync(files[j].path, { force: true }));
    } else if (backup !== null) {
      quietly(() => rmSync(backup, { force: true }));
    }
  }
  for (const dir of created.reverse()) quietly(() => rmdirSync(dir));
}

function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // best effort: the first error is the one reported
  }
}
