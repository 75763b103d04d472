/**
 * Regression (examples/workers, a CI failure on Node 24: the terminated worker's allocations
 * listed 5 of 6 under its thread id). A heap thread id is a slot; `close()` frees it, and the next
 * `Heap.open` claims the first free slot, so the id of a worker that closed its handle is another
 * worker's as soon as one opens. The example's supervisor called `recover(id)` on every worker's
 * exit: when the consumer opened its handle after the producer had closed (a slow worker start on
 * a loaded machine), the producer's exit recovered the consumer, live, in the middle of its frees:
 * it took the page lock from it, rebuilt its lists and the page level under it and left its slot
 * unclaimed. The slot's next thread (the terminated worker) then allocated from damaged lists.
 * The rule the example now follows, and that these tests pin: recover only a thread that did not
 * close its handle. Each case here drives the interleaving with several handles in one thread.
 */
import { describe, expect, it } from "vitest";
import { Heap } from "../../src/index.js";

const N = 500;

/** The producer of the example: N small blocks of mixed sizes, in slot order. */
function produce(heap: Heap): number[] {
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(heap.malloc(16 + (i % 50) * 24)!);
  return out;
}

describe("threaded Heap: a closed handle's thread id is the next handle's", () => {
  it("recover(id) after close, once another handle holds the id, takes that live handle for dead", () => {
    const sab = new SharedArrayBuffer(1 << 20);
    const supervisor = new Heap(sab, { threads: 4 });
    const producer = Heap.open(sab);
    const id = producer.threadId;
    const blocks = produce(producer);
    producer.close();
    const consumer = Heap.open(sab); // the consumer opens late: the first free slot is the producer's
    expect(consumer.threadId).toBe(id);
    // The consumer is in a page-level operation (its page lock held) when the producer's exit
    // event arrives. recover(id) does not repair a closed thread here: it steals the live
    // consumer's lock, and frees its slot.
    consumer.core.pageLock();
    expect(supervisor.recover(id)).toBe(true);
    const intruder = Heap.open(sab);
    expect(intruder.threadId).toBe(id); // two live handles in one slot
    consumer.core.pageUnlock();
    intruder.close();
    for (const p of blocks) consumer.free(p);
    consumer.close();
  });

  it("the example's schedule: recovering only handles that did not close keeps the dead one's blocks exact", () => {
    for (let seed = 0; seed < 8; seed++) {
      const sab = new SharedArrayBuffer(8 << 20);
      const supervisor = new Heap(sab);
      const producer = Heap.open(sab);
      const blocks = produce(producer);
      producer.close();
      // Opens after the producer closed: the same thread id. It frees, in slabs its slot now owns.
      const consumer = Heap.open(sab);
      expect(consumer.threadId).toBe(producer.threadId);
      const recovered: (boolean | "closed")[] = [];
      const exit = (closed: boolean, id: number) =>
        recovered.push(closed ? "closed" : supervisor.recover(id));
      const half = (seed * 61) % N;
      for (const p of blocks.slice(0, half)) consumer.free(p);
      exit(true, producer.threadId); // the producer's exit, in the middle of the consumer's frees
      for (const p of blocks.slice(half)) consumer.free(p);
      consumer.close();
      exit(true, consumer.threadId);
      supervisor.check();

      const doomed = Heap.open(sab);
      const held: number[] = [];
      for (let i = 0; i < 5; i++) held.push(doomed.malloc(100 + i * 1000)!);
      held.push(doomed.malloc(64 << 10)!);
      exit(false, doomed.threadId); // terminated, never closed: recovered
      expect(recovered).toEqual(["closed", "closed", true]);
      const left = [...supervisor.liveAllocations()].filter((a) => a.thread === doomed.threadId);
      expect(left.map((a) => a.ptr).sort((a, b) => a - b)).toEqual([...held].sort((a, b) => a - b));
      for (const a of left) supervisor.free(a.ptr);
      supervisor.check();
      expect([...supervisor.liveAllocations()]).toEqual([]);
    }
  });
});
