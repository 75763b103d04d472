/**
 * The heap (Heap: malloc/free inside a buffer) as a simulation target. A request of SIZE bytes is
 * `malloc(SIZE)`: a slab object of a size class up to `maxSmall`, whole pages above. Its map shows
 * the heap's pages: each slab and each large block is one page block, tagged by the heap
 * (TAG_SLAB + class, TAG_LARGE), with a note saying how full each slab is.
 */
import { GUARD_BYTES } from "../heap/guard.js";
import { Heap, TAG_LARGE, TAG_SLAB } from "../heap/index.js";
import { pageBlocksOf } from "../heap/inspect.js";
import type { MapBlock, MapModel } from "../viz/types.js";
import type { SimTarget, Usage } from "./target.js";

/** Options of {@link heapTarget} when it makes the heap itself. */
export interface HeapTargetOptions {
  /** Bytes of the ArrayBuffer the heap lives in (its metadata included). */
  memory: number;
  /** Bytes per page of the heap's page allocator (default 4096). */
  pageSize?: number;
  /** Guard mode: red zones and poison (see HeapOptions.guard; default false). */
  guard?: boolean;
}

/** Names of the heap's page tags for map legends (slab classes are listed by object size). */
export function heapTagNames(heap: Heap): Record<number, string> {
  const names: Record<number, string> = { [TAG_LARGE]: "large block" };
  heap.stats().classes.forEach((c, i) => {
    names[TAG_SLAB + i] = `slab of ${c.size} B objects`;
  });
  return names;
}

/**
 * Wraps a heap for the simulator; with options instead, makes one in a new ArrayBuffer.
 * @throws AllocError INVALID_ARGUMENT for bad options (see Heap's constructor).
 */
export function heapTarget(source: Heap | HeapTargetOptions): SimTarget & {
  /** The heap the target drives (the one given, or the one it made). */
  readonly heap: Heap;
} {
  const heap =
    source instanceof Heap
      ? source
      : new Heap(new ArrayBuffer(source.memory), {
          pageSize: source.pageSize ?? 4096,
          guard: source.guard === true,
        });
  const stats = heap.stats();
  const totalBytes = stats.pageBytes;
  // The bytes malloc(size) reserves, without asking the heap (usableSize would take its lock and
  // locate the pointer, inside the timed loop): the smallest class that holds `size`, or the
  // page block of a large request. test/sim/replay.test.ts checks it against usableSize.
  const granule = heap.minAlign;
  const largestClass = stats.classes.length > 0 ? stats.classes[stats.classes.length - 1].size : 0;
  const classFor = new Int32Array(Math.ceil(largestClass / granule) + 1);
  for (let i = 0, c = 0; i < classFor.length; i++) {
    while (stats.classes[c].size < i * granule) c++;
    classFor[i] = stats.classes[c].size;
  }
  const pageSize = heap.pageSize;
  return {
    kind: "heap",
    heap,
    label: "heap",
    totalBytes,
    alloc(size: number): number | null {
      return size > totalBytes ? null : heap.malloc(size);
    },
    free(address: number): void {
      heap.free(address);
    },
    reservedBytes(size: number): number {
      const held = heap.guard ? size + GUARD_BYTES : size; // guard mode: room for the red zone
      return held <= largestClass
        ? classFor[Math.ceil(held / granule)]
        : pageSize * Math.ceil(held / pageSize); // a large block is an exact run of pages
    },
    usage(): Usage {
      const s = heap.stats();
      const p = s.pages;
      return {
        totalBytes: p.totalBytes,
        usedBytes: p.allocatedBytes,
        freeBytes: p.freeBytes,
        largestFreeBlock: p.largestFreeBlock,
        fragmentation: p.fragmentation,
      };
    },
    map(): MapModel {
      return heapMap(heap);
    },
    check(): void {
      heap.check();
    },
  };
}

/**
 * The map of a heap's pages: free page blocks, slabs (noting their live objects) and large blocks.
 * Reads the heap's page blocks through the narrow view `pageBlocksOf` (heap/inspect.ts).
 */
export function heapMap(heap: Heap): MapModel {
  const pages = pageBlocksOf(heap);
  const block = (address: number, order: number, free: boolean, tag: number): MapBlock => ({
    address,
    size: pageSize(heap) * 2 ** order,
    free,
    order,
    tag,
  });
  const blocks = Array.from(pages.freeBlocks(), (b) => block(b.address, b.order, true, 0));
  // `size`, not 2^order: a run of pages (exact) is smaller than the block of its order.
  const used = Array.from(pages.allocatedBlocks(), (b) => ({
    ...block(b.address, b.order, false, b.tag),
    size: b.size,
  }));
  // Count each slab's live objects: live allocations come in address order, like `used`.
  const live = new Array<number>(used.length).fill(0);
  const bytes = new Array<number>(used.length).fill(0);
  let j = 0;
  for (const a of heap.liveAllocations()) {
    while (j < used.length && used[j].address + used[j].size <= a.ptr) j++;
    if (j < used.length) {
      live[j]++;
      bytes[j] += a.size;
    }
  }
  const classes = heap.stats().classes;
  used.forEach((b, i) => {
    if (b.tag === TAG_LARGE) {
      b.note = `large block, ${bytes[i]} bytes requested`;
    } else {
      const c = classes[b.tag - TAG_SLAB];
      b.note = c ? `slab of ${c.size} B objects, ${live[i]} of ${c.objectsPerSlab} live` : `tag ${b.tag}`;
    }
    blocks.push(b);
  });
  const regions = pages.regions();
  const start = regions.length > 0 ? regions[0].start : heap.start;
  const last = regions[regions.length - 1];
  return {
    start,
    end: last ? last.start + last.length : start,
    pageSize: heap.pageSize,
    blocks,
    tagNames: heapTagNames(heap),
  };
}

function pageSize(heap: Heap): number {
  return heap.pageSize;
}
