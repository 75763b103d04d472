/**
 * The operation list every replay consumes: allocations and frees in order, as parallel typed
 * arrays (about 15 bytes per operation, no object per operation). A live allocation is named by a
 * dense slot number 0..slots-1; a slot can be reused after its block is freed. Workloads build
 * these directly; traces (trace.ts) are parsed into them.
 */

/** `kind[i]` of an allocation. */
export const OP_ALLOC = 0;
/** `kind[i]` of a free. */
export const OP_FREE = 1;

/** A sequence of operations. Sizes are bytes; tags are integers 0..65535. */
export interface OpList {
  /** Number of operations. */
  readonly length: number;
  /** OP_ALLOC or OP_FREE per operation. */
  readonly kind: Uint8Array;
  /** The slot (dense id) each operation names. */
  readonly slot: Int32Array;
  /** Requested bytes of an allocation (0 for a free). */
  readonly size: Float64Array;
  /** Tag of an allocation (0 for a free or no tag). */
  readonly tag: Uint16Array;
  /** Number of distinct slots: every `slot[i]` is below it. */
  readonly slots: number;
}

/** Appends operations to growable typed arrays; `build()` returns the trimmed {@link OpList}. */
export class OpListBuilder {
  private kind = new Uint8Array(1024);
  private slot = new Int32Array(1024);
  private size = new Float64Array(1024);
  private tag = new Uint16Array(1024);
  private n = 0;
  private maxSlot = -1;

  /** Operations appended so far. */
  get length(): number {
    return this.n;
  }

  /** Appends an allocation of `size` bytes into `slot`. */
  alloc(slot: number, size: number, tag = 0): void {
    this.push(OP_ALLOC, slot, size, tag);
  }

  /** Appends a free of the block in `slot`. */
  free(slot: number): void {
    this.push(OP_FREE, slot, 0, 0);
  }

  /** The operations appended so far; the builder must not be used afterwards. */
  build(): OpList {
    return {
      length: this.n,
      kind: this.kind.slice(0, this.n),
      slot: this.slot.slice(0, this.n),
      size: this.size.slice(0, this.n),
      tag: this.tag.slice(0, this.n),
      slots: this.maxSlot + 1,
    };
  }

  private push(kind: number, slot: number, size: number, tag: number): void {
    if (this.n === this.kind.length) this.grow();
    const i = this.n++;
    this.kind[i] = kind;
    this.slot[i] = slot;
    this.size[i] = size;
    this.tag[i] = tag;
    if (slot > this.maxSlot) this.maxSlot = slot;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    const slot = new Int32Array(n);
    slot.set(this.slot);
    const size = new Float64Array(n);
    size.set(this.size);
    const tag = new Uint16Array(n);
    tag.set(this.tag);
    this.kind = kind;
    this.slot = slot;
    this.size = size;
    this.tag = tag;
  }
}

/** The first `count` operations of `ops` (views, not copies); frees of later allocations cannot occur. */
export function headOf(ops: OpList, count: number): OpList {
  const n = Math.max(0, Math.min(count, ops.length));
  return {
    length: n,
    kind: ops.kind.subarray(0, n),
    slot: ops.slot.subarray(0, n),
    size: ops.size.subarray(0, n),
    tag: ops.tag.subarray(0, n),
    slots: ops.slots,
  };
}
