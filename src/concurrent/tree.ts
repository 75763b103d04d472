/**
 * What ConcurrentBuddy needs from a tree variant: the lock-free claim/release protocol over Int32
 * words of a SharedArrayBuffer, a level scan, the two questions inspection asks, and two reads
 * placement asks (placement.ts: is a block free as a whole, how used is a node); those read words
 * plainly, change nothing and decide nothing (a claim does), so they are outside the protocol,
 * whose only change for placement is that a release reports how far it merged. Two variants
 * implement it: NodeTree (node-tree.ts, the paper's one node per word) and PackedTree
 * (packed-tree.ts, several levels per word, the paper's multi-level variant fitted to 32 bits).
 *
 * Both write the calling thread's record (records.ts) after each step that changes what it holds:
 * a claim's CAS, a release's clearing of the block and each step of its climb.
 *
 * Blocks are named (order k, index b): block b of order k covers pages b*2^k .. (b+1)*2^k - 1.
 * A "claim" takes a block as a whole; it succeeds only if no part of the block and no block
 * containing it is occupied. Both variants keep, per variant, the invariant that a claimed block
 * never overlaps another claimed block, whatever the interleaving.
 */

/** What `claim` returns on success; any other value is the order of the node where it failed. */
export const CLAIMED = -1;

/** `stateOf`: nothing in the block is occupied. */
export const FREE = 0;
/** `stateOf`: the block is allocated whole, lies inside an allocated block, or has no free page. */
export const FULL = 1;
/** `stateOf`: part of the block is occupied (it may still hold free blocks). */
export const PART = 2;

/** The geometry of a tree: pages, largest order, number of top blocks (roots). */
export interface TreeShape {
  maxOrder: number;
  roots: number;
  pages: number;
}

/** A tree variant bound to its words. */
export interface Tree {
  /** The words (a view of the SharedArrayBuffer, or scratch memory for `check`). */
  readonly words: Int32Array;
  /**
   * Claims the first free block of order k at or after block `start`, wrapping once through
   * blocks 0..floor(pages / 2^k) - 1. With `exact` false the scan may read words with plain
   * (unordered) reads, which only serve as CAS guesses and may skip a block freed meanwhile; with
   * `exact` true every word is read with Atomics.load, as the certified rescan needs.
   * @returns the block index, or -1 when the scan found none (it may miss blocks freed meanwhile).
   */
  scan(k: number, start: number, exact: boolean): number;
  /**
   * Claims block b of order k.
   * @returns CLAIMED, or the order of the node that made it fail (k itself, or an occupied
   *   ancestor's order: nothing below that ancestor can be claimed). A failure changes nothing.
   */
  claim(k: number, b: number): number;
  /**
   * Releases claimed block b of order k, merging it with free buddies.
   * @returns the order of the free block the release left around it: the merged block (an order
   *   k..maxOrder; under concurrency only what this release saw, a placement hint).
   */
  release(k: number, b: number): number;
  /**
   * A placement hint read with plain loads (a guess while other threads run; claims decide): the
   * order of the largest block around block (k, b) whose other parts all read free, i.e. the
   * largest m in k..maxOrder such that for each order i in k..m-1 the buddy of b's order-i
   * ancestor reads empty. For a free block that is the order of the free block it lies in; for a
   * block just claimed, of the free block it was cut from. -1 when an ancestor met on the way
   * reads allocated whole (the block lies inside it), or, with `free`, when block (k, b) itself
   * reads occupied.
   */
  spanOf(k: number, b: number, free: boolean): number;
  /**
   * A placement hint read with plain loads: FREE, FULL or PART for block (k, b). A block inside
   * an allocated block of a higher word may read FREE (the same as `isEmpty`).
   */
  stateOf(k: number, b: number): number;
  /** True when no part of block (k, b) is occupied (meaningful when no block containing it is). */
  isEmpty(k: number, b: number): boolean;
  /**
   * Finishes the release of block (k, b) that a dead thread's record describes (records.ts), under
   * this tree's record (which `recover` has made hold that operation): with `step` -1 the whole
   * release of a claim still held, else its climb from `step`. Lock-free, like `release`.
   */
  resume(k: number, b: number, step: number): void;
  /** True when `step` is a climb step a release of a block of order k can record. */
  validStep(k: number, step: number): boolean;
  /**
   * True when word i of this tree may stand for `expected`, word i of a tree rebuilt by claiming
   * the same blocks in one thread (variants may leave harmless marks a rebuild does not make).
   */
  sameState(i: number, expected: number): boolean;
}

/** For each order 0..maxOrder, how many blocks of that order lie wholly inside the managed pages. */
export function blocksPerOrder(shape: TreeShape): Int32Array {
  const blocks = new Int32Array(shape.maxOrder + 1);
  for (let k = 0; k <= shape.maxOrder; k++) blocks[k] = Math.floor(shape.pages / 2 ** k);
  return blocks;
}
