/**
 * The suballocation peers, one per child process (see run-one.ts):
 * - exact: `allocPages(pages, { exact: true })`, a run of exactly the pages asked for;
 * - pow2: `allocPages(pages)`, the power-of-two block that holds them;
 * - first-fit: the out-of-band first-fit reference of first-fit.ts.
 * The burst loops call the allocator directly; the options object is one constant, as a caller
 * that cares would hoist it.
 */
import { BuddyAllocator } from "../../src/index.js";
import { FirstFit } from "./first-fit.js";
import { BUFFER, type SubPeer } from "./workload.js";

export const SUBALLOC_PEERS = ["exact", "pow2", "first-fit"] as const;
export type SubPeerName = (typeof SUBALLOC_PEERS)[number];

const EXACT = { exact: true } as const;

function buddy(exact: boolean): SubPeer {
  const a = new BuddyAllocator({ pageSize: BUFFER.pageSize, maxOrder: BUFFER.maxOrder });
  a.addRegion(0, BUFFER.bytes);
  return {
    alloc: exact ? (pages) => a.allocPages(pages, EXACT) : (pages) => a.allocPages(pages),
    free: (address) => a.free(address),
    sizeOf: (address) => a.sizeOf(address),
    allocBurst: exact
      ? (pages, n, out) => {
          let m = 0;
          for (let i = 0; i < n; i++) {
            const address = a.allocPages(pages[i], EXACT);
            if (address !== null) out[m++] = address;
          }
          return m;
        }
      : (pages, n, out) => {
          let m = 0;
          for (let i = 0; i < n; i++) {
            const address = a.allocPages(pages[i]);
            if (address !== null) out[m++] = address;
          }
          return m;
        },
    freeBurst: (addresses, from, to) => {
      for (let i = from; i < to; i++) a.free(addresses[i]);
    },
    fragmentation: () => a.stats().fragmentation,
    *freePieces() {
      for (const b of a.freeBlocks()) yield [b.address, BUFFER.pageSize * 2 ** b.order] as const;
    },
    largestFreeBlock: () => a.stats().largestFreeBlock,
    check: () => a.check(),
    verifyDrained: () => {
      a.check();
      const t = a.stats();
      return t.freePages === t.totalPages && t.largestFreeBlock === BUFFER.bytes
        ? null
        : `${t.freePages} of ${t.totalPages} pages free, largest ${t.largestFreeBlock} B after drain`;
    },
  };
}

function firstFit(): SubPeer {
  const f = new FirstFit(BUFFER.pageSize, BUFFER.bytes / BUFFER.pageSize);
  return {
    alloc: (pages) => f.alloc(pages),
    free: (address) => f.free(address),
    sizeOf: (address) => f.sizeOf(address),
    allocBurst: (pages, n, out) => {
      let m = 0;
      for (let i = 0; i < n; i++) {
        const address = f.alloc(pages[i]);
        if (address !== null) out[m++] = address;
      }
      return m;
    },
    freeBurst: (addresses, from, to) => {
      for (let i = from; i < to; i++) f.free(addresses[i]);
    },
    fragmentation: () => {
      let free = 0;
      let largest = 0;
      for (const [, bytes] of f.freeRanges()) {
        free += bytes;
        largest = Math.max(largest, bytes);
      }
      return free === 0 ? 0 : 1 - largest / free;
    },
    freePieces: () => f.freeRanges(),
    largestFreeBlock: () => {
      let largest = 0;
      for (const [, bytes] of f.freeRanges()) largest = Math.max(largest, bytes);
      return largest;
    },
    check: () => f.check(),
    verifyDrained: () => {
      f.check();
      const pieces = [...f.freeRanges()];
      return f.liveCount === 0 && pieces.length === 1 && pieces[0][1] === BUFFER.bytes
        ? null
        : `${f.liveCount} live, ${pieces.length} free ranges after drain`;
    },
  };
}

export function createPeer(name: SubPeerName): SubPeer {
  return name === "first-fit" ? firstFit() : buddy(name === "exact");
}
