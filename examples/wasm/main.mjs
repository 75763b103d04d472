// WebAssembly: a real wasm module (structs.c, built to structs.wasm by build.sh) whose functions
// read and write structures at pointers that buddy-alloc's Heap hands out from the module's own
// memory. JavaScript creates the WebAssembly.Memory, puts a Heap in it above the module's data and
// stack (`start`), allocates, calls into wasm, grows the memory, frees.
//
// Run: npm run build && node examples/wasm/main.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Heap } from "buddy-alloc";

const bytes = readFileSync(new URL("structs.wasm", import.meta.url));
const memory = new WebAssembly.Memory({ initial: 4, maximum: 64 }); // 256 KiB, up to 4 MiB
const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
const wasm = instance.exports;

// The module's static data and its stack end at __heap_base: the heap starts above, page aligned.
const heapBase = wasm.__heap_base.value;
const start = Math.ceil(heapBase / 4096) * 4096;
const heap = new Heap(memory, { start, maxLength: 64 * 65536 - start });
const greeting = () => {
  const at = wasm.greeting_ptr();
  const u8 = new Uint8Array(memory.buffer);
  return new TextDecoder().decode(u8.subarray(at, u8.indexOf(0, at)));
};
assert.equal(greeting(), "hello from structs.c");

// Points: struct { double x, y; }, 16 bytes aligned to 8.
const a = heap.malloc(16, 8);
const b = heap.malloc(16, 8);
const sum = heap.malloc(16, 8);
assert.ok(a !== null && b !== null && sum !== null && a >= start);
wasm.point_init(a, 3, 4);
wasm.point_init(b, 0.5, -1);
assert.equal(wasm.point_len2(a), 25);
wasm.point_add(sum, a, b);
assert.deepEqual([...new Float64Array(memory.buffer, sum, 2)], [3.5, 3]); // JS reads what wasm wrote
new Float64Array(memory.buffer, b, 2).set([6, 8]); // and wasm reads what JS wrote
assert.equal(wasm.point_len2(b), 100);
heap.free(a);
heap.free(b);
heap.free(sum);

// A linked list: struct Node { int value; struct Node *next; }, 8 bytes, built by wasm in blocks
// from the heap. Then the memory grows (memory.grow: every old view is detached) and the list
// carries on in the new pages.
let head = 0; // NULL
const N = 2000;
for (let i = 1; i <= N; i++) {
  if (i === N / 2) assert.ok(heap.grow(1 << 20)); // 1 MiB more while the list is half built
  const node = heap.malloc(8);
  assert.ok(node !== null);
  head = wasm.list_push(node, head, i);
}
assert.ok(memory.buffer.byteLength >= 4 * 65536 + (1 << 20));
assert.equal(wasm.list_len(head), N);
assert.equal(wasm.list_sum(head), (N * (N + 1)) / 2);
assert.equal([...heap.liveAllocations()].length, N);

// Free the list from JavaScript, following the pointers wasm wrote.
for (let node = head; node !== 0; ) {
  const next = wasm.list_next(node);
  heap.free(node);
  node = next;
}
heap.check();
assert.equal([...heap.liveAllocations()].length, 0);
assert.equal(greeting(), "hello from structs.c"); // the module's data was never touched
console.log(
  `wasm: heap at ${start} (module data ends at ${heapBase}), points and a ${N}-node list built by wasm ` +
    `in Heap blocks, memory grown to ${memory.buffer.byteLength} bytes, all freed: ok`,
);
