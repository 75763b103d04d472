/**
 * Option parsing for every command: node:util's parseArgs, with two changes. A negative number
 * after an option that takes a value is that value (`-n -5` reaches the number's own check,
 * which says what is wrong, instead of parseArgs' "argument is ambiguous"); and every parse
 * error is a UsageError, with a plain message when an option's value is missing.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./numbers.js";

/** One option: a string value or a flag, with an optional one-letter short form. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
}

/** What {@link parseOptions} found. */
export interface ParsedOptions {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args` against `options` (strict: unknown options are mistakes).
 * @throws UsageError for an unknown option, a missing value, or a positional where none is allowed.
 */
export function parseOptions(
  args: string[],
  options: Readonly<Record<string, OptionSpec>>,
  allowPositionals = false,
): ParsedOptions {
  const rewritten: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rewritten.push(...args.slice(i));
      break;
    }
    const name = takesValue(arg, options);
    const next = args[i + 1];
    if (name !== null && next !== undefined && next.length > 1 && next.startsWith("-")) {
      if (/^-[0-9.]/.test(next)) {
        rewritten.push(`--${name}=${next}`); // a negative number: the value, checked by its parser
        i++;
        continue;
      }
      throw new UsageError(
        `${arg} needs a value, got the option ${next} (for a value starting with "-", write --${name}=${next})`,
      );
    }
    rewritten.push(arg);
  }
  try {
    return parseArgs({ args: rewritten, options, allowPositionals, strict: true }) as ParsedOptions;
  } catch (error) {
    const message = (error as Error).message;
    const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
    throw new UsageError(missing ? `${missing[1]} needs a value` : message);
  }
}

/** The long name of the string option `arg` is (`--ops` or `-n`, without a value), else null. */
function takesValue(arg: string, options: Readonly<Record<string, OptionSpec>>): string | null {
  if (arg.startsWith("--") && !arg.includes("=")) {
    const name = arg.slice(2);
    return Object.hasOwn(options, name) && options[name].type === "string" ? name : null;
  }
  if (/^-[^-]$/.test(arg)) {
    for (const [name, spec] of Object.entries(options)) {
      if (spec.short === arg[1] && spec.type === "string") return name;
    }
  }
  return null;
}
