/**
 * The word layout of PackedTree (packed-tree.ts), the paper's multi-level variant fitted to 32-bit
 * Atomics, and the per-position mask tables its protocol works with. Nothing here touches shared
 * memory.
 *
 * Bunches ("tiers"). Tier 0 covers orders 0..4 (5 levels, 31 one-bit nodes per word); each next
 * tier covers 2 orders (5..6, 7..8, ...), the top one ending at maxOrder. A word of tier t holds
 * the bunch rooted at one block of order hi(t); words of a tier are contiguous, by block index.
 * Inside a word, nodes are numbered like a heap: position 1 is the bunch root, the node of
 * order k with block index b sits at 2^d + (b mod 2^d) with d = hi(t) - k.
 *
 * Bit layout of a word:
 *   tier 0:  bit pos-1 for every position (1..31): the node is unavailable
 *   tier t>0, bits 0..10 (state):
 *     an inner position (above the bunch's bottom order, when it has 2): bit 0, as in tier 0
 *     bottom positions ("leaves", order lo(t)): a 5-bit field each, at base = (#inner) + 5 *
 *     (leaf number): +0 OCC (claimed as a whole, or inside a claimed inner node of this word),
 *     +1 OCC_L / +2 OCC_R (the left/right child bunch in tier t-1 is not empty), +3 COAL_L /
 *     +4 COAL_R (a release is clearing that child's mark)
 *   tier t>0, bits 11..30: TAG, a counter every claim adds 1 to when it writes the word (mod 2^20)
 *   every tier, bit 31: ANCHOR, set only while the word is non-empty (packed-tree.ts, "Anchors")
 * A one-bit node is set iff it, a node above it or a node below it in the word is occupied; a
 * leaf field is 0 iff nothing in or above it is claimed and its child bunches are empty. Upper
 * tiers have 2 levels, not 3 or 4, to leave 20 bits for the tag (packed-tree.ts, "Release").
 */
import type { TreeShape } from "./tree.js";

/** OCC_L inside a leaf field (OCC_R is `F_OCC_L << 1`); shift by the field's base. */
export const F_OCC_L = 2;
/** COAL_L inside a leaf field (COAL_R is `F_COAL_L << 1`). */
export const F_COAL_L = 8;
/** All five bits of a leaf field. */
export const FIELD = 31;
/** One unit of an upper tier's tag (bits 11..30). */
export const TAG = 1 << 11;
/** The state bits of an upper tier's word (below the tag). */
export const UPPER_STATE = TAG - 1;
/** Bit 31: the word's path up is marked by a completed claim and the word stayed non-empty since. */
export const ANCHOR = 1 << 31;

/** `x` with 1 added to its tag (bits 11..30), keeping the state bits and ANCHOR. */
export function bumped(x: number): number {
  return ((x + TAG) & ~ANCHOR) | (x & ANCHOR);
}

interface Tiers {
  lo: Int32Array;
  hi: Int32Array;
  /** First word of each tier; woff[count] is the word count. */
  woff: Int32Array;
  count: number;
}

function tiersOf(shape: TreeShape): Tiers {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let first = 0; first <= shape.maxOrder; ) {
    const last = Math.min(first + (first === 0 ? 4 : 1), shape.maxOrder);
    lo.push(first);
    hi.push(last);
    first = last + 1;
  }
  const woff = new Int32Array(lo.length + 1);
  for (let t = 0; t < lo.length; t++) woff[t + 1] = woff[t] + shape.roots * 2 ** (shape.maxOrder - hi[t]);
  return { lo: Int32Array.from(lo), hi: Int32Array.from(hi), woff, count: lo.length };
}

/**
 * The tiers of a tree shape and the mask tables, indexed by (tier << 5 | position):
 * `own` the node's bit (a leaf's OCC bit), `avail` the bits that must be 0 to claim it, `down` its
 * own and its descendants' bits in the word, `up` its strict ancestors' bits, `shift` a leaf
 * field's base (-1 for one-bit nodes). Positions are < 32, tiers at most 14 (maxOrder 30).
 */
export class PackedLayout {
  readonly tiers: number;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** First word of each tier; woff[tiers] is the word count. */
  readonly woff: Int32Array;
  /** Per order: its tier, and its depth below the tier's top order. */
  readonly tierOf: Int32Array;
  readonly depthOf: Int32Array;
  readonly own = new Int32Array(32 * 16);
  readonly avail = new Int32Array(32 * 16);
  readonly down = new Int32Array(32 * 16);
  readonly up = new Int32Array(32 * 16);
  readonly shift = new Int32Array(32 * 16).fill(-1);
  /** Per tier: every COAL bit of its words. */
  readonly coalMask: Int32Array;

  constructor(shape: TreeShape) {
    const { lo, hi, woff, count } = tiersOf(shape);
    this.tiers = count;
    this.lo = lo;
    this.hi = hi;
    this.woff = woff;
    this.tierOf = new Int32Array(shape.maxOrder + 1);
    this.depthOf = new Int32Array(shape.maxOrder + 1);
    this.coalMask = new Int32Array(count);
    for (let t = 0; t < count; t++) {
      for (let k = lo[t]; k <= hi[t]; k++) {
        this.tierOf[k] = t;
        this.depthOf[k] = hi[t] - k;
      }
      this.buildTables(t, hi[t] - lo[t] + 1);
    }
  }

  /** Words a tree of this shape needs. */
  static wordCount(shape: TreeShape): number {
    const t = tiersOf(shape);
    return t.woff[t.count];
  }

  /** Fills the per-position tables of tier t, whose bunches have `levels` levels. */
  private buildTables(t: number, levels: number): void {
    const leaves = 1 << (levels - 1);
    const tb = t << 5;
    for (let pos = 1; pos < 2 * leaves; pos++) {
      if (t > 0 && pos >= leaves) {
        const base = leaves - 1 + 5 * (pos - leaves);
        this.own[tb | pos] = 1 << base;
        this.avail[tb | pos] = FIELD << base;
        this.shift[tb | pos] = base;
        this.coalMask[t] |= (3 * F_COAL_L) << base;
      } else {
        this.own[tb | pos] = 1 << (pos - 1);
        this.avail[tb | pos] = 1 << (pos - 1);
      }
    }
    for (let pos = 2 * leaves - 1; pos >= 1; pos--) {
      const children = pos < leaves ? this.down[tb | (2 * pos)] | this.down[tb | (2 * pos + 1)] : 0;
      this.down[tb | pos] = this.own[tb | pos] | children;
    }
    for (let pos = 2; pos < 2 * leaves; pos++) {
      this.up[tb | pos] = this.up[tb | (pos >> 1)] | this.own[tb | (pos >> 1)];
    }
  }
}
