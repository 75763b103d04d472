/**
 * Heap.recover(threadId) and the recovery of Heap.open, in one thread, deterministically: two
 * handles over one plain ArrayBuffer are two threads of a threaded heap. A thread that "dies" in
 * the middle of an operation is made by running the library's own steps of that operation on
 * handle B up to the cut (through `heap.core`) and never using B again: the page lock held by B
 * with an OP_TAKE / OP_RELEASE / OP_RESIZE record in B's slot, or a slab malloc or free cut
 * between its bitmap bit and its slack. Then A recovers B, or the bytes are saved and opened
 * again (in a worker, so that a hang fails the test instead of stopping the run).
 *
 * After a recovery: the lock is free, check() passes, every allocation B had completed is still
 * live, listed under B's thread id, with its bytes; the cut operation is undone (a take, a
 * malloc, a resize) or finished (a release, a free); B's slot can be claimed again; and once
 * everything is freed every page is free and one block of all of them fits.
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { TAG_LARGE } from "../../src/heap/layout.js";
import { OP_NONE, OP_RELEASE, OP_RESIZE, OP_TAKE, R_OP, S_CLAIM, S_RECORD } from "../../src/heap/threads.js";
import { type AllocErrorCode, Heap } from "../../src/index.js";
import { expectCode, fill, firstMismatch } from "./helpers.js";
import type { OpenJob, OpenReport } from "./recover-worker.js";

const BOOT = new URL("./ts-worker.mjs", import.meta.url);
const ENTRY = new URL("./recover-worker.ts", import.meta.url).href;
const KiB = 1024;
const PAGE = 1024;

interface Block {
  size: number;
  id: number;
  thread: number;
}

/** Two handles (threads 0 and 1) of a threaded heap over a plain ArrayBuffer, with live blocks. */
class Pair {
  readonly buffer = new ArrayBuffer(256 * KiB);
  readonly a = new Heap(this.buffer, { pageSize: PAGE, threads: 4 });
  readonly b = Heap.open(this.buffer);
  /** Live blocks by pointer. */
  readonly live = new Map<number, Block>();
  private nextId = 1;

  constructor() {
    expect([this.a.threadId, this.b.threadId]).toEqual([0, 1]);
    // Both: slab objects (up to 8192 bytes in a threaded heap) and large blocks.
    for (const size of [3000, 9000, 5000, 20000]) this.alloc(this.a, size);
    for (const size of [16, 40, 40, 100, 700, 700, 700, 2000, 3000, 12000, 20000]) this.alloc(this.b, size);
    this.release(this.a, [...this.live.keys()][2]); // A frees its own
    this.release(this.a, this.find(this.b, 100)); // A frees one of B's objects: a remote free
    this.release(this.b, this.find(this.b, 700));
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.buffer);
  }

  alloc(heap: Heap, size: number): number {
    const p = heap.malloc(size)!;
    expect(p).not.toBeNull();
    const id = this.nextId++;
    fill(this.bytes, p, size, id);
    this.live.set(p, { size, id, thread: heap.threadId });
    return p;
  }

  release(heap: Heap, ptr: number): void {
    heap.free(ptr);
    this.live.delete(ptr);
  }

  /** The first live block of `heap`'s thread with this size. */
  find(heap: Heap, size: number): number {
    for (const [p, b] of this.live) if (b.thread === heap.threadId && b.size === size) return p;
    throw new Error(`no live block of ${size} bytes`);
  }

  /**
   * A handle of thread `to` claimed the slot of thread `from` (closed or recovered): the blocks
   * liveAllocations() listed under `from` are listed under `to` from now on.
   */
  handOver(from: number, to: number): void {
    for (const b of this.live.values()) if (b.thread === from) b.thread = to;
  }

  /** The live blocks as liveAllocations() must list them. */
  expected(): { ptr: number; size: number; thread: number }[] {
    return [...this.live]
      .map(([ptr, b]) => ({ ptr, size: b.size, thread: b.thread }))
      .sort((x, y) => x.ptr - y.ptr);
  }

  verify(bytes = this.bytes): void {
    for (const [p, b] of this.live) {
      const at = firstMismatch(bytes, p, b.size, b.id);
      if (at >= 0) throw new Error(`block ${p}+${b.size} (id ${b.id}) lost byte ${at}`);
    }
  }

  lockWord(bytes: ArrayBufferLike = this.buffer): number {
    return Atomics.load(new Int32Array(bytes), this.a.core.lockIndex);
  }
}

/** The live allocations of `heap` as ptr, size and thread. */
function listed(heap: Heap): { ptr: number; size: number; thread: number }[] {
  return [...heap.liveAllocations()].map(({ ptr, size, thread }) => ({ ptr, size, thread }));
}

/**
 * What must hold after `heap` recovered the pair's B (or opened its saved bytes): the lock is
 * free, check() passes, exactly the pair's live blocks are listed, with B's under B's id and
 * their bytes; then, everything freed and the other handles closed, every page is free.
 */
function expectRecovered(pair: Pair, heap: Heap, others: Heap[] = []): void {
  expect(Atomics.load(heap.core.i32, heap.core.lockIndex), "lock word after recovery").toBe(0);
  heap.check();
  expect(listed(heap)).toEqual(pair.expected());
  pair.verify(new Uint8Array(heap.buffer));
  // Everything not live can be allocated again: free what is live, and all pages are free.
  for (const p of [...pair.live.keys()]) heap.free(p);
  pair.live.clear();
  for (const h of others) h.close();
  heap.trim();
  heap.check();
  const s = heap.stats();
  expect(s.liveAllocations).toBe(0);
  expect(s.freeBytes).toBe(s.pageBytes);
  const all = heap.malloc(s.pageBytes);
  expect(all).not.toBeNull();
  heap.free(all);
  heap.check();
}

// The cuts: each runs B's part of an operation with the library's own steps and stops there.

/** malloc of a large block, cut after the pages were taken, before their side records. */
function cutTakeBeforeSide(pair: Pair, size: number): void {
  const h = pair.b.core;
  h.pageLock();
  const at = h.takePages(Math.ceil(size / PAGE), 1, { exact: true, tag: TAG_LARGE });
  expect(at).toBeGreaterThanOrEqual(0);
}

/** malloc of a large block, cut after its side records, before the record is cleared. */
function cutTakeAfterSide(pair: Pair, size: number): number {
  const h = pair.b.core;
  h.pageLock();
  const at = h.takePages(Math.ceil(size / PAGE), 1, { exact: true, tag: TAG_LARGE });
  h.side[at << 2] = (at << 8) | 255; // LARGE_KIND
  h.side[(at << 2) + 1] = size;
  h.ownerOf[at] = h.holder;
  return h.firstPage + at * PAGE;
}

/** A new slab of the class of `size`, cut after its side records and owner byte. */
function cutNewSlab(pair: Pair, size: number): void {
  const h = pair.b.core;
  const cls = h.bySize[(size + 7) >>> 3];
  h.pageLock();
  const at = h.takeSlab(cls);
  for (let p = 0; p < h.slabPages[cls]; p++) h.side[(at + p) << 2] = (at << 8) | (cls + 1);
  h.ownerOf[at] = h.holder;
}

/** free of B's large block at `ptr`, cut after its side records were cleared. */
function cutRelease(pair: Pair, ptr: number): void {
  const h = pair.b.core;
  const page = (ptr - h.firstPage) / PAGE;
  const count = Math.ceil(pair.live.get(ptr)!.size / PAGE);
  h.pageLock();
  h.record(OP_RELEASE, page, count);
  h.side.fill(0, page << 2, (page + count) << 2);
  h.ownerOf[page] = 0;
  pair.live.delete(ptr); // a free that was cut off: finished by the recovery
}

/**
 * realloc of B's large block at `ptr` shrinking in place (its tail pages freed): done up to the
 * new requested size, cut before the record is cleared and the lock released. The recovery
 * rolls it back to the old size.
 */
function cutResize(pair: Pair, ptr: number, size: number): void {
  const h = pair.b.core;
  const old = pair.live.get(ptr)!.size;
  expect(pair.b.realloc(ptr, size)).toBe(ptr); // a run shrinks in place
  h.pageLock();
  h.record(OP_RESIZE, (ptr - h.firstPage) / PAGE, Math.ceil(old / PAGE), old);
}

/** Slab objects: the trailer's Int32 index and the object index of B's live object at `ptr`. */
function objectOf(heap: Heap, ptr: number): { t: number; index: number; slack: number } {
  const h = heap.core;
  const cls = h.locate(ptr);
  expect(cls).toBeGreaterThanOrEqual(0);
  const base = h.firstPage + h.slabOf(ptr) * PAGE;
  const t = (base + h.trailer[cls]) >>> 2;
  const index = h.objectIndex(cls, ptr);
  return { t, index, slack: (t << 1) + 2 + 2 * h.bitmapWords[cls] + index };
}

/** malloc of a slab object, cut after clearing its bitmap bit, before its slack and free count. */
function cutSlabMalloc(pair: Pair, size: number): void {
  const p = pair.alloc(pair.b, size); // a neighbour, so that the slab exists and stays
  const h = pair.b.core;
  const { t } = objectOf(pair.b, p);
  const word = h.i32[t + 1];
  expect(word).not.toBe(0);
  h.i32[t + 1] = word & (word - 1); // the lowest free object's bit: now "live"
}

/** free of B's object at `ptr`, cut after setting its bitmap bit, before its slack and count. */
function cutSlabFree(pair: Pair, ptr: number): void {
  const h = pair.b.core;
  const { t, index } = objectOf(pair.b, ptr);
  h.i32[t + 1 + (index >>> 5)] |= 1 << (index & 31);
  pair.live.delete(ptr); // finished by the recovery
}

function pending(pair: Pair): number {
  return pair.b.core.i32[pair.b.core.slotAt + S_RECORD + R_OP];
}

/**
 * A recovers B, which must report work done and leave the lock free and no record (checked
 * before anything takes the lock: a lock left held would make the next call spin for ever).
 */
function recoverB(pair: Pair): void {
  expect(pair.a.recover(pair.b.threadId)).toBe(true);
  expect(pair.lockWord(), "lock word after recovery").toBe(0);
  expect(pending(pair)).toBe(OP_NONE);
}

/** The cuts that hold the page lock, each with what the recovery must do. */
const LOCKED_CUTS: { name: string; op: number; cut: (pair: Pair) => void }[] = [
  { name: "a large malloc cut before its side records", op: OP_TAKE, cut: (p) => cutTakeBeforeSide(p, 7000) },
  {
    name: "a large malloc cut after its side records",
    op: OP_TAKE,
    cut: (p) => void cutTakeAfterSide(p, 7000),
  },
  { name: "a new slab cut after its side records", op: OP_TAKE, cut: (p) => cutNewSlab(p, 300) },
  {
    name: "a large free cut after clearing its side records",
    op: OP_RELEASE,
    cut: (p) => cutRelease(p, p.find(p.b, 12000)),
  },
  {
    name: "an in-place realloc cut before its record is cleared",
    op: OP_RESIZE,
    cut: (p) => cutResize(p, p.find(p.b, 12000), 10000),
  },
];

function runOpen(job: OpenJob): Promise<OpenReport> {
  return new Promise((resolve, reject) => {
    const transfer = job.memory instanceof ArrayBuffer ? [job.memory] : [];
    const w = new Worker(BOOT, { workerData: { ...job, entry: ENTRY }, transferList: transfer });
    const timer = setTimeout(() => {
      void w.terminate();
      reject(new Error("Heap.open of the saved bytes did not finish in 10 s (a hang)"));
    }, 10_000);
    w.once("message", (r: OpenReport) => {
      clearTimeout(timer);
      resolve(r);
    });
    w.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A copy of `bytes` in a new ArrayBuffer or SharedArrayBuffer. */
function copyOf(bytes: ArrayBuffer, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  const copy = shared ? new SharedArrayBuffer(bytes.byteLength) : new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(new Uint8Array(bytes));
  return copy;
}

describe("Heap.recover: bad input and nothing to recover", () => {
  const bad: [string, unknown][] = [
    ["1.5", 1.5],
    ["-1", -1],
    ["NaN", Number.NaN],
    ["the slot count (out of range)", 4],
    ["255", 255],
    ['"1"', "1"],
    ["undefined", undefined],
    ["a BigInt", 1n],
    ["an id of a generation its slot never reached (slot 1, generation 3)", (3 << 8) | 1],
  ];
  for (const [what, value] of bad) {
    it(`recover(${what}) is INVALID_ARGUMENT and changes no byte`, () => {
      const pair = new Pair();
      const before = pair.bytes.slice();
      expectCode(() => pair.a.recover(value as number), "INVALID_ARGUMENT");
      expect(Buffer.compare(before, pair.bytes)).toBe(0);
    });
  }

  it("recover(own id) is INVALID_ARGUMENT and changes no byte", () => {
    const pair = new Pair();
    const before = pair.bytes.slice();
    expectCode(() => pair.a.recover(pair.a.threadId), "INVALID_ARGUMENT");
    expectCode(() => pair.b.recover(pair.b.threadId), "INVALID_ARGUMENT");
    expect(Buffer.compare(before, pair.bytes)).toBe(0);
  });

  it("recover on a heap without thread slots is INVALID_ARGUMENT", () => {
    const plain = new Heap(new ArrayBuffer(128 * KiB));
    expect(plain.threads).toBe(0);
    expect(plain.threadId).toBe(0);
    const shared = new Heap(new SharedArrayBuffer(128 * KiB), { threads: 0 });
    for (const heap of [plain, shared]) {
      heap.malloc(100);
      const before = new Uint8Array(heap.buffer).slice();
      for (const id of [0, 1, 2]) expectCode(() => heap.recover(id), "INVALID_ARGUMENT");
      expect(Buffer.compare(before, new Uint8Array(heap.buffer))).toBe(0);
    }
  });

  it("recover of a slot never used, or of a closed thread, returns false and changes nothing", () => {
    const pair = new Pair();
    const c = Heap.open(pair.buffer);
    expect(c.threadId).toBe(2);
    const p = pair.alloc(c, 500);
    pair.release(pair.a, p);
    c.close();
    for (const id of [2, 3]) {
      const before = listed(pair.a);
      expect(pair.a.recover(id)).toBe(false);
      expect(pair.lockWord()).toBe(0);
      pair.a.check();
      expect(listed(pair.a)).toEqual(before);
    }
    expect(listed(pair.a)).toEqual(pair.expected());
    pair.verify();
    // B was not touched: it goes on allocating and freeing in its slot.
    pair.release(pair.b, pair.alloc(pair.b, 40));
    pair.b.check();
  });

  it("recover of a thread that died idle frees its slot and keeps its allocations", () => {
    const pair = new Pair();
    const bId = pair.b.threadId;
    const claim = pair.a.core.slotsBase + pair.a.core.slotWords * bId + S_CLAIM;
    expect(pair.a.core.i32[claim]).toBe(bId + 1);
    pair.a.recover(bId); // B is gone (never used again)
    // Unclaimed, with the generation of the slot's next handle.
    expect(pair.a.core.i32[claim], "B's claim after recovery").toBe(1 << 8);
    expect(pair.lockWord()).toBe(0);
    pair.a.check();
    expect(listed(pair.a)).toEqual(pair.expected()); // B's blocks still under B's id
    expect(pair.a.recover(bId)).toBe(false);
    const c = Heap.open(pair.buffer); // claims B's slot, and with it B's slabs
    expect(c.threadId).toBe((1 << 8) | bId); // the slot's next generation: another id
    pair.handOver(bId, c.threadId);
    expect(pair.a.recover(bId)).toBe(false); // B's id does not name c
    expectRecovered(pair, pair.a, [c]);
  });

  it("TOO_MANY_THREADS when every slot is claimed; CLOSED after close()", () => {
    const pair = new Pair();
    const c = Heap.open(pair.buffer);
    const d = Heap.open(pair.buffer);
    expect([c.threadId, d.threadId]).toEqual([2, 3]);
    expectCode(() => Heap.open(pair.buffer), "TOO_MANY_THREADS");
    d.close();
    const ops: [string, () => unknown][] = [
      ["malloc", () => d.malloc(16)],
      ["malloc large", () => d.malloc(5000)],
      ["calloc", () => d.calloc(2, 8)],
      ["realloc", () => d.realloc(pair.find(pair.b, 40), 50)],
      ["free", () => d.free(pair.find(pair.b, 40))],
      ["usableSize", () => d.usableSize(pair.find(pair.b, 40))],
      ["recover", () => d.recover(1)],
      ["trim", () => d.trim()],
      ["check", () => d.check()],
      ["stats", () => d.stats()],
      ["grow", () => d.grow(0)],
      ["liveAllocations", () => [...d.liveAllocations()]],
    ];
    for (const [what, f] of ops) {
      const before = pair.bytes.slice();
      let code: AllocErrorCode | null = null;
      try {
        f();
      } catch (e) {
        code = (e as { code?: AllocErrorCode }).code ?? null;
      }
      expect(code, what).toBe("CLOSED");
      expect(Buffer.compare(before, pair.bytes), what).toBe(0);
    }
    d.close(); // again: nothing
    const e = Heap.open(pair.buffer); // the slot d left, with the next id of that slot
    expect(e.threadId).toBe((1 << 8) | 3);
    expectCode(() => Heap.open(pair.buffer), "TOO_MANY_THREADS");
    pair.a.check();
  });
});

describe("Heap.recover of a thread cut off in the middle of an operation", () => {
  for (const { name, op, cut } of LOCKED_CUTS) {
    it(`${name}: A takes the page lock over and settles it`, () => {
      const pair = new Pair();
      cut(pair);
      const bId = pair.b.threadId;
      expect(pair.lockWord(), "B holds the page lock").toBe(bId + 1);
      expect(pending(pair)).toBe(op);
      recoverB(pair);
      expectRecovered(pair, pair.a);
    });
  }

  it("a large malloc cut after its side records is undone: its pages are free again", () => {
    const pair = new Pair();
    const p = cutTakeAfterSide(pair, 7000);
    recoverB(pair);
    pair.a.check();
    expect(listed(pair.a).some((x) => x.ptr === p)).toBe(false);
    expectCode(() => pair.a.free(p), "NOT_ALLOCATED");
    // The pages are free: a block of that size fits exactly there again (the good fit's first choice).
    expect(pair.a.malloc(7000)).toBe(p);
  });

  it("an in-place shrinking realloc cut before its record is cleared keeps the old size", () => {
    const pair = new Pair();
    const p = pair.find(pair.b, 12000);
    cutResize(pair, p, 10000);
    recoverB(pair);
    pair.a.check();
    expect(listed(pair.a).find((x) => x.ptr === p)).toEqual({ ptr: p, size: 12000, thread: pair.b.threadId });
    expect(pair.a.usableSize(p)).toBe(12 * KiB);
    pair.verify();
  });

  it("a slab malloc cut between its bitmap bit and its slack: the object is free after recovery", () => {
    const pair = new Pair();
    cutSlabMalloc(pair, 40);
    expectCode(() => pair.a.check(), "CORRUPT"); // the free count and the bitmap disagree
    expect(pair.lockWord()).toBe(0);
    expect(pair.a.recover(pair.b.threadId)).toBe(true);
    expectRecovered(pair, pair.a);
  });

  it("a slab free cut after its bitmap bit: the free is finished by the recovery", () => {
    const pair = new Pair();
    const p = pair.find(pair.b, 700);
    cutSlabFree(pair, p);
    expectCode(() => pair.a.check(), "CORRUPT");
    expect(pair.a.recover(pair.b.threadId)).toBe(true);
    pair.a.check();
    expect(listed(pair.a).some((x) => x.ptr === p)).toBe(false);
    expectRecovered(pair, pair.a);
  });

  it("recovering B a second time finds nothing left to repair", () => {
    const pair = new Pair();
    cutTakeBeforeSide(pair, 7000);
    expect(pair.a.recover(pair.b.threadId)).toBe(true);
    const before = listed(pair.a);
    expect(pair.a.recover(pair.b.threadId)).toBe(false);
    expect(listed(pair.a)).toEqual(before);
    pair.a.check();
  });
});

describe("Heap.open of bytes saved in the middle of an operation", () => {
  for (const { name, cut } of LOCKED_CUTS) {
    for (const shared of [false, true]) {
      const how = shared ? "a SharedArrayBuffer copy with { recover: true }" : "an ArrayBuffer copy";
      it(`${name}: ${how} opens repaired`, { timeout: 20_000 }, async () => {
        const pair = new Pair();
        cut(pair);
        const lockIndex = pair.a.core.lockIndex;
        expect(pair.lockWord()).toBe(pair.b.threadId + 1);
        const memory = copyOf(pair.buffer, shared);
        const r = await runOpen({ memory, options: shared ? { recover: true } : {}, lockIndex });
        expect(r.error).toBeNull();
        expect(r.lockWord, "lock word after open").toBe(0);
        expect(r.checkError).toBeNull();
        const want = pair.expected();
        // The slot the opening handle claims: its thread, if gone, is the handle's from now on.
        const mine = shared ? pair.a.threadId : pair.b.threadId;
        if (shared) {
          // { recover: true }: every thread is gone, A and B alike; their allocations stay, under
          // their ids, A's under the id of the handle that now has A's slot (its next generation).
          expect(r.threadId).toBe((1 << 8) | pair.a.threadId);
        } else {
          // Only B had something in flight: A's slot is still claimed, B's is free again.
          expect(r.threadId).toBe((1 << 8) | pair.b.threadId);
        }
        for (const x of want) if (x.thread === mine) x.thread = r.threadId;
        expect(r.live.map(({ ptr, size, thread }) => ({ ptr, size, thread }))).toEqual(want);
        const again = Heap.open(r.memory); // the slot r closed, one generation on
        expect(again.threadId).toBe((2 << 8) | mine);
        pair.handOver(mine, again.threadId);
        pair.verify(new Uint8Array(again.buffer));
        // A's slot is still claimed in the non-shared copy (its thread is gone with the bytes):
        // recovering it leaves its slabs to be adopted.
        if (!shared) expect(again.recover(pair.a.threadId)).toBe(true);
        expectRecovered(pair, again);
      });
    }
  }

  it("saved bytes with nothing in flight open unchanged; check() of the copy finds no operation", async () => {
    const pair = new Pair();
    const memory = copyOf(pair.buffer, false);
    const r = await runOpen({ memory, options: {}, lockIndex: pair.a.core.lockIndex });
    expect(r.error).toBeNull();
    expect(r.checkError).toBeNull();
    expect(r.threadId).toBe(2); // A's and B's slots are still claimed in the copy
    expect(r.live.map(({ ptr, size, thread }) => ({ ptr, size, thread }))).toEqual(pair.expected());
  });
});
