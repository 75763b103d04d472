/** `buddy-alloc simulate` on small inputs: its table, its report, and its refusals. */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/cli/simulate.js";
import { parseSimulateArgs } from "../../src/cli/simulate-args.js";
import { BuddyAllocator } from "../../src/page/buddy-allocator.js";
import { OP_ALLOC } from "../../src/sim/ops.js";
import { parseTrace } from "../../src/sim/trace.js";
import { WORKLOADS } from "../../src/sim/workloads.js";
import { summaryCells } from "../../src/viz/report.js";
import { captureIO, cli } from "./helpers.js";

const shapes = (text: string) => (text.match(/<(rect|path) class="block /g) ?? []).length;
/** The table's data rows, split on runs of two or more spaces. */
const tableRows = (stdout: string[]) => {
  const rule = stdout.findIndex((l) => /^-+ {2}-+/.test(l));
  const rows: string[][] = [];
  for (let i = rule + 1; i < stdout.length && stdout[i] !== ""; i++)
    rows.push(stdout[i].trim().split(/ {2,}/));
  return rows;
};

describe("simulate", () => {
  it("runs the default suite, prints one row per run and writes the report", async () => {
    const { code, io } = await cli(["simulate", "-n", "3000", "-m", "2MiB", "-o", "out/r.html"]);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const rows = tableRows(io.stdout);
    expect(rows.map((r) => `${r[0]} ${r[1]}`)).toEqual([
      "steady page allocator",
      "steady concurrent allocator",
      "fill-drain page allocator",
      "kernel page allocator",
      "small heap",
      "buffers page allocator",
      "buffers page allocator, exact runs",
    ]);
    for (const r of rows) expect(r[2]).toBe("3,000");
    const path = join(io.cwd, "out", "r.html");
    expect(io.stdout.at(-1)).toBe(`report written to ${path}`);
    const html = readFileSync(path, "utf8");
    expect((html.match(/<section id="run-/g) ?? []).length).toBe(7);
  });

  it("prints figures that match the allocators' own statistics, and the SVG holds one shape per block", async () => {
    const io = captureIO();
    const plan = parseSimulateArgs([
      "-w",
      "steady,kernel",
      "-a",
      "page,concurrent",
      "-n",
      "5000",
      "-m",
      "1MiB",
    ])!;
    const outcome = await simulate(plan, io);
    expect(outcome.runs.length).toBe(4);
    const rows = tableRows(io.stdout);
    outcome.runs.forEach((run, i) => {
      const target = outcome.targets[i];
      const usage = target.usage();
      expect(rows[i]).toEqual(summaryCells(run));
      expect(run.figures.usedBytes).toBe(usage.usedBytes);
      expect(run.figures.fragmentation).toBe(usage.fragmentation);
      expect(run.map.blocks.filter((b) => !b.free).length).toBe(run.figures.liveBlocks);
      expect(Number(rows[i][5].replace(/,/g, ""))).toBe(run.figures.failures);
    });
    const html = readFileSync(outcome.reportPath, "utf8");
    expect(shapes(html)).toBe(outcome.runs.reduce((n, r) => n + r.map.blocks.length, 0));
  });

  it("agrees with driving a BuddyAllocator by hand through the same operations", async () => {
    const io = captureIO();
    const plan = parseSimulateArgs(["-w", "kernel", "-n", "4000", "-m", "1MiB", "--seed", "3"])!;
    const outcome = await simulate(plan, io);
    const ops = WORKLOADS.kernel.generate({ memory: 1 << 20, pageSize: 4096, ops: 4000, seed: 3 });
    const a = new BuddyAllocator({ pageSize: 4096, maxOrder: 8 });
    a.addRegion(0, 1 << 20);
    const at = new Map<number, number>();
    let failures = 0;
    for (let i = 0; i < ops.length; i++) {
      if (ops.kind[i] === OP_ALLOC) {
        const pages = Math.ceil(ops.size[i] / 4096);
        const order = Math.ceil(Math.log2(pages));
        const p = order > a.maxOrder ? null : a.allocOrder(order, ops.tag[i]);
        if (p === null) failures++;
        else at.set(ops.slot[i], p);
      } else if (at.has(ops.slot[i])) {
        a.free(at.get(ops.slot[i])!);
        at.delete(ops.slot[i]);
      }
    }
    const s = a.stats();
    const f = outcome.runs[0].figures;
    expect(f.failures).toBe(failures);
    expect(f.usedBytes).toBe(s.allocatedBytes);
    expect(f.fragmentation).toBe(s.fragmentation);
    expect(tableRows(io.stdout)[0][6]).toBe(
      `${s.fragmentation.toFixed(3)} / ${f.maxFragmentation.toFixed(3)}`,
    );
  });

  it("prints and reports the rounding waste per allocator: exact runs of whole pages waste none", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "w.trace"), "a 1 12288\na 2 20480\na 3 24576\nf 1\n"); // 3, 5, 6 pages
    const argv = ["simulate", "-t", "w.trace", "-a", "page,page-exact,concurrent", "-m", "1MiB"];
    const { code } = await cli(argv, io);
    expect(code).toBe(0);
    expect(io.stdout[2].trim().split(/ {2,}/).at(-1)).toBe("waste avg/end");
    const rows = tableRows(io.stdout);
    expect(rows.map((r) => [r[1], r[7]])).toEqual([
      ["page allocator", `${((16 / 52) * 100).toFixed(1)}% / 31.3%`], // 5 of 16 pages at the end
      ["page allocator, exact runs", "0.0% / 0.0%"],
      ["concurrent allocator", `${((16 / 52) * 100).toFixed(1)}% / 31.3%`],
    ]);
    const html = readFileSync(join(io.cwd, "reports", "simulate.html"), "utf8");
    expect(html).toContain("<th>waste avg/end</th>");
    expect(html).toContain(
      "<td>rounding waste at the end</td><td>20 KiB: 31.3% of the bytes held, 45.5% on top of those requested</td>",
    );
    expect(html).toContain(
      "<td>rounding waste at the end</td><td>0 B: 0.0% of the bytes held, 0.0% on top of those requested</td>",
    );
  });

  it("--guard runs the heap in guard mode: its red zones show as rounding waste", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "w.trace"), "a 1 100\na 2 5000\na 3 20000\nf 1\n");
    const plain = await cli(["simulate", "-t", "w.trace", "-a", "heap", "-m", "1MiB"], io);
    expect(plain.code).toBe(0);
    const plainWaste = tableRows(io.stdout)[0][7];
    const guarded = captureIO();
    writeFileSync(join(guarded.cwd, "w.trace"), "a 1 100\na 2 5000\na 3 20000\nf 1\n");
    const { code } = await cli(["simulate", "-t", "w.trace", "-a", "heap", "-m", "1MiB", "--guard"], guarded);
    expect(code).toBe(0);
    // 100 bytes take the 112-byte class, but 100 + 16 of red zone the 128-byte one: more waste.
    const avg = (cell: string) => Number.parseFloat(cell.split("/")[0]);
    expect(avg(tableRows(guarded.stdout)[0][7])).toBeGreaterThan(avg(plainWaste));
    expect(parseSimulateArgs(["--guard"])!.guard).toBe(true);
    expect(parseSimulateArgs([])!.guard).toBe(false);
  });

  it("replays a trace file on the allocators asked for", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "t.trace"), "# mine\na 1 5000\na 2 100 3\nf 1\na 3 70000\n");
    const { code } = await cli(["simulate", "--trace", "t.trace", "-a", "page,heap", "-m", "1MiB"], io);
    expect(code).toBe(0);
    const rows = tableRows(io.stdout);
    expect(rows.map((r) => [r[0], r[1], r[2], r[5]])).toEqual([
      ["t.trace", "page allocator", "4", "0"],
      ["t.trace", "heap", "4", "0"],
    ]);
  });

  it("stops at a malformed trace line, naming file and line, and writes nothing", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "bad.trace"), "a 1 100\nf 1\nallocate 2 10\na 3 5\n");
    const { code } = await cli(["simulate", "-t", "bad.trace", "-o", "r.html"], io);
    expect(code).toBe(1);
    expect(io.stderr[0]).toBe('buddy-alloc: bad.trace:3: unknown operation "allocate" (expected "a" or "f")');
    expect(readdirSync(io.cwd)).toEqual(["bad.trace"]);
  });

  it("a trace that frees what it never allocated is refused the same way", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "bad.trace"), "a 1 100\nf 2\n");
    expect((await cli(["simulate", "-t", "bad.trace"], io)).code).toBe(1);
    expect(io.stderr[0]).toContain("bad.trace:2: free of");
    expect(existsSync(join(io.cwd, "reports"))).toBe(false);
  });

  it.each([
    [["simulate", "--frobnicate"], "Unknown option '--frobnicate'"],
    [["simulate", "--memory", "lots"], "--memory must be a size"],
    [["simulate", "--page-size", "3000"], "--page-size must be a power of two"],
    [["simulate", "-w", "nope"], 'unknown --workload "nope"'],
    [["simulate", "-a", "slab"], 'unknown --allocator "slab"'],
    [["simulate", "--ops", "0"], "--ops must be a whole number"],
    [["simulate", "-w", "steady", "-t", "x"], "not both"],
    [["simulate", "--save", "x.bin"], "--save needs exactly one run"],
    [["simulate", "-w", "steady", "-a", "page-exact", "--save", "x.bin"], "--save needs exactly one run"],
    [["simulate", "--save-trace", "x.trace"], "--save-trace needs exactly one --workload"],
    [["simulate", "extra"], "Unexpected argument 'extra'"],
  ])("%j is a usage mistake: exit 2, the message and the usage text", async (argv, message) => {
    const { code, io } = await cli(argv);
    expect(code).toBe(2);
    expect(io.stderr[0]).toContain(message);
    expect(io.stderr.join("\n")).toContain("usage: buddy-alloc simulate");
    expect(io.stdout).toEqual([]);
    expect(readdirSync(io.cwd)).toEqual([]);
  });

  it("unknown commands and no command get the general usage", async () => {
    const unknown = await cli(["simulat"]);
    expect(unknown.code).toBe(2);
    expect(unknown.io.stderr[0]).toBe('buddy-alloc: unknown command "simulat"');
    expect(unknown.io.stderr.join("\n")).toContain("usage: buddy-alloc <command>");
    expect((await cli([])).code).toBe(2);
    expect((await cli(["--help"])).code).toBe(0);
    const help = await cli(["simulate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.io.stdout[0]).toBe("usage: buddy-alloc simulate [options]");
  });

  it("--save-trace writes the workload as a trace that replays to the same figures", async () => {
    const io = captureIO();
    const a = await cli(
      ["simulate", "-w", "fill-drain", "-n", "3000", "-m", "1MiB", "--save-trace", "fd.trace"],
      io,
    );
    expect(a.code).toBe(0);
    const ops = parseTrace(readFileSync(join(io.cwd, "fd.trace"), "utf8"));
    expect(ops.length).toBe(3000);
    const rowA = tableRows(io.stdout)[0];
    const io2 = captureIO(io.cwd);
    expect((await cli(["simulate", "-t", "fd.trace", "-m", "1MiB"], io2)).code).toBe(0);
    const rowB = tableRows(io2.stdout)[0];
    expect([rowB[2], rowB[4], rowB[5], rowB[6]]).toEqual([rowA[2], rowA[4], rowA[5], rowA[6]]);
  });

  it("draws a progress bar when asked", async () => {
    const { code, io } = await cli(["simulate", "-w", "steady", "-n", "2000", "-m", "1MiB", "--progress"]);
    expect(code).toBe(0);
    expect(io.progressText.join("")).toContain("100%");
    expect(io.progressText.at(-1)).toBe("\r\x1b[2K");
  });

  it("the buddy-alloc executable runs as a process", () => {
    const root = join(import.meta.dirname, "..", "..");
    const io = captureIO();
    const out = execFileSync(
      join(root, "node_modules", ".bin", "tsx"),
      [
        join(root, "src", "cli", "main.ts"),
        "simulate",
        "-w",
        "steady",
        "-n",
        "2000",
        "-m",
        "1MiB",
        "-o",
        "r.html",
      ],
      { cwd: io.cwd, encoding: "utf8" },
    );
    expect(out).toContain("steady");
    expect(out.trim().split("\n").at(-1)).toBe(`report written to ${join(io.cwd, "r.html")}`);
  });
});
