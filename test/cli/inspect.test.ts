/** `buddy-alloc inspect`: saved heaps and concurrent allocators, and files that are neither. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inspect } from "../../src/cli/inspect.js";
import { ConcurrentBuddy } from "../../src/concurrent/concurrent-buddy.js";
import { Heap } from "../../src/heap/index.js";
import { heapMap } from "../../src/sim/heap-target.js";
import { formatBytes } from "../../src/viz/format.js";
import { captureIO, cli } from "./helpers.js";

const shapes = (text: string) => (text.match(/<(rect|path) class="block /g) ?? []).length;

describe("inspect", () => {
  it("opens a heap a program saved, prints its figures and map, and writes the SVG map", async () => {
    const io = captureIO();
    const heap = new Heap(new ArrayBuffer(1 << 20));
    const kept: number[] = [];
    for (let i = 0; i < 300; i++) {
      const p = heap.malloc(16 + ((i * 37) % 3000))!;
      if (i % 3 === 0) heap.free(p);
      else kept.push(p);
    }
    writeFileSync(join(io.cwd, "heap.bin"), new Uint8Array(heap.buffer as ArrayBuffer));
    const { code } = await cli(["inspect", "heap.bin", "--html", "map.html"], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const s = heap.stats();
    const text = io.stdout.join("\n");
    expect(io.stdout[0]).toContain("heap.bin: heap, 4 KiB pages");
    expect(text).toContain(`live allocations ${s.liveAllocations}, ${formatBytes(s.usedBytes)} requested`);
    expect(s.liveAllocations).toBe(kept.length);
    expect(text).toMatch(/map \(one character = .*\):/);
    expect(io.stdout.some((l) => /^ +0x[0-9a-f]+ [.#+ ]+$/.test(l))).toBe(true);
    const html = readFileSync(join(io.cwd, "map.html"), "utf8");
    expect(shapes(html)).toBe(heapMap(heap).blocks.length);
  });

  it("round-trips simulate --save on the heap: the same live allocations", async () => {
    const io = captureIO();
    const sim = await cli(
      ["simulate", "-w", "small", "-a", "heap", "-n", "3000", "-m", "1MiB", "--save", "h.bin"],
      io,
    );
    expect(sim.code).toBe(0);
    const reopened = Heap.open(new Uint8Array(readFileSync(join(io.cwd, "h.bin"))).buffer);
    reopened.check();
    const out = captureIO(io.cwd);
    const outcome = inspect(["h.bin"], out)!;
    expect(outcome.kind).toBe("heap");
    expect(out.stdout.join("\n")).toContain(`live allocations ${reopened.stats().liveAllocations},`);
  });

  it("opens a heap that starts at an offset of its buffer with --start", async () => {
    const io = captureIO();
    const heap = new Heap(new ArrayBuffer(1 << 20), { start: 4096 });
    heap.malloc(100);
    heap.malloc(5000);
    writeFileSync(join(io.cwd, "off.bin"), new Uint8Array(heap.buffer as ArrayBuffer));
    const { code } = await cli(["inspect", "off.bin", "--start", "4096"], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(io.stdout.join("\n")).toContain("live allocations 2,");
  });

  it("opens a saved concurrent allocator", async () => {
    const io = captureIO();
    const c = ConcurrentBuddy.create({ size: 64 * 4096 });
    c.alloc(3);
    c.alloc(1);
    writeFileSync(join(io.cwd, "c.bin"), new Uint8Array(c.buffer));
    const { code } = await cli(["inspect", "c.bin"], io);
    expect(code).toBe(0);
    expect(io.stdout[0]).toContain("concurrent allocator");
    expect(io.stdout.join("\n")).toContain("allocated       20 KiB in 2 blocks");
  });

  it("refuses files that are not saved allocators, and missing files", async () => {
    const io = captureIO();
    writeFileSync(join(io.cwd, "junk.bin"), new Uint8Array(5000).fill(7));
    const junk = await cli(["inspect", "junk.bin"], io);
    expect(junk.code).toBe(1);
    expect(junk.io.stderr[0]).toMatch(/^buddy-alloc: junk.bin: not a saved heap or concurrent allocator/);
    const missing = await cli(["inspect", "nope.bin"], captureIO(io.cwd));
    expect(missing.code).toBe(1);
    expect(missing.io.stderr[0]).toBe("buddy-alloc: cannot read the file: nope.bin: no such file");
    const none = await cli(["inspect"], captureIO(io.cwd));
    expect(none.code).toBe(2);
    expect(none.io.stderr.join("\n")).toContain("usage: buddy-alloc inspect FILE");
  });
});
