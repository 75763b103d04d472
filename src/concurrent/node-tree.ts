/**
 * The NBBS node protocol (Marotta et al., "A Non-Blocking Buddy System for Scalable Memory
 * Allocation on Multi-Core Machines"): claiming and releasing one block of a buddy tree whose
 * nodes are Int32 words in a SharedArrayBuffer, coordinated only by Atomics read-modify-write
 * operations. No lock, no wait: a stalled thread leaves marks behind but never blocks another.
 *
 * Tree layout. Levels are stored one after the other, order 0 (pages) first: the node of the
 * order-k block with index b (it covers pages b*2^k .. (b+1)*2^k - 1) is `tree[off[k] + b]`.
 * Its parent is (k+1, b >> 1), its buddy (k, b ^ 1); it is the left child when b is even. Order
 * maxOrder is the top: one root per maxOrder block, nothing climbs above it.
 *
 * Bits of a node word (the only place they are defined):
 *   bit 0      OCC     the block is allocated as a whole (or a claim on it is in flight)
 *   bit 1      OCC_L   something in the left subtree is occupied (allocated, claimed, released)
 *   bit 2      OCC_R   the same for the right subtree
 *   bit 3      COAL_L  a release in the left subtree is clearing its marks upward ("coalescing")
 *   bit 4      COAL_R  the same for the right subtree
 *   bits 5-31  TAG     a counter every claim adds 1 to when it writes the word (mod 2^27)
 * The left/right bits of a child are `BIT << (b & 1)` for the child's index b. "Node is 0"
 * below means its bits 0-4 are 0, whatever its tag.
 *
 * Invariants when no operation is in flight (what `check()` verifies, tags aside):
 * - A node is 0 (its whole block is free), exactly OCC (allocated; every node below it is 0), or
 *   carries OCC_L/OCC_R exactly for its non-zero children, and maybe leftover COAL bits, each
 *   beside its OCC bit (COAL implies OCC).
 * While operations run, a node can carry OCC_side marks of a claim that will fail, or of a
 * release that has not cleared them yet; such marks only ever hide free memory, never expose
 * allocated memory: a block is handed out only after its own CAS 0 -> OCC and a climb to the root
 * that met no OCC ancestor.
 *
 * Claim (alloc): CAS the node 0 -> OCC, then climb: in each ancestor set the child's OCC_side and
 * clear its COAL_side (telling a release that is about to clear the mark that the subtree is
 * occupied again), adding 1 to the tag; an ancestor with OCC means the block lies inside an
 * allocated one, so the claim is released again (a rollback) and fails there. Where the ancestor
 * already has OCC_side set and COAL_side clear, the CAS would write the value it read: the climb
 * only reads it (the same atomic step as a no-op CAS, as in the paper's code), so shared upper
 * nodes stay read-mostly in every core's cache instead of being written by every allocation.
 *
 * Release (free): CAS the node OCC -> 0; then, while the node below was left empty: OR COAL_side
 * into the parent, then CAS OCC_side|COAL_side away, but only while COAL_side is still set and
 * the child still reads 0; stop where the parent's other side is occupied. This is the paper's
 * protocol with three changes, each forced by an interleaving the controlled-schedule test
 * (test/concurrent/interleave.test.ts) produced:
 * - The child test. The paper marks COAL up the path first, then clears; a release whose CAS
 *   failed re-reads the parent and may find COAL set by a later release of a block claimed
 *   meanwhile under the same child and still allocated: it cleared that live block's mark, and a
 *   claim of the parent could then overlap it. A release now clears a mark only while the child
 *   it stands for is still empty.
 * - The tag. Between reading the child and the CAS, a claim can occupy the child and a release
 *   restore the parent's bits exactly (ABA). Every claim that writes a node adds 1 to its tag
 *   (COAL set forces the claim to write), so that CAS fails; repeating the ABA would take 2^27
 *   claim writes to one node while the release is paused.
 * - Rollbacks are unbounded. The paper bounds a failed claim's release below the OCC ancestor
 *   that refused it, but while the rolling-back thread is paused that ancestor can be freed and
 *   its subtree reused, and releases of the new blocks can stop below this rollback's marks,
 *   leaving marks above that nobody clears. A rollback now clears as far up as a free would; it
 *   only never marks an OCC node.
 * With the child test and the tag, COAL need not be marked up the whole path before the node is
 *   cleared (the paper's first phase): a release marks each parent just before clearing it,
 *   after the child became empty, which also drops the paper's "buddy is coalescing" rule. A mark
 *   whose release stopped (a claim slipped in after the child test) stays until the next claim
 *   or release through that node clears it.
 *
 * Scan: the nodes of an order are contiguous; a node reading 0 is claimed; a claim failing at an
 * OCC ancestor skips that ancestor's subtree.
 *
 * Placement reads (placement.ts), plain loads that change nothing: a block is free as a whole
 * when its node is 0, its parent is not OCC and shows the other side occupied (spanOf); a node is
 * used in part when it carries OCC_L or OCC_R without OCC (stateOf).
 */

import {
  OP_ALLOC,
  OP_IDLE,
  OP_RELEASING,
  R_BLOCK,
  R_ORDER,
  R_STATE,
  R_STEP,
  RECORD_STRIDE,
} from "./layout.js";
import { blocksPerOrder, CLAIMED, FREE, FULL, PART, type Tree, type TreeShape } from "./tree.js";

/** The block is allocated as a whole. */
export const OCC = 1;
/** Left subtree occupied; `OCC_L << 1` is OCC_R. */
export const OCC_L = 2;
/** Left subtree coalescing; `COAL_L << 1` is COAL_R. */
export const COAL_L = 8;
/** The state bits (below the tag). */
export const STATE = 31;
/** One unit of the tag. */
const TAG = 32;

/** `off[k]`: index of the first node of order k; `off[maxOrder + 1]` is the node count. */
function levelOffsets(shape: TreeShape): Int32Array {
  const off = new Int32Array(shape.maxOrder + 2);
  for (let k = 0; k <= shape.maxOrder; k++) off[k + 1] = off[k] + shape.roots * 2 ** (shape.maxOrder - k);
  return off;
}

/** The paper's tree: one Int32 word per node. */
export class NodeTree implements Tree {
  readonly words: Int32Array;
  /** This thread's record (records.ts): written after each step that changes what it holds. */
  private readonly rec: Int32Array<ArrayBufferLike>;
  private readonly maxOrder: number;
  private readonly off: Int32Array;
  /** Blocks of each order lying wholly inside the managed pages. */
  private readonly blocks: Int32Array;

  /** Words a tree of this shape needs. */
  static wordCount(shape: TreeShape): number {
    return levelOffsets(shape)[shape.maxOrder + 1];
  }

  constructor(
    words: Int32Array,
    shape: TreeShape,
    record: Int32Array<ArrayBufferLike> = new Int32Array(RECORD_STRIDE),
  ) {
    this.words = words;
    this.rec = record;
    this.maxOrder = shape.maxOrder;
    this.off = levelOffsets(shape);
    this.blocks = blocksPerOrder(shape);
  }

  scan(k: number, start: number, exact: boolean): number {
    const tree = this.words;
    const first = this.off[k];
    const end = this.blocks[k];
    let b = start;
    let wrapped = false;
    for (;;) {
      if (b >= end) {
        if (wrapped || start === 0) return -1;
        wrapped = true;
        b = 0;
      }
      if (wrapped && b >= start) return -1;
      const v = exact ? Atomics.load(tree, first + b) : tree[first + b];
      if ((v & STATE) !== 0) {
        b++;
        continue;
      }
      const failed = this.claimFrom(k, b, v);
      if (failed === CLAIMED) return b;
      const skip = failed - k;
      b = ((b >>> skip) + 1) << skip;
    }
  }

  claim(k: number, b: number): number {
    return this.claimFrom(k, b, this.words[this.off[k] + b]);
  }

  /** `claim`, with `guess` as the first expected value of the node (a failed CAS corrects it). */
  private claimFrom(k: number, b: number, guess: number): number {
    const tree = this.words;
    const off = this.off;
    const n = off[k] + b;
    let old = guess;
    for (;;) {
      if ((old & STATE) !== 0) return k;
      const seen = Atomics.compareExchange(tree, n, old, (old + TAG) | OCC | 0);
      if (seen === old) break;
      old = seen;
    }
    // At once after the CAS, before any call or back edge (records.ts).
    const rec = this.rec;
    rec[R_ORDER] = k;
    rec[R_BLOCK] = b;
    rec[R_STATE] = OP_ALLOC;
    let i = b;
    for (let j = k; j < this.maxOrder; j++) {
      const side = i & 1;
      i >>= 1;
      const p = off[j + 1] + i;
      const occ = OCC_L << side;
      const both = occ | (COAL_L << side);
      old = Atomics.load(tree, p);
      for (;;) {
        if ((old & OCC) !== 0) {
          this.releaseBlock(k, b);
          return j + 1;
        }
        if ((old & both) === occ) break;
        const seen = Atomics.compareExchange(tree, p, old, (((old & ~both) | occ) + TAG) | 0);
        if (seen === old) break;
        old = seen;
      }
    }
    return CLAIMED;
  }

  release(k: number, b: number): number {
    return this.releaseBlock(k, b);
  }

  spanOf(k: number, b: number, free: boolean): number {
    const tree = this.words;
    const off = this.off;
    // Plain reads: the answer is a placement hint, and a claim decides.
    if (free && (tree[off[k] + b] & STATE) !== 0) return -1;
    let i = b;
    for (let j = k; j < this.maxOrder; j++) {
      // OCC: the parent is allocated whole, and the block inside it (where nodes read 0). The
      // parent's other side bit: the buddy holds something.
      const parent = tree[off[j + 1] + (i >> 1)];
      if ((parent & OCC) !== 0) return -1;
      if ((parent & (OCC_L << ((i & 1) ^ 1))) !== 0) return j;
      i >>= 1;
    }
    return this.maxOrder;
  }

  stateOf(k: number, b: number): number {
    const v = this.words[this.off[k] + b];
    if ((v & STATE) === 0) return FREE;
    return (v & OCC) !== 0 ? FULL : PART;
  }

  isEmpty(k: number, b: number): boolean {
    return (Atomics.load(this.words, this.off[k] + b) & STATE) === 0;
  }

  sameState(i: number, expected: number): boolean {
    const actual = Atomics.load(this.words, i) & STATE;
    // Only leftover COAL bits may differ, each beside its OCC_side bit (COAL implies OCC).
    const coal = actual & (COAL_L | (COAL_L << 1));
    return (actual & ~coal) === (expected & STATE) && ((coal >>> 2) & ~actual) === 0;
  }

  resume(k: number, b: number, step: number): void {
    if (step < 0) this.releaseBlock(k, b);
    else this.climb(k, b, step);
    this.rec[R_STATE] = OP_IDLE;
  }

  validStep(k: number, step: number): boolean {
    return step >= k && step <= this.maxOrder;
  }

  /**
   * Releases claimed block b of order k (an allocated block, or a failed claim): clears its OCC,
   * then climbs while the node below was left empty: marks COAL_side in the parent and clears
   * OCC_side|COAL_side there while the mark is still set and the child still 0 (see the top of
   * this file). The record holds (k, b) already (the claim or the free wrote it); it says
   * OP_RELEASING once the OCC is gone, and OP_IDLE when the release is over.
   * @returns the order of the free block this release left around block (k, b): where it stopped
   *   merging (the parent's other side was occupied, or another thread had taken the next step).
   */
  private releaseBlock(k: number, b: number): number {
    const tree = this.words;
    const n = this.off[k] + b;
    // A plain read is only the CAS's first guess: a failed CAS returns the real value.
    let mine = tree[n];
    for (;;) {
      const seen = Atomics.compareExchange(tree, n, mine, mine & ~OCC);
      if (seen === mine) break;
      mine = seen;
    }
    const rec = this.rec;
    rec[R_STEP] = k;
    rec[R_STATE] |= OP_RELEASING;
    const merged = this.climb(k, b, k);
    rec[R_STATE] = OP_IDLE;
    return merged;
  }

  /**
   * The climb of a release of block (k, b) from level `from` (the node of order `from` on its
   * path is empty), recording in R_STEP the level each successful clear leads to.
   * @returns as releaseBlock.
   */
  private climb(k: number, b: number, from: number): number {
    const tree = this.words;
    const off = this.off;
    const rec = this.rec;
    let i = b >>> (from - k);
    for (let j = from; j < this.maxOrder; j++) {
      const child = off[j] + i;
      const side = i & 1;
      i >>= 1;
      const p = off[j + 1] + i;
      const occ = OCC_L << side;
      const coal = COAL_L << side;
      const clear = ~(occ | coal);
      // The mark: only while the parent still shows this side occupied and is not claimed whole.
      // The child is empty now, so nothing protects the parent any more: another release may have
      // cleared the side and a claim taken the whole parent since (a COAL bit put there would
      // stay forever, and break that block's release).
      let old = Atomics.load(tree, p);
      for (;;) {
        if ((old & OCC) !== 0 || (old & occ) === 0) return j;
        if ((old & coal) !== 0) break;
        const seen = Atomics.compareExchange(tree, p, old, old | coal);
        if (seen === old) break;
        old = seen;
      }
      old = Atomics.load(tree, p);
      let now = 0;
      for (;;) {
        // A claim through this node cleared the mark: the child's subtree is occupied again.
        if ((old & coal) === 0) return j;
        // The child must still be empty (a retry may see a later release's mark).
        if ((Atomics.load(tree, child) & STATE) !== 0) return j;
        now = old & clear;
        const seen = Atomics.compareExchange(tree, p, old, now);
        if (seen === old) break;
        old = seen;
      }
      const stop = (now & (OCC_L << (side ^ 1))) !== 0;
      rec[R_STEP] = stop ? this.maxOrder : j + 1;
      if (stop) return j;
    }
    return this.maxOrder;
  }
}
