import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { showCount } from "../../src/errors.js";
import { AllocError } from "../../src/index.js";
import { orderForPages, pow2 } from "../../src/page/order.js";
import { orderOfCount } from "../../src/page/validate.js";

/** ceil(log2 count) by doubling, the definition the fast path must match. */
function referenceOrder(count: number): number {
  let order = 0;
  while (2 ** order < count) order++;
  return order;
}

describe("orderOfCount", () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 0, max: 31 })])(
    "is ceil(log2 count) for every count up to 2^maxOrder, and refuses larger ones",
    (count, maxOrder) => {
      const order = referenceOrder(count);
      if (order <= maxOrder) expect(orderOfCount(count, maxOrder)).toBe(order);
      else expect(() => orderOfCount(count, maxOrder)).toThrowError(AllocError);
    },
  );

  it("handles the edges of the integer fast path", () => {
    expect(orderOfCount(1, 0)).toBe(0);
    expect(orderOfCount(2 ** 30, 30)).toBe(30);
    expect(orderOfCount(2 ** 30 + 1, 31)).toBe(31);
    expect(orderOfCount(2 ** 31 - 1, 31)).toBe(31);
    expect(orderOfCount(2 ** 31, 31)).toBe(31); // not an int32, but a uint32: still the integer path
    expect(orderOfCount(2 ** 40, 40)).toBe(40);
    expect(orderOfCount(2 ** 40 + 1, 41)).toBe(41);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 20 + 1, -(2 ** 31), 2 ** 32 + 1])(
    "refuses %s with INVALID_ARGUMENT naming the value",
    (count) => {
      expect(() => orderOfCount(count, 20)).toThrowError(
        expect.objectContaining({
          code: "INVALID_ARGUMENT",
          message: expect.stringContaining(`got ${showCount(count)}`),
        }),
      );
    },
  );

  it("refuses a count that is not a number", () => {
    expect(() => orderOfCount("4" as unknown as number, 20)).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});

describe("orderForPages and pow2", () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 45 })])(
    "orderForPages is ceil(log2 pages) on both paths",
    (pages) => {
      expect(orderForPages(pages)).toBe(referenceOrder(pages));
    },
  );

  it("pow2(k) is 2^k exactly for k in 0..63", () => {
    for (let k = 0; k < 64; k++) expect(pow2(k)).toBe(2 ** k);
  });
});
