// Workers: a shared (threaded) Heap and a ConcurrentBuddy used by several worker_threads at once.
// A producer allocates and writes, and passes the pointers to a consumer (through a MessagePort),
// which reads and frees them: blocks allocated in one thread, freed in another. Each worker calls
// heap.close() when it is done. The supervisor (the main thread) calls heap.recover(id) and
// pages.recover(id) on every worker's exit, and so repairs after a worker it terminates mid-run
// (for a worker that closed its heap handle, heap.recover(id) changes nothing and returns false,
// even when another worker has its slot by then: a heap thread id names one handle).
//
// Run: npm run build && node examples/workers/main.mjs
import assert from "node:assert/strict";
import { isMainThread, MessageChannel, parentPort, Worker, workerData } from "node:worker_threads";
import { ConcurrentBuddy, Heap } from "buddy-alloc";

const N = 500; // messages from producer to consumer
const PAGE = 4096;

if (isMainThread) await supervisor();
else await worker(workerData);

async function supervisor() {
  const heapMemory = new SharedArrayBuffer(8 << 20);
  const heap = new Heap(heapMemory); // threaded: every handle (this one too) gets a thread slot
  const pages = ConcurrentBuddy.create({ size: 16 << 20, pageSize: PAGE }); // room for all N in flight
  const pageData = new SharedArrayBuffer(pages.size); // the memory ConcurrentBuddy's offsets point into
  const shared = { heapMemory, meta: pages.buffer, pageData };

  const recovered = [];
  function start(role, extra = {}, transfer = []) {
    const w = new Worker(new URL(import.meta.url), {
      workerData: { ...shared, role, ...extra },
      transferList: transfer,
    });
    // A worker's first message is its thread ids ({ ids: { heap, pages } }), its second its
    // result ({ result }).
    let gotIds;
    let gotResult;
    const ids = new Promise((resolve) => (gotIds = resolve));
    const result = new Promise((resolve) => (gotResult = resolve));
    w.on("message", (m) => (m.ids ? gotIds(m.ids) : gotResult(m.result)));
    const exited = new Promise((resolve) => {
      w.once("exit", async (code) => {
        const id = await ids;
        // A terminated worker may have left an operation half done: recover repairs it. One that
        // closed its heap handle left nothing: recover(id) is then false and changes nothing,
        // even if a worker that opened since has its slot (that worker has another id).
        recovered.push({ role, heap: heap.recover(id.heap), pages: pages.recover(id.pages) });
        resolve({ code, id });
      });
    });
    return { w, ids, result, exited };
  }

  // 1. Producer -> consumer, both at once.
  const { port1, port2 } = new MessageChannel();
  const consumer = start("consumer", { port: port2 }, [port2]);
  const producer = start("producer", { port: port1 }, [port1]);
  const consumed = await consumer.result;
  const results = await Promise.all([producer.exited, consumer.exited]);
  assert.deepEqual(
    results.map((r) => r.code),
    [0, 0],
  );
  assert.equal(consumed, N);

  // 2. A worker that is terminated while it holds blocks: recover, then free what it left.
  const doomed = start("doomed");
  const held = await doomed.result;
  await doomed.w.terminate();
  const { id } = await doomed.exited;
  const left = [...heap.liveAllocations()].filter((a) => a.thread === id.heap);
  assert.equal(left.length, held.heap.length);
  for (const a of left) heap.free(a.ptr); // the supervisor frees the dead worker's blocks
  for (const p of held.pages) pages.free(p);

  heap.check();
  pages.check();
  assert.equal([...heap.liveAllocations()].length, 0);
  assert.equal(pages.stats().freeBytes, pages.size);
  heap.close();
  console.log(
    `workers: ${N} heap blocks and ${N} page blocks passed producer -> consumer and freed there; ` +
      `recover on exit: ${recovered.map((r) => `${r.role} ${r.heap}/${r.pages}`).join(", ")}; ` +
      `${left.length} blocks of the terminated worker freed by the supervisor: ok`,
  );
}

async function worker({ role, heapMemory, meta, pageData, port }) {
  const heap = Heap.open(heapMemory); // claims a thread slot of its own
  const pages = ConcurrentBuddy.open(meta);
  parentPort.postMessage({ ids: { heap: heap.threadId, pages: pages.threadId } });

  if (role === "producer") {
    for (let i = 0; i < N; i++) {
      const size = 16 + (i % 50) * 24; // small and mixed sizes
      const ptr = heap.malloc(size);
      assert.ok(ptr !== null);
      const words = new Int32Array(heapMemory, ptr, size >> 2);
      words.fill(i);
      const page = pages.allocPages(1 + (i % 3));
      assert.ok(page !== null);
      new Uint8Array(pageData, page, PAGE).fill(i & 255);
      port.postMessage({ i, ptr, size, page }); // postMessage orders the writes before the reads
    }
    port.postMessage(null);
    port.close();
    heap.close(); // its slot is free for another worker; its blocks stay live until freed
    parentPort.postMessage({ result: N });
  } else if (role === "consumer") {
    let count = 0;
    port.on("message", (m) => {
      if (m === null) {
        port.close();
        heap.close();
        parentPort.postMessage({ result: count });
        return;
      }
      const words = new Int32Array(heapMemory, m.ptr, m.size >> 2);
      assert.ok(
        words.every((w) => w === m.i),
        "the producer's bytes arrive",
      );
      assert.ok(new Uint8Array(pageData, m.page, PAGE).every((b) => b === (m.i & 255)));
      heap.free(m.ptr); // a block another thread allocated: one Atomics.or into its slab
      pages.free(m.page);
      count++;
    });
  } else if (role === "doomed") {
    const held = { heap: [], pages: [] };
    for (let i = 0; i < 5; i++) held.heap.push(heap.malloc(100 + i * 1000));
    held.heap.push(heap.malloc(64 << 10)); // a large block: page-level
    held.pages.push(pages.allocPages(4));
    parentPort.postMessage({ result: held });
    setInterval(() => {}, 1000); // busy until terminated, never closes
  }
}
