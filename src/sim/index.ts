/**
 * The simulator: workloads, the trace format, replay and recording. Re-exports only.
 * @module buddy-alloc/sim
 */
export { type ConcurrentTargetOptions, concurrentTarget } from "./concurrent-target.js";
export { type HeapTargetOptions, heapMap, heapTarget } from "./heap-target.js";
export { OP_ALLOC, OP_FREE, type OpList, OpListBuilder } from "./ops.js";
export { type PageTargetOptions, pageTarget } from "./page-target.js";
export { type RecordOptions, recordTrace, type TraceRecorder } from "./recorder.js";
export { meanWasteShare, type ReplayOptions, type ReplayResult, replay } from "./replay.js";
export type { SimTarget, TargetKind, Usage } from "./target.js";
export { freshTargets, makeTarget, TARGET_KINDS, type TargetOptions } from "./targets.js";
export { type OpTiming, type TimeOptions, timeOps } from "./timing.js";
export { formatTrace, parseTrace, TRACE_HEADER, TraceError, TraceParser } from "./trace.js";
export { WORKLOADS, type Workload, type WorkloadName, type WorkloadParams } from "./workloads.js";
