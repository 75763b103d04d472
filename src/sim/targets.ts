/** Makes a fresh simulation target of any kind from the same two numbers. */
import { Heap } from "../heap/index.js";
import { concurrentTarget } from "./concurrent-target.js";
import { heapTarget } from "./heap-target.js";
import { pageTarget } from "./page-target.js";
import type { SimTarget, TargetKind } from "./target.js";

/** Every kind of target, in the order the command line lists them. */
export const TARGET_KINDS: readonly TargetKind[] = ["page", "page-exact", "concurrent", "heap"];

/** Sizes of a fresh target. */
export interface TargetOptions {
  /** Bytes of memory (for the heap: of its buffer, metadata included). */
  memory: number;
  /** Bytes per page (a power of two). */
  pageSize: number;
  /** The heap in guard mode (red zones and poison); the other allocators ignore it. */
  guard?: boolean;
}

/**
 * A new allocator of `kind` over `options.memory` bytes, wrapped for the simulator.
 * @throws AllocError INVALID_ARGUMENT when the allocator rejects the sizes.
 */
export function makeTarget(kind: TargetKind, options: TargetOptions): SimTarget {
  if (kind === "page" || kind === "page-exact") return pageTarget(options, kind === "page-exact");
  if (kind === "concurrent") return concurrentTarget(options);
  return heapTarget(options);
}

/**
 * A maker of fresh targets of one kind, for timed passes: each call returns a new, empty
 * allocator. The heap's are made in one buffer, each over the last (a heap's constructor
 * rewrites its metadata), so that after the first the memory is already mapped and first
 * touches (page faults) are not timed; the page and concurrent allocators keep no data there.
 * @throws AllocError INVALID_ARGUMENT when the allocator rejects the sizes.
 */
export function freshTargets(kind: TargetKind, options: TargetOptions): () => SimTarget {
  if (kind !== "heap") return () => makeTarget(kind, options);
  let buffer: ArrayBuffer | null = null;
  return () => {
    if (buffer === null) {
      const target = heapTarget(options);
      buffer = target.heap.buffer as ArrayBuffer;
      return target;
    }
    return heapTarget(new Heap(buffer, { pageSize: options.pageSize, guard: options.guard === true }));
  };
}

/** True when `name` names a target kind. */
export function isTargetKind(name: string): name is TargetKind {
  return (TARGET_KINDS as readonly string[]).includes(name);
}
