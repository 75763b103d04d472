/**
 * A heap is its bytes: saved to a file and read back, copied into another kind of memory, or
 * opened at an offset, it has every allocation and every byte. Bytes that are not a heap, a
 * damaged header or another format version are refused with CORRUPT; check() finds damage
 * inside the metadata.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AllocError, HEAP_FORMAT_VERSION, Heap } from "../../src/index.js";
import { expectCode, HeapModel } from "./helpers.js";

const MiB = 1 << 20;

/** A heap with a varied population: small objects of many classes, large blocks, holes. */
function populated(memory: ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory, start = 0): HeapModel {
  const heap = new Heap(memory, { start });
  const m = new HeapModel(heap);
  let x = 12345;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (let i = 0; i < 3000; i++) {
    const size = rand(10) === 0 ? 2049 + rand(60000) : rand(2049);
    const p = heap.malloc(size);
    if (p !== null) m.add(p, size);
    if (rand(3) === 0 && m.live.size > 0) {
      const victim = [...m.live.keys()][rand(m.live.size)];
      m.verify(victim);
      heap.free(victim);
      m.live.delete(victim);
    }
  }
  return m;
}

/** Opens `memory` and expects exactly the allocations and bytes of `m`. */
function expectSame(
  m: HeapModel,
  memory: ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory,
  start = 0,
): Heap {
  const reopened = Heap.open(memory, { start });
  reopened.check();
  expect([...reopened.liveAllocations()]).toEqual([...m.heap.liveAllocations()]);
  const copy = new HeapModel(reopened);
  for (const [p, b] of m.live) copy.live.set(p, b);
  copy.verifyAll();
  return reopened;
}

describe("Heap.open", () => {
  it("re-opens a heap saved to a file and read back, with every allocation intact", () => {
    const m = populated(new ArrayBuffer(8 * MiB));
    expect(m.live.size).toBeGreaterThan(500);
    const dir = mkdtempSync(join(tmpdir(), "heap-"));
    try {
      const file = join(dir, "heap.bin");
      writeFileSync(file, new Uint8Array(m.heap.buffer));
      const bytes = readFileSync(file);
      const loaded = new ArrayBuffer(bytes.length);
      new Uint8Array(loaded).set(bytes);
      const reopened = expectSame(m, loaded);
      // It goes on living: free everything the first heap had, allocate again.
      for (const p of m.live.keys()) reopened.free(p);
      expect(reopened.stats().liveAllocations).toBe(0);
      expect(reopened.malloc(1000)).not.toBeNull();
      reopened.check();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("moves between an ArrayBuffer, a SharedArrayBuffer and a WebAssembly.Memory at an offset", () => {
    const memory = new WebAssembly.Memory({ initial: 64 });
    const m = populated(memory, 65536);
    const sab = new SharedArrayBuffer(memory.buffer.byteLength);
    new Uint8Array(sab).set(new Uint8Array(memory.buffer));
    const shared = expectSame(m, sab, 65536);
    expect(shared.shared).toBe(true);
    expectCode(() => Heap.open(sab), "CORRUPT"); // no heap at offset 0
  });

  it("refuses bytes that are not a heap, a damaged header and another version", () => {
    expectCode(() => Heap.open(new ArrayBuffer(MiB)), "CORRUPT");
    expectCode(() => Heap.open(new ArrayBuffer(16)), "CORRUPT");
    const heap = new Heap(new ArrayBuffer(MiB));
    const words = new Uint32Array(heap.buffer, 0, 32);

    words[1] = HEAP_FORMAT_VERSION + 1;
    const versionError = catchError(() => Heap.open(heap.buffer));
    expect(versionError.code).toBe("CORRUPT");
    expect(versionError.message).toMatch(
      new RegExp(
        `format version ${HEAP_FORMAT_VERSION + 1}, this library reads version ${HEAP_FORMAT_VERSION}`,
      ),
    );
    words[1] = HEAP_FORMAT_VERSION;

    words[4] ^= 1 << 13; // pageSize
    expect(catchError(() => Heap.open(heap.buffer)).message).toMatch(/checksum/);
    words[4] ^= 1 << 13;

    new Float64Array(heap.buffer, 0, 16)[6] = 3 * MiB; // end beyond the buffer (not checksummed)
    expect(catchError(() => Heap.open(heap.buffer)).code).toBe("CORRUPT");
    new Float64Array(heap.buffer, 0, 16)[6] = MiB;
    expect(() => Heap.open(heap.buffer).check()).not.toThrow();
  });

  it("check() finds a damaged bitmap, free count, list link or side record", () => {
    const damage: ((h: Heap, p: number) => void)[] = [
      (h, p) => {
        const core = h.core;
        const t = (p - (p % 4096) + core.trailer[1]) >>> 2;
        core.i32[t + 1] ^= 1 << 5; // a bit of the free bitmap
      },
      (h, p) => {
        h.core.side[(((p - h.core.firstPage) >>> 12) << 2) + 1]++; // a free count
      },
      (h) => {
        h.core.i32[h.core.listBase + 1] = 3; // a list head pointing at no slab
      },
      (h, p) => {
        h.core.side[((p - h.core.firstPage) >>> 12) << 2] = 0; // a slab page's owner
      },
    ];
    for (const hurt of damage) {
      const heap = new Heap(new ArrayBuffer(MiB));
      const p = heap.malloc(32)!;
      heap.malloc(32);
      heap.check();
      hurt(heap, p);
      expectCode(() => heap.check(), "CORRUPT");
    }
  });
});

function catchError(f: () => unknown): AllocError {
  try {
    f();
  } catch (e) {
    if (e instanceof AllocError) return e;
    throw e;
  }
  throw new Error("expected an AllocError");
}
