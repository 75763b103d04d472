/** What each peer module of the heap benchmark exports: a factory for its subject. */
import type { HeapSubject } from "../workload.js";

/** A peer's allocator over a pool of `poolBytes`, with what the report needs after the run. */
export interface Peer<H> {
  subject: HeapSubject<H>;
  /**
   * Bytes the allocator holds for the live set after the run, its metadata included (pages of
   * slabs and large blocks plus the heap's metadata for ours; arena plus mmapped bytes for glibc).
   */
  footprint(): number;
  /** Metadata bytes per page of the pool, or null when the notion does not apply. */
  metadataBytesPerPage: number | null;
  /** After everything was freed: null when the allocator is whole again, else what is wrong. */
  verifyDrained(): string | null;
}

export type CreatePeer = (poolBytes: number) => Peer<unknown>;
