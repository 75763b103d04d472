/**
 * `recover` in one thread. A death is simulated the way the interleaving test does it: the
 * victim's n-th atomic access to the buffer is never executed (an error thrown before it unwinds
 * out of the call, and the handle is never used again). Every cut point of a set of allocations
 * and frees is tried on a copy of the same buffer (a copy is also what saved bytes are: `attach`
 * works on it). After `recover`: check() passes, exactly the expected blocks are allocated (an
 * allocation in flight is undone, a free in flight finished once it took its block), and once
 * they are freed every top-order block can be allocated. Also: bad ids are rejected with nothing
 * changed, and recovering an idle thread changes nothing but its record.
 */
import { describe, expect, it } from "vitest";
import { RECORD_SLOTS, RECORD_STRIDE, RECORDS_WORD, TREE_WORD } from "../../src/concurrent/layout.js";
import { AllocError, ConcurrentBuddy } from "../../src/index.js";

const NAMES = ["load", "store", "compareExchange", "exchange", "add", "sub", "and", "or", "xor"] as const;

class Death extends Error {}

/**
 * Runs `fn` with every atomic access to `buffer` counted; the n-th (n >= 1) throws Death instead
 * of running. @returns how many accesses `fn` made, or -1 when it died.
 */
function cutAt(buffer: SharedArrayBuffer, n: number, fn: () => void): number {
  const saved = NAMES.map((name) => Atomics[name]);
  let count = 0;
  NAMES.forEach((name, i) => {
    const original = saved[i] as (...args: unknown[]) => number;
    (Atomics as unknown as Record<string, unknown>)[name] = (array: Int32Array, ...rest: unknown[]) => {
      if (array.buffer === buffer && ++count === n) throw new Death();
      return original.call(Atomics, array, ...rest);
    };
  });
  try {
    fn();
    return count;
  } catch (e) {
    if (e instanceof Death) return -1;
    throw e;
  } finally {
    NAMES.forEach((name, i) => {
      (Atomics as unknown as Record<string, unknown>)[name] = saved[i];
    });
  }
}

function copyOf(buffer: SharedArrayBuffer): SharedArrayBuffer {
  const copy = new SharedArrayBuffer(buffer.byteLength);
  new Uint8Array(copy).set(new Uint8Array(buffer));
  return copy;
}

function allocated(a: ConcurrentBuddy): number[] {
  return [...a.allocatedBlocks()].map((b) => b.address);
}

/** Frees every block, then allocates and frees every top-order block. */
function expectWhole(a: ConcurrentBuddy, at: string): void {
  for (const p of allocated(a)) a.free(p);
  a.check();
  expect(a.stats().freePages, at).toBe(a.pages);
  const tops: number[] = [];
  for (let r = 0; r < Math.floor(a.pages / 2 ** a.maxOrder); r++) {
    const p = a.allocOrder(a.maxOrder);
    expect(p, `${at}: top-order block ${r}`).not.toBeNull();
    tops.push(p!);
  }
  for (const p of tops) a.free(p);
}

/** A pool of 200 pages (a phantom tail) with live blocks of several orders, some freed between. */
function busy(variant: "packed" | "node", seed: number): { a: ConcurrentBuddy; live: number[] } {
  const a = ConcurrentBuddy.create({ size: 200 * 64, pageSize: 64, maxOrder: 6, variant, threadId: 1 });
  let x = seed;
  const random = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const live: number[] = [];
  for (let i = 0; i < 40; i++) {
    if (live.length > 0 && random(3) === 0) a.free(live.splice(random(live.length), 1)[0]);
    else {
      const p = a.allocOrder(random(4));
      if (p !== null) live.push(p);
    }
  }
  return { a, live };
}

describe.each(["packed", "node"] as const)("recover (%s tree)", (variant) => {
  it("finishes or undoes an operation cut at any atomic step", () => {
    const seen = { none: 0, alloc: 0, free: 0 };
    for (let seed = 1; seed <= 12; seed++) {
      const { a, live } = busy(variant, seed * 2654435761);
      const ops: [string, number, (h: ConcurrentBuddy) => void][] = [];
      for (const k of [0, 1, 3, 6]) ops.push([`allocOrder(${k})`, -1, (h) => void h.allocOrder(k)]);
      for (const p of live.slice(0, 4)) ops.push([`free(${p})`, p, (h) => h.free(p)]);
      for (const [name, freed, op] of ops) {
        const probe = copyOf(a.buffer);
        const counted = ConcurrentBuddy.attach(probe, { threadId: 7 });
        const steps = cutAt(probe, 0, () => op(counted));
        for (let n = 1; n <= steps; n++) {
          const at = `seed ${seed}, ${name} cut at step ${n} of ${steps}`;
          const copy = copyOf(a.buffer);
          const victim = ConcurrentBuddy.attach(copy, { threadId: 7 });
          expect(
            cutAt(copy, n, () => op(victim)),
            at,
          ).toBe(-1);
          // The saved bytes of a dead run: recoverAll from a new handle gives the same result.
          const saved = ConcurrentBuddy.attach(copyOf(copy), { threadId: 9 });
          const survivor = ConcurrentBuddy.attach(copy, { threadId: 8 });
          const found = survivor.recover(7);
          seen[found]++;
          survivor.check();
          // A free takes its block at its first atomic step (the exchange) and is over before its
          // last (the release counter): in between, recover finishes it.
          const gone = freed >= 0 && n > 1;
          const expected = freed < 0 ? found : n > 1 && n < steps ? "free" : "none";
          expect(found, at).toBe(expected);
          if (freed < 0) expect(["none", "alloc"], at).toContain(found);
          expect(allocated(survivor), at).toEqual(
            [...live].filter((p) => !(gone && p === freed)).sort((x, y) => x - y),
          );
          expect(() => survivor.recover(7), at).toThrow(/no handle of thread 7/);
          saved.recoverAll();
          saved.check();
          expect(allocated(saved), at).toEqual(allocated(survivor));
          expectWhole(survivor, at);
        }
      }
    }
    expect(seen.alloc).toBeGreaterThan(0);
    expect(seen.free).toBeGreaterThan(0);
  });

  it("recovering an idle thread changes nothing but frees its record", () => {
    const { a } = busy(variant, 99);
    const b = ConcurrentBuddy.attach(a.buffer, { threadId: 5 });
    const p = b.alloc(3)!;
    b.free(b.alloc(1)!);
    const before = new Uint8Array(a.buffer).slice();
    expect(a.recover(5)).toBe("none");
    const after = new Uint8Array(a.buffer);
    const records = [RECORDS_WORD * 4, (RECORDS_WORD + RECORD_SLOTS * RECORD_STRIDE) * 4];
    const changed: number[] = [];
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed.push(i);
    expect(changed.every((i) => i >= records[0] && i < records[1])).toBe(true);
    expect(changed.length).toBeGreaterThan(0);
    expect(records[1]).toBe(TREE_WORD * 4);
    a.check();
    // Its blocks stay allocated; the id is free for a new handle.
    expect(allocated(a)).toContain(p);
    expect(() => a.recover(5)).toThrow(AllocError);
    const c = ConcurrentBuddy.attach(a.buffer, { threadId: 5 });
    expect(a.recover(c.threadId)).toBe("none");
  });
});

describe("recover: ids it refuses, with nothing changed", () => {
  function rejects(a: ConcurrentBuddy, id: number, message: RegExp): void {
    const before = new Uint8Array(a.buffer).slice();
    let caught: unknown;
    try {
      a.recover(id);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AllocError);
    expect((caught as AllocError).code).toBe("INVALID_ARGUMENT");
    expect((caught as AllocError).message).toMatch(message);
    expect((caught as AllocError).message).toContain(String(id));
    expect(new Uint8Array(a.buffer).some((byte, i) => byte !== before[i])).toBe(false);
  }

  it("its own id, an id no handle holds, an id two handles hold, 2^31", () => {
    const a = ConcurrentBuddy.create({ size: 64 * 4096, maxOrder: 6, threadId: 3 });
    a.alloc(2);
    rejects(a, 3, /own/);
    rejects(a, 4, /no handle/);
    ConcurrentBuddy.attach(a.buffer, { threadId: 6 });
    ConcurrentBuddy.attach(a.buffer, { threadId: 6 });
    rejects(a, 6, /several/);
    rejects(a, 2 ** 31, /integer/);
  });

  it("handles beyond the record slots work but cannot be recovered", () => {
    const a = ConcurrentBuddy.create({ size: 64 * 4096, maxOrder: 6, threadId: 0 });
    const handles = Array.from({ length: RECORD_SLOTS }, (_, i) =>
      ConcurrentBuddy.attach(a.buffer, { threadId: 100 + i }),
    );
    const last = handles[RECORD_SLOTS - 1];
    last.free(last.alloc(1)!);
    a.check();
    rejects(a, last.threadId, /no handle/);
    expect(a.recover(100)).toBe("none");
    // A freed slot is taken by the next handle.
    const next = ConcurrentBuddy.attach(a.buffer, { threadId: 500 });
    expect(a.recover(next.threadId)).toBe("none");
  });
});
