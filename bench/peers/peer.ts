/** What a benchmark child process gets from a peer module: the allocator plus inspection hooks. */
import type { PageAllocator } from "../workloads.js";

/** One allocator instance set up over the benchmark pool. */
export interface Subject {
  /** The object the workload calls; for our allocator this is the real instance itself. */
  allocator: PageAllocator;
  /** `1 - largest free block / free bytes` from the allocator's own free structures. */
  fragmentation(): number;
  /** After every block was freed: null when the allocator is whole again, else what is wrong. */
  verifyDrained(): string | null;
  /** Metadata bytes per managed page, when the allocator can say. */
  metadataBytesPerPage: number | null;
}

/** The pool every peer is created over. */
export interface PoolConfig {
  bytes: number;
  pageSize: number;
  maxOrder: number;
}

/** A peer module's single export. */
export type CreateSubject = (pool: PoolConfig) => Subject;
