/**
 * simulate's and inspect's files, all or nothing (issue 13): every output checked before the run,
 * written together at the end, and a failure at the end undoes what this run wrote.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Heap } from "../../src/heap/index.js";
import { type CapturedIO, captureIO, cli } from "./helpers.js";

/** Every file and directory under `dir`, relative, sorted ("a/", "a/b.txt"). */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? [`${prefix}${e.name}/`, ...tree(join(dir, e.name), `${prefix}${e.name}/`)]
        : [prefix + e.name],
    )
    .sort();
}

/** An IO whose progress bar, drawn during the run, first calls `during` (to break an output then). */
function ioBreakingDuringRun(during: (cwd: string) => void): CapturedIO {
  const io = captureIO();
  let called = false;
  io.progress = {
    write: (t: string) => {
      if (!called) during(io.cwd);
      called = true;
      io.progressText.push(t);
    },
    isTTY: false,
  };
  return io;
}

describe("simulate: outputs checked before the run", () => {
  it("an output that is a directory: exit 1, its path as given, nothing run or written", async () => {
    const io = captureIO();
    mkdirSync(join(io.cwd, "out"));
    const { code } = await cli(["simulate", "-w", "steady", "-n", "2000", "-m", "1MiB", "-o", "out"], io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual(["buddy-alloc: cannot write the report: out: is a directory"]);
    expect(io.stdout).toEqual([]);
    expect(tree(io.cwd)).toEqual(["out/"]);
  });

  it("a later output that cannot be written stops the run before the report is written", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "blocker"), "");
    const argv = ["simulate", "-w", "steady", "-n", "2000", "-m", "1MiB", "--save-trace", "blocker/t.trace"];
    const { code } = await cli(argv, io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual([
      "buddy-alloc: cannot write the trace: blocker/t.trace: blocker is not a directory",
    ]);
    expect(tree(io.cwd)).toEqual(["blocker"]); // no reports/simulate.html
  });

  it("a path ending in / names a directory", async () => {
    const io = captureIO();
    const { code } = await cli(["simulate", "-w", "steady", "-n", "2000", "-o", "new/"], io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual([
      "buddy-alloc: cannot write the report: new/: is a directory name (it ends with /)",
    ]);
    expect(tree(io.cwd)).toEqual([]);
  });

  it("two outputs naming one file, or an output replacing the trace, are usage mistakes", async () => {
    const same = await cli(["simulate", "-w", "steady", "-o", "x.trace", "--save-trace", "./x.trace"]);
    expect(same.code).toBe(2);
    expect(same.io.stderr[0]).toBe("buddy-alloc: --out and --save-trace name the same file: ./x.trace");
    const io = captureIO();
    writeFileSync(join(io.cwd, "t.trace"), "a 1 4096\n");
    const over = await cli(["simulate", "-t", "t.trace", "-o", "t.trace"], io);
    expect(over.code).toBe(2);
    expect(io.stderr[0]).toBe("buddy-alloc: --out would replace the --trace file: t.trace");
    expect(readFileSync(join(io.cwd, "t.trace"), "utf8")).toBe("a 1 4096\n");
  });

  it("empty file names are usage mistakes", async () => {
    for (const option of ["-o", "--save-trace", "--save", "-t"]) {
      const { code, io } = await cli(["simulate", option, ""]);
      expect(code).toBe(2);
      expect(io.stderr[0]).toMatch(/^buddy-alloc: --[a-z-]+ needs a file name, got an empty one$/);
    }
  });

  it("a successful run leaves its files and nothing else (no probe or temporary files)", async () => {
    const io = captureIO();
    const argv = ["simulate", "-w", "small", "-a", "heap", "-n", "2000", "-m", "1MiB"];
    const { code } = await cli(
      [...argv, "-o", "a/b/r.html", "--save-trace", "t/t.trace", "--save", "h.bin"],
      io,
    );
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(tree(io.cwd)).toEqual(["a/", "a/b/", "a/b/r.html", "h.bin", "t/", "t/t.trace"]);
  });
});

describe("simulate: a write that fails at the end undoes the whole run's writes", () => {
  it("restores a replaced report, removes new files and the directories made for them", async () => {
    // s.bin passes the check, then becomes a directory while the simulation runs: the rename
    // at the end fails after the report and the trace were already in place.
    const io = ioBreakingDuringRun((cwd) => mkdirSync(join(cwd, "s.bin")));
    writeFileSync(join(io.cwd, "r.html"), "the old report");
    const argv = ["simulate", "-w", "small", "-a", "heap", "-n", "2000", "-m", "1MiB", "--progress"];
    const { code } = await cli(
      [...argv, "-o", "r.html", "--save-trace", "new/deep/t.trace", "--save", "s.bin"],
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr).toEqual(["buddy-alloc: cannot write the allocator's bytes: s.bin: is a directory"]);
    expect(readFileSync(join(io.cwd, "r.html"), "utf8")).toBe("the old report");
    expect(tree(io.cwd)).toEqual(["r.html", "s.bin/"]); // no new/, no temporary or backup files
    expect(io.stdout.some((l) => l.includes("written to"))).toBe(false);
  });

  it("a failing write names the path the user gave, not a temporary file", async () => {
    const io = ioBreakingDuringRun((cwd) => mkdirSync(join(cwd, "later", "t.trace"), { recursive: true }));
    const argv = ["simulate", "-w", "steady", "-n", "2000", "-m", "1MiB", "--progress"];
    const { code } = await cli([...argv, "-o", "r.html", "--save-trace", "later/t.trace"], io);
    expect(code).toBe(1);
    expect(io.stderr).toEqual(["buddy-alloc: cannot write the trace: later/t.trace: is a directory"]);
    expect(tree(io.cwd)).toEqual(["later/", "later/t.trace/"]);
  });
});

describe("inspect --html", () => {
  const saved = (dir: string) => {
    const heap = new Heap(new ArrayBuffer(1 << 20));
    heap.malloc(100);
    writeFileSync(join(dir, "h.bin"), new Uint8Array(heap.buffer as ArrayBuffer));
  };

  it("is checked before FILE is read, and may not replace FILE", async () => {
    const io = captureIO();
    saved(io.cwd);
    writeFileSync(join(io.cwd, "f"), "");
    const bad = await cli(["inspect", "h.bin", "--html", "f/map.html"], io);
    expect(bad.code).toBe(1);
    expect(io.stderr).toEqual(["buddy-alloc: cannot write the map: f/map.html: f is not a directory"]);
    expect(io.stdout).toEqual([]);
    const over = await cli(["inspect", "h.bin", "--html", "h.bin"], captureIO(io.cwd));
    expect(over.code).toBe(2);
    expect(over.io.stderr[0]).toBe("buddy-alloc: --html would replace the file inspected: h.bin");
    expect(tree(io.cwd)).toEqual(["f", "h.bin"]);
  });

  it("reports unreadable files with the path as given and a plain reason", async () => {
    const io = captureIO();
    mkdirSync(join(io.cwd, "d"));
    const dir = await cli(["inspect", "d"], io);
    expect(dir.code).toBe(1);
    expect(io.stderr).toEqual(["buddy-alloc: cannot read the file: d: is a directory"]);
    const empty = await cli(["inspect", ""], captureIO(io.cwd));
    expect(empty.code).toBe(2);
    expect(empty.io.stderr[0]).toBe("buddy-alloc: inspect needs a FILE name, got an empty one");
    expect(existsSync(join(io.cwd, "d"))).toBe(true);
  });
});
