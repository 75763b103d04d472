/**
 * Making room: what a heap gives back when no free stretch holds a request for pages. This is
 * slab policy, so it lives here and not in the core: the core (core.ts) calls it through the
 * function it was constructed with (heap.ts passes `makeRoom`), and so imports no slab module.
 */
import type { HeapCore } from "./core.js";
import { adoptAbandoned } from "./gather.js";
import { collectAll } from "./remote.js";
import { trimEmpty } from "./slabs.js";

/**
 * Gives back pages held for reuse when the free stretches hold no request: the empty slab each
 * class keeps; in a threaded heap first this thread's pending remote frees, and then the slabs
 * of threads that are gone (closed or recovered), which this thread adopts (gather.ts).
 * The caller holds the page lock. @returns true when that may have freed pages.
 */
export function makeRoom(h: HeapCore): boolean {
  if (h.threaded) collectAll(h);
  let released = trimEmpty(h);
  if (h.threaded) released += adoptAbandoned(h);
  return released > 0 || h.threaded;
}
