/**
 * The heap's lock: one Int32 word of the header (W_LOCK), a futex mutex that knows its holder.
 *
 *   0  free      token  held by the handle of that token (threads.ts: thread id + 1, below 2^29),
 *                ANONYMOUS (a heap without slots) or, while `Heap.open` repairs saved bytes, RECOVERING
 *   | WAITERS    someone may be waiting in Atomics.wait
 *
 * lock: compareExchange 0 -> holder; on failure spin briefly, then set WAITERS and wait while the
 * word is unchanged; a thread that wakes takes the lock with WAITERS set (it cannot know whether
 * others still wait). unlock: exchange to 0; if WAITERS was set, wake one waiter. The Atomics
 * accesses order the plain typed-array accesses between lock and unlock (JavaScript's memory
 * model: they synchronize-with each other), so the next holder sees everything the last one wrote.
 *
 * A threaded heap takes it only around page-level operations (a new or emptied slab, a large
 * block, growth, recovery); a one-thread heap on shared memory around every operation, with holder
 * ANONYMOUS. Because the word names its holder, `recover` can tell that a dead thread held it and
 * take it over (`steal`): the waiters then wait on the recovering thread, not on the dead one.
 * A waiter wakes at least every WAIT_SLICE_MS to look again, so a wake-up lost to a dead thread
 * costs at most that long. Where Atomics.wait is not allowed (a browser's main thread) it spins.
 */

const SPINS = 64;
/** Set in the lock word while a thread may be waiting. */
export const WAITERS = 1 << 30;
/** The holder value of a heap without thread slots. */
export const ANONYMOUS = 1;
/** Longest single Atomics.wait, in milliseconds. */
export const WAIT_SLICE_MS = 50;
let canWait = true;

/** Takes the lock at `index` of `words` for `holder` (a handle's token, or ANONYMOUS). */
export function lock(words: Int32Array, index: number, holder: number): void {
  if (Atomics.compareExchange(words, index, 0, holder) !== 0) lockSlow(words, index, holder);
}

function lockSlow(words: Int32Array, index: number, holder: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, holder) === 0) return;
  }
  for (;;) {
    const v = Atomics.load(words, index);
    if (v === 0) {
      if (Atomics.compareExchange(words, index, 0, holder | WAITERS) === 0) return;
      continue;
    }
    if ((v & WAITERS) === 0 && Atomics.compareExchange(words, index, v, v | WAITERS) !== v) continue;
    // Atomics.wait needs shared memory; where it is refused on shared memory (a browser's main thread), spin.
    if (canWait && !(words.buffer instanceof ArrayBuffer)) {
      try {
        Atomics.wait(words, index, v | WAITERS, WAIT_SLICE_MS);
      } catch {
        canWait = false;
      }
    }
  }
}

/** Releases the lock at `index` of `words`, waking one waiter if there may be one. */
export function unlock(words: Int32Array, index: number): void {
  if ((Atomics.exchange(words, index, 0) & WAITERS) !== 0) Atomics.notify(words, index, 1);
}

/** The holder of the lock (a handle's token, ANONYMOUS or RECOVERING), or 0 when it is free. */
export function holderOf(words: Int32Array, index: number): number {
  return Atomics.load(words, index) & ~WAITERS;
}

/**
 * Takes the lock over from `dead` (a holder that will never release it) for `holder`.
 * @returns false, changing nothing, when `dead` does not hold it (exactly: a token names one
 * handle, so a later handle of the dead thread's slot is never taken for it).
 */
export function steal(words: Int32Array, index: number, dead: number, holder: number): boolean {
  for (;;) {
    const v = Atomics.load(words, index);
    if ((v & ~WAITERS) !== dead) return false;
    if (Atomics.compareExchange(words, index, v, holder | (v & WAITERS)) === v) return true;
  }
}
