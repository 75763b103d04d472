/**
 * The heap's lock: one Int32 word of the header (W_LOCK), a three-state futex mutex.
 *
 *   0  free      1  held, nobody waits      2  held, someone may be waiting in Atomics.wait
 *
 * lock: compareExchange 0 -> 1; on failure spin briefly, then swap in 2 and wait while it is
 * not 0. unlock: subtract 1; if that did not give 0 (the word was 2), store 0 and wake one
 * waiter. Every operation of a shared heap runs between lock and unlock, so no thread sees
 * another's half-done operation, and the Atomics accesses order the plain typed-array accesses
 * between them (JavaScript's memory model: they synchronize-with each other).
 *
 * Where Atomics.wait is not allowed (a browser's main thread) the waiter spins instead.
 * A thread that dies holding the lock (a worker terminated in the middle of a call) leaves it held.
 */

const SPINS = 64;
let canWait = true;

/** Takes the lock at `index` of `words`. */
export function lock(words: Int32Array, index: number): void {
  if (Atomics.compareExchange(words, index, 0, 1) !== 0) lockSlow(words, index);
}

function lockSlow(words: Int32Array, index: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, 1) === 0) return;
  }
  while (Atomics.exchange(words, index, 2) !== 0) {
    if (canWait) {
      try {
        Atomics.wait(words, index, 2);
      } catch {
        canWait = false;
      }
    }
  }
}

/** Releases the lock at `index` of `words`, waking one waiter if there may be one. */
export function unlock(words: Int32Array, index: number): void {
  if (Atomics.sub(words, index, 1) !== 1) {
    Atomics.store(words, index, 0);
    Atomics.notify(words, index, 1);
  }
}
