/**
 * Issue 13, "Bad input", for BuddyAllocator: every public method and option, given a value that is
 * not what it takes, throws AllocError INVALID_ARGUMENT (never a TypeError, never the caller's own
 * exception), with a short message, without running the value's code, and changes nothing. A safe
 * non-negative integer that is not a live address is NOT_ALLOCATED (src/errors.ts, the rule).
 */
import { describe, expect, it } from "vitest";
import { type AllocErrorCode, BuddyAllocator } from "../../src/index.js";
import { pageStorageBytes, pageStorageIn } from "../../src/page/page-map.js";
import { conversionCount, resetConversions, trap } from "../traps.js";
import { expectCode, expectRejected } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: deliberately passing wrong types, as a JavaScript caller could
type Any = any;

const PAGE = 4096;
/** Longest message a rejection may have. */
const MAX_MESSAGE = 100;

/** Values that no number argument takes, with a name for the test title. */
const BAD_NUMBERS: [string, unknown][] = [
  ["1n", 1n],
  ["-1n", -1n],
  ["2n ** 70n", 2n ** 70n],
  ["Symbol", Symbol("four")],
  ["null", null],
  ["undefined", undefined],
  ['"4"', "4"],
  ['""', ""],
  ["a long string", "x".repeat(1 << 20)],
  ["true", true],
  ["an object whose valueOf throws", trap({})],
  ["a function whose valueOf throws", trap(() => 4)],
  ["a Date", trap(new Date(4096))],
  ["NaN", Number.NaN],
  ["-1", -1],
  ["1.5", 1.5],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["2^53", 2 ** 53],
  ["-0.5", -0.5],
  ["[]", []],
  ["[4096]", [4096]],
  ["a 1 MiB Uint8Array", new Uint8Array(1 << 20)],
  ["a Float64Array", new Float64Array([4096])],
];

/** Values that are not an options object. */
const BAD_OPTIONS: [string, unknown][] = [
  ["null", null],
  ['"x"', "x"],
  ["5", 5],
  ["true", true],
  ["1n", 1n],
  ["Symbol", Symbol("o")],
  ["[]", []],
  ["a function", trap(() => ({}))],
];

/**
 * An allocator with something of everything: blocks, a tagged block, a run, free blocks of
 * several orders, two regions. `live` starts a live block, `dead` is a free page.
 */
function busy() {
  const a = new BuddyAllocator({ pageSize: PAGE, maxOrder: 10 });
  a.addRegion(0, 256 * PAGE);
  a.addRegion(2 ** 40, 64 * PAGE);
  const live = a.allocPages(4, { tag: 3 })!;
  a.allocPages(5, { exact: true });
  a.allocOrder(0);
  const dead = a.allocOrder(2)!;
  a.free(dead);
  return { a, live, dead };
}

/** `v`, or for an optional argument whose undefined means its default, the bad value `other`. */
function or(v: Any, other: unknown): Any {
  return v === undefined ? other : v;
}

/** Every public method and option, with one argument replaced by `v`. */
function numberCalls(a: BuddyAllocator, live: number, v: Any): [string, () => unknown][] {
  const storage = () => {
    const pages = BuddyAllocator.storagePages({}, 0, 64 * PAGE);
    return pageStorageIn(new ArrayBuffer(pageStorageBytes(pages, 20)), 0, pages, 20);
  };
  return [
    ["allocPages(v)", () => a.allocPages(v)],
    ["allocPages(1, { align: v })", () => a.allocPages(1, { align: or(v, 3) })],
    ["allocPages(1, { limit: v })", () => a.allocPages(1, { limit: or(v, -1) })],
    ["allocPages(1, { tag: v })", () => a.allocPages(1, { tag: or(v, 65536) })],
    ["allocPages(v, { exact: true })", () => a.allocPages(v, { exact: true })],
    ["allocOrder(v)", () => a.allocOrder(v)],
    ["allocOrder(0, v)", () => a.allocOrder(0, or(v, 1.5))],
    ["allocAt(v, 1)", () => a.allocAt(v, 1)],
    ["allocAt(v, 1, { exact: true })", () => a.allocAt(v, 1, { exact: true })],
    ["allocAt(128 pages, v)", () => a.allocAt(128 * PAGE, v)],
    ["allocAt(128 pages, 1, { tag: v })", () => a.allocAt(128 * PAGE, 1, { tag: or(v, -1) })],
    ["free(v)", () => a.free(v)],
    ["sizeOf(v)", () => a.sizeOf(v)],
    ["tagOf(v)", () => a.tagOf(v)],
    ["orderOf(v)", () => a.orderOf(v)],
    ["setTag(v, 1)", () => a.setTag(v, 1)],
    ["setTag(live, v)", () => a.setTag(live, v)],
    ["resize(v, 1)", () => a.resize(v, 1)],
    ["resize(live, v)", () => a.resize(live, v)],
    ["blockAt(v)", () => a.blockAt(v)],
    ["addRegion(v, 1 page)", () => a.addRegion(v, PAGE)],
    ["addRegion(2^41, v)", () => a.addRegion(2 ** 41, v)],
    ["extendRegion(v)", () => a.extendRegion(v)],
    ["new BuddyAllocator({ pageSize: v })", () => new BuddyAllocator({ pageSize: or(v, 3) })],
    ["new BuddyAllocator({ maxOrder: v })", () => new BuddyAllocator({ maxOrder: or(v, 32) })],
    ["new BuddyAllocator({ sectionOrder: v })", () => new BuddyAllocator({ sectionOrder: or(v, 17) })],
    ["storagePages({}, v, 1 page)", () => BuddyAllocator.storagePages({}, v, PAGE)],
    ["storagePages({}, 0, v)", () => BuddyAllocator.storagePages({}, 0, v)],
    [
      "storagePages({ maxOrder: v }, 0, 1 page)",
      () => BuddyAllocator.storagePages({ maxOrder: or(v, 40) }, 0, PAGE),
    ],
    ["inStorage({}, v, ...)", () => BuddyAllocator.inStorage({}, v, PAGE, storage(), true)],
    ["inStorage({}, 0, v, ...)", () => BuddyAllocator.inStorage({}, 0, v, storage(), true)],
    [
      "inStorage({ pageSize: v }, ...)",
      () => BuddyAllocator.inStorage({ pageSize: or(v, 0) }, 0, PAGE, storage(), true),
    ],
  ];
}

/** Calls whose options argument is `v`. */
function optionCalls(a: BuddyAllocator, v: Any): [string, () => unknown][] {
  const storage = pageStorageIn(new ArrayBuffer(pageStorageBytes(256, 20)), 0, 256, 20);
  return [
    ["new BuddyAllocator(v)", () => new BuddyAllocator(v)],
    ["allocPages(1, v)", () => a.allocPages(1, v)],
    ["allocAt(128 pages, 1, v)", () => a.allocAt(128 * PAGE, 1, v)],
    ["storagePages(v, 0, 1 page)", () => BuddyAllocator.storagePages(v, 0, PAGE)],
    ["inStorage(v, ...)", () => BuddyAllocator.inStorage(v, 0, PAGE, storage, true)],
    ["inStorage(..., storage v, true)", () => BuddyAllocator.inStorage({}, 0, PAGE, v, true)],
  ];
}

/** Expects INVALID_ARGUMENT with a short message, no conversion, and `a` unchanged. */
function expectInvalid(a: BuddyAllocator, fn: () => unknown): void {
  resetConversions();
  const error = expectRejected(a, fn, "INVALID_ARGUMENT");
  expect(conversionCount(), "a conversion method of the argument ran").toBe(0);
  expect(error.message.length, error.message).toBeLessThanOrEqual(MAX_MESSAGE);
}

/** One test per call: every value of `values` in its place. */
function table(
  values: [string, unknown][],
  calls: (a: BuddyAllocator, live: number, v: Any) => [string, () => unknown][],
): void {
  const { a: probe, live: probeLive } = busy();
  calls(probe, probeLive, 0).forEach(([call], index) => {
    it(call, () => {
      for (const [name, value] of values) {
        const { a, live } = busy();
        try {
          expectInvalid(a, calls(a, live, value)[index][1]);
        } catch (error) {
          throw new Error(`${call} with v = ${name}: ${(error as Error).message}`);
        }
      }
    });
  });
}

describe("bad numbers: INVALID_ARGUMENT, short, unconverted, nothing changed", () => {
  table(BAD_NUMBERS, numberCalls);
});

describe("bad options: INVALID_ARGUMENT, short, unconverted, nothing changed", () => {
  table(BAD_OPTIONS, (a, _live, v) => optionCalls(a, v));

  it("exact and fresh take only booleans", () => {
    const { a } = busy();
    const storage = pageStorageIn(new ArrayBuffer(pageStorageBytes(256, 20)), 0, 256, 20);
    for (const v of [null, "true", 1, 0, 1n, Symbol("b"), trap({}), []] as Any[]) {
      expectInvalid(a, () => a.allocPages(1, { exact: v }));
      expectInvalid(a, () => a.allocAt(128 * PAGE, 1, { exact: v }));
      expectInvalid(a, () => BuddyAllocator.inStorage({}, 0, PAGE, storage, v));
      expectInvalid(a, () => BuddyAllocator.inStorage({}, 0, PAGE, storage, { fresh: v }));
    }
  });

  it("inStorage refuses storage that is not { state: Uint8Array, links: Int32Array }", () => {
    const { a } = busy();
    for (const storage of [{}, { state: [], links: [] }, { state: new Uint8Array(8) }]) {
      expectInvalid(a, () => BuddyAllocator.inStorage({}, 0, PAGE, storage as Any, true));
    }
    // Views that are too small, the links too: INVALID_ARGUMENT, not the RangeError of a PageMap.
    const pages = BuddyAllocator.storagePages({}, 0, PAGE);
    const full = pageStorageIn(new ArrayBuffer(pageStorageBytes(pages, 20)), 0, pages, 20);
    const shortLinks = { state: full.state, links: full.links.subarray(0, 30) };
    expectInvalid(a, () => BuddyAllocator.inStorage({}, 0, PAGE, shortLinks, true));
    expect(BuddyAllocator.inStorage({}, 0, PAGE, full, true).stats().freePages).toBe(1);
  });

  it("options: undefined is the defaults, any other object will do, each option is read once", () => {
    expect(new BuddyAllocator(undefined).pageSize).toBe(4096);
    expectCode(() => new BuddyAllocator(null as Any), "INVALID_ARGUMENT");
    class Options {
      pageSize = 512;
    }
    expect(new BuddyAllocator(new Options()).pageSize).toBe(512);
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
      return options;
    };
    const a = new BuddyAllocator(counted({ pageSize: 4096, maxOrder: 10, sectionOrder: 4 }) as Any);
    expect(reads.sort()).toEqual(["maxOrder", "pageSize", "sectionOrder"]);
    a.addRegion(0, 64 * PAGE);
    reads.length = 0;
    a.allocPages(1, counted({ align: 4096, limit: 2 ** 20, tag: 1, exact: false }) as Any);
    expect(reads.sort()).toEqual(["align", "exact", "limit", "tag"]);
    reads.length = 0;
    a.allocAt(32 * PAGE, 1, counted({ tag: 2, exact: true }) as Any);
    expect(reads.sort()).toEqual(["exact", "tag"]);
    const b = new BuddyAllocator(undefined);
    b.addRegion(0, 16 * PAGE);
    expect(b.allocPages(1, undefined)).toBe(0);
    expect(b.allocAt(PAGE, 1, undefined)).toBe(PAGE);
  });
});

describe("one rule for codes", () => {
  it("a bad argument is INVALID_ARGUMENT even when the address is not live; a non-live address NOT_ALLOCATED", () => {
    const { a, live, dead } = busy();
    expectRejected(a, () => a.resize(dead, 0), "INVALID_ARGUMENT");
    expectRejected(a, () => a.resize(dead, "2" as Any), "INVALID_ARGUMENT");
    expectRejected(a, () => a.setTag(dead, -1), "INVALID_ARGUMENT");
    expectRejected(a, () => a.setTag(dead, 1n as Any), "INVALID_ARGUMENT");
    const notLive = [dead, live + PAGE, live + 1, 2 ** 50, 2 ** 53 - 1, 1000 * PAGE];
    for (const address of notLive) {
      expectRejected(a, () => a.free(address), "NOT_ALLOCATED");
      expectRejected(a, () => a.sizeOf(address), "NOT_ALLOCATED");
      expectRejected(a, () => a.tagOf(address), "NOT_ALLOCATED");
      expectRejected(a, () => a.orderOf(address), "NOT_ALLOCATED");
      expectRejected(a, () => a.setTag(address, 1), "NOT_ALLOCATED");
      expectRejected(a, () => a.resize(address, 1), "NOT_ALLOCATED");
    }
  });

  it("counts out of range and bad orders are INVALID_ARGUMENT, on the fast path's edges too", () => {
    const { a } = busy();
    for (const count of [0, 2 ** 10 + 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 31), -0, 2n]) {
      expectRejected(a, () => a.allocPages(count as Any), "INVALID_ARGUMENT");
    }
    for (const order of [11, -1, 2 ** 32, 0n])
      expectRejected(a, () => a.allocOrder(order as Any), "INVALID_ARGUMENT");
    const big = new BuddyAllocator({ pageSize: 1, maxOrder: 31 });
    big.addRegion(0, 2 ** 20);
    expectRejected(big, () => big.allocPages(-(2 ** 31)), "INVALID_ARGUMENT"); // clz32 would say 31
    expect(big.allocPages(2 ** 31)).toBeNull(); // the largest count: valid, only nothing that large is free
  });
});

describe("sizes beyond the metadata limits are refused at once", () => {
  function topRegion(): BuddyAllocator {
    const a = new BuddyAllocator();
    a.addRegion(0, 1 << 20);
    return a;
  }

  for (const end of [2 ** 52, 2 ** 46, 2 ** 53 - 4096]) {
    it(`extendRegion(${end === 2 ** 53 - 4096 ? "2^53 - 4096" : `2^${Math.log2(end)}`})`, () => {
      const a = topRegion();
      const t0 = performance.now();
      const error = expectRejected(a, () => a.extendRegion(end), "INVALID_ARGUMENT");
      expect(performance.now() - t0).toBeLessThan(250);
      expect(error.message).toMatch(/metadata/);
    });
  }

  it("inStorage with a huge length, before touching the storage", () => {
    const pages = BuddyAllocator.storagePages({}, 0, 1 << 20);
    const storage = pageStorageIn(new ArrayBuffer(pageStorageBytes(pages, 20)), 0, pages, 20);
    const before = new Uint8Array(storage.state);
    for (const length of [2 ** 52, 2 ** 46, 2 ** 53 - 2 ** 20]) {
      const t0 = performance.now();
      const error = expectCode(
        () => BuddyAllocator.inStorage({}, 0, length, storage, true),
        "INVALID_ARGUMENT",
      );
      expect(performance.now() - t0).toBeLessThan(250);
      expect(error.message).toMatch(/metadata/);
    }
    expect(storage.state).toEqual(before);
  });

  it("too many sections with small sections, before building any list", () => {
    const a = new BuddyAllocator({ pageSize: 1, maxOrder: 0, sectionOrder: 0 });
    a.addRegion(0, 4096);
    const t0 = performance.now();
    const error = expectRejected(a, () => a.addRegion(2 ** 40, 2 ** 24 + 1), "INVALID_ARGUMENT");
    expect(error.message).toMatch(/sections of metadata/);
    expectRejected(a, () => a.extendRegion(2 ** 24 + 2), "INVALID_ARGUMENT");
    expect(performance.now() - t0).toBeLessThan(250);
  });
});

describe("messages", () => {
  function messageOf(fn: () => unknown, code: AllocErrorCode = "INVALID_ARGUMENT"): string {
    return expectCode(fn, code).message;
  }

  it("show counts, orders and tags in decimal, addresses in hex", () => {
    const { a, live } = busy();
    expect(messageOf(() => a.allocPages(5000))).toBe("count must be an integer in 1..1024, got 5000");
    expect(messageOf(() => a.allocOrder(4100))).toBe("order must be an integer in 0..10, got 4100");
    expect(messageOf(() => a.setTag(live, 70000))).toBe("tag must be an integer in 0..65535, got 70000");
    expect(messageOf(() => a.free(0x12345000), "NOT_ALLOCATED")).toBe(
      "free: address 0x12345000 is outside every region",
    );
    expect(messageOf(() => a.free(live + PAGE), "NOT_ALLOCATED")).toBe(
      `free: address 0x${(live + PAGE).toString(16)} is inside the block at 0x${live.toString(16)} (interior pointer)`,
    );
  });

  it("name what they got: BigInts with n, arrays and typed arrays by length, long strings cut", () => {
    const { a } = busy();
    expect(messageOf(() => a.allocPages(1n as Any))).toMatch(/got 1n$/);
    expect(messageOf(() => a.allocPages([] as Any))).toMatch(/got an empty array$/);
    expect(messageOf(() => a.free(new Uint8Array(1 << 20) as Any))).toBe(
      "free: address must be a safe non-negative integer, got a Uint8Array of 1048576 elements",
    );
    expect(messageOf(() => a.allocPages(Symbol("n") as Any))).toMatch(/got Symbol\(n\)$/);
    expect(messageOf(() => a.blockAt("x".repeat(1e6) as Any))).toMatch(/got "x{20}…" \(1000000 chars\)$/);
    expect(messageOf(() => new BuddyAllocator(null as Any))).toBe("options must be an object, got null");
    expect(messageOf(() => a.allocPages(1, "str" as Any))).toBe(
      'allocPages: options must be an object, got "str"',
    );
  });
});
