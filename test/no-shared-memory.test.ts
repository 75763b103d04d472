/**
 * The library loads and works where there is no SharedArrayBuffer: a browser page that is not
 * cross-origin isolated (no COOP/COEP headers) has none.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

describe("without SharedArrayBuffer", () => {
  it("the library loads, and the page allocator and an ArrayBuffer heap work", () => {
    const script = `
      delete globalThis.SharedArrayBuffer;
      const m = await import(${JSON.stringify(join(root, "src", "index.ts"))});
      const pages = new m.BuddyAllocator({ pageSize: 4096, maxOrder: 8 });
      pages.addRegion(0, 1 << 20);
      const heap = new m.Heap(new ArrayBuffer(1 << 20));
      const p = heap.malloc(100);
      heap.free(p);
      heap.check();
      let code = "";
      try { m.ConcurrentBuddy.attach(new ArrayBuffer(64)); } catch (e) { code = e.code; }
      console.log(JSON.stringify({ block: pages.allocPages(3), code }));
    `;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ block: 0, code: "INVALID_ARGUMENT" });
  });
});
