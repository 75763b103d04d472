/**
 * PackedTree: the paper's multi-level variant (NBBS "4lvl", which packs a 4-level bunch of nodes
 * into one 64-bit word) fitted to JavaScript, where Atomics work on 32-bit words (BigInt64 atomics
 * would allocate a BigInt per operation). A claim or release touches one word per bunch instead
 * of one per level: every Atomics call costs about as much as a CAS in V8, so this is what makes a
 * climb cheap. Word layout and bit meanings: packed-layout.ts.
 *
 * Claim: one CAS on the block's own word sets its bit, its descendants' and its ancestors' in the
 * word; then, per tier above, the leaf over the bunch root gets OCC_side set and COAL_side cleared
 * (a no-op CAS is only read, as in NodeTree); a leaf with OCC fails the claim, which is then
 * released like an allocated block (see NodeTree on rollbacks).
 *
 * Anchors. A claim that completed its climb sets ANCHOR in its own word; any CAS that empties a
 * word clears it. While a word stays non-empty, the marks on its path up cannot be cleared (each
 * release that would clear one first checks that the bunch below it is empty, and this one is
 * not), so no block above can be claimed: a claim whose own CAS finds ANCHOR set is complete
 * without climbing. In a bunch in use, an allocation is one CAS.
 *
 * Release: one CAS clears the block in its word (and the in-word ancestors left empty). If that
 * emptied the bunch, COAL_side is set in the leaf above it, but only while that leaf still shows
 * the side occupied and is not claimed whole (the bunch no longer protects it: another release
 * may have cleared the side, and a claim taken the whole leaf, since); then OCC_side is cleared
 * by a CAS, but only while COAL_side is still set (a claim through the leaf clears it: the bunch
 * is occupied again) and the bunch's word still reads empty; the tag makes that CAS fail if a
 * claim wrote the leaf's word since it was read (so a claim that occupied the bunch and a
 * release that restored the word's bits in between cannot fool it). If that emptied the upper
 * bunch too, the same happens one tier up. A failed claim is released the same way. Marks not
 * consumed (a claim slipped in after the check) stay, always beside an OCC_side bit (COAL
 * implies OCC); the next claim or release through that leaf clears them, and they never hide a
 * free block. NodeTree explains why the mark, the emptiness check and the tag are each needed.
 *
 * Placement reads (placement.ts), plain loads that change nothing: inside a word a block is free
 * as a whole when its bits are clear and its buddy's are not; a bunch root, when the leaf field
 * above shows the other side occupied and not OCC (spanOf). A one-bit node is full when its
 * whole subtree in the word is set, a leaf field when its OCC bit is (stateOf).
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
import { ANCHOR, bumped, F_COAL_L, F_OCC_L, PackedLayout, UPPER_STATE } from "./packed-layout.js";
import { blocksPerOrder, CLAIMED, FREE, FULL, PART, type Tree, type TreeShape } from "./tree.js";

/** Several tree levels per Int32 word (see the top of this file). */
export class PackedTree implements Tree {
  readonly words: Int32Array;
  /** This thread's record (records.ts): written after each step that changes what it holds. */
  private readonly rec: Int32Array<ArrayBufferLike>;
  private readonly tiers: number;
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly woff: Int32Array;
  private readonly tierOf: Int32Array;
  private readonly depthOf: Int32Array;
  private readonly own: Int32Array;
  private readonly avail: Int32Array;
  private readonly down: Int32Array;
  private readonly up: Int32Array;
  private readonly shift: Int32Array;
  private readonly coalMask: Int32Array;
  /** Blocks of each order lying wholly inside the managed pages. */
  private readonly blocks: Int32Array;

  /** Words a tree of this shape needs. */
  static wordCount(shape: TreeShape): number {
    return PackedLayout.wordCount(shape);
  }

  constructor(
    words: Int32Array,
    shape: TreeShape,
    record: Int32Array<ArrayBufferLike> = new Int32Array(RECORD_STRIDE),
  ) {
    const l = new PackedLayout(shape);
    this.words = words;
    this.rec = record;
    this.tiers = l.tiers;
    this.lo = l.lo;
    this.hi = l.hi;
    this.woff = l.woff;
    this.tierOf = l.tierOf;
    this.depthOf = l.depthOf;
    this.own = l.own;
    this.avail = l.avail;
    this.down = l.down;
    this.up = l.up;
    this.shift = l.shift;
    this.coalMask = l.coalMask;
    this.blocks = blocksPerOrder(shape);
  }

  scan(k: number, start: number, exact: boolean): number {
    const words = this.words;
    const end = this.blocks[k];
    const t = this.tierOf[k];
    const d = this.depthOf[k];
    const perWord = 1 << d;
    const first = this.woff[t];
    const fields = t > 0 && k === this.lo[t];
    const tb = (t << 5) | perWord;
    const avail = this.avail;
    let b = start;
    let wrapped = false;
    for (;;) {
      if (b >= end) {
        if (wrapped || start === 0) return -1;
        wrapped = true;
        b = 0;
      }
      if (wrapped && b >= start) return -1;
      const i = first + (b >>> d);
      const v = exact ? Atomics.load(words, i) : words[i];
      const j0 = b & (perWord - 1);
      let j = -1;
      if (fields) {
        for (let x = j0; x < perWord; x++) {
          if ((v & avail[tb + x]) === 0) {
            j = x;
            break;
          }
        }
      } else {
        const free = (~v >>> (perWord - 1)) & ((1 << perWord) - 1) & (-1 << j0);
        if (free !== 0) j = 31 - Math.clz32(free & -free);
      }
      if (j < 0) {
        b = (b | (perWord - 1)) + 1;
        continue;
      }
      const cand = b - j0 + j;
      if (cand >= end) {
        b = end;
        continue;
      }
      if (wrapped && cand >= start) return -1;
      const failed = this.claimFrom(k, cand, v);
      if (failed === CLAIMED) return cand;
      if (failed === k) {
        b = cand + 1;
      } else {
        const skip = failed - k;
        b = ((cand >>> skip) + 1) << skip;
      }
    }
  }

  claim(k: number, b: number): number {
    return this.claimFrom(k, b, this.words[this.woff[this.tierOf[k]] + (b >>> this.depthOf[k])]);
  }

  /** `claim`, with `guess` as the first expected value of the block's word (a failed CAS corrects it). */
  private claimFrom(k: number, b: number, guess: number): number {
    const words = this.words;
    const t = this.tierOf[k];
    const d = this.depthOf[k];
    let w = this.woff[t] + (b >>> d);
    let q = (t << 5) | (1 << d) | (b & ((1 << d) - 1));
    const set = this.down[q] | this.up[q];
    let old = guess;
    for (;;) {
      if ((old & this.avail[q]) !== 0) return k;
      const seen = Atomics.compareExchange(words, w, old, t > 0 ? bumped(old | set) : old | set);
      if (seen === old) break;
      old = seen;
    }
    // At once after the CAS, before any call or back edge (records.ts).
    const rec = this.rec;
    rec[R_ORDER] = k;
    rec[R_BLOCK] = b;
    rec[R_STATE] = OP_ALLOC;
    if ((old & ANCHOR) !== 0) return CLAIMED;
    const own = w;
    let root = b >>> d;
    for (let u = t + 1; u < this.tiers; u++) {
      const side = root & 1;
      const leaf = root >>> 1;
      const du = this.hi[u] - this.lo[u];
      w = this.woff[u] + (leaf >>> du);
      q = (u << 5) | (1 << du) | (leaf & ((1 << du) - 1));
      const s = this.shift[q];
      const coal = (F_COAL_L << side) << s;
      const mark = ((F_OCC_L << side) << s) | this.up[q];
      const occ = this.own[q];
      old = Atomics.load(words, w);
      for (;;) {
        if ((old & occ) !== 0) {
          this.releaseBlock(k, b);
          return this.lo[u];
        }
        const now = (old | mark) & ~coal;
        if (now === old) break;
        const seen = Atomics.compareExchange(words, w, old, bumped(now));
        if (seen === old) break;
        old = seen;
      }
      root = leaf >>> du;
    }
    Atomics.or(words, own, ANCHOR);
    return CLAIMED;
  }

  release(k: number, b: number): number {
    return this.releaseBlock(k, b);
  }

  spanOf(k: number, b: number, free: boolean): number {
    const words = this.words;
    let t = this.tierOf[k];
    const d = this.depthOf[k];
    let tb = t << 5;
    let pos = (1 << d) | (b & ((1 << d) - 1));
    // Plain reads: the answer is a placement hint, and a claim decides.
    let v = words[this.woff[t] + (b >>> d)];
    if (free && (v & this.avail[tb | pos]) !== 0) return -1;
    let order = k;
    let x = b;
    for (;;) {
      // Inside the word: a buddy's bits are set when it holds anything or an ancestor is claimed.
      for (; pos > 1; pos >>= 1) {
        if ((v & this.avail[tb | (pos ^ 1)]) !== 0) return order;
        order++;
        x >>>= 1;
      }
      if (++t === this.tiers) return order;
      // The bunch root. The leaf above: its own bit says it is claimed whole (the block lies
      // inside it, where lower words read 0); its other side, that the buddy bunch holds something.
      const leaf = x >>> 1;
      const du = this.hi[t] - this.lo[t];
      tb = t << 5;
      pos = (1 << du) | (leaf & ((1 << du) - 1));
      v = words[this.woff[t] + (leaf >>> du)];
      if ((v & this.own[tb | pos]) !== 0) return -1;
      if ((v & ((F_OCC_L << ((x & 1) ^ 1)) << this.shift[tb | pos])) !== 0) return order;
      order++;
      x = leaf;
    }
  }

  stateOf(k: number, b: number): number {
    const t = this.tierOf[k];
    const d = this.depthOf[k];
    const q = (t << 5) | (1 << d) | (b & ((1 << d) - 1));
    const v = this.words[this.woff[t] + (b >>> d)];
    if ((v & this.avail[q]) === 0) return FREE;
    // A leaf field's OCC bit: claimed whole, or inside a claimed inner node. A one-bit node: all
    // of its subtree in the word set (every page below taken, or a claim above).
    if (this.shift[q] >= 0) return (v & this.own[q]) !== 0 ? FULL : PART;
    return (v & this.down[q]) === this.down[q] ? FULL : PART;
  }

  isEmpty(k: number, b: number): boolean {
    const t = this.tierOf[k];
    const d = this.depthOf[k];
    const q = (t << 5) | (1 << d) | (b & ((1 << d) - 1));
    return (Atomics.load(this.words, this.woff[t] + (b >>> d)) & this.avail[q]) === 0;
  }

  sameState(i: number, expected: number): boolean {
    let actual = Atomics.load(this.words, i);
    let t = 0;
    while (i >= this.woff[t + 1]) t++;
    // ANCHOR is history, not state: it may differ, but only a non-empty word may carry it.
    if ((actual & ANCHOR) !== 0 && (actual & this.avail[(t << 5) | 1]) === 0) return false;
    actual &= t > 0 ? UPPER_STATE : ~ANCHOR;
    expected &= t > 0 ? UPPER_STATE : ~ANCHOR;
    if (actual === expected) return true;
    const coal = this.coalMask[t];
    // Only leftover COAL bits may differ, and each only beside its OCC bit (COAL implies OCC).
    return (actual & ~coal) === expected && (((actual & coal) >>> 2) & ~actual) === 0;
  }

  resume(k: number, b: number, step: number): void {
    if (step < 0) this.releaseBlock(k, b);
    else if (step < this.tiers) this.climb(k, b, step, k);
    this.rec[R_STATE] = OP_IDLE;
  }

  validStep(k: number, step: number): boolean {
    return step > this.tierOf[k] && step <= this.tiers;
  }

  /**
   * Releases claimed block b of order k (an allocated block, or a failed claim): clears it in its
   * word, then, for each bunch that became empty, marks COAL in the leaf above it and clears that
   * leaf's side while the mark is still there and the bunch still empty (see the top of this file).
   * The record holds (k, b) already (the claim or the free wrote it); it says OP_RELEASING once
   * the block's bits are cleared, and OP_IDLE when the release is over.
   * @returns the order of the free block this release left around block (k, b): where it stopped
   *   merging (a buddy was occupied, or another thread had taken the next step).
   */
  private releaseBlock(k: number, b: number): number {
    const words = this.words;
    const t = this.tierOf[k];
    const d = this.depthOf[k];
    const tb = t << 5;
    const pos = (1 << d) | (b & ((1 << d) - 1));
    const w = this.woff[t] + (b >>> d);
    // A plain read is only the CAS's first guess: a failed CAS returns the real value.
    let old = words[w];
    let empty = false;
    let merged = k;
    for (;;) {
      let now = old & ~this.down[tb | pos];
      let p = pos;
      while (p > 1 && (now & this.avail[tb | (p ^ 1)]) === 0) {
        p >>= 1;
        now &= ~this.own[tb | p];
      }
      merged = this.hi[t] + Math.clz32(p) - 31;
      empty = p === 1;
      if (empty) now &= ~ANCHOR;
      const seen = Atomics.compareExchange(words, w, old, now);
      if (seen === old) break;
      old = seen;
    }
    const rec = this.rec;
    rec[R_STEP] = empty ? t + 1 : this.tiers;
    rec[R_STATE] |= OP_RELEASING;
    if (empty) merged = this.climb(k, b, t + 1, merged);
    rec[R_STATE] = OP_IDLE;
    return merged;
  }

  /**
   * The climb of a release of block (k, b) from tier `from` (the bunch of tier from - 1 holding
   * the block is empty), recording in R_STEP the tier each successful clear leads to.
   * @returns as releaseBlock, given `merged`, the order reached below tier `from`.
   */
  private climb(k: number, b: number, from: number, merged: number): number {
    const words = this.words;
    const rec = this.rec;
    const t = from - 1;
    let root = b >>> (this.hi[t] - k);
    let w = this.woff[t] + root;
    let childRoot = this.avail[(t << 5) | 1];
    let empty = true;
    for (let u = from; empty && u < this.tiers; u++) {
      const child = w;
      const side = root & 1;
      const leaf = root >>> 1;
      const du = this.hi[u] - this.lo[u];
      const ub = u << 5;
      const lp = (1 << du) | (leaf & ((1 << du) - 1));
      const s = this.shift[ub | lp];
      const coal = (F_COAL_L << side) << s;
      const clear = ~(((F_OCC_L << side) << s) | coal);
      w = this.woff[u] + (leaf >>> du);
      root = leaf >>> du;
      if (!this.mark(w, coal, (F_OCC_L << side) << s, this.own[ub | lp])) return merged;
      let old = Atomics.load(words, w);
      for (;;) {
        // A claim through this leaf cleared the mark: the bunch is occupied again.
        if ((old & coal) === 0) return merged;
        // The bunch must still be empty (a retry may see a later release's mark).
        if ((Atomics.load(words, child) & childRoot) !== 0) return merged;
        let now = old & clear;
        let p = lp;
        if ((now & this.avail[ub | p]) === 0) {
          while (p > 1 && (now & this.avail[ub | (p ^ 1)]) === 0) {
            p >>= 1;
            now &= ~this.own[ub | p];
          }
        }
        empty = p === 1 && (now & this.avail[ub | lp]) === 0;
        if (empty) now &= ~ANCHOR;
        const seen = Atomics.compareExchange(words, w, old, now);
        if (seen === old) {
          rec[R_STEP] = empty ? u + 1 : this.tiers;
          // The leaf still holding something (its other side) leaves the bunch below as the block.
          if ((now & this.avail[ub | lp]) === 0) merged = this.hi[u] + Math.clz32(p) - 31;
          break;
        }
        old = seen;
      }
      childRoot = this.avail[ub | 1];
    }
    return merged;
  }

  /**
   * Sets `coal` in word w, but only while the leaf still shows this side occupied (`occ`) and is
   * not claimed as a whole (`own`). The bunch below is already empty, so the leaf is no longer
   * protected by it: another release may have cleared the side and a claim taken the whole leaf
   * since, and a COAL bit put into that claimed field would never be cleared.
   * @returns false when it did not set it (the release stops: someone else cleared the side).
   */
  private mark(w: number, coal: number, occ: number, own: number): boolean {
    let old = Atomics.load(this.words, w);
    for (;;) {
      if ((old & own) !== 0 || (old & occ) === 0) return false;
      if ((old & coal) !== 0) return true;
      const seen = Atomics.compareExchange(this.words, w, old, old | coal);
      if (seen === old) return true;
      old = seen;
    }
  }
}
