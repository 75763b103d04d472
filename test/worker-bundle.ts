/**
 * Helpers the worker suites share (not a test file): a worker script bundled once per file with
 * esbuild, so each worker starts in milliseconds (tsx takes about half a second per worker), and
 * the seeded xorshift source their schedules draw from (test/prng.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { afterAll, beforeAll } from "vitest";

/**
 * Bundles the TypeScript worker at `entry` before the file's tests and deletes it after them.
 * @returns a getter of the bundle's path (set once `beforeAll` has run).
 */
export function bundledWorker(entry: URL, prefix: string): () => string {
  let dir = "";
  let bundle = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    bundle = join(dir, "worker.mjs");
    buildSync({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      format: "esm",
      platform: "node",
      outfile: bundle,
      logLevel: "error",
    });
  });
  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });
  return () => bundle;
}

export { xorshift } from "./prng.js";
