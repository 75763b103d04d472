/**
 * Read-only views of a ConcurrentBuddy: block lists, stats, the block holding an address, and
 * the invariant check. None of it is on the alloc/free path, and none of it is atomic as a whole:
 * each word is read atomically, but a walk sees different words at different moments, so the
 * results are exact only while no other thread allocates or frees.
 *
 * A block is "allocated" when the order index names it (or it is a phantom block past the end),
 * "free" when the tree says nothing in it is occupied; otherwise the walk looks at its halves.
 */

import { AllocError, showAddress } from "../errors.js";
import { statsFromFreeBlocks } from "../page/stats.js";
import type { AllocatorStats, Block } from "../page/types.js";
import { type Geometry, phantomBlocks, TREE_WORD } from "./layout.js";
import { CLAIMED, type Tree } from "./tree.js";
import { makeTree, type Variant } from "./variants.js";

/** The parts of a ConcurrentBuddy these views read. */
export interface TreeView {
  readonly buffer: SharedArrayBuffer;
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly pages: number;
  readonly roots: number;
  readonly variant: Variant;
  readonly tree: Tree;
  readonly orderIndex: Uint8Array;
}

/**
 * The view of the allocator in `buffer` (whose header says `g`), over the buffer's own words; its
 * tree writes its steps into `record` (a private one if omitted).
 */
export function viewOf(buffer: SharedArrayBuffer, g: Geometry, record?: Int32Array): TreeView {
  return {
    buffer,
    pageSize: 2 ** g.pageShift,
    maxOrder: g.maxOrder,
    pages: g.pages,
    roots: g.roots,
    variant: g.variant,
    tree: makeTree(g.variant, new Int32Array(buffer, TREE_WORD * 4, g.words), g, record),
    orderIndex: new Uint8Array(buffer, (TREE_WORD + g.words) * 4, g.pages),
  };
}

/** 0 free, 1 allocated (or phantom), 2 partly occupied. */
function kindOf(v: TreeView, k: number, b: number): number {
  const page = b * 2 ** k;
  if (page >= v.pages || Atomics.load(v.orderIndex, page) === k + 1) return 1;
  return v.tree.isEmpty(k, b) ? 0 : 2;
}

/** Free blocks (`free`) or allocated blocks, in address order; phantom blocks are never listed. */
export function* blocksOf(v: TreeView, free: boolean): Generator<Block> {
  // Depth-first, left before right: an explicit stack of (order, index) pairs.
  const stack: number[] = [];
  for (let r = v.roots - 1; r >= 0; r--) stack.push(v.maxOrder, r);
  while (stack.length > 0) {
    const b = stack.pop()!;
    const k = stack.pop()!;
    const kind = kindOf(v, k, b);
    const page = b * 2 ** k;
    if (kind === 2) {
      if (k > 0) stack.push(k - 1, 2 * b + 1, k - 1, 2 * b);
    } else if (free === (kind === 0) && page < v.pages) {
      yield { address: page * v.pageSize, order: k };
    }
  }
}

/** Occupancy figures from one walk of the free blocks. */
export function statsOf(v: TreeView): AllocatorStats {
  const freeBlocksByOrder = new Array<number>(v.maxOrder + 1).fill(0);
  for (const block of blocksOf(v, true)) freeBlocksByOrder[block.order]++;
  return statsFromFreeBlocks(freeBlocksByOrder, v.pages, v.pageSize, v.buffer.byteLength);
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
    const kind = kindOf(v, k, b);
    if (kind !== 2 || k === 0) return { address: b * 2 ** k * v.pageSize, order: k, free: kind === 0 };
  }
  return null;
}

/**
 * Verifies the tree against the order index: every index entry names an aligned block inside the
 * memory, the live blocks (and the phantom tail) can all be claimed in a fresh tree, which means
 * no two overlap, and that fresh tree equals the shared one word for word (up to the marks a
 * variant may leave, see Tree.sameState).
 * @throws AllocError CORRUPT naming the first violation.
 */
export function checkTree(v: TreeView): void {
  const scratch = makeTree(v.variant, new Int32Array(v.tree.words.length), v);
  const phantom = phantomBlocks(v.pages, v.roots, v.maxOrder);
  for (let i = 0; i < phantom.length; i += 2) scratch.claim(phantom[i], phantom[i + 1]);
  for (let page = 0; page < v.pages; page++) {
    const entry = Atomics.load(v.orderIndex, page);
    if (entry === 0) continue;
    const k = entry - 1;
    const at = showAddress(page * v.pageSize);
    if (k > v.maxOrder || page % 2 ** k !== 0 || page + 2 ** k > v.pages) {
      throw new AllocError("CORRUPT", `order index at ${at} names order ${k}: not a block of this memory`);
    }
    if (scratch.claim(k, page / 2 ** k) !== CLAIMED) {
      throw new AllocError("CORRUPT", `live block at ${at} of order ${k} overlaps another live block`);
    }
  }
  const words = scratch.words;
  for (let i = 0; i < words.length; i++) {
    if (!v.tree.sameState(i, words[i])) {
      throw new AllocError(
        "CORRUPT",
        `tree word ${i} is ${Atomics.load(v.tree.words, i)}, the live blocks make it ${words[i]}`,
      );
    }
  }
}
