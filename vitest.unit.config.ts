/**
 * `npm run test:unit`: the suite without the suites that start worker threads or processes, for
 * everyday work. CI (`.ci/run`, `npm test`) still runs everything, with vitest.config.ts.
 */
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

/** Suites that start worker threads (through tsx, about half a second each), child processes or a browser. */
export const WORKER_SUITES = [
  "test/heap/workers.test.ts",
  "test/heap/cross-workers.test.ts",
  "test/heap/kill.test.ts",
  "test/heap/interleave.test.ts",
  "test/heap/live-during-malloc.test.ts",
  "test/heap/recover.test.ts",
  "test/concurrent/stress.test.ts",
  "test/concurrent/kill.test.ts",
  "test/concurrent/interleave.test.ts",
  "test/cli/process.test.ts",
  "test/no-shared-memory.test.ts",
  "test/web/playground.test.ts",
];

export default mergeConfig(
  base,
  defineConfig({ test: { exclude: [...configDefaults.exclude, ...WORKER_SUITES] } }),
);
