/**
 * Heaps in memory that grows: a WebAssembly.Memory (plain and shared), a growable
 * SharedArrayBuffer and a resizable ArrayBuffer. New pages must be usable at once, old blocks
 * must keep their bytes, and another handle must see the growth on its next operation.
 */
import { describe, expect, it } from "vitest";
import { Heap } from "../../src/index.js";
import { expectCode, HeapModel } from "./helpers.js";

const KiB = 1024;
const MiB = 1 << 20;
type GrowableCtor = new (bytes: number, options: { maxByteLength: number }) => ArrayBufferLike;

/** Fills the heap with 16 KiB large blocks (runs of 4 pages) until it is full; returns the pages they took. */
function fillPages(m: HeapModel): number {
  let n = 0;
  for (let p = m.heap.malloc(16 * KiB); p !== null; p = m.heap.malloc(16 * KiB)) {
    m.add(p, 16 * KiB);
    n += 4;
  }
  return n;
}

describe("growth", () => {
  it("a WebAssembly.Memory heap leaves the module's data alone and grows by whole wasm pages", () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 64 });
    new Uint8Array(memory.buffer).fill(0x5a, 0, 4096); // the module's own data
    const heap = new Heap(memory, { start: 4096 });
    expect(heap.maxLength).toBe(8 * (4 * 65536 - 4096)); // the documented default: 8 times
    const m = new HeapModel(heap);
    const before = fillPages(m);
    const oldBuffer = heap.buffer;
    expect(heap.grow(2 * 65536)).toBe(true);
    expect(oldBuffer.byteLength).toBe(0); // detached by the Memory
    expect(heap.buffer).toBe(memory.buffer);
    expect(heap.length).toBe(6 * 65536 - 4096);
    expect(fillPages(m)).toBe(32);
    m.verifyAll();
    heap.check();
    expect(before).toBeGreaterThan(40);
    expect(new Uint8Array(memory.buffer, 0, 4096).every((b) => b === 0x5a)).toBe(true);
  });

  it("adopts growth of the Memory made behind its back on the next operation", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 16 });
    const heap = new Heap(memory);
    const p = heap.malloc(100)!;
    new Uint8Array(memory.buffer)[p] = 42;
    memory.grow(1); // the wasm module grows its memory: our views are detached
    expect(new Uint8Array(heap.buffer)[p]).toBe(42); // heap.buffer is the new one after any call
    heap.free(p);
    expect(heap.malloc(100)).toBe(p);
    expect(heap.length).toBe(2 * 65536); // growth of the memory is not growth of the heap
    expect(heap.grow(65536)).toBe(true); // no need to grow the Memory again
    expect(memory.buffer.byteLength).toBe(3 * 65536);
    heap.check();
  });

  it("returns false when the Memory is at its maximum and refuses beyond maxLength", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 3 });
    const heap = new Heap(memory, { maxLength: 8 * 65536 });
    expect(heap.grow(65536)).toBe(true);
    expect(heap.grow(65536)).toBe(false);
    expect(heap.length).toBe(3 * 65536);
    expectCode(() => heap.grow(8 * 65536), "INVALID_ARGUMENT");
    const fixed = new Heap(new ArrayBuffer(MiB));
    expectCode(() => fixed.grow(4096), "INVALID_ARGUMENT");
    expect(fixed.grow(0)).toBe(true);
    heap.check();
  });

  it("a growable SharedArrayBuffer: one handle grows, the other uses the new pages", () => {
    const sab = new (SharedArrayBuffer as unknown as GrowableCtor)(MiB, { maxByteLength: 4 * MiB });
    const a = new Heap(sab as SharedArrayBuffer);
    const b = Heap.open(sab as SharedArrayBuffer);
    expect(a.shared).toBe(true);
    expect(a.maxLength).toBe(4 * MiB);
    const ma = new HeapModel(a);
    const first = fillPages(ma);
    expect(b.malloc(16 * KiB)).toBeNull();
    expect(a.grow(2 * MiB)).toBe(true);
    expect(sab.byteLength).toBe(3 * MiB);
    const mb = new HeapModel(b);
    expect(fillPages(mb)).toBe(512);
    ma.verifyAll();
    b.check();
    expect(first).toBeGreaterThan(200);
    expect(a.stats().liveAllocations).toBe((first + 512) / 4); // runs of 4 pages
  });

  it("a resizable ArrayBuffer grows too, and a shared WebAssembly.Memory", () => {
    const ab = new (ArrayBuffer as unknown as GrowableCtor)(256 * KiB, { maxByteLength: MiB });
    const heap = new Heap(ab as ArrayBuffer);
    const p = heap.malloc(150 * KiB); // a run of 38 pages: the heap holds one
    expect(p).not.toBeNull();
    expect(heap.malloc(150 * KiB)).toBeNull();
    expect(heap.grow(512 * KiB)).toBe(true);
    expect(heap.malloc(150 * KiB)).not.toBeNull();
    heap.check();

    const shared = new WebAssembly.Memory({ initial: 4, maximum: 32, shared: true });
    const sh = new Heap(shared);
    expect(sh.shared).toBe(true);
    const q = sh.malloc(50_000)!;
    expect(sh.grow(4 * 65536)).toBe(true);
    expect(Heap.open(shared).usableSize(q)).toBe(13 * 4096); // a run of the 13 pages it needs
    sh.check();
  });
});
