/**
 * Read-only views of a BuddyAllocator: stats, block iterators, blockAt and the invariant check.
 * None of this is on the alloc/free path; clarity wins over speed here.
 */
import { AllocError, showAddress } from "../errors.js";
import { isSafeNonNegative } from "../numbers.js";
import { orderForPages } from "./order.js";
import { ALLOCATED, FREE, NIL, ORDER_MASK, type PageMap, RUN } from "./page-map.js";
import type { SectionDirectory } from "./section-directory.js";
import { statsFromFreeBlocks } from "./stats.js";
import type { AllocatorStats, Block, BlockInfo } from "./types.js";

/** The parts of the allocator these views read. */
export interface Inspectable {
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly sectionOrder: number;
  readonly map: PageMap;
  readonly directory: SectionDirectory;
  readonly regionStart: readonly number[];
  readonly regionEnd: readonly number[];
  readonly totalPages: number;
  readonly freePages: number;
  slotOf(address: number): number;
  addressOf(slot: number): number;
}

/** Occupancy figures of `a`. */
export function statsOf(a: Inspectable): AllocatorStats {
  const map = a.map;
  const freeBlocksByOrder = new Array<number>(a.maxOrder + 1).fill(0);
  for (let order = 0; order <= a.maxOrder; order++) {
    for (let slot = map.head(order); slot !== NIL; slot = map.nextOf(slot)) freeBlocksByOrder[order]++;
  }
  return statsFromFreeBlocks(
    freeBlocksByOrder,
    a.totalPages,
    a.pageSize,
    map.byteLength + a.directory.byteLength,
  );
}

/**
 * Blocks (and runs) whose state has `flag` (FREE or ALLOCATED), in address order; allocated ones
 * with their tag, size and whether they are runs. A slot walk that jumps over each block's pages.
 */
export function* iterateBlocks(
  a: Inspectable,
  flag: number,
  withTag: boolean,
): Generator<Block & { tag?: number; size?: number; exact?: boolean }> {
  const map = a.map;
  for (let slot = 0; slot < map.slots; ) {
    const state = map.state[slot];
    if (state === 0) {
      slot++;
      continue;
    }
    const pages = state & ALLOCATED ? map.pagesOf(slot) : 2 ** (state & ORDER_MASK);
    if ((state & flag) !== 0) {
      const address = a.addressOf(slot);
      const order = orderForPages(pages);
      yield withTag
        ? { address, order, tag: map.tagOf(slot), size: pages * a.pageSize, exact: (state & RUN) !== 0 }
        : { address, order };
    }
    slot += pages;
  }
}

/** The block or run containing byte `address`, or null when that byte is not managed. */
export function locateBlock(a: Inspectable, address: number): BlockInfo | null {
  if (!isSafeNonNegative(address)) return null;
  const pageAddress = Math.floor(address / a.pageSize) * a.pageSize;
  const target = a.slotOf(pageAddress);
  if (target < 0) return null;
  const map = a.map;
  // The block holding the page starts at the nearest slot at or below it with a state byte:
  // blocks climb in O(maxOrder) (it is aligned to its size); a run may start anywhere, so the
  // rest walks back page by page, within memory that is contiguous.
  let slot = -1;
  for (let k = 0; k <= a.maxOrder; k++) {
    const bytes = a.pageSize * 2 ** k;
    const head = a.slotOf(Math.floor(address / bytes) * bytes);
    if (head < 0) break;
    if (map.state[head] !== 0) {
      slot = head;
      break;
    }
  }
  if (slot < 0 || a.addressOf(slot) + map.pagesOf(slot) * a.pageSize <= address) {
    slot = target;
    while (map.state[slot] === 0 && slot > 0 && a.addressOf(slot - 1) === a.addressOf(slot) - a.pageSize)
      slot--;
  }
  const state = map.state[slot];
  if (state === 0) return null;
  const pages = state & ALLOCATED ? map.pagesOf(slot) : 2 ** (state & ORDER_MASK);
  const head = a.addressOf(slot);
  const size = pages * a.pageSize;
  if (head + size <= address) return null;
  const free = (state & FREE) !== 0;
  return {
    address: head,
    order: orderForPages(pages),
    size,
    free,
    tag: free ? 0 : map.tagOf(slot),
    exact: (state & RUN) !== 0,
  };
}

function corrupt(message: string): never {
  throw new AllocError("CORRUPT", message);
}

/** Verifies every metadata invariant of `a`; throws AllocError CORRUPT naming the first violation. */
export function checkAllocator(a: Inspectable): void {
  const map = a.map;
  const s = a.sectionOrder;
  const pages = 2 ** s;
  const sectionBytes = a.pageSize * pages;
  const freeHeads = new Float64Array(a.maxOrder + 1);
  let region = 0;
  let coveredUntil = 0; // end (bytes) of the block the walk is inside
  let previousEnd = -1;
  let freePages = 0;
  let managedPages = 0;

  for (let section = 0; section < map.sectionCount; section++) {
    const base = map.sectionAddress[section];
    if (section > 0 && map.sectionNumber[section] <= map.sectionNumber[section - 1]) {
      corrupt(`section ${section} is out of address order`);
    }
    if (coveredUntil > previousEnd && previousEnd >= 0 && base !== previousEnd) {
      corrupt(
        `the block ending at ${showAddress(coveredUntil)} spans memory with no metadata at ${showAddress(previousEnd)}`,
      );
    }
    for (let offset = 0; offset < pages; offset++) {
      const slot = section * pages + offset;
      const address = base + offset * a.pageSize;
      while (region < a.regionStart.length && a.regionEnd[region] <= address) region++;
      const managed = region < a.regionStart.length && a.regionStart[region] <= address;
      if (managed) managedPages++;
      const state = map.state[slot];
      if (address < coveredUntil) {
        if (state !== 0) corrupt(`page ${showAddress(address)} inside a block has state ${state}`);
        if (!managed)
          corrupt(
            `the block ending at ${showAddress(coveredUntil)} covers unmanaged page ${showAddress(address)}`,
          );
        continue;
      }
      if (!managed) {
        if (state !== 0) corrupt(`unmanaged page ${showAddress(address)} has state ${state}`);
        continue;
      }
      if (state === (ALLOCATED | RUN)) {
        const pages = map.prevOf(slot);
        if (!(pages >= 1 && pages <= 2 ** a.maxOrder))
          corrupt(`run at ${showAddress(address)} has ${pages} pages`);
        coveredUntil = address + pages * a.pageSize;
        continue;
      }
      const order = state & ORDER_MASK;
      const isFree = (state & FREE) !== 0;
      if (state === 0 || order > a.maxOrder || isFree === ((state & ALLOCATED) !== 0)) {
        corrupt(`managed page ${showAddress(address)} is in no block (state ${state})`);
      }
      const bytes = a.pageSize * 2 ** order;
      if (address % bytes !== 0) corrupt(`block at ${showAddress(address)} of order ${order} is misaligned`);
      coveredUntil = address + bytes;
      if (isFree) {
        freePages += 2 ** order;
        freeHeads[order]++;
        if (order < a.maxOrder) {
          const buddy = Math.floor(address / bytes) % 2 === 0 ? address + bytes : address - bytes;
          const buddySlot = a.slotOf(buddy);
          if (buddySlot >= 0 && map.state[buddySlot] === (FREE | order)) {
            corrupt(
              `free blocks at ${showAddress(address)} and ${showAddress(buddy)} of order ${order} were not merged`,
            );
          }
        }
      }
    }
    previousEnd = base + sectionBytes;
  }
  if (map.sectionCount > 0 && coveredUntil > previousEnd)
    corrupt(`the block ending at ${showAddress(coveredUntil)} runs past the last section`);
  checkFreeLists(a, freeHeads);
  let regionPages = 0;
  for (let i = 0; i < a.regionStart.length; i++)
    regionPages += (a.regionEnd[i] - a.regionStart[i]) / a.pageSize;
  if (regionPages !== a.totalPages || managedPages !== a.totalPages) {
    corrupt(`totalPages is ${a.totalPages}, regions hold ${regionPages}, sections hold ${managedPages}`);
  }
  if (freePages !== a.freePages) corrupt(`freePages is ${a.freePages} but free blocks hold ${freePages}`);
}

/** Each order's list holds exactly the free heads of that order counted by the walk; links and orderMask agree. */
function checkFreeLists(a: Inspectable, freeHeads: Float64Array): void {
  const map = a.map;
  let mask = 0;
  for (let order = 0; order <= a.maxOrder; order++) {
    const where = `free list of order ${order}`;
    let previous = NIL;
    let listed = 0;
    for (let slot = map.head(order); slot !== NIL; slot = map.nextOf(slot)) {
      if (slot < 0 || slot >= map.state.length) corrupt(`${where} links to slot ${slot}`);
      if (map.state[slot] !== (FREE | order))
        corrupt(`${where} holds ${showAddress(a.addressOf(slot))} of state ${map.state[slot]}`);
      if (previous !== NIL && map.prevOf(slot) !== previous) {
        corrupt(`${where}: broken back link at ${showAddress(a.addressOf(slot))}`);
      }
      if (++listed > freeHeads[order]) corrupt(`${where} lists more blocks than are free, or loops`);
      previous = slot;
    }
    if (listed !== freeHeads[order]) corrupt(`${where} misses ${freeHeads[order] - listed} free blocks`);
    if (listed > 0) mask |= 1 << order;
  }
  if (mask >>> 0 !== map.orderMask)
    corrupt(`orderMask is ${map.orderMask.toString(2)}, lists say ${(mask >>> 0).toString(2)}`);
}

/**
 * Throws the right error for an address that does not start a live block of `a`.
 * @throws AllocError INVALID_ARGUMENT for a non-address, NOT_ALLOCATED (saying why) otherwise.
 */
export function rejectAddress(a: Inspectable, address: number, operation: string): never {
  if (!isSafeNonNegative(address)) {
    throw new AllocError(
      "INVALID_ARGUMENT",
      `${operation}: address must be a safe non-negative integer, got ${showAddress(address)}`,
    );
  }
  const block = locateBlock(a, address);
  const why =
    block === null
      ? "is outside every region"
      : block.free
        ? "is in a free block (double free?)"
        : `is inside the block at ${showAddress(block.address)} (interior pointer)`;
  throw new AllocError("NOT_ALLOCATED", `${operation}: address ${showAddress(address)} ${why}`);
}

/** Pages in free blocks, counted from the free lists: O(free blocks). */
export function countFreePages(map: PageMap): number {
  let pages = 0;
  for (let order = 0; order <= map.maxOrder; order++) {
    for (let slot = map.head(order); slot !== NIL; slot = map.nextOf(slot)) pages += 2 ** order;
  }
  return pages;
}
