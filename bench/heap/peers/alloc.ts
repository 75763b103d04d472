/**
 * npm `alloc` (node-alloc): a buddy allocator over a Node Buffer whose free lists are JavaScript
 * arrays; alloc returns a Buffer slice (one object per allocation), free searches the buddy in
 * its order's list (O(free blocks of that order)). Loaded only if installed.
 */
import { createRequire } from "node:module";
import type { Peer } from "./peer.js";

interface NodeAlloc {
  alloc(size: number): Buffer | null;
  free(block: Buffer): void;
  bytesAllocated: number;
  bytesWasted: number;
}

export function createAlloc(poolBytes: number): Peer<Buffer> {
  const require = createRequire(import.meta.url);
  const { BuddyAllocator } = require("alloc") as {
    BuddyAllocator: new (buffer: Buffer, options: { minSize: number }) => NodeAlloc;
  };
  const a = new BuddyAllocator(Buffer.alloc(poolBytes), { minSize: 16 });
  return {
    subject: { malloc: (size) => a.alloc(size), free: (block) => a.free(block) },
    footprint: () => a.bytesAllocated + a.bytesWasted,
    metadataBytesPerPage: null,
    verifyDrained: () => (a.bytesAllocated === 0 ? null : `${a.bytesAllocated} B still allocated`),
  };
}
