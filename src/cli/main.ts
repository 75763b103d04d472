#!/usr/bin/env node
/**
 * The `buddy-alloc` command. `buddy-alloc demo` (what `npm start` runs) drives the page
 * allocator through a built-in workload and prints what happened.
 */
import { parseArgs } from "node:util";
import { type DemoOptions, formatDemo, runDemo } from "./demo.js";

const USAGE = `usage: buddy-alloc demo [--memory BYTES] [--page-size BYTES] [--ops N] [--live FRACTION]

  demo    run a steady-state workload on the page allocator and print its statistics
          (defaults: 1 GiB of 4 KiB pages, 1,000,000 operations, half the pages live)`;

/** Runs the command line `argv` (without node and script); returns the exit code. */
export function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command = "demo"] = parsed.positionals;
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (command !== "demo") {
    console.error(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  const options: DemoOptions = {
    memory: Number(parsed.values.memory ?? 2 ** 30),
    pageSize: Number(parsed.values["page-size"] ?? 4096),
    ops: Number(parsed.values.ops ?? 1_000_000),
    live: Number(parsed.values.live ?? 0.5),
    maxRequestOrder: 10,
  };
  if (!Number.isSafeInteger(options.ops) || options.ops < 0 || !(options.live > 0 && options.live < 1)) {
    console.error(`--ops must be a whole number and --live a fraction between 0 and 1\n\n${USAGE}`);
    return 2;
  }
  try {
    for (const line of formatDemo(options, runDemo(options))) console.log(line);
  } catch (error) {
    console.error(`buddy-alloc: ${(error as Error).message}`);
    return 1;
  }
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      memory: { type: "string" },
      "page-size": { type: "string" },
      ops: { type: "string" },
      live: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

process.exitCode = main(process.argv.slice(2));
