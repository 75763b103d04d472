/**
 * Metadata in storage the caller owns (`BuddyAllocator.inStorage`): the checks of that storage and
 * the sections a region needs, all before anything is built. The layout of the storage itself is
 * page-map.ts's (`PageStorage`).
 */
import { AllocError, showAddress, showCount } from "../errors.js";
import { checkMetadataSize } from "./grow.js";
import { PageMap, type PageStorage } from "./page-map.js";
import type { InStorageOptions } from "./types.js";
import { optionsObject } from "./validate.js";

/** The geometry the checks need. */
export interface StorageGeometry {
  readonly maxOrder: number;
  readonly sectionOrder: number;
  readonly sectionBytes: number;
}

/**
 * The `fresh` of `inStorage`'s last argument: `{ fresh }`, or the bare boolean of the older form.
 * Anything else is returned as it is, for `mapInStorage` to refuse.
 * @throws AllocError INVALID_ARGUMENT for an array or a function.
 */
export function freshOf(how: InStorageOptions | boolean | undefined): unknown {
  if (typeof how !== "object" && typeof how !== "function") return how;
  if (how === null) return how;
  return optionsObject(how as InStorageOptions, "inStorage: options")?.fresh;
}

/**
 * The metadata of the region [first, end) (bytes, whole pages) over `storage`, its content taken
 * as it is.
 * @throws AllocError INVALID_ARGUMENT for storage that is not a PageStorage or is too small, a
 * `fresh` that is not a boolean, or a region beyond the metadata limits.
 */
export function mapInStorage(
  g: StorageGeometry,
  first: number,
  end: number,
  storage: unknown,
  fresh: unknown,
): PageMap {
  const { state, links } =
    typeof storage === "object" && storage !== null ? (storage as Partial<PageStorage>) : {};
  if (!(state instanceof Uint8Array) || !(links instanceof Int32Array)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `inStorage: storage must be { state: Uint8Array, links: Int32Array }, got ${showCount(storage)}`,
    );
  }
  if (typeof fresh !== "boolean") {
    throw new AllocError("INVALID_ARGUMENT", `inStorage: fresh must be a boolean, got ${showCount(fresh)}`);
  }
  const firstSection = Math.floor(first / g.sectionBytes);
  const sections = Math.ceil(end / g.sectionBytes) - firstSection;
  checkMetadataSize(sections, g.sectionOrder, `${showAddress(first)}..${showAddress(end)}`);
  const slots = sections * 2 ** g.sectionOrder;
  if (state.length < slots || links.length < g.maxOrder + 2 + 2 * slots) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `page storage of ${state.length} pages is too small for ${showAddress(first)}..${showAddress(end)}`,
    );
  }
  const numbers = new Float64Array(sections);
  for (let i = 0; i < sections; i++) numbers[i] = firstSection + i;
  return new PageMap(g.maxOrder, g.sectionOrder, numbers, g.sectionBytes, { state, links });
}

/** Pages of storage the region [first, end) (bytes, whole pages) needs: its sections' pages. */
export function storagePagesFor(g: StorageGeometry, first: number, end: number): number {
  const sections = Math.floor((end - 1) / g.sectionBytes) - Math.floor(first / g.sectionBytes) + 1;
  return sections * 2 ** g.sectionOrder;
}
