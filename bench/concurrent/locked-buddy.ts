/**
 * The locked baseline of the concurrent bench: a classic sequential buddy allocator (per-order
 * doubly linked free lists, eager merging) whose state lives in a SharedArrayBuffer, behind one
 * Atomics mutex, so every worker can use it. It stands in for "the page allocator behind a lock":
 * BuddyAllocator keeps its metadata in JS-owned typed arrays and plain fields, so it cannot be
 * shared between workers as it is (the shared Heap that will wrap it does not exist yet).
 *
 * Layout (Int32 words): [0] the mutex (0 free, 1 held, 2 held with sleepers), [16..16+orders)
 * list heads (-1 empty), then next[page], prev[page]; then one state byte per page: 0 inside a
 * block, FREE|order or USED|order at a block's first page.
 *
 * The mutex spins briefly, then sleeps with Atomics.wait (Drepper's three-state futex mutex).
 */

const FREE = 0x40;
const USED = 0x80;
const ORDER = 0x3f;
const NIL = -1;
const HEADS = 16;
const SPINS = 200;

/** A sequential buddy allocator in a SharedArrayBuffer, made thread-safe by one mutex. */
export class LockedBuddy {
  readonly buffer: SharedArrayBuffer;
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly pages: number;
  private readonly words: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly state: Uint8Array;

  private constructor(buffer: SharedArrayBuffer, pageSize: number, maxOrder: number, pages: number) {
    this.buffer = buffer;
    this.pageSize = pageSize;
    this.maxOrder = maxOrder;
    this.pages = pages;
    this.words = new Int32Array(buffer, 0, HEADS + 32);
    this.next = new Int32Array(buffer, (HEADS + 32) * 4, pages);
    this.prev = new Int32Array(buffer, (HEADS + 32 + pages) * 4, pages);
    this.state = new Uint8Array(buffer, (HEADS + 32 + 2 * pages) * 4, pages);
  }

  /** A new allocator over pages 0..size/pageSize, all free (size a multiple of pageSize * 2^maxOrder). */
  static create(size: number, pageSize: number, maxOrder: number): LockedBuddy {
    const pages = size / pageSize;
    const buffer = new SharedArrayBuffer((HEADS + 32 + 2 * pages) * 4 + pages);
    const a = new LockedBuddy(buffer, pageSize, maxOrder, pages);
    a.words.fill(NIL, HEADS, HEADS + 32);
    for (let page = pages - 2 ** maxOrder; page >= 0; page -= 2 ** maxOrder) a.push(page, maxOrder);
    return a;
  }

  /** Another thread's handle on the same allocator. */
  static attach(buffer: SharedArrayBuffer, pageSize: number, maxOrder: number, pages: number): LockedBuddy {
    return new LockedBuddy(buffer, pageSize, maxOrder, pages);
  }

  allocOrder(order: number): number | null {
    this.lock();
    let k = order;
    while (k <= this.maxOrder && this.words[HEADS + k] === NIL) k++;
    if (k > this.maxOrder) {
      this.unlock();
      return null;
    }
    const page = this.words[HEADS + k];
    this.unlink(page, k);
    while (k > order) {
      k--;
      this.push(page + 2 ** k, k);
    }
    this.state[page] = USED | order;
    this.unlock();
    return page * this.pageSize;
  }

  free(address: number): void {
    let page = address / this.pageSize;
    this.lock();
    const s = this.state[page];
    if ((s & USED) === 0) {
      this.unlock();
      throw new Error(`LockedBuddy: ${address} is not allocated`);
    }
    let k = s & ORDER;
    this.state[page] = 0;
    while (k < this.maxOrder) {
      const buddy = page ^ (1 << k);
      if (this.state[buddy] !== (FREE | k)) break;
      this.unlink(buddy, k);
      this.state[buddy] = 0;
      if (buddy < page) page = buddy;
      k++;
    }
    this.push(page, k);
    this.unlock();
  }

  /** Free pages, counted from the lists (quiescent use only). */
  freePages(): number {
    let n = 0;
    for (let k = 0; k <= this.maxOrder; k++) {
      for (let p = this.words[HEADS + k]; p !== NIL; p = this.next[p]) n += 2 ** k;
    }
    return n;
  }

  private push(page: number, k: number): void {
    const head = this.words[HEADS + k];
    this.state[page] = FREE | k;
    this.next[page] = head;
    this.prev[page] = NIL;
    if (head !== NIL) this.prev[head] = page;
    this.words[HEADS + k] = page;
  }

  private unlink(page: number, k: number): void {
    const n = this.next[page];
    const p = this.prev[page];
    if (p === NIL) this.words[HEADS + k] = n;
    else this.next[p] = n;
    if (n !== NIL) this.prev[n] = p;
  }

  private lock(): void {
    const w = this.words;
    if (Atomics.compareExchange(w, 0, 0, 1) === 0) return;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(w, 0) === 0 && Atomics.compareExchange(w, 0, 0, 1) === 0) return;
    }
    while (Atomics.exchange(w, 0, 2) !== 0) Atomics.wait(w, 0, 2);
  }

  private unlock(): void {
    if (Atomics.exchange(this.words, 0, 0) === 2) Atomics.notify(this.words, 0, 1);
  }
}
