/**
 * Model-based test of a threaded heap over a plain ArrayBuffer with several handles in this one
 * thread, each in its own thread slot (the model and its commands: threaded-model.ts). Random
 * malloc / calloc / realloc / free from any handle (so many frees and reallocs are cross-thread),
 * double frees from the same or another handle, close and re-open, growth; after every step
 * check() passes, every live block holds its pattern, liveAllocations() is exactly the model with
 * valid thread ids; at the end every page is free again and one block of all of them fits.
 * Random trims (which adopt the slabs of closed threads) are among the commands.
 */
import { describe, expect, it } from "vitest";
import { AllocError, Heap } from "../../src/index.js";
import { expectCode } from "./helpers.js";
import { CONFIGS, runModel } from "./threaded-model.js";

describe("threaded Heap model-based, several handles in one thread", () => {
  for (const cfg of CONFIGS) {
    it(`random sequences agree with the model: ${cfg.name}`, () => {
      runModel(cfg, 40, true);
    });
  }

  it("a handle past the last slot is TOO_MANY_THREADS; a close frees the slot for the next open", () => {
    const buffer = new ArrayBuffer(128 * 1024);
    const a = new Heap(buffer, { pageSize: 1024, threads: 2 });
    const b = Heap.open(buffer);
    expect([a.threadId, b.threadId]).toEqual([0, 1]);
    expectCode(() => Heap.open(buffer), "TOO_MANY_THREADS");
    b.close();
    const c = Heap.open(buffer);
    expect(c.threadId).toBe((1 << 8) | 1); // b's slot, with the slot's next generation: another id
    expect(a.recover(b.threadId)).toBe(false); // b closed: nothing to do, and c is left alone
    expect(() => Heap.open(buffer)).toThrow(AllocError);
  });
});
