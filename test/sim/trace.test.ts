/** The trace format: parsing, its errors with line numbers, and formatting back. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AllocError } from "../../src/errors.js";
import { OP_ALLOC, OP_FREE, OpListBuilder } from "../../src/sim/ops.js";
import { formatTrace, parseTrace, TRACE_HEADER, TraceError } from "../../src/sim/trace.js";

function lineOf(text: string): number {
  try {
    parseTrace(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AllocError);
    expect((error as AllocError).code).toBe("BAD_TRACE");
    expect((error as Error).message).toMatch(/^line \d+: /);
    expect(error).toBeInstanceOf(TraceError); // the deprecated subclass, for `line`
    return (error as TraceError).line;
  }
  throw new Error("parsed without error");
}

describe("parseTrace", () => {
  it("reads allocations, frees, tags, comments, blank lines, CRLF and the long forms", () => {
    const ops = parseTrace(
      `${TRACE_HEADER}\n\na x 100\r\nalloc y 4096 7\n  # a comment\nf x\nfree y\na x 8\n`,
    );
    expect(ops.length).toBe(5);
    expect([...ops.kind]).toEqual([OP_ALLOC, OP_ALLOC, OP_FREE, OP_FREE, OP_ALLOC]);
    expect([...ops.size]).toEqual([100, 4096, 0, 0, 8]);
    expect([...ops.tag]).toEqual([0, 7, 0, 0, 0]);
    // x and y get slots 0 and 1; a name reused after its free may reuse a freed slot.
    expect(ops.slot[2]).toBe(ops.slot[0]);
    expect(ops.slot[3]).toBe(ops.slot[1]);
    expect(ops.slots).toBe(2);
  });

  it("accepts an empty trace", () => {
    expect(parseTrace("").length).toBe(0);
    expect(parseTrace("# nothing\n").length).toBe(0);
  });

  it.each([
    ["a 1 10\nb 2\n", 2, "unknown operation"],
    ["a 1\n", 1, 'expected "a ID SIZE [TAG]"'],
    ["a 1 0\n", 1, "SIZE must be"],
    ["a 1 -5\n", 1, "SIZE must be"],
    ["a 1 1.5\n", 1, "SIZE must be"],
    ["a 1 12abc\n", 1, "SIZE must be"],
    ["a 1 99999999999999999\n", 1, "SIZE must be"],
    ["a 1 10 70000\n", 1, "TAG must be"],
    ["a 1 10 x\n", 1, "TAG must be"],
    ["a 1 10 2 3\n", 1, 'expected "a ID SIZE [TAG]"'],
    ["a b/c 10\n", 1, "ID must be"],
    ["# header\na 1 10\na 1 20\n", 3, "allocated again"],
    ["a 1 10\nf 2\n", 2, "not allocated"],
    ["a 1 10\nf 1\nf 1\n", 3, "not allocated"],
    ["a 1 10\nf 1 extra\n", 2, 'expected "f ID"'],
  ])("reports %j at line %i", (text, line, words) => {
    expect(lineOf(text)).toBe(line);
    expect(() => parseTrace(text)).toThrow(words);
    expect(() => parseTrace(text)).toThrow(`line ${line}:`);
  });
});

describe("formatTrace", () => {
  it("writes the header and one line per operation", () => {
    const b = new OpListBuilder();
    b.alloc(0, 4096, 3);
    b.alloc(1, 10);
    b.free(0);
    expect(formatTrace(b.build())).toBe(`${TRACE_HEADER}\na 0 4096 3\na 1 10\nf 0\n`);
  });

  it("round-trips any valid operation list through text", () => {
    // A random program: allocate into fresh names, free live ones.
    const step = fc.oneof(
      fc.record({ alloc: fc.integer({ min: 1, max: 1 << 20 }), tag: fc.integer({ min: 0, max: 65535 }) }),
      fc.record({ free: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const b = new OpListBuilder();
        const live: number[] = [];
        let next = 0;
        for (const s of steps) {
          if ("alloc" in s) {
            b.alloc(next, s.alloc, s.tag);
            live.push(next++);
          } else if (live.length > 0) {
            b.free(live.splice(s.free % live.length, 1)[0]);
          }
        }
        const ops = b.build();
        const again = parseTrace(formatTrace(ops));
        expect(again.length).toBe(ops.length);
        expect([...again.kind]).toEqual([...ops.kind]);
        expect([...again.size]).toEqual([...ops.size]);
        expect([...again.tag]).toEqual([...ops.tag]);
        // Same pairing of frees with allocations, whatever the slot numbers.
        expect(formatTrace(parseTrace(formatTrace(again)))).toBe(formatTrace(again));
      }),
      { numRuns: 60 },
    );
  });
});

describe("the documented example", () => {
  it("docs/trace-format.md's example trace parses", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "docs", "trace-format.md"), "utf8");
    const example = readme.split("Example (`steps.trace`):")[1].split("```")[1];
    const ops = parseTrace(example);
    expect(ops.length).toBe(6);
    expect([...ops.tag.slice(0, 3)]).toEqual([1, 2, 3]);
  });
});
