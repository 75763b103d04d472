/**
 * Regression (examples/workers, a CI failure on Node 24: the terminated worker's allocations
 * listed 5 of 6 under its thread id). A heap thread id used to be a slot: `close()` freed it and
 * the next `Heap.open` got the same id, so a supervisor calling `recover(id)` on every worker's
 * exit recovered a live worker that had opened after the producer closed: it took the page lock
 * from it, rebuilt its lists and the page level under it and left its slot unclaimed.
 * Now a thread id names one handle: `(generation << 8) | slot`, the slot's generation moving on
 * when its handle lets it go (src/heap/threads.ts). `recover` of a thread that closed or was
 * recovered changes nothing and returns false, whatever handle has its slot since. Each case here
 * drives the interleaving with several handles in one thread.
 */
import { describe, expect, it } from "vitest";
import { OP_NONE, OP_TAKE, R_OP, S_CLAIM, S_RECORD, slotOfThread } from "../../src/heap/threads.js";
import { Heap } from "../../src/index.js";

const N = 500;

/** The producer of the example: N small blocks of mixed sizes, in slot order. */
function produce(heap: Heap, n = N): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(heap.malloc(16 + (i % 50) * 24)!);
  return out;
}

/** A copy of every byte of the heap's memory. */
function snapshot(heap: Heap): Uint8Array {
  return new Uint8Array(heap.buffer).slice();
}

/** Live allocations by thread: thread id -> sorted pointers. */
function byThread(heap: Heap): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const a of heap.liveAllocations()) {
    if (!out.has(a.thread)) out.set(a.thread, []);
    out.get(a.thread)!.push(a.ptr);
  }
  return out;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe("threaded Heap: recover(id) of a thread that closed, once its slot is another handle's", () => {
  it("the slot's next handle gets another id; recover of the closed one is false and changes no byte", () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const supervisor = new Heap(sab, { threads: 4 });
    const producer = Heap.open(sab);
    const id = producer.threadId;
    const blocks = produce(producer);
    producer.close();
    const consumer = Heap.open(sab); // the consumer opens late: the first free slot is the producer's
    expect(slotOfThread(consumer.threadId)).toBe(slotOfThread(id));
    expect(consumer.threadId).not.toBe(id);
    expect(consumer.threadId).toBe((1 << 8) | id);
    const mine = [consumer.malloc(40)!, consumer.malloc(20_000)!]; // a slab object and a large block

    // The consumer is in a page-level operation (page lock held, its operation recorded) when the
    // producer's exit event arrives: recover(producer) must not touch it (nor wait for its lock).
    const c = consumer.core;
    c.pageLock();
    c.record(OP_TAKE, 3, 2);
    const before = snapshot(supervisor);
    expect(supervisor.recover(id)).toBe(false);
    expect(Buffer.compare(before, snapshot(supervisor)), "bytes after recover(closed id)").toBe(0);
    expect(Atomics.load(c.i32, c.lockIndex)).toBe(consumer.threadId + 1); // still the consumer's
    expect(c.i32[c.slotAt + S_RECORD + R_OP]).toBe(OP_TAKE);
    c.record(OP_NONE);
    c.pageUnlock();

    // Idle, or with its lock released: the same.
    const idle = snapshot(supervisor);
    expect(supervisor.recover(id)).toBe(false);
    expect(Buffer.compare(idle, snapshot(supervisor))).toBe(0);
    expect(Atomics.load(c.i32, c.slotAt + S_CLAIM)).toBe(consumer.threadId + 1);

    // The consumer's lists are intact: it frees the producer's blocks (now in its slot's slabs)
    // and its own, and allocates again; another handle gets another slot.
    supervisor.check();
    const live = byThread(supervisor);
    expect(sorted(live.get(consumer.threadId)!)).toEqual(sorted([...blocks, ...mine]));
    for (const p of blocks) consumer.free(p);
    const other = Heap.open(sab);
    expect(slotOfThread(other.threadId)).not.toBe(slotOfThread(consumer.threadId));
    for (const p of mine) consumer.free(p);
    consumer.free(consumer.malloc(100));
    other.close();
    consumer.close();
    supervisor.check();
    expect([...supervisor.liveAllocations()]).toEqual([]);
  });

  it("successive handles of one slot have distinct ids, each recoverable only as itself", () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const supervisor = new Heap(sab, { threads: 2 });
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const h = Heap.open(sab);
      ids.push(h.threadId);
      for (const old of ids.slice(0, -1)) expect(supervisor.recover(old)).toBe(false);
      h.malloc(64);
      h.close();
    }
    expect(ids).toEqual([1, 257, 513, 769, 1025, 1281]);
    expect(new Set(ids.map(slotOfThread))).toEqual(new Set([1]));
    // A handle that dies: recovered once, as itself; then its id is spent too.
    const dead = Heap.open(sab);
    dead.malloc(64);
    expect(supervisor.recover(dead.threadId)).toBe(true);
    expect(supervisor.recover(dead.threadId)).toBe(false);
    const next = Heap.open(sab);
    expect(next.threadId).toBe(dead.threadId + 256);
    for (const old of [...ids, dead.threadId]) expect(supervisor.recover(old)).toBe(false);
    supervisor.check();
  });

  it("liveAllocations: the live handle's blocks under its id, a recovered dead thread's under the dead one's", () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const supervisor = new Heap(sab, { threads: 4 });
    const closed = Heap.open(sab);
    const closedId = closed.threadId;
    closed.close();
    const b = Heap.open(sab); // the closed handle's slot
    const bBlocks = [...produce(b, 20), b.malloc(30_000)!];
    const dead = Heap.open(sab);
    const deadBlocks = [...produce(dead, 20), dead.malloc(30_000)!];
    dead.core.pageLock(); // dies holding the page lock
    expect(supervisor.recover(closedId)).toBe(false);
    expect(Atomics.load(dead.core.i32, dead.core.lockIndex)).toBe(dead.threadId + 1);
    expect(supervisor.recover(dead.threadId)).toBe(true);
    supervisor.check();
    const live = byThread(supervisor);
    expect(sorted(live.get(b.threadId)!)).toEqual(sorted(bBlocks));
    expect(sorted(live.get(dead.threadId)!)).toEqual(sorted(deadBlocks));
    expect(live.has(closedId)).toBe(false);
    expect(live.size).toBe(2);
    // Until another handle claims the dead one's slot: then its blocks are that handle's.
    const heir = Heap.open(sab);
    expect(slotOfThread(heir.threadId)).toBe(slotOfThread(dead.threadId));
    expect(heir.threadId).not.toBe(dead.threadId);
    expect(sorted(byThread(supervisor).get(heir.threadId)!)).toEqual(sorted(deadBlocks));
    for (const p of [...bBlocks, ...deadBlocks]) heir.free(p);
    heir.close();
    b.close();
    supervisor.trim();
    supervisor.check();
    expect(supervisor.stats().liveAllocations).toBe(0);
  });

  it("bytes of the old encoding (claim 0 or slot + 1: generation 0) open and recover", () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const s = new Heap(sab, { threads: 4 });
    const claimAt = (slot: number) => s.core.slotsBase + s.core.slotWords * slot + S_CLAIM;
    const x = Heap.open(sab);
    const d = Heap.open(sab);
    expect([d.threadId, s.core.i32[claimAt(2)]]).toEqual([2, 3]); // generation 0: as before
    const xBlocks = produce(x, 30);
    x.close();
    expect(s.core.i32[claimAt(1)]).toBe(1 << 8); // released: the slot's next generation
    s.core.i32[claimAt(1)] = 0; // what the code before generations wrote on close
    const dBlocks = [...produce(d, 30), d.malloc(20_000)!];
    // In place: the old-encoded slot's blocks list under its old id; the dead one recovers.
    let live = byThread(s);
    expect(sorted(live.get(1)!)).toEqual(sorted(xBlocks));
    d.core.pageLock(); // dies holding the page lock
    const saved = new SharedArrayBuffer(sab.byteLength);
    new Uint8Array(saved).set(new Uint8Array(sab));
    expect(s.recover(d.threadId)).toBe(true);
    expect(s.recover(d.threadId)).toBe(false);
    s.check();
    live = byThread(s);
    expect(sorted(live.get(1)!)).toEqual(sorted(xBlocks));
    expect(sorted(live.get(2)!)).toEqual(sorted(dBlocks));
    // A slot the old code released (0) tells no generation: its next handle is generation 0
    // again; the one after it gets the next.
    const e = Heap.open(sab);
    expect(e.threadId).toBe(1);
    e.close();
    expect(Heap.open(sab).threadId).toBe(257);

    // The saved copy, re-opened with { recover: true }: every claimed slot is taken as gone.
    const again = Heap.open(saved, { recover: true });
    expect(again.threadId).toBe(256); // slot 0's next generation (its handle is gone)
    again.check();
    const listed = byThread(again);
    expect(sorted(listed.get(1)!)).toEqual(sorted(xBlocks));
    expect(sorted(listed.get(2)!)).toEqual(sorted(dBlocks));
    expect(again.recover(2)).toBe(false); // recovered by the open
    for (const ptrs of listed.values()) for (const p of ptrs) again.free(p);
    again.trim();
    again.check();
    expect(again.stats().liveAllocations).toBe(0);
  });

  it("the example's schedule: recover(id) on every worker's exit keeps the dead one's blocks exact", () => {
    for (let seed = 0; seed < 8; seed++) {
      const sab = new SharedArrayBuffer(8 << 20);
      const supervisor = new Heap(sab);
      const producer = Heap.open(sab);
      const blocks = produce(producer);
      producer.close();
      // Opens after the producer closed: its slot, another id. It frees, in slabs its slot now owns.
      const consumer = Heap.open(sab);
      expect(slotOfThread(consumer.threadId)).toBe(slotOfThread(producer.threadId));
      const recovered: boolean[] = [];
      const exit = (id: number) => recovered.push(supervisor.recover(id));
      const half = (seed * 61) % N;
      for (const p of blocks.slice(0, half)) consumer.free(p);
      exit(producer.threadId); // the producer's exit, in the middle of the consumer's frees
      for (const p of blocks.slice(half)) consumer.free(p);
      consumer.close();
      exit(consumer.threadId);
      supervisor.check();

      const doomed = Heap.open(sab);
      const held: number[] = [];
      for (let i = 0; i < 5; i++) held.push(doomed.malloc(100 + i * 1000)!);
      held.push(doomed.malloc(64 << 10)!);
      exit(doomed.threadId); // terminated, never closed: recovered
      expect(recovered).toEqual([false, false, true]);
      const left = [...supervisor.liveAllocations()].filter((a) => a.thread === doomed.threadId);
      expect(sorted(left.map((a) => a.ptr))).toEqual(sorted(held));
      for (const a of left) supervisor.free(a.ptr);
      supervisor.check();
      expect([...supervisor.liveAllocations()]).toEqual([]);
    }
  });
});
