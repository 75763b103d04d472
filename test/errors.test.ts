/**
 * How error messages show values (src/errors.ts): counts in decimal, addresses in hex, anything
 * else described in at most MAX_SHOWN characters without running the value's code.
 */
import { describe, expect, it } from "vitest";
import { MAX_SHOWN, show, showAddress, showCount } from "../src/errors.js";

/** An object whose conversions and `name`/`length`/`constructor` getters count themselves and throw. */
function hostile(base: object = {}): { value: object; calls: () => number } {
  let calls = 0;
  const fail = () => {
    calls++;
    throw new Error("user code ran");
  };
  const value = base;
  for (const key of ["valueOf", "toString", "toJSON", Symbol.toPrimitive]) {
    Object.defineProperty(value, key, { value: fail });
  }
  for (const key of ["name", "length", "constructor", "description", "byteLength", Symbol.toStringTag]) {
    try {
      Object.defineProperty(value, key, { get: fail, configurable: true });
    } catch {
      // not configurable (a function's length is; an array's length is not)
    }
  }
  return { value, calls: () => calls };
}

describe("showCount and showAddress", () => {
  it("numbers: counts in decimal, addresses in hex from 4096", () => {
    expect(showCount(5000)).toBe("5000");
    expect(showCount(2 ** 40)).toBe("1099511627776");
    expect(showAddress(0x10000)).toBe("0x10000");
    expect(showAddress(4096)).toBe("0x1000");
    expect(showAddress(4095)).toBe("4095");
    expect(showAddress(2 ** 53)).toBe("9007199254740992"); // not a safe integer: not an address
    for (const f of [showCount, showAddress]) {
      expect(f(-1)).toBe("-1");
      expect(f(1.5)).toBe("1.5");
      expect(f(-0)).toBe("-0");
      expect(f(Number.NaN)).toBe("NaN");
      expect(f(Number.NEGATIVE_INFINITY)).toBe("-Infinity");
    }
    expect(show(5000)).toBe("0x1388"); // `show` keeps formatting numbers as addresses
  });

  it("other primitives", () => {
    expect(showCount(1n)).toBe("1n");
    expect(showCount(-(2n ** 64n))).toBe("-18446744073709551616n");
    expect(showCount(10n ** 100n)).toBe("a BigInt of more than 40 digits");
    expect(showCount(Symbol("k"))).toBe("Symbol(k)");
    expect(showCount(Symbol())).toBe("Symbol()");
    expect(showCount(Symbol("s".repeat(500)))).toBe(`Symbol(${"s".repeat(20)}…)`);
    expect(showCount("4")).toBe('"4"');
    expect(showCount("")).toBe('""');
    expect(showCount('a"\n')).toBe('"a\\"\\n"');
    expect(showCount("y".repeat(2e6))).toBe(`"${"y".repeat(20)}…" (2000000 chars)`);
    expect(showCount(null)).toBe("null");
    expect(showCount(undefined)).toBe("undefined");
    expect(showCount(false)).toBe("false");
  });

  it("objects by kind and size", () => {
    expect(showCount([])).toBe("an empty array");
    expect(showCount([1])).toBe("an array of 1 item");
    expect(showCount(new Array(1e6))).toBe("an array of 1000000 items");
    expect(showCount(new Uint8Array(1 << 20))).toBe("a Uint8Array of 1048576 elements");
    expect(showCount(new Int32Array(3))).toBe("an Int32Array of 3 elements");
    expect(showCount(new BigInt64Array(2))).toBe("a BigInt64Array of 2 elements");
    expect(showCount(new DataView(new ArrayBuffer(12)))).toBe("a DataView of 12 bytes");
    expect(showCount(new ArrayBuffer(16))).toBe("an ArrayBuffer of 16 bytes");
    expect(showCount(new SharedArrayBuffer(8))).toBe("a SharedArrayBuffer of 8 bytes");
    expect(showCount(Object.create(ArrayBuffer.prototype))).toBe("an ArrayBuffer"); // an impostor
    expect(showCount({})).toBe("an object");
    expect(showCount(Object.create(null))).toBe("an object with no prototype");
    expect(showCount(new Map())).toBe("a Map");
    expect(showCount(new (class Options {})())).toBe("an Options");
    expect(showCount(function named() {})).toBe("function named");
    expect(showCount(() => 1)).toBe("an anonymous function");
  });

  it("never runs the value's code, and caps its length", () => {
    const cases = [
      hostile(),
      hostile([1, 2]),
      hostile(new Uint8Array(4)),
      hostile(new ArrayBuffer(4)),
      hostile(() => 1),
      hostile(new Date(0)),
      hostile(new (class VeryLongClassNameThatGoesOnAndOnAndOnForeverAndEver {})()),
    ];
    for (const { value, calls } of cases) {
      for (const f of [show, showCount, showAddress]) {
        const text = f(value);
        expect(text.length).toBeLessThanOrEqual(MAX_SHOWN);
        expect(text).not.toMatch(/user code/);
      }
      expect(calls()).toBe(0);
    }
    expect(showCount(hostile([1, 2]).value)).toBe("an array of 2 items");
    expect(showCount(hostile(new Uint8Array(4)).value)).toBe("a Uint8Array of 4 elements");
    expect(showCount(new (class VeryLongClassNameThatGoesOnAndOnAndOnForeverAndEver {})())).toBe(
      "a VeryLongClassNameTha…",
    );
  });

  it("a Proxy whose traps throw is 'an object', not an exception", () => {
    const trapped = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    expect(showCount(trapped)).toBe("an object");
    const revocable = Proxy.revocable([], {});
    revocable.revoke();
    expect(showCount(revocable.proxy)).toBe("an object");
  });
});
