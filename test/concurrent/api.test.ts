/** ConcurrentBuddy's surface, one thread: creation and attach rules, errors, defaults, inspection. */
import { describe, expect, it } from "vitest";
import { AllocError, type AllocErrorCode, ConcurrentBuddy } from "../../src/index.js";
import { maximalBlocks } from "./helpers.js";

function codeOf(fn: () => unknown): AllocErrorCode | "none" {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AllocError);
    return (error as AllocError).code;
  }
  return "none";
}

describe("ConcurrentBuddy.create", () => {
  it("rejects bad options", () => {
    const bad: unknown[] = [
      undefined,
      {},
      { size: 0 },
      { size: -4096 },
      { size: 4096.5 },
      { size: 5000 },
      { size: 4096, pageSize: 3000 },
      { size: 4096, pageSize: 0 },
      { size: 4096, maxOrder: -1 },
      { size: 4096, maxOrder: 31 },
      { size: 4096, maxOrder: 1.5 },
      { size: 4096, threadId: -1 },
      { size: 4096, threadId: 2 ** 31 },
      { size: 4096, threadId: 0.5 },
      { size: 2 ** 28, pageSize: 1 },
      { size: 4096, maxOrder: 1 },
      { size: 4096 * 5, maxOrder: 4 },
      { size: 4096, variant: "bits" },
    ];
    for (const options of bad) {
      expect(
        codeOf(() => ConcurrentBuddy.create(options as never)),
        JSON.stringify(options),
      ).toBe("INVALID_ARGUMENT");
    }
  });

  it("defaults: 4 KiB pages, the largest order that fits (at most 20), one free tree", () => {
    const a = ConcurrentBuddy.create({ size: 4096 * 1024 });
    expect([a.pageSize, a.maxOrder, a.pages, a.size]).toEqual([4096, 10, 1024, 4096 * 1024]);
    expect([...a.freeBlocks()]).toEqual([{ address: 0, order: 10 }]);
    expect(ConcurrentBuddy.create({ size: 2 ** 24, pageSize: 1 }).maxOrder).toBe(20);
    expect(ConcurrentBuddy.create({ size: 3 * 4096 }).maxOrder).toBe(1);
    expect(ConcurrentBuddy.create({ size: 5 * 4096, maxOrder: 3 }).roots).toBe(1);
    const s = a.stats();
    expect(s.metadataBytes).toBe(a.buffer.byteLength);
    expect(s.metadataBytes).toBeLessThan(4096 + 64 + 1024 * 9 + 8);
  });

  it("a size that is not a multiple of the top block: the tail is never handed out", () => {
    const a = ConcurrentBuddy.create({ size: 16 * 37, pageSize: 16, maxOrder: 3 });
    expect([...a.freeBlocks()]).toEqual(maximalBlocks(0, 37, 3, 16));
    const got: number[] = [];
    for (let p = a.alloc(1); p !== null; p = a.alloc(1)) got.push(p);
    expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 37 }, (_, i) => i * 16));
    expect(a.stats().freePages).toBe(0);
    a.check();
  });
});

describe("ConcurrentBuddy.attach", () => {
  it("shares the state of the creating handle", () => {
    const a = ConcurrentBuddy.create({ size: 4096 * 64, maxOrder: 6, threadId: 3 });
    const b = ConcurrentBuddy.attach(a.buffer, { threadId: 4 });
    expect([b.pageSize, b.maxOrder, b.pages, b.threadId, a.threadId]).toEqual([4096, 6, 64, 4, 3]);
    const x = b.alloc(8)!;
    expect([...a.allocatedBlocks()]).toEqual([{ address: x, order: 3 }]);
    a.free(x);
    expect(codeOf(() => b.free(x))).toBe("NOT_ALLOCATED");
    expect([...b.freeBlocks()]).toEqual([{ address: 0, order: 6 }]);
  });

  it("hands out distinct automatic thread ids", () => {
    const a = ConcurrentBuddy.create({ size: 4096 * 64 });
    const ids = [a.threadId, ...Array.from({ length: 5 }, () => ConcurrentBuddy.attach(a.buffer).threadId)];
    expect(new Set(ids).size).toBe(6);
  });

  it("rejects what is not a ConcurrentBuddy buffer", () => {
    expect(codeOf(() => ConcurrentBuddy.attach(new ArrayBuffer(8192) as never))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => ConcurrentBuddy.attach(new SharedArrayBuffer(16)))).toBe("CORRUPT");
    expect(codeOf(() => ConcurrentBuddy.attach(new SharedArrayBuffer(8192)))).toBe("CORRUPT");
    const a = ConcurrentBuddy.create({ size: 4096 * 64 });
    expect(codeOf(() => ConcurrentBuddy.attach(a.buffer, { threadId: -2 }))).toBe("INVALID_ARGUMENT");
    const copy = new SharedArrayBuffer(a.buffer.byteLength);
    new Uint8Array(copy).set(new Uint8Array(a.buffer));
    new Int32Array(copy)[4] = 65; // pages no longer match the roots and node count
    expect(codeOf(() => ConcurrentBuddy.attach(copy))).toBe("CORRUPT");
  });
});

describe("free and check", () => {
  it("names the mistake: double free, interior pointer, outside, non-address", () => {
    const a = ConcurrentBuddy.create({ size: 4096 * 64, maxOrder: 6 });
    const x = a.alloc(4)!;
    expect(() => a.free(x + 4096)).toThrow(/interior pointer/);
    expect(() => a.free(4096 * 64)).toThrow(/outside/);
    expect(() => a.free(x + 1)).toThrow(/interior pointer/);
    a.free(x);
    expect(() => a.free(x)).toThrow(/double free/);
    expect(codeOf(() => a.free(-1))).toBe("INVALID_ARGUMENT");
  });

  for (const variant of ["packed", "node"] as const) {
    it(`check() reports a damaged tree or order index as CORRUPT (${variant})`, () => {
      const a = ConcurrentBuddy.create({ size: 4096 * 64, maxOrder: 6, variant });
      expect(a.variant).toBe(variant);
      const x = a.alloc(2)!;
      a.check();
      a.orderIndex[x / 4096] = 3;
      expect(codeOf(() => a.check())).toBe("CORRUPT");
      a.orderIndex[x / 4096] = 2;
      a.check();
      a.orderIndex[63] = 1;
      expect(codeOf(() => a.check())).toBe("CORRUPT");
      a.orderIndex[63] = 0;
      a.orderIndex[62] = 3; // order 2 at page 62: runs past the end
      expect(codeOf(() => a.check())).toBe("CORRUPT");
      a.orderIndex[62] = 0;
      const words = a.tree.words;
      const top = words.length - 1;
      const saved = words[top];
      words[top] = 0; // the top word no longer shows the allocation
      expect(codeOf(() => a.check())).toBe("CORRUPT");
      words[top] = saved;
      words[0] ^= 4;
      expect(codeOf(() => a.check())).toBe("CORRUPT");
      words[0] ^= 4;
      a.check();
      a.free(x);
      a.check();
    });
  }
});

describe("names shared with the other allocators", () => {
  it("open and allocPages; attach and alloc stay as deprecated aliases of them", () => {
    const c = ConcurrentBuddy.create({ size: 16 * 4096, threadId: 0 });
    const opened = ConcurrentBuddy.open(c.buffer, { threadId: 1, verify: true });
    const attached = ConcurrentBuddy.attach(c.buffer, { threadId: 2 });
    const a = opened.allocPages(3);
    expect(a).not.toBeNull();
    expect(c.allocatedBlocks().next().value).toEqual({ address: a, order: 2 });
    const b = attached.alloc(3);
    expect(b).not.toBeNull();
    expect(b).not.toBe(a);
    attached.free(a!);
    opened.free(b!);
    expect(c.stats().allocatedBytes).toBe(0);
    expect(codeOf(() => opened.allocPages(0))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => ConcurrentBuddy.open(c.buffer, { verify: 1 as never }))).toBe("INVALID_ARGUMENT");
    c.check();
  });
});
