/**
 * recordTrace: wraps an allocator so that every allocation and free it performs is also written as
 * a trace line (trace.ts), ready for `buddy-alloc simulate --trace FILE`.
 *
 * Allocations are recorded as requests in bytes: `allocPages(count)` and `allocAt(_, count)` as
 * `count * pageSize` (on BuddyAllocator and ConcurrentBuddy alike; ConcurrentBuddy's deprecated
 * `alloc(count)` too), `allocOrder(order)` as `pageSize * 2^order`, a heap's `malloc(size)` and `alloc(size)` as `size`,
 * `calloc(n, size)` as `n * size`, `allocArray(type, length)` as `length * BYTES_PER_ELEMENT`
 * (freed by its view), `realloc(p, size)` as a free of `p` and an allocation (the block may
 * have moved), and `scoped(size)` and `scopedArray(type, length)` as `malloc` and `allocArray`,
 * freed when the returned object is freed or disposed (the end of its `using` scope); their
 * objects' `heap` is then the recording wrapper. Placement (align, limit, the address of `allocAt`) is not
 * part of the format and is not recorded. A failed allocation (null or 0) is recorded too: it was
 * requested, and a replay on a larger allocator may satisfy it. A call that throws is not recorded.
 */
import { ConcurrentBuddy } from "../concurrent/concurrent-buddy.js";
import { BuddyAllocator } from "../page/buddy-allocator.js";
import { allocLine, freeLine, TRACE_HEADER } from "./trace.js";

/** Options of {@link recordTrace}. */
export interface RecordOptions {
  /**
   * Receives the trace text as it is produced (each call ends with a line break), e.g. a file
   * stream's `write`. Without it the lines are kept in memory for `text()`.
   */
  write?: (chunk: string) => void;
}

/** A recording in progress. */
export interface TraceRecorder<T> {
  /** Use this instead of the original allocator: same methods, same results, every call recorded. */
  readonly allocator: T;
  /** The trace so far (the header and every line), when no `write` was given; "" otherwise. */
  text(): string;
  /** Operations recorded so far. */
  readonly operations: number;
}

type Method = (...args: never[]) => unknown;

/**
 * Records every allocation and free made through the returned `allocator` as trace lines. Works
 * with BuddyAllocator, ConcurrentBuddy and any heap-like object with `malloc`/`free` (a Heap).
 * @throws TypeError when `allocator` has none of the methods it knows how to record.
 */
export function recordTrace<T extends object>(allocator: T, options: RecordOptions = {}): TraceRecorder<T> {
  const lines: string[] = [];
  const write = options.write ?? ((chunk: string) => lines.push(chunk));
  const ids = new Map<number, number>(); // live address -> id
  let nextId = 1;
  let operations = 0;
  const pageSize = (allocator as { pageSize?: number }).pageSize ?? 1;
  write(`${TRACE_HEADER}\n`);

  const allocated = (address: unknown, size: number, tag: number): void => {
    const id = nextId++;
    operations++;
    write(`${allocLine(id, size, tag)}\n`);
    if (typeof address === "number" && !(address === 0 && !isPageAllocator(allocator))) ids.set(address, id);
  };
  const freed = (address: number): void => {
    const id = ids.get(address);
    if (id === undefined) return; // freed memory this recorder never saw allocated: not replayable
    ids.delete(address);
    operations++;
    write(`${freeLine(id)}\n`);
  };

  const wrappers: Record<string, (original: Method) => Method> = {};
  if (allocator instanceof BuddyAllocator) {
    wrappers.allocPages = (f) => (count: number, opts?: { tag?: number }) =>
      record(f, [count, opts], (r) => allocated(r, count * pageSize, opts?.tag ?? 0));
    wrappers.allocOrder = (f) => (order: number, tag?: number) =>
      record(f, [order, tag], (r) => allocated(r, pageSize * 2 ** order, tag ?? 0));
    wrappers.allocAt = (f) => (address: number, count: number) =>
      record(f, [address, count], (r) => allocated(r, count * pageSize, 0));
  } else if (allocator instanceof ConcurrentBuddy) {
    const byCount = (f: Method) => (count: number) =>
      record(f, [count], (r) => allocated(r, count * pageSize, 0));
    wrappers.allocPages = byCount;
    wrappers.alloc = byCount; // the deprecated name of allocPages; it calls the unwrapped allocPages
    wrappers.allocOrder = (f) => (order: number) =>
      record(f, [order], (r) => allocated(r, pageSize * 2 ** order, 0));
  } else if (typeof (allocator as { malloc?: unknown }).malloc === "function") {
    // Arguments past the size (malloc's align) pass through unrecorded.
    const sized =
      (f: Method) =>
      (size: number, ...rest: unknown[]) =>
        record(f, [size, ...rest], (r) => allocated(r, Math.max(1, size), 0));
    wrappers.malloc = sized;
    wrappers.alloc = sized;
    wrappers.calloc = (f) => (n: number, size: number) =>
      record(f, [n, size], (r) => allocated(r, Math.max(1, n * size), 0));
    wrappers.realloc = (f) => (address: number, size: number) =>
      record(f, [address, size], (r) => {
        if (r === null || r === 0) {
          if (size === 0) freed(address); // realloc(p, 0) frees p
          return;
        }
        if (address !== 0 && address !== null) freed(address);
        allocated(r, Math.max(1, size), 0);
      });
    wrappers.allocArray = (f) => (type: { BYTES_PER_ELEMENT: number }, length: number) =>
      record(f, [type, length], (r) =>
        allocated(
          r === null ? null : (r as ArrayBufferView).byteOffset,
          Math.max(1, length * type.BYTES_PER_ELEMENT),
          0,
        ),
      );
    // A heap's scoped helpers allocate through `this.malloc` / `this.allocArray` and free through
    // the object's `heap.free`: run them with the wrapper as `this`, so both are recorded.
    for (const name of ["scoped", "scopedArray"]) {
      const method = (allocator as Record<string, unknown>)[name];
      const viaProxy = (...args: unknown[]) => Reflect.apply(method as Method, proxy, args);
      if (typeof method === "function") wrappers[name] = () => viaProxy;
    }
  } else {
    throw new TypeError(
      "recordTrace: expected a BuddyAllocator, a ConcurrentBuddy or an object with malloc/free",
    );
  }
  wrappers.free = (f) => (address: number | ArrayBufferView) =>
    record(f, [address], () => freed(typeof address === "number" ? address : address.byteOffset));

  const cache = new Map<PropertyKey, Method>();
  const proxy = new Proxy(allocator, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      let bound = cache.get(key);
      if (bound === undefined) {
        const original = (value as Method).bind(target) as Method;
        const wrap = typeof key === "string" && Object.hasOwn(wrappers, key) ? wrappers[key] : undefined;
        bound = wrap ? wrap(original) : original;
        cache.set(key, bound);
      }
      return bound;
    },
  });

  return {
    allocator: proxy,
    text: () => lines.join(""),
    get operations() {
      return operations;
    },
  };
}

/** Calls `f` with `args`; records its result only when it returns. */
function record(f: Method, args: unknown[], then: (result: unknown) => void): unknown {
  const result = (f as (...a: unknown[]) => unknown)(...args);
  then(result);
  return result;
}

function isPageAllocator(a: object): boolean {
  return a instanceof BuddyAllocator || a instanceof ConcurrentBuddy;
}
