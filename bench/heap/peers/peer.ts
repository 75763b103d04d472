/** What each peer module of the heap benchmark exports: a factory for its subject. */
import type { EfficiencySubject, RoundResult } from "../efficiency.js";
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

/** A peer of the efficiency workload: its subject over an arena, and where the arena went. */
export interface EfficiencyPeer<H> {
  subject: EfficiencySubject<H>;
  /** Where the arena went at the failure point of `round` (bytes unless named otherwise; the keys are the peer's own). */
  breakdown(round: RoundResult): Record<string, number | string>;
  /** The adapter's counters (e.g. reallocs it had to redo) since the last call, or null. */
  counters(): Record<string, number> | null;
  /**
   * Frees `handles` (the round's live allocations), gives back cached empty memory when `trim`
   * (ours: empty slabs), and verifies: null when the allocator is whole again, else what is wrong.
   */
  drain(handles: unknown[], trim: boolean): string | null;
}

export type CreateEfficiencyPeer = (arenaBytes: number) => EfficiencyPeer<unknown>;
