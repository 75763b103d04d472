/**
 * Issue 13, "Bad input", for ConcurrentBuddy: every public method and option, given a value that
 * is not what it takes, throws AllocError INVALID_ARGUMENT (never a TypeError, never the caller's
 * own exception), with a short message, without running the value's code, and leaves every byte
 * of the shared buffer as it was. Also `attach(buffer, { verify: true })`.
 */
import { describe, expect, it } from "vitest";
import { H_NEXT_THREAD } from "../../src/concurrent/layout.js";
import { AllocError, type AllocErrorCode, ConcurrentBuddy } from "../../src/index.js";
import { conversionCount, resetConversions, trap } from "../traps.js";

// biome-ignore lint/suspicious/noExplicitAny: deliberately passing wrong types, as a JavaScript caller could
type Any = any;

const PAGE = 4096;
const MAX_MESSAGE = 100;

const BAD_NUMBERS: [string, unknown][] = [
  ["1n", 1n],
  ["Symbol", Symbol("four")],
  ["null", null],
  ['"4"', "4"],
  ["true", true],
  ["an object whose valueOf throws", trap({})],
  ["a function whose valueOf throws", trap(() => 4)],
  ["NaN", Number.NaN],
  ["-1", -1],
  ["1.5", 1.5],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["2^53", 2 ** 53],
  ["[]", []],
  ["a 1 MiB Uint8Array", new Uint8Array(1 << 20)],
];

const BAD_OPTIONS: [string, unknown][] = [
  ["null", null],
  ['"x"', "x"],
  ["5", 5],
  ["1n", 1n],
  ["Symbol", Symbol("o")],
  ["[]", []],
  ["a function", trap(() => ({}))],
];

/** A pool with live blocks, a freed one and a handle: `live` starts a live block. */
function busy() {
  const a = ConcurrentBuddy.create({ size: 64 * PAGE, maxOrder: 6, threadId: 1 });
  const live = a.alloc(4)!;
  a.alloc(1);
  a.free(a.alloc(2)!);
  return { a, live };
}

/**
 * Runs `fn`, expects AllocError `code` with a short message, no conversion of the argument, and
 * every byte of `a`'s buffer unchanged; then `a.check()` unless `check` is false.
 */
function expectRejected(
  a: ConcurrentBuddy,
  fn: () => unknown,
  code: AllocErrorCode,
  check = true,
): AllocError {
  const before = new Uint8Array(a.buffer).slice();
  resetConversions();
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected AllocError ${code}, got ${String(caught)}`).toBeInstanceOf(AllocError);
  const error = caught as AllocError;
  expect(error.code, error.message).toBe(code);
  expect(conversionCount(), "a conversion method of the argument ran").toBe(0);
  expect(error.message.length, error.message).toBeLessThanOrEqual(MAX_MESSAGE);
  expect(
    new Uint8Array(a.buffer).some((byte, i) => byte !== before[i]),
    "the buffer changed",
  ).toBe(false);
  if (check) a.check();
  return error;
}

function numberCalls(a: ConcurrentBuddy, v: Any): [string, () => unknown][] {
  const or = (other: unknown) => (v === undefined ? other : v);
  return [
    ["alloc(v)", () => a.alloc(v)],
    ["allocOrder(v)", () => a.allocOrder(v)],
    ["free(v)", () => a.free(v)],
    ["recover(v)", () => a.recover(v)],
    ["create({ size: v })", () => ConcurrentBuddy.create({ size: v })],
    ["create({ pageSize: v })", () => ConcurrentBuddy.create({ size: 64 * PAGE, pageSize: or(3) })],
    ["create({ maxOrder: v })", () => ConcurrentBuddy.create({ size: 64 * PAGE, maxOrder: or(7) })],
    ["create({ threadId: v })", () => ConcurrentBuddy.create({ size: 64 * PAGE, threadId: or(-1) })],
    ["create({ variant: v })", () => ConcurrentBuddy.create({ size: 64 * PAGE, variant: or("x") })],
    ["attach(buffer, { threadId: v })", () => ConcurrentBuddy.attach(a.buffer, { threadId: or(0.5) })],
    [
      "attach(buffer, { verify: v })",
      () => ConcurrentBuddy.attach(a.buffer, { verify: typeof v === "boolean" ? (1 as Any) : or(1) }),
    ],
    ["attach(v)", () => ConcurrentBuddy.attach(v)],
  ];
}

/** One test per call: every value of `values` in its place. */
function table(
  values: [string, unknown][],
  calls: (a: ConcurrentBuddy, v: Any) => [string, () => unknown][],
) {
  calls(busy().a, 0).forEach(([call], index) => {
    it(call, () => {
      for (const [name, value] of values) {
        const { a } = busy();
        try {
          expectRejected(a, calls(a, value)[index][1], "INVALID_ARGUMENT");
        } catch (error) {
          throw new Error(`${call} with v = ${name}: ${(error as Error).message}`);
        }
      }
    });
  });
}

describe("bad numbers: INVALID_ARGUMENT, short, unconverted, the buffer unchanged", () => {
  table(BAD_NUMBERS, numberCalls);
});

describe("bad options: INVALID_ARGUMENT, the buffer unchanged (no thread id taken)", () => {
  table(BAD_OPTIONS, (a, v) => [["attach(buffer, v)", () => ConcurrentBuddy.attach(a.buffer, v)]]);

  it("create(v) says it got no options object", () => {
    const { a } = busy();
    for (const [name, value] of BAD_OPTIONS) {
      const error = expectRejected(a, () => ConcurrentBuddy.create(value as Any), "INVALID_ARGUMENT");
      expect(error.message, name).toMatch(/^create: options must be an object, got /);
    }
  });

  it("undefined options are the defaults (an attach takes the next thread id), null is refused", () => {
    const { a } = busy();
    expectRejected(a, () => ConcurrentBuddy.attach(a.buffer, null as Any), "INVALID_ARGUMENT");
    const ids = new Int32Array(a.buffer, 0, 16);
    const next = ids[H_NEXT_THREAD];
    expect(ConcurrentBuddy.attach(a.buffer, undefined).threadId).toBe(next);
    expect(ConcurrentBuddy.attach(a.buffer).threadId).toBe(next + 1);
  });

  it("refuses an object posing as a SharedArrayBuffer", () => {
    const { a } = busy();
    const impostor = Object.create(SharedArrayBuffer.prototype);
    expect(impostor instanceof SharedArrayBuffer).toBe(true);
    const error = expectRejected(a, () => ConcurrentBuddy.attach(impostor), "INVALID_ARGUMENT");
    expect(error.message).toBe("attach needs a SharedArrayBuffer, got a SharedArrayBuffer");
    expectRejected(a, () => ConcurrentBuddy.attach(new ArrayBuffer(8192) as Any), "INVALID_ARGUMENT");
    const opened = expectRejected(a, () => ConcurrentBuddy.open(impostor), "INVALID_ARGUMENT");
    expect(opened.message).toBe("open needs a SharedArrayBuffer, got a SharedArrayBuffer");
  });

  it("reads each option once", () => {
    const reads: string[] = [];
    const counted = (fields: Record<string, unknown>) => {
      const options = {};
      for (const [key, value] of Object.entries(fields)) {
        Object.defineProperty(options, key, {
          get: () => {
            reads.push(key);
            return value;
          },
        });
      }
      return options as Any;
    };
    const a = ConcurrentBuddy.create(
      counted({ size: 64 * PAGE, pageSize: PAGE, maxOrder: 6, variant: "node", threadId: 2 }),
    );
    expect(reads.sort()).toEqual(["maxOrder", "pageSize", "size", "threadId", "variant"]);
    reads.length = 0;
    ConcurrentBuddy.attach(a.buffer, counted({ threadId: 3, verify: true }));
    expect(reads.sort()).toEqual(["threadId", "verify"]);
  });
});

describe("one rule for codes", () => {
  it("NOT_ALLOCATED only for a safe non-negative integer; counts in decimal, addresses in hex", () => {
    const { a, live } = busy();
    for (const address of [live + PAGE, live + 1, 64 * PAGE, 2 ** 53 - 1, 63 * PAGE]) {
      expectRejected(a, () => a.free(address), "NOT_ALLOCATED");
    }
    expect(expectRejected(a, () => a.alloc(5000), "INVALID_ARGUMENT").message).toBe(
      "count must be an integer in 1..64, got 5000",
    );
    expect(expectRejected(a, () => a.allocOrder(4097), "INVALID_ARGUMENT").message).toBe(
      "order must be an integer in 0..6, got 4097",
    );
    expect(expectRejected(a, () => a.free(live + PAGE), "NOT_ALLOCATED").message).toBe(
      `free: address 0x${(live + PAGE).toString(16)} is inside the block at 0x${live.toString(16)} (interior pointer)`,
    );
    expect(expectRejected(a, () => a.free(1n as Any), "INVALID_ARGUMENT").message).toBe(
      "free: address must be a safe non-negative integer, got 1n",
    );
  });
});

describe("attach with verify", () => {
  for (const variant of ["packed", "node"] as const) {
    it(`checks the whole tree and refuses a damaged one that a plain attach takes (${variant})`, () => {
      const a = ConcurrentBuddy.create({ size: 64 * PAGE, maxOrder: 6, variant });
      const x = a.alloc(2)!;
      expect(ConcurrentBuddy.attach(a.buffer, { verify: true }).variant).toBe(variant);
      const words = a.tree.words;
      const top = words.length - 1;
      const saved = words[top];
      words[top] = 0; // the top word no longer shows the allocation
      // CORRUPT, and every byte as it was: not even a thread id was taken.
      const error = expectRejected(
        a,
        () => ConcurrentBuddy.attach(a.buffer, { verify: true }),
        "CORRUPT",
        false,
      );
      expect(error.message).toMatch(/tree word/);
      const plain = ConcurrentBuddy.attach(a.buffer); // takes the damage as it is
      expect(() => plain.check()).toThrowError(expect.objectContaining({ code: "CORRUPT" }));
      words[top] = saved;
      a.orderIndex[x / PAGE + 1] = 1; // a live block inside another
      expect(() => ConcurrentBuddy.attach(a.buffer, { verify: true })).toThrowError(
        expect.objectContaining({ code: "CORRUPT" }),
      );
      a.orderIndex[x / PAGE + 1] = 0;
      ConcurrentBuddy.attach(a.buffer, { verify: true, threadId: 9 }).free(x);
      a.check();
    });
  }
});
