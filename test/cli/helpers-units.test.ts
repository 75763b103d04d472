/** The CLI's small parts: size and count parsing, atomic writes, the progress bar, text tables. */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/cli/atomic-write.js";
import { parseBytes, parseCount, UsageError } from "../../src/cli/numbers.js";
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
