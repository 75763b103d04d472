/**
 * Adding sections: a new PageMap whose section list is the old one merged with the new section
 * numbers. Old sections move by whole runs (one typed-array copy per run of old sections that
 * stay adjacent); free-list links are slots, so they are rewritten by walking the lists, one
 * step per free block. Runs only from `addRegion`.
 */
import { NIL, PageMap } from "./page-map.js";

/** Returns a PageMap holding the sections of `old` and `added` (section numbers not in `old`, increasing). */
export function withSections(old: PageMap, added: number[], maxOrder: number, sectionBytes: number): PageMap {
  const numbers = new Float64Array(old.sectionCount + added.length);
  /** newIndex[i] is the new index of old section i. */
  const newIndex = new Int32Array(old.sectionCount);
  let i = 0;
  let j = 0;
  for (let out = 0; out < numbers.length; out++) {
    if (j >= added.length || (i < old.sectionCount && old.sectionNumber[i] < added[j])) {
      newIndex[i] = out;
      numbers[out] = old.sectionNumber[i++];
    } else {
      numbers[out] = added[j++];
    }
  }
  const map = new PageMap(maxOrder, old.sectionOrder, numbers, sectionBytes);
  const shift = old.sectionOrder;
  const pages = 2 ** shift;
  for (let start = 0; start < old.sectionCount; ) {
    let end = start + 1;
    while (end < old.sectionCount && newIndex[end] === newIndex[end - 1] + 1) end++;
    const to = newIndex[start] * pages;
    map.state.set(old.state.subarray(start * pages, end * pages), to);
    map.next.set(old.next.subarray(start * pages, end * pages), to); // tags of allocated blocks
    start = end;
  }
  const moved = (slot: number) =>
    slot === NIL ? NIL : newIndex[slot >>> shift] * pages + (slot & (pages - 1));
  for (let order = 0; order <= maxOrder; order++) {
    map.heads[order] = moved(old.heads[order]);
    let previous = NIL;
    for (let slot = old.heads[order]; slot !== NIL; slot = old.next[slot]) {
      const to = moved(slot);
      map.next[to] = moved(old.next[slot]);
      map.prev[to] = previous;
      previous = to;
    }
  }
  map.heads[map.maskIndex] = old.heads[old.maskIndex];
  return map;
}
