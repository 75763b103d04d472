/**
 * Adding sections: a new PageMap whose section list is the old one merged with the new section
 * numbers. All metadata is per section, so old sections move by whole runs (one typed-array copy
 * per run of old sections that stay adjacent). Runs only from `addRegion`.
 */
import { PageMap } from "./page-map.js";

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
  const pages = 2 ** old.sectionOrder;
  for (let start = 0; start < old.sectionCount; ) {
    let end = start + 1;
    while (end < old.sectionCount && newIndex[end] === newIndex[end - 1] + 1) end++;
    const to = newIndex[start];
    map.state.set(old.state.subarray(start * pages, end * pages), to * pages);
    map.tag.set(old.tag.subarray(start * pages, end * pages), to * pages);
    map.free.set(old.free.subarray(start * old.sectionWords, end * old.sectionWords), to * map.sectionWords);
    map.count.set(old.count.subarray(start * old.orders, end * old.orders), to * map.orders);
    start = end;
  }
  map.markSections(newIndex);
  return map;
}
