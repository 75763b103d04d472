/**
 * The `buddy-alloc` command's dispatcher: picks the command, runs it, turns mistakes into the
 * usage text and exit code 2, and failures into one "buddy-alloc: ..." line and exit code 1.
 * A command writes all of its files or none of them (outputs.ts); a file it cannot read or
 * write is reported as "buddy-alloc: what: PATH: reason", with the path as the user gave it.
 */
import { inspect } from "./inspect.js";
import type { CliIO } from "./io.js";
import { parseCount, UsageError } from "./numbers.js";
import { parseOptions } from "./options.js";
import { startServer } from "./serve.js";
import { simulate } from "./simulate.js";
import { parseSimulateArgs } from "./simulate-args.js";
import { INSPECT_USAGE, SERVE_USAGE, SIMULATE_USAGE, USAGE } from "./usage.js";

/**
 * Runs one command line (`argv` without node and the script) and resolves to its exit code:
 * 0 done, 1 failed (bad trace, unreadable file, allocator error), 2 usage mistake.
 * `serve` resolves when its server stops (`stop` resolves, or --for elapses).
 */
export async function run(argv: string[], io: CliIO, stop?: Promise<void>): Promise<number> {
  const [command, ...rest] = argv;
  const usage =
    command === "simulate"
      ? SIMULATE_USAGE
      : command === "inspect"
        ? INSPECT_USAGE
        : command === "serve"
          ? SERVE_USAGE
          : USAGE;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === "simulate") {
      const plan = parseSimulateArgs(rest);
      if (plan === null) io.out(SIMULATE_USAGE);
      else await simulate(plan, io);
      return 0;
    }
    if (command === "inspect") {
      if (inspect(rest, io) === null) io.out(INSPECT_USAGE);
      return 0;
    }
    if (command === "serve") return await serve(rest, io, stop);
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`buddy-alloc: ${error.message}\n\n${usage}`);
      return 2;
    }
    io.err(`buddy-alloc: ${(error as Error).message}`);
    return 1;
  }
}

async function serve(argv: string[], io: CliIO, stop?: Promise<void>): Promise<number> {
  const values = parseOptions(argv, {
    port: { type: "string" },
    host: { type: "string" },
    for: { type: "string" },
    help: { type: "boolean", short: "h" },
  }).values as { port?: string; host?: string; for?: string; help?: boolean };
  if (values.help) {
    io.out(SERVE_USAGE);
    return 0;
  }
  const port = values.port === undefined ? 8080 : parseCount("port", values.port, 0, 65535);
  const seconds = values.for === undefined ? null : parseCount("for", values.for, 1, 86_400);
  const server = await startServer({ port, host: values.host ?? "127.0.0.1" });
  io.out(`playground at ${server.url} (Ctrl-C stops it)`);
  const stops: Promise<unknown>[] = [stop ?? new Promise(() => {})];
  if (seconds !== null) stops.push(new Promise((ok) => setTimeout(ok, seconds * 1000).unref()));
  await Promise.race(stops);
  await server.close();
  io.out("stopped");
  return 0;
}
