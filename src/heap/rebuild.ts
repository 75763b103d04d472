/**
 * Rebuilding the page level of a heap from its side table, after a thread died holding the page
 * lock (recover.ts) or bytes were saved in the middle of an operation. The page allocator's
 * lists and the free-stretch index are derived data; what a block is, is said by the owner words
 * of the side table, which every page-level operation writes under the page lock with the
 * operation recorded in its thread's slot (threads.ts). So recovery first settles the recorded
 * operation's pages (`settle`), then takes every block again from an empty page allocator and
 * lists the free pages between them as stretches (`rebuildPages`).
 *
 * Only words nobody else writes are touched: the page allocator's storage, the stretch index,
 * and the side records of free pages and of a large block's later pages. A slab's own record
 * (free count, list links) belongs to its owner thread, which may be running.
 */
import { AllocError } from "../errors.js";
import type { HeapCore } from "./core.js";
import { LARGE_KIND, SIDE_OWNER, SIDE_SHIFT, SIDE_SIZE, TAG_LARGE, TAG_SLAB } from "./layout.js";
import { clearIndex, releaseStretch } from "./stretches.js";
import { OP_RELEASE, OP_RESIZE, OP_TAKE, R_COUNT, R_OP, R_PAGE, R_SIZE } from "./threads.js";

/**
 * Settles the page-level operation recorded at Int32 index `record` (threads.ts): a take
 * is rolled back and a release rolled forward (both: the pages' side records are cleared, so
 * the rebuild finds them free), an in-place resize rolled back to the size it had.
 */
export function settle(h: HeapCore, record: number): void {
  const i32 = h.i32;
  const op = i32[record + R_OP];
  const page = i32[record + R_PAGE];
  const count = i32[record + R_COUNT];
  if (!(page >= 0 && count >= 0 && page + count <= h.pageCount)) return;
  if (op === OP_TAKE || op === OP_RELEASE) {
    h.side.fill(0, page << SIDE_SHIFT, (page + count) << SIDE_SHIFT);
    h.ownerOf.fill(0, page, page + count);
  } else if (op === OP_RESIZE && h.side[(page << SIDE_SHIFT) + SIDE_OWNER] === ((page << 8) | LARGE_KIND)) {
    h.side[(page << SIDE_SHIFT) + SIDE_SIZE] = i32[record + R_SIZE];
  }
}

/**
 * Takes every slab and large block the side table names from a new, empty page allocator, and
 * lists the pages between them as free stretches. Bumps the generation, so every other handle
 * rebuilds its view of the page allocator. The caller holds the page lock.
 * @throws AllocError CORRUPT when the side table does not describe blocks that fit.
 */
export function rebuildPages(h: HeapCore): void {
  h.resetPages();
  clearIndex(h);
  const side = h.side;
  const count = h.classes.count;
  const pages = h.pageCount;
  let free = -1;
  for (let p = 0; p < pages; ) {
    const word = side[(p << SIDE_SHIFT) + SIDE_OWNER];
    const kind = word & 255;
    let n = 0;
    let tag = 0;
    if (word >>> 8 === p && kind >= 1 && kind <= count) {
      n = h.slabPages[kind - 1];
      tag = TAG_SLAB + kind - 1;
      for (let q = p + 1; q < p + n; q++) {
        if (q >= pages || side[(q << SIDE_SHIFT) + SIDE_OWNER] !== word)
          throw broken(p, `a slab of ${n} pages`);
      }
    } else if (word >>> 8 === p && kind === LARGE_KIND) {
      n = h.largePages(side[(p << SIDE_SHIFT) + SIDE_SIZE] >>> 0);
      tag = TAG_LARGE;
      if (p + n > pages) throw broken(p, `a large block of ${n} pages`);
      side.fill(0, (p + 1) << SIDE_SHIFT, (p + n) << SIDE_SHIFT);
      h.ownerOf.fill(0, p + 1, p + n);
    }
    if (n === 0) {
      side.fill(0, p << SIDE_SHIFT, (p + 1) << SIDE_SHIFT);
      h.ownerOf[p] = 0;
      if (free < 0) free = p;
      p++;
      continue;
    }
    if (free >= 0) releaseStretch(h, free, p - free);
    free = -1;
    if (h.pages.allocAt(h.firstPage + p * h.pageSize, n, { exact: true, tag }) === null) {
      throw broken(p, `${n} pages the page allocator could not give`);
    }
    p += n;
  }
  if (free >= 0) releaseStretch(h, free, pages - free);
  h.generation = (h.i32[h.genIndex] + 1) | 0;
  h.i32[h.genIndex] = h.generation;
}

function broken(page: number, what: string): AllocError {
  return new AllocError(
    "CORRUPT",
    `recovery: the side table says page ${page} starts ${what} (heap metadata damaged)`,
  );
}
