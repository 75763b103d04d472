/**
 * The suite as CI runs it on Node 22 and 24 (scripts/node-versions.sh), beside the whole suite on
 * Node 20: everything, worker threads and processes included, except the suites that take the
 * longest and test no version-specific behaviour beyond what the rest covers (the two controlled
 * interleaving suites, which grant Atomics calls one at a time, the concurrent stress suite) and
 * the browser test. The kill suites run fewer trials there (KILL_TRIALS, set by the script).
 */
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

/** Suites left out on the other Node versions. */
export const LONG_SUITES = [
  "test/concurrent/interleave.test.ts",
  "test/heap/interleave.test.ts",
  "test/concurrent/stress.test.ts",
  "test/web/playground.test.ts",
];

export default mergeConfig(
  base,
  defineConfig({ test: { exclude: [...configDefaults.exclude, ...LONG_SUITES] } }),
);
