/**
 * Test helpers for the heap: byte patterns unique to each block, and a model of the live blocks.
 * A block's pattern is a function of its id and the byte's index, so two live blocks that
 * overlapped, or a lost/moved byte, show up as a mismatch when the block is verified.
 */
import { expect } from "vitest";
import { AllocError, type AllocErrorCode, type Heap } from "../../src/index.js";

/** The byte at index `i` of the block with id `id`. */
export function patternByte(id: number, i: number): number {
  return (Math.imul(id, 0x9e3779b1) + Math.imul(i, 0x85ebca6b) + (i >>> 8)) >>> 24;
}

/** Writes the pattern of `id` over `[ptr, ptr + size)`. */
export function fill(bytes: Uint8Array, ptr: number, size: number, id: number): void {
  for (let i = 0; i < size; i++) bytes[ptr + i] = patternByte(id, i);
}

/** The first index in `[0, size)` whose byte is not the pattern of `id`, or -1. */
export function firstMismatch(bytes: Uint8Array, ptr: number, size: number, id: number): number {
  for (let i = 0; i < size; i++) if (bytes[ptr + i] !== patternByte(id, i)) return i;
  return -1;
}

/** Runs `f`, expecting an AllocError of `code`. */
export function expectCode(f: () => unknown, code: AllocErrorCode): void {
  let thrown: unknown = null;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected AllocError ${code}`).toBeInstanceOf(AllocError);
  expect((thrown as AllocError).code).toBe(code);
}

/** A live block of the model. */
export interface LiveBlock {
  size: number;
  id: number;
}

/** The live blocks the test believes in, by pointer. */
export class HeapModel {
  readonly live = new Map<number, LiveBlock>();
  private nextId = 1;

  constructor(readonly heap: Heap) {}

  get bytes(): Uint8Array {
    return new Uint8Array(this.heap.buffer);
  }

  /** Records and fills a new block, after checking it overlaps neither a live block nor metadata. */
  add(ptr: number, size: number, align = this.heap.minAlign): void {
    expect(ptr % align).toBe(0);
    expect(ptr).toBeGreaterThanOrEqual(this.heap.core.firstPage);
    expect(ptr + size).toBeLessThanOrEqual(this.heap.start + this.heap.length);
    expect(this.heap.usableSize(ptr)).toBeGreaterThanOrEqual(size);
    const end = ptr + Math.max(size, 1);
    for (const [p, b] of this.live) {
      if (p < end && ptr < p + Math.max(b.size, 1))
        throw new Error(`block ${ptr}+${size} overlaps ${p}+${b.size}`);
    }
    const id = this.nextId++;
    this.live.set(ptr, { size, id });
    fill(this.bytes, ptr, size, id);
  }

  /** Verifies the pattern of the live block at `ptr`. */
  verify(ptr: number): void {
    const b = this.live.get(ptr)!;
    const at = firstMismatch(this.bytes, ptr, b.size, b.id);
    if (at >= 0) throw new Error(`block ${ptr}+${b.size} (id ${b.id}) lost its byte ${at}`);
  }

  verifyAll(): void {
    for (const ptr of this.live.keys()) this.verify(ptr);
  }

  /** The model's live blocks as liveAllocations() reports them (ptr and size, in address order). */
  expected(): { ptr: number; size: number }[] {
    return [...this.live].map(([ptr, b]) => ({ ptr, size: b.size })).sort((a, b) => a.ptr - b.ptr);
  }

  /** The heap's live allocations without tags. */
  actual(): { ptr: number; size: number }[] {
    return [...this.heap.liveAllocations()].map(({ ptr, size }) => ({ ptr, size }));
  }
}
