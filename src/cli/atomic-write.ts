/**
 * Writes files whole or not at all: the bytes go to a temporary file beside the target, which is
 * then renamed over it (a rename within one directory is atomic on POSIX file systems). A reader
 * sees the old file or the new one, never half of one; a failure leaves no temporary behind.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically, creating missing parent directories.
 * @throws the file system's error (e.g. EACCES) after removing the temporary file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
