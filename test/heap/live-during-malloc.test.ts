/**
 * liveAllocations() on a threaded heap while another thread allocates as fast as it can must not
 * report damage: slabAlloc clears an object's bitmap bit, then writes its slack, and a walk in
 * between sees a live bit with the free slack (a malloc in flight), which it once reported as
 * CORRUPT "live object ... has slack 65535" (found with the kill test's worker; fixed since).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { buildSync } from "esbuild";
import { expect, it } from "vitest";
import { Heap } from "../../src/index.js";

/** A worker that mallocs and frees small objects as fast as it can until stop[0] is set. */
const WORKER = `
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../src/index.js";
const heap = Heap.open(workerData.sab);
const stop = new Int32Array(workerData.stop);
const held = [];
let x = 12345;
Atomics.store(stop, 1, 1);
while (Atomics.load(stop, 0) === 0) {
  x = (x * 1103515245 + 12345) >>> 0;
  if (held.length < 200 && (x & 1)) { const p = heap.malloc(16 + (x >>> 20) % 200); if (p !== null) held.push(p); }
  else if (held.length) heap.free(held.splice((x >>> 8) % held.length, 1)[0]);
}
heap.close();
parentPort.postMessage("done");
`;

it("liveAllocations() while another thread mallocs reports no damage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "heap-live-"));
  const bundle = join(dir, "w.mjs");
  buildSync({
    stdin: { contents: WORKER, resolveDir: fileURLToPath(new URL(".", import.meta.url)), loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: bundle,
    logLevel: "error",
  });
  const sab = new SharedArrayBuffer(1 << 20);
  const heap = new Heap(sab);
  const stop = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(bundle, { workerData: { sab, stop: stop.buffer } });
  const done = new Promise((r) => w.once("message", r));
  while (Atomics.load(stop, 1) === 0) await new Promise((r) => setTimeout(r, 5));
  let error: unknown = null;
  let calls = 0;
  const t0 = Date.now();
  while (error === null && Date.now() - t0 < 2000) {
    calls++;
    try {
      [...heap.liveAllocations()];
    } catch (e) {
      error = e;
    }
  }
  Atomics.store(stop, 0, 1);
  await done;
  await w.terminate();
  rmSync(dir, { recursive: true, force: true });
  heap.check(); // the heap itself is sound
  expect(String(error), `after ${calls} calls`).toBe("null");
});
