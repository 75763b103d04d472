/**
 * Placement: which free block a ConcurrentBuddy handle takes for an allocation of order k.
 *
 * The rule is the page allocator's (src/page): take a free block of the smallest order >= k that
 * is free as a whole, i.e. whose buddy is occupied (the blocks a buddy allocator keeps on its
 * free lists), the newest such block first, and split it, keeping its first half each time and
 * the other halves for later. Small requests then go into blocks already split, next to live
 * blocks, and large free blocks stay whole for large requests. Scattered placement (the first free
 * block after a moving cursor, as before) split large blocks while small free ones waited
 * elsewhere, and failed far more requests at high occupancy (README, "Placement", has the
 * figures). Keep the newest-first, keep-the-first-half order: the placement tests and
 * `npm run bench:concurrent -- --placement-only` measure what it is for.
 *
 * The lock-free tree has no free lists, and shared ones would put every thread on the same few
 * words, so each handle keeps private ones: per order a ring of block indices it has reason to
 * believe free as a whole, its "hints". They come from
 * - its frees: the block a release left behind, merged with its free buddies (Tree.release);
 * - its splits: the halves cut off the block it took;
 * - gathering: the free-as-a-whole blocks inside its current region (a subtree of 2^10 pages, or
 *   the top block when smaller), found by a walk that descends only into partly used nodes
 *   (Tree.stateOf). A handle gathers when no hint of order >= k is left, and before it splits a
 *   hinted block 8 or more times the request's size (a smaller block may be free nearby). This
 *   is how it finds blocks other threads freed among its own.
 * Hints are only guesses: other threads claim and free too. A hint is checked against the tree
 * with plain reads before use (it reads free and its buddy occupied: Tree.spanOf), and the claim,
 * the lock-free protocol itself, decides; a hint that fails is dropped. So placement cannot
 * affect correctness, and one thread alone places exactly like the page allocator: the same
 * blocks for the same stream, hence the same failures and fragmentation.
 *
 * Threads stay apart: a handle's hints are blocks it freed or split itself, its region is where it
 * last took a block by a tree scan, and that scan starts from a point spread by its thread id.
 * No hint is shared, so keeping them costs no atomic operation.
 */
import { CLAIMED, FREE, PART, type Tree } from "./tree.js";

/** log2 of the most hints kept per order (512); fewer for a small memory. */
const RING_SHIFT = 9;
/** Largest order of a region: 2^10 pages. */
const REGION_ORDER = 10;
/** A hinted block more than this many orders above the request is split only after gathering. */
const GATHER_GAP = 2;

/** A handle's placement state: its hints (per order, a ring of block indices) and its region. */
export class Placement {
  private readonly tree: Tree;
  /** Ring of order j: slots j << shift .. (j + 1) << shift. */
  private readonly ring: Int32Array;
  /** Per order: the slot of the next push. */
  private readonly top: Int32Array;
  /** Per order: hints held (at most 2^shift). */
  private readonly count: Int32Array;
  /** log2 of a ring's size. */
  private readonly shift: number;
  /** One ring's worth of scratch, for compaction. */
  private readonly scratch: Int32Array;
  /** [0]: bit j set while order j holds hints (a typed array: bit 30 is no small integer). */
  private readonly held: Int32Array;
  /** Order of a region. */
  private readonly regionOrder: number;
  /** This handle's region, an index at regionOrder. */
  private region: number;
  /** While gathering: hint only orders below this one. */
  private limit = 0;

  /**
   * Empty hints for `tree` (orders 0..maxOrder over `pages` pages); the region holds page
   * `start` (where this handle's scans begin).
   */
  constructor(tree: Tree, maxOrder: number, pages: number, start: number) {
    this.tree = tree;
    this.shift = Math.max(2, Math.min(RING_SHIFT, 31 - Math.clz32(pages)));
    this.ring = new Int32Array((maxOrder + 1) << this.shift);
    this.scratch = new Int32Array(1 << this.shift);
    this.top = new Int32Array(maxOrder + 1);
    this.count = new Int32Array(maxOrder + 1);
    this.held = new Int32Array(1);
    this.regionOrder = Math.min(REGION_ORDER, maxOrder);
    this.region = Math.floor(start / 2 ** this.regionOrder);
  }

  /**
   * Claims a block of order k from the smallest hinted order >= k, newest hint first. A hint that
   * still reads free with its buddy occupied gets its first order-k block claimed and the halves
   * cut off it hinted; any other hint is dropped (taken since, or merged into a larger block,
   * which the merging release hinted). Before splitting a block more than GATHER_GAP orders
   * larger, its region (or this handle's, for a block as large) is gathered for smaller ones.
   * @returns the claimed block's index, or -1 when no hint led to a claim.
   */
  take(k: number): number {
    let gathered = false;
    for (;;) {
      const mask = this.held[0] & (-1 << k);
      if (mask === 0) return -1;
      const j = 31 - Math.clz32(mask & -mask);
      const h = this.pop(j);
      if (this.tree.spanOf(j, h, true) !== j) continue;
      if (j - k > GATHER_GAP && !gathered) {
        gathered = true;
        const r = this.regionOrder;
        if (this.gather(k, j, j < r ? h >>> (r - j) : this.region) > 0) {
          this.push(j, h);
          continue;
        }
      }
      const c = h << (j - k);
      if (this.tree.claim(k, c) !== CLAIMED) continue;
      this.cut(k, c, j);
      return c;
    }
  }

  /** Gathers the handle's region for blocks of order >= k, then `take`s. @returns as `take`. */
  takeNearby(k: number): number {
    return this.gather(k, 31, this.region) > 0 ? this.take(k) : -1;
  }

  /**
   * Hints the free block of order m that a release of block (k, b) left (m >= k, see Tree.release).
   */
  freed(k: number, b: number, m: number): void {
    this.push(m, b >>> (m - k));
  }

  /**
   * Records block (k, c), claimed by a tree scan out of a free block of order j: the halves cut
   * off are hinted, and its region becomes this handle's.
   */
  scanned(k: number, c: number, j: number): void {
    const r = this.regionOrder;
    this.region = k <= r ? c >>> (r - k) : c << (k - r);
    this.cut(k, c, j);
  }

  /** Hints the halves cut off a free block of order j to leave claimed block (k, c) at its start. */
  private cut(k: number, c: number, j: number): void {
    for (let i = j - 1; i >= k; i--) this.push(i, (c >>> (i - k)) ^ 1);
  }

  /**
   * Hints every block of an order in k..limit-1 inside region x that reads free as a whole (free,
   * its buddy not), lowest address on top, by a walk through the partly used nodes above order k.
   * @returns how many it hinted.
   */
  private gather(k: number, limit: number, x: number): number {
    const r = this.regionOrder;
    if (r <= k || this.tree.stateOf(r, x) !== PART) return 0;
    this.limit = limit;
    return this.gatherBelow(k, r, x, 0);
  }

  /** `gather` inside partly used block (j, b), j > k; `n` hinted so far. */
  private gatherBelow(k: number, j: number, b: number, n: number): number {
    const c = b << 1;
    const left = this.tree.stateOf(j - 1, c);
    const right = this.tree.stateOf(j - 1, c + 1);
    const hint = j - 1 < this.limit;
    // Right before left: the lowest block of each order is pushed last, so popped first.
    if (right === PART && j - 1 > k) n = this.gatherBelow(k, j - 1, c + 1, n);
    if (right === FREE && left !== FREE && hint) {
      this.push(j - 1, c + 1);
      n++;
    }
    if (left === PART && j - 1 > k) n = this.gatherBelow(k, j - 1, c, n);
    if (left === FREE && right !== FREE && hint) {
      this.push(j - 1, c);
      n++;
    }
    return n;
  }

  /** Hints block b of order j, as the newest of its order (a full ring is compacted first). */
  private push(j: number, b: number): void {
    if (this.count[j] === 1 << this.shift) this.compact(j);
    const top = this.top[j];
    this.ring[(j << this.shift) | top] = b;
    this.top[j] = (top + 1) & ((1 << this.shift) - 1);
    this.count[j]++;
    this.held[0] |= 1 << j;
  }

  /** The newest hint of order j (there must be one). */
  private pop(j: number): number {
    const top = (this.top[j] - 1) & ((1 << this.shift) - 1);
    this.top[j] = top;
    if (--this.count[j] === 0) this.held[0] &= ~(1 << j);
    return this.ring[(j << this.shift) | top];
  }

  /**
   * Drops the hints of order j that no longer hold and, while more than half a ring still does,
   * the oldest of those: a ring is compacted at most once per half a ring of pushes, so a push
   * costs O(1) amortized.
   */
  private compact(j: number): void {
    const size = 1 << this.shift;
    const base = j << this.shift;
    const keep = this.scratch;
    let kept = 0;
    for (let n = 0, at = this.top[j]; n < size && kept < size >> 1; n++) {
      at = (at - 1) & (size - 1);
      const h = this.ring[base | at];
      if (this.tree.spanOf(j, h, true) === j) keep[kept++] = h;
    }
    for (let x = 0; x < kept; x++) this.ring[base | x] = keep[kept - 1 - x];
    this.top[j] = kept & (size - 1);
    this.count[j] = kept;
    if (kept === 0) this.held[0] &= ~(1 << j);
  }
}
