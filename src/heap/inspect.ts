/**
 * Read-only views of a heap: stats, the live allocations, and the invariant check. None of this
 * is on a hot path; it walks the page allocator's blocks and every slab's bitmap, O(heap).
 * The invariants checked are those stated in layout.ts (side table), size-classes.ts (trailer)
 * and slabs.ts (class lists), plus the page allocator's own (`BuddyAllocator.check`).
 */
import { AllocError, show } from "../errors.js";
import type { HeapCore } from "./core.js";
import { LARGE_KIND, readHeader, TAG_LARGE, TAG_SLAB } from "./layout.js";
import { sizeClasses } from "./size-classes.js";
import { classMarked, classOf, eachListed, FIT_CLASSES, FREE_KIND } from "./stretches.js";
import type { ClassStats, HeapStats, LiveAllocation } from "./types.js";

const corrupt = (message: string): never => {
  throw new AllocError("CORRUPT", `heap check: ${message}`);
};

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 63;
}

/** Calls `visit(ptr, requested, cls)` for each live object of the slab of class `cls` at `address`. */
function eachObject(
  h: HeapCore,
  cls: number,
  address: number,
  visit: (ptr: number, requested: number) => void,
): void {
  const t = (address + h.trailer[cls]) >>> 2;
  const slackAt = (t << 1) + 2 + 2 * h.bitmapWords[cls];
  for (let i = 0; i < h.objects[cls]; i++) {
    if ((h.i32[t + 1 + (i >>> 5)] & (1 << (i & 31))) !== 0) continue;
    visit(address + i * h.size[cls], h.size[cls] - h.u16[slackAt + i]);
  }
}

/** The live allocations in address order. */
export function liveAllocationsOf(h: HeapCore): LiveAllocation[] {
  const out: LiveAllocation[] = [];
  for (const b of h.pages.allocatedBlocks()) {
    if (b.tag === TAG_LARGE) {
      const page = (b.address - h.firstPage) / h.pageSize;
      out.push({ ptr: b.address, size: h.side[(page << 2) + 1] >>> 0, tag: TAG_LARGE });
    } else {
      eachObject(h, b.tag - TAG_SLAB, b.address, (ptr, size) => out.push({ ptr, size, tag: b.tag }));
    }
  }
  return out;
}

/** The heap's figures. */
export function statsOf(h: HeapCore): HeapStats {
  const c = h.classes;
  const classes: ClassStats[] = [];
  for (let i = 0; i < c.count; i++) {
    classes.push({
      size: c.size[i],
      slabBytes: h.pageSize * c.slabPages[i],
      objectsPerSlab: c.objects[i],
      slabs: 0,
      liveObjects: 0,
      freeObjects: 0,
      requestedBytes: 0,
      wastedBytes: 0,
    });
  }
  const large = { count: 0, requestedBytes: 0, blockBytes: 0, wastedBytes: 0 };
  let slabBytes = 0;
  let slabOverhead = 0;
  for (const b of h.pages.allocatedBlocks()) {
    const bytes = b.size;
    if (b.tag === TAG_LARGE) {
      const page = (b.address - h.firstPage) / h.pageSize;
      large.count++;
      large.requestedBytes += h.side[(page << 2) + 1] >>> 0;
      large.blockBytes += bytes;
      continue;
    }
    const k = b.tag - TAG_SLAB;
    const s = classes[k];
    s.slabs++;
    slabBytes += bytes;
    slabOverhead += bytes - c.objects[k] * c.size[k];
    eachObject(h, k, b.address, (_, requested) => {
      s.liveObjects++;
      s.requestedBytes += requested;
    });
  }
  large.wastedBytes = large.blockBytes - large.requestedBytes;
  let used = large.requestedBytes;
  let live = large.count;
  let wasted = large.wastedBytes;
  let slabFree = 0;
  for (const s of classes) {
    s.freeObjects = s.slabs * s.objectsPerSlab - s.liveObjects;
    s.wastedBytes = s.liveObjects * s.size - s.requestedBytes;
    used += s.requestedBytes;
    live += s.liveObjects;
    wasted += s.wastedBytes;
    slabFree += s.freeObjects * s.size;
  }
  const l = h.layout;
  const pages = h.pages.stats();
  return {
    heapBytes: h.end - l.start,
    pageBytes: h.end - l.firstPage,
    liveAllocations: live,
    usedBytes: used,
    freeBytes: pages.freeBytes,
    slabFreeBytes: slabFree,
    slabBytes,
    largeBytes: large.blockBytes,
    wastedBytes: wasted,
    metadataBytes: l.firstPage - l.start + slabOverhead,
    metadataBytesPerPage: (l.firstPage - l.start) / ((l.maxEnd - l.firstPage) / l.pageSize),
    classes,
    large,
    pages,
  };
}

/** Verifies the header, the page allocator, every block's side records, slab and class list. */
export function checkHeap(h: HeapCore): void {
  const l = h.layout;
  readHeader(h.buffer, l.start, (p, m, o) => sizeClasses(p, m, o).count);
  h.pages.check();
  const side = h.side;
  const maxPages = (l.maxEnd - l.firstPage) / l.pageSize;
  const head = new Uint8Array(maxPages); // 1: large block, 2: slab
  const count = h.classes.count;
  const slabsWithFree = new Int32Array(count);
  for (const b of h.pages.allocatedBlocks()) {
    const page = (b.address - h.firstPage) / h.pageSize;
    const span = b.size / h.pageSize;
    const at = `block ${show(b.address)}`;
    if (b.tag === TAG_LARGE) {
      head[page] = 1;
      if (side[page << 2] !== ((page << 8) | LARGE_KIND))
        corrupt(`${at}: large block without its owner word`);
      const size = side[(page << 2) + 1] >>> 0;
      if (size > span * h.pageSize) corrupt(`${at}: requested size ${size} does not fit its block`);
      for (let p = page + 1; p < page + span; p++) {
        if (side[p << 2] !== 0) corrupt(`${at}: interior page ${p} has owner ${side[p << 2]}`);
      }
      continue;
    }
    const cls = b.tag - TAG_SLAB;
    if (cls < 0 || cls >= count) corrupt(`${at}: tag ${b.tag} is neither large nor a slab class`);
    if (span !== h.slabPages[cls] || (h.firstPage / h.pageSize + page) % h.slabAlign[cls] !== 0) {
      corrupt(`${at}: slab of class ${cls} has ${span} pages, or is misaligned`);
    }
    head[page] = 2;
    for (let p = page; p < page + span; p++) {
      if (side[p << 2] !== ((page << 8) | (cls + 1))) corrupt(`${at}: page ${p} does not point at its slab`);
    }
    const free = checkBitmap(h, cls, b.address, at);
    if (side[(page << 2) + 1] !== free)
      corrupt(`${at}: free count ${side[(page << 2) + 1]}, bitmap has ${free}`);
    if (free > 0) slabsWithFree[cls]++;
  }
  checkStretches(h, head);
  for (let p = 0; p < maxPages; p++) {
    const rest = side[(p << 2) + 1] | side[(p << 2) + 2] | side[(p << 2) + 3];
    if ((head[p] === 0 || head[p] === 4) && rest !== 0)
      corrupt(`page ${p} is no block or stretch start but has side words`);
    const kind = side[p << 2] & 255;
    if (head[p] === 0 && side[p << 2] !== 0 && (kind === LARGE_KIND || kind === FREE_KIND)) {
      corrupt(
        `page ${p} claims a ${kind === FREE_KIND ? "free stretch" : "large block"} that does not exist`,
      );
    }
  }
  for (let cls = 0; cls < count; cls++) checkList(h, cls, head, slabsWithFree[cls]);
}

/**
 * The free-stretch index holds exactly the maximal runs of the page allocator's free pages, each
 * with its records, once, in the list of its length's class; the bitmaps mark the non-empty
 * classes. Marks stretch starts 3 and stretch ends 4 in `head`.
 */
function checkStretches(h: HeapCore, head: Uint8Array): void {
  const side = h.side;
  const expected = new Map<number, number>();
  let start = -1;
  let end = -1;
  const close = () => {
    if (start >= 0) expected.set(start, end - start);
  };
  for (const b of h.pages.freeBlocks()) {
    const p = (b.address - h.firstPage) / h.pageSize;
    if (p !== end) {
      close();
      start = p;
    }
    end = p + 2 ** b.order;
  }
  close();
  for (const [p, pages] of expected) {
    const at = `free stretch at page ${p} of ${pages} pages`;
    if (side[p << 2] !== ((p << 8) | FREE_KIND) || side[(p << 2) + 1] !== pages) {
      corrupt(`${at}: its first page's side words are ${side[p << 2]}, ${side[(p << 2) + 1]}`);
    }
    head[p] = 3;
    if (pages > 1) {
      if (side[(p + pages - 1) << 2] !== ((p << 8) | FREE_KIND))
        corrupt(`${at}: its last page does not point back`);
      head[p + pages - 1] = 4;
    }
  }
  const listed = new Set<number>();
  eachListedChecked(h, expected, listed);
  if (listed.size !== expected.size) corrupt(`${expected.size - listed.size} free stretches are in no list`);
}

/** Walks every class list: each member is an expected stretch of that class, listed once, with sound back links. */
function eachListedChecked(h: HeapCore, expected: Map<number, number>, listed: Set<number>): void {
  const lastOf = new Map<number, number>();
  let error: string | null = null;
  try {
    eachListed(h, (p, pages, c) => {
      if (error !== null) return;
      if (expected.get(p) !== pages)
        error = `class list ${c} holds page ${p}, which starts no free stretch of ${pages} pages`;
      else if (classOf(pages) !== c) error = `a free stretch of ${pages} pages is in class list ${c}`;
      else if (listed.has(p)) error = `free stretch at page ${p} is listed twice`;
      else if (h.side[(p << 2) + 3] !== (lastOf.get(c) ?? -1))
        error = `free stretch at page ${p} has a broken back link`;
      listed.add(p);
      lastOf.set(c, p);
    });
  } catch (e) {
    error = (e as Error).message;
  }
  if (error !== null) corrupt(error);
  for (let c = 0; c < FIT_CLASSES; c++) {
    if (classMarked(h, c) !== lastOf.has(c))
      corrupt(`the free-stretch bitmaps disagree with class list ${c}`);
  }
}

/** Checks a slab's trailer; returns its number of free objects. */
function checkBitmap(h: HeapCore, cls: number, address: number, at: string): number {
  const t = (address + h.trailer[cls]) >>> 2;
  const words = h.bitmapWords[cls];
  const n = h.objects[cls];
  const hint = h.i32[t];
  if (hint < 0 || hint >= words) corrupt(`${at}: hint ${hint} outside the bitmap`);
  let free = 0;
  for (let w = 0; w < words; w++) {
    const bits = h.i32[t + 1 + w];
    if (w < hint && bits !== 0) corrupt(`${at}: free objects below the hint`);
    const valid = w < words - 1 || (n & 31) === 0 ? -1 : (1 << (n & 31)) - 1;
    if ((bits & ~valid) !== 0) corrupt(`${at}: bitmap has bits past the last object`);
    free += popcount(bits);
  }
  eachObject(h, cls, address, (ptr, requested) => {
    if (requested < 0) corrupt(`${at}: object ${show(ptr)} has slack beyond its size`);
  });
  return free;
}

/** Checks the list of `cls`: links, members, and that it holds exactly the slabs with a free object. */
function checkList(h: HeapCore, cls: number, head: Uint8Array, expected: number): void {
  const side = h.side;
  let previous = -1;
  let listed = 0;
  for (let slab = h.i32[h.listBase + cls]; slab !== -1; slab = side[(slab << 2) + 2]) {
    const at = `list of class ${cls} (${h.size[cls]} B)`;
    if (slab < 0 || slab >= head.length || head[slab] !== 2 || (side[slab << 2] & 255) !== cls + 1) {
      corrupt(`${at} holds page ${slab}, not a slab of the class`);
    }
    if (side[(slab << 2) + 3] !== previous) corrupt(`${at}: broken back link at page ${slab}`);
    const free = side[(slab << 2) + 1];
    if (free === 0) corrupt(`${at} holds the full slab at page ${slab}`);
    if (free === h.objects[cls] && previous !== -1)
      corrupt(`${at}: empty slab at page ${slab} is not the head`);
    if (++listed > expected) corrupt(`${at} lists more slabs than have a free object, or loops`);
    previous = slab;
  }
  if (listed !== expected) corrupt(`class ${cls} has ${expected} slabs with free objects, ${listed} listed`);
}
