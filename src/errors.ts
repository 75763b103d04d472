/**
 * The one error type of buddy-alloc, and how its messages show the values they name. Every
 * function that rejects its input throws an `AllocError` whose `code` says what kind of mistake it
 * was, before it changes any state. Running out of memory is not an error: allocation functions
 * return `null`.
 *
 * Showing a value never runs the caller's code: no `String(object)`, no `valueOf`, `toString` or
 * getter of an object (only intrinsic getters, like a typed array's length). The one exception
 * pure JavaScript cannot avoid is a Proxy, whose traps run when its prototype or an array's length
 * is read; whatever they throw is caught. A value takes at most {@link MAX_SHOWN} characters.
 */
import { isSafeNonNegative } from "./numbers.js";

/**
 * What went wrong, as a stable string a caller can switch on.
 *
 * The rule for arguments, the same in every allocator: an argument that must be a number and is not
 * a safe non-negative integer (a BigInt, a string, a Symbol, null, an object, NaN, -1, 1.5, 2^53) is
 * `INVALID_ARGUMENT`, as is a safe integer outside its range (a count of 0, an order above maxOrder,
 * a tag above 65535, an address `allocAt` cannot align), an options argument that is neither
 * undefined nor an object (null, a string, a number, an array, a function), and an option of the
 * wrong type. Arguments are checked for this first, without converting them (a caller's `valueOf`
 * never runs), so `INVALID_ARGUMENT` wins over `NOT_ALLOCATED`, which only a safe non-negative
 * integer address can get.
 */
export type AllocErrorCode =
  /** A value of the wrong type, not a safe non-negative integer, or out of range (see the rule above). */
  | "INVALID_ARGUMENT"
  /** A region that overlaps memory the allocator already manages. */
  | "OVERLAP"
  /**
   * A safe non-negative integer address that does not start a live allocation (double free,
   * interior pointer, outside the managed memory, never allocated).
   */
  | "NOT_ALLOCATED"
  /** Metadata that breaks an invariant (from `check()`), or bytes that are not a valid saved heap. */
  | "CORRUPT"
  /** Every thread slot of a threaded heap is claimed (`Heap.open`): close a handle or recover a dead thread. */
  | "TOO_MANY_THREADS"
  /** A call on a handle after its `close()`. */
  | "CLOSED"
  /**
   * A simulator trace (src/sim/trace.ts) that cannot be replayed: a malformed line, an ID allocated
   * while live, or a free of an ID that is not live. The message starts with "line N: ".
   */
  | "BAD_TRACE";

/** An error with a machine-readable {@link AllocErrorCode}; the message names the offending value. */
export class AllocError extends Error {
  /** What kind of mistake this was. */
  readonly code: AllocErrorCode;

  constructor(code: AllocErrorCode, message: string) {
    super(message);
    this.name = "AllocError";
    this.code = code;
  }
}

/** The most characters a value takes in a message (a longer one is cut, with "…"). */
export const MAX_SHOWN = 80;

/** Characters of a string, a symbol's description or a name shown before "…". */
const MAX_TEXT = 20;

/** Numbers from here on are shown in hex as addresses (below, an address reads as well in decimal). */
const HEX_FROM = 4096;

/**
 * A count, size, order or tag for a message: a number in decimal (`5000`, `-1`, `1.5`, `NaN`), any
 * other value described without running its code (see {@link MAX_SHOWN}).
 */
export function showCount(value: unknown): string {
  return typeof value === "number" ? decimal(value) : describe(value);
}

/**
 * An address for a message: a safe integer from 4096 up in hex (`0x10000`), other numbers in
 * decimal, any other value described without running its code.
 */
export function showAddress(value: unknown): string {
  if (isSafeNonNegative(value) && value >= HEX_FROM) {
    return `0x${value.toString(16)}`;
  }
  return showCount(value);
}

/**
 * Any value for a message, numbers as addresses (as {@link showAddress}). Prefer `showCount` for
 * counts, sizes, orders and tags, and `showAddress` for addresses.
 */
export function show(value: unknown): string {
  return showAddress(value);
}

function decimal(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

/** Beyond this a BigInt is not printed (printing a huge one costs time): 40 digits. */
const BIG = 10n ** 40n;

/** Any value that is not a number, in at most MAX_SHOWN characters, without running its code. */
function describe(value: unknown): string {
  return cut(describeAny(value));
}

function describeAny(value: unknown): string {
  switch (typeof value) {
    case "number":
      return decimal(value);
    case "string":
      return value.length <= MAX_TEXT ? JSON.stringify(value) : `${text(value)} (${value.length} chars)`;
    case "bigint":
      if (value < BIG && value > -BIG) return `${value}n`;
      return `a BigInt of more than 40 digits${value < 0n ? ", negative" : ""}`;
    case "symbol":
      return `Symbol(${text(value.description ?? "").slice(1, -1)})`;
    case "function":
    case "object":
      if (value === null) return "null";
      try {
        return describeObject(value);
      } catch {
        return typeof value === "function" ? "a function" : "an object";
      }
    default:
      return String(value); // undefined, boolean
  }
}

function cut(s: string): string {
  return s.length <= MAX_SHOWN ? s : `${s.slice(0, MAX_SHOWN - 1)}…`;
}

/** `s` JSON-quoted, only its first MAX_TEXT characters and "…" when it is longer. */
function text(s: string): string {
  if (s.length <= MAX_TEXT) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, MAX_TEXT)).slice(0, -1)}…"`;
}

/*
 * Intrinsic getters, taken once: calling them on a value reads its internal slots and runs none of
 * its code (a getter of the same name defined on the value itself is not consulted).
 */
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (proto: object, key: PropertyKey) =>
  Object.getOwnPropertyDescriptor(proto, key)?.get as (this: unknown) => unknown;
const typedArrayKind = getter(TypedArrayPrototype, Symbol.toStringTag);
const typedArrayLength = getter(TypedArrayPrototype, "length");
const dataViewBytes = getter(DataView.prototype, "byteLength");
const arrayBufferBytes = getter(ArrayBuffer.prototype, "byteLength");
const sharedBufferBytes =
  typeof SharedArrayBuffer === "function" ? getter(SharedArrayBuffer.prototype, "byteLength") : undefined;

/** "a Map", "an array of 3 items", "a Uint8Array of 1048576 elements", "function f", ... */
function describeObject(value: object): string {
  if (typeof value === "function") {
    const name = nameOf(value);
    return name === undefined ? "an anonymous function" : `function ${name}`;
  }
  if (ArrayBuffer.isView(value)) {
    const kind = typedArrayKind.call(value);
    if (typeof kind === "string") return `${article(kind)} of ${typedArrayLength.call(value)} elements`;
    return `a DataView of ${dataViewBytes.call(value)} bytes`;
  }
  if (Array.isArray(value)) {
    const n = (value as unknown[]).length; // an array's own data property (a Proxy's trap aside)
    return n === 0 ? "an empty array" : `an array of ${n} item${n === 1 ? "" : "s"}`;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null) return "an object with no prototype";
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
  const name = typeof ctor === "function" ? nameOf(ctor) : undefined;
  if (name === undefined || name === "Object") return "an object";
  const bytes =
    name === "ArrayBuffer" ? arrayBufferBytes : name === "SharedArrayBuffer" ? sharedBufferBytes : undefined;
  if (bytes !== undefined) {
    try {
      return `${article(name)} of ${bytes.call(value)} bytes`;
    } catch {
      // an impostor: an object whose prototype is a buffer's prototype
    }
  }
  return article(name);
}

/** A function's own `name` when it is a plain data property holding an identifier, cut to MAX_TEXT. */
function nameOf(f: object): string | undefined {
  const name = Object.getOwnPropertyDescriptor(f, "name")?.value;
  if (typeof name !== "string" || !/^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u.test(name)) {
    return undefined;
  }
  return name.length <= MAX_TEXT ? name : `${name.slice(0, MAX_TEXT)}…`;
}

function article(name: string): string {
  return `${/^[AEIOaeio]/.test(name) ? "an" : "a"} ${name}`;
}
