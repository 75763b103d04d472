/**
 * File problems as the command line reports them: one line, `<what>: <path as the user gave it>:
 * <plain reason>`, never the name of a temporary file nor a system call.
 */
import { show } from "../errors.js";

/** A file the command cannot read or write; the message is `what: path: reason`. */
export class FileError extends Error {
  /** The path as the user gave it. */
  readonly path: string;

  /**
   * @param what what could not be done, e.g. "cannot write the report"
   * @param path the path as the user gave it
   * @param reason why, in plain words (see {@link reasonOf})
   */
  constructor(what: string, path: string, reason: string) {
    super(`${what}: ${showPath(path)}: ${reason}`);
    this.name = "FileError";
    this.path = path;
  }
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many levels of symbolic links",
  EEXIST: "already exists",
  EBUSY: "resource busy",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  EIO: "input/output error",
  ETXTBSY: "text file busy",
  EXDEV: "on another file system",
};

/** The plain reason of a file system error ("permission denied"), without the path or the call. */
export function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code === "string" && Object.hasOwn(REASONS, e.code)) return REASONS[e.code];
  // Node's messages read "CODE: description, call 'path'": keep the description.
  const message = String(e?.message ?? error);
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(message);
  return m ? m[1] : message;
}

/** The error's code ("ENOENT"), or undefined for an error that has none. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A path for a message: as typed when it is plain printable text, quoted (and shortened by
 * `show`) when it is empty, has control characters or spaces at its ends.
 */
export function showPath(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  return path !== "" && path.trim() === path && !/[\u0000-\u001f\u007f-\u009f]/.test(path)
    ? path
    : show(path);
}
