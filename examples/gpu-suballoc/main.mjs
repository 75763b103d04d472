// GPU-buffer suballocation: one big buffer, meshes of any byte size placed at 256-byte alignment
// (WebGPU's minUniformBufferOffsetAlignment), as exact runs of 256-byte pages: a 1000-byte mesh
// takes 4 pages (1024 bytes), not the 1024-byte block's neighbour too. Meshes grow in place with
// `resize` when the pages after them are free, else move; freed space merges back.
//
// The "GPU buffer" here is a plain ArrayBuffer standing in for a GPUBuffer: headless WebGPU is not
// available where this example is tested. With WebGPU, the same offsets go to
// device.queue.writeBuffer(gpuBuffer, offset, data) and setVertexBuffer(slot, gpuBuffer, offset, size).
//
// Run: npm run build && node examples/gpu-suballoc/main.mjs
import assert from "node:assert/strict";
import { BuddyAllocator } from "buddy-alloc";

const ALIGN = 256;
const BUFFER_SIZE = 4 << 20; // 4 MiB
const gpu = new ArrayBuffer(BUFFER_SIZE); // stands in for device.createBuffer({ size, usage })
const bytes = new Uint8Array(gpu);
const pages = new BuddyAllocator({ pageSize: ALIGN, maxOrder: 14 }); // blocks up to 4 MiB
pages.addRegion(0, BUFFER_SIZE);

const pagesFor = (size) => Math.max(1, Math.ceil(size / ALIGN));

/** Places a mesh of `size` bytes; returns { offset, size } or null when the buffer is full. */
function upload(id, size) {
  const offset = pages.allocPages(pagesFor(size), { exact: true, tag: id });
  if (offset === null) return null;
  bytes.fill(id, offset, offset + size); // queue.writeBuffer(gpu, offset, data)
  return { id, offset, size };
}

/** Grows (or shrinks) a mesh: in place when the pages after it are free, else a new place. */
function reshape(mesh, size) {
  if (pages.resize(mesh.offset, pagesFor(size))) {
    bytes.fill(mesh.id, mesh.offset, mesh.offset + size);
    return { ...mesh, size, moved: false };
  }
  const moved = upload(mesh.id, size); // copyBufferToBuffer in WebGPU
  assert.ok(moved !== null);
  pages.free(mesh.offset);
  return { ...moved, moved: true };
}

// Meshes of awkward sizes: each offset is 256-aligned and each takes ceil(size / 256) pages.
const sizes = [1000, 256, 70_000, 12, 5000, 300_000, 777, 65_536, 123_457];
let meshes = sizes.map((size, i) => upload(i + 1, size));
for (const m of meshes) {
  assert.ok(m !== null);
  assert.equal(m.offset % ALIGN, 0);
  assert.equal(pages.sizeOf(m.offset), pagesFor(m.size) * ALIGN); // exact: no power-of-two rounding
}
const used = pages.stats().totalBytes - pages.stats().freeBytes;
const needed = sizes.reduce((s, n) => s + pagesFor(n) * ALIGN, 0);
assert.equal(used, needed);

// Free every other mesh, then grow the rest: some grow in place, some move.
for (const m of meshes.filter((_, i) => i % 2 === 1)) pages.free(m.offset);
meshes = meshes.filter((_, i) => i % 2 === 0);
meshes = meshes.map((m) => reshape(m, m.size * 2 + 100));
const inPlace = meshes.filter((m) => !m.moved).length;

// Nothing overlaps, and each mesh's bytes are its own.
const sorted = [...meshes].sort((a, b) => a.offset - b.offset);
for (let i = 1; i < sorted.length; i++) {
  assert.ok(sorted[i - 1].offset + sorted[i - 1].size <= sorted[i].offset);
}
for (const m of meshes) {
  assert.equal(m.offset % ALIGN, 0);
  assert.ok(bytes.subarray(m.offset, m.offset + m.size).every((b) => b === m.id));
  assert.equal(pages.tagOf(m.offset), m.id);
}
pages.check();

// Free everything: the buffer is one free block again.
for (const m of meshes) pages.free(m.offset);
assert.equal(pages.stats().freeBytes, BUFFER_SIZE);
assert.equal(pages.stats().largestFreeBlock, BUFFER_SIZE);
console.log(
  `gpu-suballoc: ${sizes.length} meshes at 256-byte alignment in ${needed} bytes (exact runs), ` +
    `${meshes.length} grown (${inPlace} in place), all freed and merged: ok`,
);
