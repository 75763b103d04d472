// The package's entry points (package.json "exports"): the root holds the allocators, AllocError
// and the constants their API names; the simulator and the visualisations have their own subpaths.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as root from "../src/index.js";
import * as sim from "../src/sim/index.js";
import * as viz from "../src/viz/index.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

describe("entry points", () => {
  it("the root exports the allocators, AllocError and their constants, nothing else", () => {
    expect(Object.keys(root).sort()).toEqual([
      "AllocError",
      "BuddyAllocator",
      "ConcurrentBuddy",
      "HEAP_FORMAT_VERSION",
      "Heap",
      "MAX_SMALL",
      "MAX_TAG",
      "ScopedArray",
      "ScopedBlock",
      "TAG_LARGE",
      "TAG_SLAB",
    ]);
  });

  it("no tooling name is in the root, and the subpaths do not overlap it", () => {
    const rootNames = new Set(Object.keys(root));
    for (const name of [...Object.keys(sim), ...Object.keys(viz)]) expect(rootNames.has(name)).toBe(false);
    expect(typeof sim.replay).toBe("function");
    expect(typeof viz.memoryMapSvg).toBe("function");
  });

  it("package.json maps ., ./sim and ./viz to the build with types first", () => {
    for (const [sub, dir] of [
      [".", ""],
      ["./sim", "sim/"],
      ["./viz", "viz/"],
    ]) {
      const entry = pkg.exports[sub];
      expect(Object.keys(entry)).toEqual(["types", "default"]);
      expect(entry.types).toBe(`./dist/${dir}index.d.ts`);
      expect(entry.default).toBe(`./dist/${dir}index.js`);
    }
  });
});
