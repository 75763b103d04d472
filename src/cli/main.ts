#!/usr/bin/env node
/**
 * The `buddy-alloc` executable (package.json "bin"; `npm start` runs `simulate` through tsx).
 * Wires the real process to cli.ts: arguments, stdout/stderr, Ctrl-C for `serve`, the exit code.
 */
import { run } from "./cli.js";
import { processIO } from "./io.js";

const argv = process.argv.slice(2);
// Only `serve` runs until stopped; every other command keeps Ctrl-C's default (exit at once).
const stop =
  argv[0] === "serve"
    ? new Promise<void>((ok) => {
        process.once("SIGINT", () => ok());
        process.once("SIGTERM", () => ok());
      })
    : undefined;
process.exitCode = await run(argv, processIO(argv.slice(1)), stop);
