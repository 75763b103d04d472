#!/usr/bin/env node
/**
 * The `buddy-alloc` executable (package.json "bin"; `npm start` runs `simulate` through tsx).
 * Wires the real process to cli.ts: arguments, stdout/stderr, Ctrl-C for `serve`, the exit code
 * (1 also when stdout could not be written for a reason other than a reader that went away).
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
const io = processIO(argv.slice(1));
const code = await run(argv, io, stop);
process.exitCode = io.outputError() !== null ? Math.max(code, 1) : code;
