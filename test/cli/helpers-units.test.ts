/**
 * The CLI's small parts: size and count parsing, option parsing, atomic writes, file error
 * messages, the progress bar, text tables.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AtomicWriteError, writeFileAtomic, writeFilesAtomic } from "../../src/cli/atomic-write.js";
import { FileError, reasonOf } from "../../src/cli/file-errors.js";
import { parseBytes, parseCount, UsageError } from "../../src/cli/numbers.js";
import { parseOptions } from "../../src/cli/options.js";
import { ProgressBar } from "../../src/cli/progress.js";
import { textTable } from "../../src/cli/text-table.js";

describe("numbers", () => {
  it("parses sizes with binary units and counts with separators and suffixes", () => {
    expect(parseBytes("m", "65536")).toBe(65536);
    expect(parseBytes("m", "64MiB")).toBe(64 * 2 ** 20);
    expect(parseBytes("m", "64m")).toBe(64 * 2 ** 20);
    expect(parseBytes("m", "1.5GiB")).toBe(1.5 * 2 ** 30);
    expect(parseCount("n", "200_000", 1, 1e9)).toBe(200000);
    expect(parseCount("n", "200k", 1, 1e9)).toBe(200000);
    expect(parseCount("n", "2m", 1, 1e9)).toBe(2e6);
    for (const bad of ["", "x", "0", "1.5", "-1", "4 parsecs"])
      expect(() => parseBytes("m", bad)).toThrow(UsageError);
    expect(() => parseCount("n", "5", 10, 20)).toThrow("--n must be a whole number from 10 to 20");
  });
});

describe("parseOptions", () => {
  const options = {
    ops: { type: "string", short: "n" },
    out: { type: "string", short: "o" },
    progress: { type: "boolean" },
  } as const;

  it("takes a negative number after an option as its value, so the number's check can refuse it", () => {
    expect(parseOptions(["-n", "-5"], options).values.ops).toBe("-5");
    expect(parseOptions(["--ops", "-1.5k", "--progress"], options).values).toEqual({
      ops: "-1.5k",
      progress: true,
    });
    expect(() => parseCount("ops", "-5", 1, 10)).toThrow(
      '--ops cannot be negative: give a whole number from 1 to 10, got "-5"',
    );
    expect(() => parseBytes("memory", "-5")).toThrow("--memory cannot be negative");
  });

  it("says plainly when a value is missing, and keeps what follows --", () => {
    expect(() => parseOptions(["-n", "--progress"], options)).toThrow(
      '-n needs a value, got the option --progress (for a value starting with "-", write --ops=--progress)',
    );
    expect(() => parseOptions(["--out"], options)).toThrow(new UsageError("--out needs a value"));
    expect(() => parseOptions(["--progress=yes"], options)).toThrow(UsageError);
    expect(parseOptions(["--out=-x.html", "--", "-n", "-5"], options, true)).toEqual({
      values: { out: "-x.html" },
      positionals: ["-n", "-5"],
    });
  });
});

describe("file errors", () => {
  it("read: what, the path as given, a plain reason", () => {
    expect(new FileError("cannot write the report", "out/r.html", "permission denied").message).toBe(
      "cannot write the report: out/r.html: permission denied",
    );
    expect(new FileError("cannot read the trace", "", "no such file").message).toBe(
      'cannot read the trace: "": no such file',
    );
    expect(new FileError("x", "a\nb", "y").message).toBe('x: "a\\nb": y');
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/.r.1.tmp'"), {
      code: "ENOENT",
    });
    expect(reasonOf(enoent)).toBe("no such file or directory");
    const odd = Object.assign(new Error("EWEIRD: something odd happened, open '/x/.r.1.tmp'"), {
      code: "EWEIRD",
    });
    expect(reasonOf(odd)).toBe("something odd happened");
  });
});

describe("writeFilesAtomic", () => {
  it("writes every file, calling each data function in its turn", () => {
    const dir = mkdtempSync(join(tmpdir(), "buddy-atomic-"));
    const order: string[] = [];
    const took = (name: string) => {
      order.push(name);
      return name.toUpperCase();
    };
    writeFilesAtomic([
      { path: join(dir, "a.txt"), data: () => took("a") },
      { path: join(dir, "x", "b.bin"), data: new Uint8Array([1, 2]) },
      { path: join(dir, "c.txt"), data: () => took("c") },
    ]);
    expect(order).toEqual(["a", "c"]);
    expect(readdirSync(dir).sort()).toEqual(["a.txt", "c.txt", "x"]);
    expect([...readFileSync(join(dir, "x", "b.bin"))]).toEqual([1, 2]);
  });

  it("when one file fails, leaves everything as it was: old contents back, new files and directories gone", () => {
    const dir = mkdtempSync(join(tmpdir(), "buddy-atomic-"));
    writeFileSync(join(dir, "old.txt"), "old");
    mkdirSync(join(dir, "taken"));
    let error: unknown;
    try {
      writeFilesAtomic([
        { path: join(dir, "old.txt"), data: "new" },
        { path: join(dir, "made", "deep", "new.txt"), data: "n" },
        { path: join(dir, "taken"), data: "z" }, // renaming a file over a directory fails
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AtomicWriteError);
    expect((error as AtomicWriteError).index).toBe(2);
    expect(readFileSync(join(dir, "old.txt"), "utf8")).toBe("old");
    expect(readdirSync(dir).sort()).toEqual(["old.txt", "taken"]);
    expect(readdirSync(join(dir, "taken"))).toEqual([]);
  });

  it("a data function that throws is a failure of its file, undone the same way", () => {
    const dir = mkdtempSync(join(tmpdir(), "buddy-atomic-"));
    const files = [
      { path: join(dir, "a.txt"), data: "A" },
      {
        path: join(dir, "b.txt"),
        data: () => {
          throw new Error("no bytes");
        },
      },
    ];
    expect(() => writeFilesAtomic(files)).toThrow(AtomicWriteError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("writeFileAtomic", () => {
  it("creates directories, replaces files whole and leaves no temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "buddy-atomic-"));
    const path = join(dir, "a", "b", "out.txt");
    writeFileAtomic(path, "one");
    writeFileAtomic(path, "two");
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "a", "b"))).toEqual(["out.txt"]);
  });

  it("on failure leaves neither the target nor a temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "buddy-atomic-"));
    writeFileAtomic(join(dir, "file"), "x");
    // Renaming a file over a directory fails after the temporary file was written.
    const target = join(dir, "sub");
    writeFileAtomic(join(target, "inner"), "y");
    expect(() => writeFileAtomic(target, "z")).toThrow();
    expect(readdirSync(dir).sort()).toEqual(["file", "sub"]);
    expect(existsSync(join(target, "inner"))).toBe(true);
  });
});

describe("ProgressBar", () => {
  it("draws on a TTY only, ends at 100% and clears itself", () => {
    const written: string[] = [];
    const tty = { write: (t: string) => written.push(t), isTTY: true, columns: 80 };
    const bar = new ProgressBar(tty, "job");
    bar.update(0, 10);
    bar.update(10, 10);
    bar.clear();
    expect(written[0]).toMatch(/^\rjob \[-+\] {3}0%$/);
    expect(written[1]).toMatch(/^\rjob \[#+\] 100%$/);
    expect(written[2]).toBe("\r\x1b[2K");
    const quiet: string[] = [];
    const pipe = new ProgressBar({ write: (t: string) => quiet.push(t) }, "job");
    pipe.update(10, 10);
    pipe.clear();
    expect(quiet).toEqual([]);
  });
});

describe("textTable", () => {
  it("pads columns, left-aligning the ones asked for", () => {
    expect(
      textTable(
        ["a", "num"],
        [
          ["xyz", "1"],
          ["b", "100"],
        ],
        [0],
      ),
    ).toEqual(["a    num", "---  ---", "xyz    1", "b    100"]);
  });
});
