/**
 * Adding sections: a new PageMap whose section list is the old one merged with the new section
 * numbers. Old sections move by whole runs (one typed-array copy per run of old sections that
 * stay adjacent); free-list links are slots, so they are rewritten by walking the lists, one
 * step per free block. Runs only from `addRegion`.
 *
 * Every path that adds sections counts them first, by arithmetic, and refuses a total beyond
 * MAX_SLOTS pages or MAX_SECTIONS sections before it builds anything (`checkMetadataSize`): a
 * request for 2^52 bytes is refused at once, not after building lists it cannot hold.
 */
import { AllocError, showAddress } from "../errors.js";
import { MAX_SECTIONS, MAX_SLOTS, NIL, PageMap } from "./page-map.js";
import type { SectionDirectory } from "./section-directory.js";

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
    // Link words come along too: an allocated block's tag is its `next`; free links are redone below.
    map.links.set(
      old.links.subarray(old.linkBase + 2 * start * pages, old.linkBase + 2 * end * pages),
      map.linkBase + 2 * to,
    );
    start = end;
  }
  const moved = (slot: number) =>
    slot === NIL ? NIL : newIndex[slot >>> shift] * pages + (slot & (pages - 1));
  for (let order = 0; order <= maxOrder; order++) {
    map.links[order] = moved(old.head(order));
    let previous = NIL;
    for (let slot = old.head(order); slot !== NIL; slot = old.nextOf(slot)) {
      const to = moved(slot);
      map.links[map.linkBase + 2 * to] = moved(old.nextOf(slot));
      map.links[map.linkBase + 2 * to + 1] = previous;
      previous = to;
    }
  }
  map.links[map.maskIndex] = old.links[old.maskIndex];
  return map;
}

/**
 * @throws AllocError INVALID_ARGUMENT when `sections` sections of 2^sectionOrder pages would exceed
 * MAX_SLOTS (about 2^30) pages or MAX_SECTIONS sections of metadata; `what` names the request.
 */
export function checkMetadataSize(sections: number, sectionOrder: number, what: string): void {
  const limit =
    sections * 2 ** sectionOrder > MAX_SLOTS
      ? `${MAX_SLOTS} pages`
      : sections > MAX_SECTIONS
        ? `${MAX_SECTIONS} sections`
        : "";
  if (limit !== "") throw new AllocError("INVALID_ARGUMENT", `${what} needs more than ${limit} of metadata`);
}

/**
 * Section numbers of [first, end) (bytes) that have no metadata yet, increasing.
 * @throws AllocError INVALID_ARGUMENT when the sections spanned would exceed the metadata limits
 * (`checkMetadataSize`), before any list is built.
 */
export function missingSections(
  map: PageMap,
  directory: SectionDirectory,
  first: number,
  end: number,
  sectionBytes: number,
): number[] {
  const firstSection = Math.floor(first / sectionBytes);
  const spanned = Math.floor((end - 1) / sectionBytes) - firstSection + 1;
  checkMetadataSize(
    map.sectionCount + spanned,
    map.sectionOrder,
    `region ${showAddress(first)}..${showAddress(end)}`,
  );
  const added: number[] = [];
  for (let n = firstSection; n < firstSection + spanned; n++) {
    if (directory.indexOf(n) < 0) added.push(n);
  }
  return added;
}

/**
 * `map` extended with the sections up to address `end` (bytes) above its last one: old slots keep
 * their indices. Over caller storage the views stay the same and must be large enough.
 * @throws AllocError INVALID_ARGUMENT when caller storage is too small or the metadata would pass
 * its limits (`checkMetadataSize`); both are checked before anything is built.
 */
export function appendSections(map: PageMap, end: number, sectionBytes: number): PageMap {
  const old = map.sectionCount;
  const from = old === 0 ? 0 : map.sectionNumber[old - 1] + 1;
  const count = Math.max(Math.ceil(end / sectionBytes) - from, 0); // sections n >= from with n * sectionBytes < end
  if (count === 0) return map;
  checkMetadataSize(old + count, map.sectionOrder, `growing to ${showAddress(end)}`);
  const pages = (old + count) * 2 ** map.sectionOrder;
  if (map.external && (map.state.length < pages || map.links.length < map.linkBase + 2 * pages)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `page storage of ${map.state.length} pages cannot grow to ${showAddress(end)}`,
    );
  }
  const numbers = new Float64Array(old + count);
  numbers.set(map.sectionNumber);
  for (let i = 0; i < count; i++) numbers[old + i] = from + i;
  const grown = new PageMap(
    map.maxOrder,
    map.sectionOrder,
    numbers,
    sectionBytes,
    map.external ? map : undefined,
  );
  if (!map.external) {
    // Same linkBase, and old slots keep their numbers: both arrays copy as they are.
    grown.state.set(map.state);
    grown.links.set(map.links);
  }
  return grown;
}
