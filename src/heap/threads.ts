/**
 * Thread slots of a threaded heap (created with `threads` > 0, the default on shared memory).
 * Each handle owns one slot for its life. The slot holds the handle's own class lists, so it
 * allocates and frees in its own slabs with no atomic operation; a summary of which of its
 * classes got frees from other threads (remote.ts); and the record of the page-level operation
 * it is in the middle of, which is what `recover` needs after the thread dies (recover.ts).
 *
 * Slot s is `slotWords` Int32 words at `layout.threadsOffset + PAGE_LOCK_BYTES + 4 * slotWords * s`:
 *
 *   [S_CLAIM]       the claim word: (gen << 8) | claimer (below 2^29)
 *     bits 0..7     claimer: 0 when nobody claims the slot (never used, closed, recovered); else
 *                   the slot + 1 of the handle that claims it: its own handle (s + 1), or a thread
 *                   adopting its slabs (gather.ts) for as long as that takes
 *     bits 8..28    gen (GEN_MASK, wrapping): while the slot's own handle claims it, that handle's
 *                   generation; otherwise the generation of its next own handle. The slot's own
 *                   handle bumps it when it lets the slot go (close, or its recovery: `released`);
 *                   an adopter leaves it as it found it. A fresh slot is 0: its first handle is
 *                   generation 0, and bytes of format 5 written before generations existed
 *                   (claim 0 or s + 1) read as generation 0.
 *                   A handle's token is its claim word, (gen << 8) | (s + 1): unique to that
 *                   handle (up to 2^21 handles of one slot), the page lock's holder value while it
 *                   holds it (lock.ts), and its public thread id + 1 (`Heap.threadId`: a slot's
 *                   generation-0 handle is thread s). So `recover(id)` can tell the thread it
 *                   names from a later handle of the same slot (recover.ts).
 *   [S_RECORD ..]   the record of the page-level operation in flight, RECORD_WORDS words:
 *     [+R_OP]       OP_*, OP_NONE when none
 *     [+R_PAGE]     its first page (relative to firstPage)
 *     [+R_COUNT]    its pages
 *     [+R_SIZE]     OP_RESIZE: the block's requested size before the resize (as uint32)
 *                   (a one-thread heap keeps the same record in its header: layout.ts)
 *   [S_SUMMARY]     bit c set: a slab of class c may hold frees from other threads (c < 32)
 *   [S_SUMMARY + 1] the same for classes 32 to 63
 *   [S_SLABS]       slabs whose owner byte names this slot (page lock)
 *   [S_LISTS + c]               head of class c's list of slabs with a free object, or -1
 *   [S_LISTS + classCount + c]  head of class c's list of full slabs, or -1
 *
 * padded to a multiple of SLOT_ALIGN_WORDS, so two slots never share a cache line. Only the
 * claimer writes a slot's words, except S_SUMMARY, which other threads set with Atomics.or.
 * The owner of each slab is one byte per page (`layout.ownerOffset`, index = relative page):
 * the slot + 1 of the thread whose lists hold the slab, on the slab's first page; 0 elsewhere.
 */

/** Claim word: (gen << 8) | claimer (see above). */
export const S_CLAIM = 0;
/** The claimer bits of a claim word: 0, or the claiming handle's slot + 1. */
export const CLAIMER_MASK = 255;
/** A claim word's generation is `claim >>> GEN_SHIFT`, below GEN_MASK + 1 (21 bits). */
export const GEN_SHIFT = 8;
/** Generations wrap at 2^21, so every token stays below 2^29 (the lock word's bit 30 is WAITERS). */
export const GEN_MASK = (1 << 21) - 1;
/** First word of the record of the page-level operation in flight. */
export const S_RECORD = 1;
/** Record words: the operation (OP_*). */
export const R_OP = 0;
/** Record words: its first page, relative to firstPage. */
export const R_PAGE = 1;
/** Record words: its pages. */
export const R_COUNT = 2;
/** Record words: OP_RESIZE's requested size before. */
export const R_SIZE = 3;
/** Words of a record. */
export const RECORD_WORDS = 4;
/** Two words: one bit per class that may have remote frees. */
export const S_SUMMARY = 5;
/** Slabs this slot owns (written under the page lock). */
export const S_SLABS = 7;
/** First class-list head: classCount partial heads, then classCount full heads. */
export const S_LISTS = 8;
/** Slots are padded to this many words (64 bytes). */
export const SLOT_ALIGN_WORDS = 16;
/** Most classes a threaded heap's summary can name (two words). */
export const MAX_THREADED_CLASSES = 64;
/** Most thread slots (owner bytes hold slot + 1). */
export const MAX_THREADS = 255;

/** No page-level operation in flight. */
export const OP_NONE = 0;
/** Taking pages [page, page + count) for a slab or a large block (rolled back by recovery). */
export const OP_TAKE = 1;
/** Giving pages [page, page + count) back (rolled forward by recovery). */
export const OP_RELEASE = 2;
/** Resizing the large block at page in place, from a requested size (rolled back by recovery). */
export const OP_RESIZE = 3;
/** Growing the heap (recovery rebuilds over whatever end the header records). */
export const OP_GROW = 4;

/** Int32 words of one slot for `classCount` classes. */
export function slotWords(classCount: number): number {
  const words = S_LISTS + 2 * classCount;
  return Math.ceil(words / SLOT_ALIGN_WORDS) * SLOT_ALIGN_WORDS;
}

/** Int32 index of slot `slot`'s first word, for a slot table at word `base`. */
export function slotAt(base: number, words: number, slot: number): number {
  return base + words * slot;
}

/** Resets the slot table of a new heap: nothing claimed, every list empty. */
export function clearSlots(
  i32: Int32Array,
  base: number,
  words: number,
  threads: number,
  classes: number,
): void {
  i32.fill(0, base, base + words * threads);
  for (let s = 0; s < threads; s++) {
    const at = base + words * s + S_LISTS;
    i32.fill(-1, at, at + 2 * classes);
  }
}

/**
 * Claims the first unclaimed slot (compare-and-swap of its claim word, claimer 0 -> slot + 1,
 * keeping its generation): the calling handle becomes the slot's next own handle. A slot left by
 * a closed or recovered thread may still own slabs with live objects; its new thread adopts them.
 * @returns the handle's token (its claim word: `(gen << 8) | (slot + 1)`), or -1 when every slot
 * is claimed.
 */
export function claimSlot(i32: Int32Array, base: number, words: number, threads: number): number {
  for (let s = 0; s < threads; s++) {
    const at = base + words * s + S_CLAIM;
    const v = Atomics.load(i32, at);
    if ((v & CLAIMER_MASK) !== 0) continue;
    const token = v | (s + 1);
    if (Atomics.compareExchange(i32, at, v, token) === v) return token;
  }
  return -1;
}

/**
 * The claim word of slot `slot` once its claimer lets it go: unclaimed, with the generation of
 * the slot's next own handle (bumped when the claimer was the slot's own handle, kept when it
 * was an adopter).
 */
export function released(claim: number, slot: number): number {
  if ((claim & CLAIMER_MASK) !== slot + 1) return claim & ~CLAIMER_MASK;
  return (((claim >>> GEN_SHIFT) + 1) & GEN_MASK) << GEN_SHIFT;
}

/** The slot of thread id `id` (whatever its generation); -1 for an id that names none. */
export function slotOfThread(id: number): number {
  return ((id + 1) & CLAIMER_MASK) - 1;
}

/**
 * The thread id of slot `slot`'s current own handle, or of its last one when nobody or an adopter
 * claims it (`claim` is the slot's claim word): the thread `liveAllocations` names for the blocks
 * whose owner byte is slot + 1. A slot never released (generation 0, unclaimed) names thread
 * `slot`, as bytes written before generations existed do.
 */
export function threadOfSlot(claim: number, slot: number): number {
  let gen = claim >>> GEN_SHIFT;
  if ((claim & CLAIMER_MASK) !== slot + 1 && gen > 0) gen--;
  return (gen << GEN_SHIFT) | slot;
}
