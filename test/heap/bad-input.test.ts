/**
 * Bad input to every public Heap method, table-driven: each bad value in each argument position
 * must throw an AllocError of the right code with a short message, run none of the caller's code
 * (no valueOf, toString or Symbol.toPrimitive), and leave the heap exactly as it was (every byte
 * of its buffer, its stats and live allocations, and check() passing). Then the pointer rule
 * (INVALID_ARGUMENT for a non-pointer, NOT_ALLOCATED for a pointer that is not live), allocArray
 * with bad or throwing constructors (nothing leaks), and free of a view over another buffer.
 */
import { describe, expect, it } from "vitest";
import { AllocError, type AllocErrorCode, Heap } from "../../src/index.js";
import { expectCode } from "./helpers.js";

const KiB = 1024;
const MiB = 1 << 20;

/** Calls of user code the heap must never make. */
let userCalls = 0;
const spy = (what: string) => () => {
  userCalls++;
  throw new Error(`the heap called ${what}`);
};

/** The bad values, by name. Objects come fresh from a factory so each call sees a new one. */
const huge = new Float64Array(MiB); // a message must not print its elements
const BAD: Record<string, () => unknown> = {
  bigint: () => 16n,
  symbol: () => Symbol("s"),
  null: () => null,
  undefined: () => undefined,
  string: () => "16",
  "long string": () => "x".repeat(10_000),
  "throwing valueOf": () => ({ valueOf: spy("valueOf"), toString: spy("toString") }),
  "throwing toPrimitive": () => ({ [Symbol.toPrimitive]: spy("Symbol.toPrimitive") }),
  NaN: () => Number.NaN,
  "-1": () => -1,
  "1.5": () => 1.5,
  Infinity: () => Number.POSITIVE_INFINITY,
  "2^53": () => 2 ** 53,
  array: () => [16],
  "huge typed array": () => huge,
  "plain object": () => ({}),
  function: () => () => 16,
  boolean: () => true,
};

/** A populated heap, and what must not change. */
function populated(memory: ArrayBuffer | SharedArrayBuffer = new ArrayBuffer(2 * MiB)) {
  const heap = new Heap(memory);
  const ptrs: number[] = [];
  for (let i = 0; i < 200; i++) ptrs.push(heap.malloc((i * 37) % 3000)!);
  ptrs.push(heap.malloc(40 * KiB)!);
  for (let i = 0; i < ptrs.length; i += 3) heap.free(ptrs[i]);
  const live = ptrs.filter((_, i) => i % 3 !== 0);
  return { heap, live };
}

function snapshot(heap: Heap) {
  return {
    bytes: new Uint8Array(heap.buffer).slice(),
    stats: heap.stats(),
    live: [...heap.liveAllocations()],
  };
}

function expectUnchanged(heap: Heap, before: ReturnType<typeof snapshot>, what: string): void {
  const after = snapshot(heap);
  expect(after.stats, what).toEqual(before.stats);
  expect(after.live, what).toEqual(before.live);
  const i = after.bytes.findIndex((b, k) => b !== before.bytes[k]);
  expect(i, `${what}: byte ${i} changed`).toBe(-1);
  heap.check();
}

/** Runs `f`, expecting an AllocError of `code` with a short message that dumps nothing. */
function expectRefused(f: () => unknown, code: AllocErrorCode, what: string): void {
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(
    thrown,
    `${what}: expected AllocError ${code}, got ${String((thrown as Error)?.name)}`,
  ).toBeInstanceOf(AllocError);
  const e = thrown as AllocError;
  expect(e.code, `${what}: ${e.message}`).toBe(code);
  expect(e.message.length, `${what}: message too long: ${e.message.slice(0, 300)}`).toBeLessThanOrEqual(200);
  expect(e.message, what).not.toMatch(/0,0,0|xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/);
}

type Call = (heap: Heap, v: unknown, live: number[]) => unknown;
/** Every argument position of every public method, with the values that are valid there. */
const POSITIONS: { name: string; call: Call; valid?: string[] }[] = [
  { name: "malloc(v)", call: (h, v) => h.malloc(v as number) },
  { name: "malloc(16, v)", call: (h, v) => h.malloc(16, v as number), valid: ["undefined"] },
  { name: "calloc(v, 8)", call: (h, v) => h.calloc(v as number, 8) },
  { name: "calloc(8, v)", call: (h, v) => h.calloc(8, v as number) },
  { name: "realloc(p, v)", call: (h, v, live) => h.realloc(live[0], v as number) },
  { name: "realloc(v, 16)", call: (h, v) => h.realloc(v as number, 16), valid: ["null"] },
  { name: "free(v)", call: (h, v) => h.free(v as number), valid: ["null"] },
  { name: "usableSize(v)", call: (h, v) => h.usableSize(v as number) },
  { name: "allocArray(v, 4)", call: (h, v) => h.allocArray(v as Float64ArrayConstructor, 4) },
  { name: "allocArray(Float64Array, v)", call: (h, v) => h.allocArray(Float64Array, v as number) },
  { name: "scoped(v)", call: (h, v) => h.scoped(v as number) },
  { name: "scoped(16, v)", call: (h, v) => h.scoped(16, v as number), valid: ["undefined"] },
  { name: "scopedArray(v, 4)", call: (h, v) => h.scopedArray(v as Float64ArrayConstructor, 4) },
  { name: "scopedArray(Int32Array, v)", call: (h, v) => h.scopedArray(Int32Array, v as number) },
  { name: "grow(v)", call: (h, v) => h.grow(v as number) },
  {
    name: "Heap.open(buffer, v)",
    call: (h, v) => Heap.open(h.buffer, v as object),
    valid: ["undefined", "plain object", "throwing valueOf", "throwing toPrimitive", "huge typed array"],
  },
  {
    name: "Heap.open(buffer, { start: v })",
    call: (h, v) => Heap.open(h.buffer, { start: v as number }),
    valid: ["undefined"],
  },
  {
    name: "Heap.open(buffer, { verify: v })",
    call: (h, v) => Heap.open(h.buffer, { verify: v as boolean }),
    valid: ["undefined", "boolean"],
  },
  { name: "Heap.open(v)", call: (_, v) => Heap.open(v as ArrayBuffer) },
];

/** The constructor writes a heap into its memory: these run on a scratch buffer that must stay zero. */
const CONSTRUCTOR: { name: string; call: (memory: ArrayBuffer, v: unknown) => unknown; valid?: string[] }[] =
  [
    { name: "new Heap(v)", call: (_, v) => new Heap(v as ArrayBuffer) },
    {
      name: "new Heap(memory, v)",
      call: (m, v) => new Heap(m, v as object),
      valid: ["undefined", "plain object", "throwing valueOf", "throwing toPrimitive", "huge typed array"],
    },
    ...(["start", "length", "maxLength", "pageSize", "minAlign"] as const).map((option) => ({
      name: `new Heap(memory, { ${option}: v })`,
      call: (m: ArrayBuffer, v: unknown) => new Heap(m, { [option]: v }),
      valid: ["undefined"],
    })),
  ];

describe("bad input to every public Heap method", () => {
  it("is an AllocError INVALID_ARGUMENT with a short message, runs no user code and changes nothing", () => {
    const { heap, live } = populated();
    const before = snapshot(heap);
    userCalls = 0;
    let cases = 0;
    for (const { name, call, valid = [] } of POSITIONS) {
      for (const [value, make] of Object.entries(BAD)) {
        if (valid.includes(value)) continue;
        const what = `${name} with ${value}`;
        expectRefused(() => call(heap, make(), live), "INVALID_ARGUMENT", what);
        cases++;
      }
    }
    expectUnchanged(heap, before, "after every bad call");
    const scratch = new ArrayBuffer(MiB);
    for (const { name, call, valid = [] } of CONSTRUCTOR) {
      for (const [value, make] of Object.entries(BAD)) {
        if (valid.includes(value)) continue;
        expectRefused(() => call(scratch, make()), "INVALID_ARGUMENT", `${name} with ${value}`);
        cases++;
      }
    }
    expect(new Uint8Array(scratch).every((b) => b === 0)).toBe(true);
    expect(userCalls).toBe(0);
    expect(cases).toBeGreaterThan(300);
  });

  it("options that throw when read are INVALID_ARGUMENT, and option objects are read once per option", () => {
    const scratch = new ArrayBuffer(MiB);
    const reads: string[] = [];
    const options = new Proxy(
      {},
      {
        get(_, key) {
          reads.push(String(key));
          if (key === "maxLength") throw new Error("getter ran");
          return undefined;
        },
      },
    );
    expectRefused(() => new Heap(scratch, options), "INVALID_ARGUMENT", "throwing getter");
    expect(reads).toEqual(["start", "length", "maxLength"]);
    expect(new Uint8Array(scratch).every((b) => b === 0)).toBe(true);
    expectRefused(() => new Heap(new Proxy(scratch, {})), "INVALID_ARGUMENT", "a Proxy of a buffer");
    expectRefused(
      () => new Heap(Object.create(ArrayBuffer.prototype) as ArrayBuffer),
      "INVALID_ARGUMENT",
      "an object inheriting from ArrayBuffer",
    );
  });

  it("a pointer that is not a safe non-negative integer is INVALID_ARGUMENT; one that is but is not live, NOT_ALLOCATED", () => {
    const { heap, live } = populated();
    const before = snapshot(heap);
    for (const p of [1.5, -16, -1, Number.NaN, undefined, "16", 16n, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expectRefused(() => heap.free(p as number), "INVALID_ARGUMENT", `free(${String(p)})`);
      expectRefused(() => heap.usableSize(p as number), "INVALID_ARGUMENT", `usableSize(${String(p)})`);
      expectRefused(() => heap.realloc(p as number, 8), "INVALID_ARGUMENT", `realloc(${String(p)})`);
    }
    const stranger = [0, 16, 24, live[0] + 16, 2 ** 40, 2 ** 53 - 1, heap.start + heap.length];
    for (const p of stranger) {
      expectRefused(() => heap.free(p), "NOT_ALLOCATED", `free(${p})`);
      expectRefused(() => heap.usableSize(p), "NOT_ALLOCATED", `usableSize(${p})`);
      expectRefused(() => heap.realloc(p, 8), "NOT_ALLOCATED", `realloc(${p})`);
    }
    expect(() => heap.free(null)).not.toThrow();
    expectUnchanged(heap, before, "after the bad pointers");
    const err = (() => {
      try {
        heap.free(2 ** 40);
      } catch (e) {
        return e as AllocError;
      }
    })()!;
    expect(err.message).toMatch(/0x10000000000/); // addresses in hex
    const size = (() => {
      try {
        heap.malloc(3 * MiB);
      } catch (e) {
        return e as AllocError;
      }
    })()!;
    expect(size.message).toMatch(/got 3145728$/); // sizes in decimal
  });
});

describe("allocArray leaks nothing", () => {
  it("refuses a constructor that is not a typed array before allocating", () => {
    const { heap } = populated();
    const before = snapshot(heap);
    const fakes: unknown[] = [
      { BYTES_PER_ELEMENT: 8 },
      DataView,
      Array,
      Object.assign(() => {}, { BYTES_PER_ELEMENT: 8 }),
      new Proxy(Float64Array, {}),
      new Proxy(() => {}, {
        getPrototypeOf: () => {
          throw new Error("trap ran");
        },
      }),
    ];
    for (let i = 0; i < 1000; i++) {
      expectCode(
        () => heap.allocArray(fakes[i % fakes.length] as Float64ArrayConstructor, 100),
        "INVALID_ARGUMENT",
      );
    }
    expectUnchanged(heap, before, "after 1000 fake constructors");
  });

  it("frees the block when a subclass's constructor throws or returns another view", () => {
    const { heap } = populated();
    const before = snapshot(heap);
    const boom = new Error("boom");
    class Throws extends Float64Array {
      constructor(buffer: ArrayBuffer | SharedArrayBuffer, offset: number, length: number) {
        super(buffer as ArrayBuffer, offset, length);
        throw boom;
      }
    }
    class Elsewhere extends Float64Array {
      constructor(_buffer: ArrayBuffer | SharedArrayBuffer, _offset: number, length: number) {
        super(length); // a view over a buffer of its own
      }
    }
    class Shorter extends Uint8Array {
      constructor(buffer: ArrayBuffer | SharedArrayBuffer, offset: number, length: number) {
        super(buffer as ArrayBuffer, offset, length - 1);
      }
    }
    for (let i = 0; i < 1000; i++) {
      let thrown: unknown = null;
      try {
        heap.allocArray(Throws, 100);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(AllocError);
      expect((thrown as AllocError).code).toBe("INVALID_ARGUMENT");
      expect((thrown as Error).cause).toBe(boom);
      expectCode(() => heap.allocArray(Elsewhere, 100), "INVALID_ARGUMENT");
      expectCode(() => heap.allocArray(Shorter, 100), "INVALID_ARGUMENT");
    }
    expectUnchanged(heap, before, "after 3000 failed constructions");
  });

  it("takes a subclass that works, and reads a view's offset through the built-in getter", () => {
    const heap = new Heap(new ArrayBuffer(MiB));
    class Vector extends Float64Array {
      override get byteOffset(): number {
        return 12345; // lies: the heap must not believe it
      }
    }
    const v = heap.allocArray(Vector, 10)!;
    expect(v).toBeInstanceOf(Vector);
    {
      using s = heap.scopedArray(Vector, 10)!;
      expect(s.ptr).not.toBe(12345);
      expect(heap.usableSize(s.ptr)).toBe(80);
    }
    heap.free(v);
    expect(heap.stats().liveAllocations).toBe(0);
  });
});

describe("free of a view over another buffer", () => {
  it("is refused on a plain heap; on a shared heap, where the buffer's length or the allocation's bytes tell", () => {
    const plain = new Heap(new ArrayBuffer(MiB));
    const r = plain.malloc(64)!;
    expectCode(() => plain.free(new Uint8Array(new ArrayBuffer(MiB), r, 64)), "INVALID_ARGUMENT");
    expectCode(() => plain.free(new DataView(new ArrayBuffer(MiB), r, 64)), "INVALID_ARGUMENT");
    expect(plain.usableSize(r)).toBe(64);
    const sab = new SharedArrayBuffer(MiB);
    const heap = new Heap(sab);
    const p = heap.malloc(64)!;
    const q = heap.malloc(100)!;
    const before = snapshot(heap);
    // Another SharedArrayBuffer of another length: not this memory.
    expectCode(() => heap.free(new Uint8Array(new SharedArrayBuffer(2 * MiB), p, 64)), "INVALID_ARGUMENT");
    // Of the same length, but not covering exactly a live allocation's bytes.
    const other = new SharedArrayBuffer(MiB);
    expectCode(() => heap.free(new Uint8Array(other, p, 32)), "INVALID_ARGUMENT");
    expectCode(() => heap.free(new Uint8Array(other, p + 16, 48)), "INVALID_ARGUMENT");
    expectCode(() => heap.free(new Uint8Array(other, q, 112)), "INVALID_ARGUMENT");
    expectUnchanged(heap, before, "after refused views");
    // Another wrapper of the same memory (what a worker holds): accepted when it covers the allocation.
    const wrapper = structuredClone(sab);
    expect(wrapper).not.toBe(sab);
    heap.free(new Uint8Array(wrapper, p, 64));
    heap.free(new Float32Array(wrapper, q, 25));
    expect(heap.stats().liveAllocations).toBe(0);
  });

  it("on a growable shared heap, is refused for another maxByteLength", () => {
    type Growable = new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
    const G = SharedArrayBuffer as unknown as Growable;
    const sab = new G(MiB, { maxByteLength: 4 * MiB });
    const heap = new Heap(sab);
    const p = heap.malloc(64)!;
    expectCode(
      () => heap.free(new Uint8Array(new G(MiB, { maxByteLength: 8 * MiB }), p, 64)),
      "INVALID_ARGUMENT",
    );
    expectCode(() => heap.free(new Uint8Array(new SharedArrayBuffer(MiB), p, 64)), "INVALID_ARGUMENT");
    heap.free(new Uint8Array(structuredClone(sab), p, 64));
    expect(heap.stats().liveAllocations).toBe(0);
  });

  it("on a shared WebAssembly.Memory, takes a view made before the memory grew", () => {
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 64, shared: true });
    const heap = new Heap(memory, { maxLength: 4 * MiB });
    const v = heap.allocArray(Int32Array, 16)!;
    const w = heap.allocArray(Int32Array, 16)!;
    heap.grow(MiB);
    expect(v.buffer).not.toBe(heap.buffer);
    heap.free(v);
    expectCode(
      () => heap.free(new Int32Array(new SharedArrayBuffer(4 * MiB), w.byteOffset, 16)),
      "INVALID_ARGUMENT",
    );
    heap.free(w);
    expect(heap.stats().liveAllocations).toBe(0);
  });
});
