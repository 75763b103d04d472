/**
 * `buddy-alloc` as a process (issue 13): exit codes, the one line on stderr, files left behind,
 * and a reader that closes the pipe. Each test spawns the command in an empty directory.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnCli } from "./helpers.js";

const fresh = () => mkdtempSync(join(tmpdir(), "buddy-proc-"));
const small = ["-n", "2000", "-m", "1MiB"];
/** /proc refuses new files even to root, where a read-only directory would not. */
const hasProc = existsSync("/proc/self");

describe.concurrent("buddy-alloc as a process", () => {
  it.runIf(hasProc)(
    "--save-trace into a directory that refuses files: exit 1 before running, nothing written",
    async () => {
      const cwd = fresh();
      const r = await spawnCli(["simulate", "-w", "steady", ...small, "--save-trace", "/proc/t.trace"], {
        cwd,
      });
      expect(r.stderr).toBe(
        "buddy-alloc: cannot write the trace: /proc/t.trace: cannot create files in /proc\n",
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(""); // checked before the run: no table
      expect(readdirSync(cwd)).toEqual([]); // no reports/simulate.html
    },
  );

  it.runIf(hasProc)("--save into a directory that refuses files: the same", async () => {
    const cwd = fresh();
    const r = await spawnCli(
      ["simulate", "-w", "small", "-a", "heap", ...small, "-o", "r.html", "--save", "/proc/h.bin"],
      { cwd },
    );
    expect(r.stderr).toBe(
      "buddy-alloc: cannot write the allocator's bytes: /proc/h.bin: cannot create files in /proc\n",
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("-o below a regular file names that file, before running", async () => {
    const cwd = fresh();
    writeFileSync(join(cwd, "file.txt"), "x");
    const r = await spawnCli(["simulate", "-w", "steady", ...small, "-o", "file.txt/sub/r.html"], { cwd });
    expect(r.stderr).toBe(
      "buddy-alloc: cannot write the report: file.txt/sub/r.html: file.txt is not a directory\n",
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(readdirSync(cwd)).toEqual(["file.txt"]);
  });

  it("-t '' is a usage mistake that says so; -t DIR says it is a directory", async () => {
    const cwd = fresh();
    const empty = await spawnCli(["simulate", "-t", ""], { cwd });
    expect(empty.code).toBe(2);
    expect(empty.stderr.split("\n")[0]).toBe("buddy-alloc: --trace needs a file name, got an empty one");
    mkdirSync(join(cwd, "traces"));
    const dir = await spawnCli(["simulate", "-t", "traces"], { cwd });
    expect(dir.code).toBe(1);
    expect(dir.stderr).toBe("buddy-alloc: cannot read the trace: traces: is a directory\n");
    expect(readdirSync(cwd)).toEqual(["traces"]);
  });

  it("negative numbers: -n -5 and -m -5 say what is wrong (exit 2, usage text)", async () => {
    const cwd = fresh();
    const [n, m] = await Promise.all([
      spawnCli(["simulate", "-n", "-5"], { cwd }),
      spawnCli(["simulate", "-m", "-5"], { cwd }),
    ]);
    expect(n.code).toBe(2);
    expect(n.stderr.split("\n")[0]).toBe(
      'buddy-alloc: --ops cannot be negative: give a whole number from 1 to 20,000,000, got "-5"',
    );
    expect(m.code).toBe(2);
    expect(m.stderr.split("\n")[0]).toBe(
      'buddy-alloc: --memory cannot be negative: give one such as 65536, 64MiB or 1GiB, got "-5"',
    );
    expect(n.stderr).toContain("usage: buddy-alloc simulate");
    expect(n.stderr).not.toContain("ambiguous");
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("a reader that closes the pipe: no stack trace, the run finishes and writes its files, exit 0", async () => {
    const cwd = fresh();
    const r = await spawnCli(["simulate", "-w", "steady", ...small, "-o", "r.html"], {
      cwd,
      closeStdout: true,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(cwd, "r.html"), "utf8")).toContain("<!doctype html>");
    expect(readdirSync(cwd)).toEqual(["r.html"]);
  });

  it.runIf(existsSync("/dev/full"))("stdout on a full device: one line on stderr, exit 1", async () => {
    const cwd = fresh();
    const full = openSync("/dev/full", "w");
    try {
      const r = await spawnCli(["simulate", "-w", "steady", ...small, "-o", "r.html"], {
        cwd,
        stdoutFd: full,
      });
      expect(r.stderr).toBe("buddy-alloc: cannot write to standard output: no space left on device\n");
      expect(r.code).toBe(1);
    } finally {
      closeSync(full);
    }
  });
});
