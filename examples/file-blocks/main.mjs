// A file's block space: BuddyAllocator hands out 4 KiB blocks of a file, and keeps its own state
// (one byte and two words per page, via `inStorage`) inside the file's first page. Write the file,
// close it, reopen it: the allocator and every allocation are still there.
//
// Run: npm run build && node examples/file-blocks/main.mjs
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuddyAllocator } from "buddy-alloc";

const BLOCK = 4096; // the file's block size, the allocator's page size
const OPTIONS = { pageSize: BLOCK, maxOrder: 8 }; // blocks of up to 256 pages (1 MiB)
const DATA_START = BLOCK; // page 0 holds the header and the allocator's state; data from page 1
const DATA_LENGTH = 255 * BLOCK; // pages 1..255: with page 0, a 1 MiB file
const MAGIC = 0x4b4c4246; // "FBLK"
const META_OFFSET = 16; // after the header: magic, start, length, pages (a multiple of 4)

// The allocator's state for this region: `pages` page slots, laid out as the library's PageStorage
// ({ links: Int32Array of maxOrder + 2 + 2 * pages words, state: Uint8Array of `pages` bytes }).
const pages = BuddyAllocator.storagePages(OPTIONS, DATA_START, DATA_LENGTH);
const linkWords = OPTIONS.maxOrder + 2 + 2 * pages;
assert.ok(META_OFFSET + linkWords * 4 + pages <= BLOCK, "the state fits in page 0");

/** Views of the state inside the header page (an ArrayBuffer holding the file's page 0). */
function storageIn(header) {
  const links = new Int32Array(header, META_OFFSET, linkWords);
  const state = new Uint8Array(header, META_OFFSET + linkWords * 4, pages);
  return { links, state };
}

/** Writes `text` into a new block of the file, tagged `id`; returns its file offset. */
function writeRecord(fd, alloc, id, text) {
  const bytes = Buffer.from(text);
  const count = Math.ceil((4 + bytes.length) / BLOCK);
  const at = alloc.allocPages(count, { exact: true, tag: id });
  assert.ok(at !== null, "the file has room");
  const record = Buffer.alloc(4 + bytes.length);
  record.writeUInt32LE(bytes.length, 0);
  bytes.copy(record, 4);
  writeSync(fd, record, 0, record.length, at); // addresses are file offsets
  return at;
}

function readRecord(fd, at) {
  const len = Buffer.alloc(4);
  readSync(fd, len, 0, 4, at);
  const text = Buffer.alloc(len.readUInt32LE(0));
  readSync(fd, text, 0, text.length, at + 4);
  return text.toString();
}

const dir = mkdtempSync(join(tmpdir(), "buddy-file-"));
const path = join(dir, "blocks.bin");
try {
  // 1. Create the file: a fresh allocator whose state lives in page 0.
  let header = new ArrayBuffer(BLOCK);
  let alloc = BuddyAllocator.inStorage(OPTIONS, DATA_START, DATA_LENGTH, storageIn(header), { fresh: true });
  let fd = openSync(path, "w+");
  const written = new Map();
  written.set(1, writeRecord(fd, alloc, 1, "hello, block space"));
  written.set(2, writeRecord(fd, alloc, 2, "x".repeat(3 * BLOCK))); // 4 blocks, an exact run
  const gone = writeRecord(fd, alloc, 3, "temporary");
  written.set(4, writeRecord(fd, alloc, 4, "y".repeat(9000))); // 3 blocks
  alloc.free(gone); // freed blocks go back to the allocator, and so to the file's free space
  const v = new DataView(header);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, DATA_START, true);
  v.setUint32(8, DATA_LENGTH, true);
  v.setUint32(12, pages, true);
  writeSync(fd, new Uint8Array(header), 0, BLOCK, 0); // save the state with the data
  const freeBefore = alloc.stats().freeBytes;
  closeSync(fd);

  // 2. Reopen: read page 0 back, adopt the state as it is ({ fresh: false }).
  header = new ArrayBuffer(BLOCK);
  fd = openSync(path, "r+");
  readSync(fd, new Uint8Array(header), 0, BLOCK, 0);
  const h = new DataView(header);
  assert.equal(h.getUint32(0, true), MAGIC);
  const start = h.getUint32(4, true);
  const length = h.getUint32(8, true);
  alloc = BuddyAllocator.inStorage(OPTIONS, start, length, storageIn(header), { fresh: false });
  alloc.check(); // every invariant holds on the reopened state

  const found = [...alloc.allocatedBlocks()];
  assert.deepEqual(found.map((b) => b.tag).sort(), [1, 2, 4]);
  for (const b of found) {
    assert.equal(b.address, written.get(b.tag));
    assert.ok(readRecord(fd, b.address).length > 0);
  }
  assert.equal(readRecord(fd, written.get(1)), "hello, block space");
  assert.equal(alloc.stats().freeBytes, freeBefore);

  // 3. Keep using it: a new record takes free blocks, not the live ones.
  const next = writeRecord(fd, alloc, 5, "after reopening");
  assert.ok(![...written.values()].includes(next));
  closeSync(fd);
  console.log(
    `file-blocks: reopened ${statSync(path).size}-byte file, found ${found.length} allocations ` +
      `(tags ${found.map((b) => b.tag).join(", ")}), free ${freeBefore} bytes: ok`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
