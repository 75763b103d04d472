/**
 * Read-only views of a BuddyAllocator: stats, block iterators, blockAt and the invariant check.
 * None of this is on the alloc/free path; clarity wins over speed here.
 */
import { AllocError, show } from "../errors.js";
import { isSafeNonNegative } from "./order.js";
import { ALLOCATED, FREE, ORDER_MASK, type PageMap } from "./page-map.js";
import type { SectionDirectory } from "./section-directory.js";
import type { AllocatorStats, Block, BlockInfo } from "./types.js";

/** The parts of the allocator these views read. */
export interface Inspectable {
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly sectionOrder: number;
  readonly map: PageMap;
  readonly directory: SectionDirectory;
  readonly regionStart: number[];
  readonly regionEnd: number[];
  readonly totalPages: number;
  readonly freePages: number;
  slotOf(address: number): number;
  addressOf(slot: number): number;
}

/** Occupancy figures of `a`. */
export function statsOf(a: Inspectable): AllocatorStats {
  const map = a.map;
  const freeBlocksByOrder = new Array<number>(a.maxOrder + 1).fill(0);
  for (let section = 0; section < map.sectionCount; section++) {
    for (let order = 0; order <= a.maxOrder; order++)
      freeBlocksByOrder[order] += map.count[section * map.orders + order];
  }
  const freeBytes = a.freePages * a.pageSize;
  const largestFreeBlock = map.orderMask === 0 ? 0 : a.pageSize * 2 ** (31 - Math.clz32(map.orderMask));
  return {
    totalBytes: a.totalPages * a.pageSize,
    freeBytes,
    allocatedBytes: (a.totalPages - a.freePages) * a.pageSize,
    totalPages: a.totalPages,
    freePages: a.freePages,
    freeBlocksByOrder,
    largestFreeBlock,
    fragmentation: freeBytes === 0 ? 0 : 1 - largestFreeBlock / freeBytes,
    metadataBytes: map.byteLength + a.directory.byteLength,
  };
}

/** Blocks whose state has `flag` (FREE or ALLOCATED), in address order; with tags if asked. */
export function* iterateBlocks(
  a: Inspectable,
  flag: number,
  withTag: boolean,
): Generator<Block & { tag?: number }> {
  const map = a.map;
  const s = a.sectionOrder;
  const pages = 2 ** s;
  for (let section = 0; section < map.sectionCount; ) {
    let following = section + 1;
    for (let offset = 0; offset < pages; ) {
      const slot = section * pages + offset;
      const state = map.state[slot];
      if (state === 0) {
        offset++;
        continue;
      }
      const order = state & ORDER_MASK;
      if ((state & flag) !== 0) {
        const address = a.addressOf(slot);
        yield withTag ? { address, order, tag: map.tag[slot] } : { address, order };
      }
      if (order >= s) {
        following = section + 2 ** (order - s);
        break;
      }
      offset += 2 ** order;
    }
    section = following;
  }
}

/** The block containing byte `address`, or null when that byte is not managed. */
export function locateBlock(a: Inspectable, address: number): BlockInfo | null {
  if (!isSafeNonNegative(address)) return null;
  for (let k = 0; k <= a.maxOrder; k++) {
    const bytes = a.pageSize * 2 ** k;
    const head = Math.floor(address / bytes) * bytes;
    const slot = a.slotOf(head);
    if (slot < 0) return null;
    const state = a.map.state[slot];
    if (state === 0) continue;
    const order = state & ORDER_MASK;
    const size = a.pageSize * 2 ** order;
    if (head + size <= address) return null;
    const free = (state & FREE) !== 0;
    return { address: head, order, size, free, tag: free ? 0 : a.map.tag[slot] };
  }
  return null;
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
  const freeHeads = new Int32Array(map.sectionCount * map.orders);
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
        `the block ending at ${show(coveredUntil)} spans memory with no metadata at ${show(previousEnd)}`,
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
        if (state !== 0) corrupt(`page ${show(address)} inside a block has state ${state}`);
        if (!managed)
          corrupt(`the block ending at ${show(coveredUntil)} covers unmanaged page ${show(address)}`);
        continue;
      }
      if (!managed) {
        if (state !== 0) corrupt(`unmanaged page ${show(address)} has state ${state}`);
        continue;
      }
      const order = state & ORDER_MASK;
      const isFree = (state & FREE) !== 0;
      if (state === 0 || order > a.maxOrder || isFree === ((state & ALLOCATED) !== 0)) {
        corrupt(`managed page ${show(address)} is in no block (state ${state})`);
      }
      const bytes = a.pageSize * 2 ** order;
      if (address % bytes !== 0) corrupt(`block at ${show(address)} of order ${order} is misaligned`);
      coveredUntil = address + bytes;
      if (isFree) {
        freePages += 2 ** order;
        freeHeads[section * map.orders + order]++;
        if (order < a.maxOrder) {
          const buddy = Math.floor(address / bytes) % 2 === 0 ? address + bytes : address - bytes;
          const buddySlot = a.slotOf(buddy);
          if (buddySlot >= 0 && map.state[buddySlot] === (FREE | order)) {
            corrupt(`free blocks at ${show(address)} and ${show(buddy)} of order ${order} were not merged`);
          }
        }
      }
    }
    previousEnd = base + sectionBytes;
  }
  if (map.sectionCount > 0 && coveredUntil > previousEnd)
    corrupt(`the block ending at ${show(coveredUntil)} runs past the last section`);
  checkFreeSets(a, freeHeads);
  let regionPages = 0;
  for (let i = 0; i < a.regionStart.length; i++)
    regionPages += (a.regionEnd[i] - a.regionStart[i]) / a.pageSize;
  if (regionPages !== a.totalPages || managedPages !== a.totalPages) {
    corrupt(`totalPages is ${a.totalPages}, regions hold ${regionPages}, sections hold ${managedPages}`);
  }
  if (freePages !== a.freePages) corrupt(`freePages is ${a.freePages} but free blocks hold ${freePages}`);
}

/** The free bitmaps hold exactly the free heads counted by the walk; counts, section bitmaps and orderMask agree. */
function checkFreeSets(a: Inspectable, freeHeads: Int32Array): void {
  const map = a.map;
  let mask = 0;
  for (let section = 0; section < map.sectionCount; section++) {
    for (let order = 0; order < map.orders; order++) {
      const h = section * map.orders + order;
      const where = `free set (section ${section}, order ${order})`;
      let listed = 0;
      for (const slot of slotsInSection(map, section, order)) {
        if (map.state[slot] !== (FREE | order))
          corrupt(`${where} holds ${show(a.addressOf(slot))} of state ${map.state[slot]}`);
        listed++;
      }
      if (listed !== freeHeads[h] || map.count[h] !== listed) {
        corrupt(`${where}: ${freeHeads[h]} free blocks, ${listed} bits set, count ${map.count[h]}`);
      }
      if (map.hasBit(order, section) !== listed > 0)
        corrupt(`section bitmap bit (section ${section}, order ${order}) is wrong`);
      if (listed > 0) mask |= 1 << order;
    }
  }
  for (let order = 0; order < map.orders; order++) {
    const base = order * map.wordsPerOrder;
    const levels = map.levelOffset;
    for (let level = 1; level < levels.length; level++) {
      const below = (levels[level] - levels[level - 1]) | 0;
      for (let w = 0; w < below; w++) {
        const set = (map.bits[base + levels[level] + (w >>> 5)] & (1 << (w & 31))) !== 0;
        if (set !== (map.bits[base + levels[level - 1] + w] !== 0)) {
          corrupt(`summary bitmap of order ${order}, level ${level}, bit ${w} is wrong`);
        }
      }
    }
  }
  if (mask >>> 0 !== map.orderMask)
    corrupt(`orderMask is ${map.orderMask.toString(2)}, free sets say ${(mask >>> 0).toString(2)}`);
}

/** Slots of the free blocks of `order` in `section`, lowest first, per its bitmap. */
function* slotsInSection(map: PageMap, section: number, order: number): Generator<number> {
  const base = section * map.sectionWords + map.orderOffset[order];
  const positions = 2 ** Math.max(0, map.sectionOrder - order);
  for (let i = 0; i < positions; i++) {
    if ((map.free[base + (i >>> 5)] & (1 << (i & 31))) !== 0)
      yield section * 2 ** map.sectionOrder + i * 2 ** order;
  }
}

/** The lowest free block of `order` whose page number is a multiple of 2^alignOrder and which starts below `below` (bytes), or -1. */
export function lowestAligned(a: Inspectable, order: number, alignOrder: number, below: number): number {
  const map = a.map;
  const alignPages = 2 ** alignOrder;
  const pages = 2 ** map.sectionOrder;
  for (const slot of freeSlots(map, order)) {
    const address = a.addressOf(slot);
    if (address >= below) return -1;
    const sectionPage = map.sectionNumber[slot >>> map.sectionOrder] * pages;
    if ((sectionPage + (slot & (pages - 1))) % alignPages === 0) return slot;
  }
  return -1;
}

/** Slots of every free block of `order`, in address order. */
export function* freeSlots(map: PageMap, order: number): Generator<number> {
  for (let section = 0; section < map.sectionCount; section++) {
    if (map.count[section * map.orders + order] !== 0) yield* slotsInSection(map, section, order);
  }
}
