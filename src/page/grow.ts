/**
 * Adding sections: a new PageMap whose section list is the old one merged with the new section
 * numbers, carrying every old page's state, tags and free lists over. Runs only from `addRegion`;
 * costs one memcpy per run of old sections plus one step per free block.
 */
import { NIL, PageMap } from "./page-map.js";

/**
 * Returns a PageMap holding the sections of `old` and `added` (section numbers not in `old`,
 * increasing). Old slots move to their section's new index; free-list links follow them.
 */
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

  // Copy runs of old sections that stay adjacent in one typed-array copy each.
  for (let start = 0; start < old.sectionCount; ) {
    let end = start + 1;
    while (end < old.sectionCount && newIndex[end] === newIndex[end - 1] + 1) end++;
    const from = start * pages;
    const to = end * pages;
    const at = newIndex[start] * pages;
    map.state.set(old.state.subarray(from, to), at);
    map.next.set(old.next.subarray(from, to), at); // allocated blocks' tags, and links fixed below
    start = end;
  }

  const moved = (slot: number) =>
    slot === NIL ? NIL : newIndex[slot >>> shift] * pages + (slot & (pages - 1));
  for (let section = 0; section < old.sectionCount; section++) {
    for (let order = 0; order < old.orders; order++) {
      let slot = old.heads[section * old.orders + order];
      if (slot === NIL) continue;
      map.heads[newIndex[section] * map.orders + order] = moved(slot);
      for (; slot !== NIL; slot = old.next[slot]) {
        const to = moved(slot);
        map.next[to] = moved(old.next[slot]);
        map.prev[to] = moved(old.prev[slot]);
      }
    }
  }
  map.rebuildBits();
  return map;
}
