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
 *   bit 0  OCC     the block is allocated as a whole (or a claim on it is in flight)
 *   bit 1  OCC_L   something in the left subtree is occupied (allocated, claimed, being released)
 *   bit 2  OCC_R   the same for the right subtree
 *   bit 3  COAL_L  a release in the left subtree is clearing its marks upward ("coalescing")
 *   bit 4  COAL_R  the same for the right subtree
 * The left/right bits of a child are `BIT << (b & 1)` for the child's index b.
 *
 * Invariants when no operation is in flight (what `check()` verifies):
 * - A node is 0 (its whole block is free), exactly OCC (allocated; every node below it is 0), or
 *   carries OCC_L/OCC_R exactly for its non-zero children. No COAL bit is set anywhere.
 * While operations run, a node can carry stale OCC_side marks of a claim that will fail, or of a
 * release that has not cleared them yet; such marks only ever hide free memory, never expose
 * allocated memory: a block is handed out only after its own CAS 0 -> OCC and a climb to the root
 * that met no OCC ancestor.
 *
 * Claim (alloc): CAS the node 0 -> OCC, then climb: in each ancestor set the child's OCC_side and
 * clear its COAL_side (telling a release that is clearing marks on this path to stop: the subtree
 * is occupied again); an ancestor with OCC means the block lies inside an allocated one, so the
 * claim is rolled back by a release bounded below that ancestor. Where the ancestor already has
 * OCC_side set and COAL_side clear, the CAS would write the value it read: the climb only reads
 * it (the same atomic step as a no-op CAS), so shared upper nodes stay read-mostly in every core's
 * cache instead of being written by every allocation.
 *
 * Release (free): (1) climb setting COAL_side, stopping above the first ancestor whose other side
 * is occupied and not itself coalescing (that ancestor stays occupied, nothing above changes);
 * (2) CAS the node OCC -> 0; (3) climb again clearing OCC_side|COAL_side as long as COAL_side is
 * still set (else a claim re-occupied the subtree) and the other side is empty.
 */

/** The block is allocated as a whole. */
export const OCC = 1;
/** Left subtree occupied; `OCC_L << 1` is OCC_R. */
export const OCC_L = 2;
/** Right subtree occupied. */
export const OCC_R = 4;
/** Left subtree coalescing; `COAL_L << 1` is COAL_R. */
export const COAL_L = 8;
/** Right subtree coalescing. */
export const COAL_R = 16;
/** Every bit a node may carry. */
export const NODE_BITS = 31;

/** What `claim` returns on success (any other value is the order where it failed). */
export const CLAIMED = -1;

/**
 * Claims block `b` of order `k`: after it returns CLAIMED the caller owns the block.
 * @returns CLAIMED, or the order of the node that made it fail: `k` itself when the node was not
 *   0 (taken, or partly occupied), or the order of an OCC ancestor (the caller can skip the whole
 *   subtree of that ancestor). A failed claim leaves the tree as it found it.
 */
export function claim(tree: Int32Array, off: Int32Array, maxOrder: number, k: number, b: number): number {
  if (Atomics.compareExchange(tree, off[k] + b, 0, OCC) !== 0) return k;
  let i = b;
  for (let j = k; j < maxOrder; j++) {
    const side = i & 1;
    i >>= 1;
    const p = off[j + 1] + i;
    const occ = OCC_L << side;
    const both = occ | (COAL_L << side);
    for (;;) {
      const old = Atomics.load(tree, p);
      if ((old & OCC) !== 0) {
        release(tree, off, k, b, j);
        return j + 1;
      }
      if ((old & both) === occ) break;
      if (Atomics.compareExchange(tree, p, old, (old & ~both) | occ) === old) break;
    }
  }
  return CLAIMED;
}

/**
 * Releases the claimed block `b` of order `k` (its node is OCC) and clears the marks it left in
 * its ancestors of orders k+1..top, merging it with free buddies. `top` is maxOrder for a free,
 * or the order just below the OCC ancestor that made a claim fail.
 */
export function release(tree: Int32Array, off: Int32Array, k: number, b: number, top: number): void {
  let i = b;
  for (let j = k; j < top; j++) {
    const side = i & 1;
    i >>= 1;
    const old = Atomics.or(tree, off[j + 1] + i, COAL_L << side);
    const other = side ^ 1;
    if ((old & ((OCC_L | COAL_L) << other)) === OCC_L << other) break;
  }
  Atomics.compareExchange(tree, off[k] + b, OCC, 0);
  i = b;
  for (let j = k; j < top; j++) {
    const side = i & 1;
    i >>= 1;
    const p = off[j + 1] + i;
    const coal = COAL_L << side;
    const clear = ~((OCC_L << side) | coal);
    let now = 0;
    for (;;) {
      const old = Atomics.load(tree, p);
      if ((old & coal) === 0) return;
      now = old & clear;
      if (Atomics.compareExchange(tree, p, old, now) === old) break;
    }
    if ((now & (OCC_L << (side ^ 1))) !== 0) return;
  }
}
