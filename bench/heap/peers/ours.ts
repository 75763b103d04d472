/** buddy-alloc's Heap over a plain ArrayBuffer (no lock), or a SharedArrayBuffer (lock per operation). */
import { Heap } from "../../../src/index.js";
import type { Peer } from "./peer.js";

function create(buffer: ArrayBuffer | SharedArrayBuffer): Peer<number> {
  const heap = new Heap(buffer);
  return {
    subject: { malloc: (size) => heap.malloc(size), free: (ptr) => heap.free(ptr) },
    footprint: () => {
      const s = heap.stats();
      return s.slabBytes + s.largeBytes + (heap.core.firstPage - heap.start);
    },
    metadataBytesPerPage: heap.stats().metadataBytesPerPage,
    verifyDrained: () => {
      heap.check();
      heap.trim();
      const s = heap.stats();
      return s.liveAllocations === 0 && s.freeBytes === s.pageBytes
        ? null
        : `${s.liveAllocations} live, ${s.freeBytes} of ${s.pageBytes} B free`;
    },
  };
}

export const createOurs = (poolBytes: number) => create(new ArrayBuffer(poolBytes));
export const createOursShared = (poolBytes: number) => create(new SharedArrayBuffer(poolBytes));
