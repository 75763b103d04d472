/**
 * Read-only views of a ConcurrentBuddy: block lists, stats, the block holding an address, and
 * the invariant check. None of it is on the alloc/free path, and none of it is atomic as a whole:
 * each node is read atomically, but the walk sees different nodes at different moments, so the
 * results are exact only while no other thread allocates or frees. Node bits: node-tree.ts.
 */
import { AllocError, show } from "../errors.js";
import type { AllocatorStats, Block } from "../page/types.js";
import { COAL_L, COAL_R, NODE_BITS, OCC, OCC_L } from "./node-tree.js";

/** The parts of a ConcurrentBuddy these views read. */
export interface TreeView {
  readonly buffer: SharedArrayBuffer;
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly pages: number;
  readonly roots: number;
  readonly tree: Int32Array;
  readonly off: Int32Array;
  readonly orderIndex: Uint8Array;
}

/** Free blocks (`free`) or allocated blocks, in address order; phantom blocks are never listed. */
export function* blocksOf(v: TreeView, free: boolean): Generator<Block> {
  // Depth-first, left before right: an explicit stack of (order, index) pairs.
  const stack: number[] = [];
  for (let r = v.roots - 1; r >= 0; r--) stack.push(v.maxOrder, r);
  while (stack.length > 0) {
    const b = stack.pop()!;
    const k = stack.pop()!;
    const node = Atomics.load(v.tree, v.off[k] + b);
    const page = b * 2 ** k;
    if (node === 0 || (node & OCC) !== 0) {
      if (free === (node === 0) && page < v.pages) yield { address: page * v.pageSize, order: k };
      continue;
    }
    if (k === 0) continue;
    stack.push(k - 1, 2 * b + 1, k - 1, 2 * b);
  }
}

/** Occupancy figures from one walk of the free blocks. */
export function statsOf(v: TreeView): AllocatorStats {
  const freeBlocksByOrder = new Array<number>(v.maxOrder + 1).fill(0);
  let freePages = 0;
  let largest = -1;
  for (const block of blocksOf(v, true)) {
    freeBlocksByOrder[block.order]++;
    freePages += 2 ** block.order;
    if (block.order > largest) largest = block.order;
  }
  const freeBytes = freePages * v.pageSize;
  const largestFreeBlock = largest < 0 ? 0 : v.pageSize * 2 ** largest;
  return {
    totalBytes: v.pages * v.pageSize,
    freeBytes,
    allocatedBytes: (v.pages - freePages) * v.pageSize,
    totalPages: v.pages,
    freePages,
    freeBlocksByOrder,
    largestFreeBlock,
    fragmentation: freeBytes === 0 ? 0 : 1 - largestFreeBlock / freeBytes,
    metadataBytes: v.buffer.byteLength,
  };
}

/** The block holding byte `address` (free or allocated), or null outside 0..size. */
export function locate(
  v: TreeView,
  address: number,
): { address: number; order: number; free: boolean } | null {
  const page = Math.floor(address / v.pageSize);
  if (!(page >= 0 && page < v.pages)) return null;
  for (let k = v.maxOrder; k >= 0; k--) {
    const b = Math.floor(page / 2 ** k);
    const node = Atomics.load(v.tree, v.off[k] + b);
    if (node === 0 || (node & OCC) !== 0 || k === 0) {
      return { address: b * 2 ** k * v.pageSize, order: k, free: (node & OCC) === 0 };
    }
  }
  return null;
}

function corrupt(v: TreeView, k: number, b: number, what: string): never {
  const address = b * 2 ** k * v.pageSize;
  throw new AllocError("CORRUPT", `node of order ${k} at ${show(address)}: ${what}`);
}

/** Verifies the invariants of node-tree.ts and layout.ts. @throws AllocError CORRUPT */
export function checkTree(v: TreeView): void {
  let live = 0;
  // Stack of (order, index, mode): mode 0 = free to judge, 1 = below an allocated or free node.
  const stack: number[] = [];
  for (let r = v.roots - 1; r >= 0; r--) stack.push(v.maxOrder, r, 0);
  while (stack.length > 0) {
    const below = stack.pop()!;
    const b = stack.pop()!;
    const k = stack.pop()!;
    const node = Atomics.load(v.tree, v.off[k] + b);
    const first = b * 2 ** k;
    const end = first + 2 ** k;
    if ((node & ~NODE_BITS) !== 0) corrupt(v, k, b, `unknown bits in ${node}`);
    if ((node & (COAL_L | COAL_R)) !== 0) corrupt(v, k, b, `coalescing bits left set (${node})`);
    if (below === 1) {
      if (node !== 0) corrupt(v, k, b, `marked (${node}) inside an allocated or free block`);
    } else if (node === 0 || node === OCC) {
      const phantom = first >= v.pages;
      if (!phantom && end > v.pages) corrupt(v, k, b, "block runs past the managed size");
      if (node === 0 && phantom) corrupt(v, k, b, "free block beyond the managed size");
      if (node === OCC && !phantom) {
        live++;
        if (v.orderIndex[first] !== k + 1) {
          corrupt(v, k, b, `allocated but the order index says ${v.orderIndex[first]}`);
        }
      }
    } else {
      if ((node & OCC) !== 0) corrupt(v, k, b, `OCC with other bits (${node})`);
      if (k === 0) corrupt(v, k, b, `a page node with child bits (${node})`);
      for (let side = 0; side < 2; side++) {
        const child = Atomics.load(v.tree, v.off[k - 1] + 2 * b + side);
        if (((node & (OCC_L << side)) !== 0) !== (child !== 0)) {
          corrupt(v, k, b, `${side === 0 ? "left" : "right"} bit disagrees with child ${child}`);
        }
      }
    }
    if (k > 0) {
      const mode = below === 1 || node === 0 || node === OCC ? 1 : 0;
      stack.push(k - 1, 2 * b + 1, mode, k - 1, 2 * b, mode);
    }
  }
  let entries = 0;
  for (let page = 0; page < v.pages; page++) if (v.orderIndex[page] !== 0) entries++;
  if (entries !== live) {
    throw new AllocError("CORRUPT", `order index has ${entries} entries for ${live} allocated blocks`);
  }
}
