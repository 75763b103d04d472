/**
 * The hot paths' const-enum copies of layout names (slabs.ts, slab-lists.ts, stretches.ts: they
 * compile to literals) equal the names in layout.ts and size-classes.ts.
 */
import { describe, expect, it } from "vitest";
import {
  SIDE_NEXT,
  SIDE_OWNER,
  SIDE_PREV,
  SIDE_SHIFT,
  SIDE_SIZE,
  SIDE_WORDS,
} from "../../src/heap/layout.js";
import { T_BITMAP } from "../../src/heap/size-classes.js";
import * as lists from "../../src/heap/slab-lists.js";
import * as slabs from "../../src/heap/slabs.js";
import * as stretches from "../../src/heap/stretches.js";

describe("layout names", () => {
  it("the hot paths' copies equal layout.ts's and size-classes.ts's", () => {
    expect(2 ** SIDE_SHIFT).toBe(SIDE_WORDS);
    for (const m of [slabs, lists, stretches]) {
      expect([m.Side.OWNER, m.Side.SIZE, m.Side.NEXT, m.Side.PREV]).toEqual([
        SIDE_OWNER,
        SIDE_SIZE,
        SIDE_NEXT,
        SIDE_PREV,
      ]);
      expect(m.SideShift.PAGE).toBe(SIDE_SHIFT);
      expect(m.TrailerWord.BITMAP).toBe(T_BITMAP);
    }
  });
});
