/**
 * The trace format: a workload as text, one operation per line, so anyone can replay their own
 * program's allocations (see docs/trace-format.md for the full description and an example).
 *
 *   a ID SIZE [TAG]   allocate SIZE bytes (an integer >= 1) and call the block ID
 *   f ID              free the block called ID
 *
 * `alloc` and `free` are accepted for `a` and `f`. Fields are separated by spaces or tabs. An ID
 * is 1..64 characters of letters, digits and `_ . : -`; it names one live block at a time and may
 * be used again after that block is freed. TAG is an integer 0..65535 (default 0). Blank lines and
 * lines starting with `#` are ignored. The parser checks every line before anything is replayed:
 * a malformed line, an ID allocated while still live, or a free of an ID that is not live throws
 * an {@link AllocError} with code `BAD_TRACE` naming the line.
 */
import { AllocError } from "../errors.js";
import { isSafeNonNegative } from "../numbers.js";
import { MAX_TAG } from "../page/validate.js";
import { OP_ALLOC, type OpList, OpListBuilder } from "./ops.js";

/**
 * A trace line that cannot be replayed: an {@link AllocError} with code `BAD_TRACE`, whose message
 * starts with "line N: ", and `line` (1-based).
 * @deprecated catch `AllocError` and test `code === "BAD_TRACE"`; this subclass stays so that
 * `instanceof TraceError` and `line` keep working.
 */
export class TraceError extends AllocError {
  /** The 1-based line number of the offending line. */
  readonly line: number;

  constructor(line: number, message: string) {
    super("BAD_TRACE", `line ${line}: ${message}`);
    this.name = "AllocError";
    this.line = line;
  }
}

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const UINT = /^[0-9]{1,16}$/;

/** Parses a trace incrementally, one line at a time, into an {@link OpList}. */
export class TraceParser {
  private readonly builder = new OpListBuilder();
  /** Slot of each live ID. */
  private readonly live = new Map<string, number>();
  /** Slots freed and ready for reuse, so slots stay as few as the most blocks live at once. */
  private readonly spare: number[] = [];
  private nextSlot = 0;
  private lineNo = 0;

  /** Lines read so far. */
  get lines(): number {
    return this.lineNo;
  }

  /**
   * Reads the next line (without its line break; a trailing `\r` is ignored).
   * @throws AllocError BAD_TRACE for a malformed line, an ID allocated while live or a free of an ID not live.
   */
  line(text: string): void {
    const n = ++this.lineNo;
    const body = text.trim();
    if (body === "" || body.startsWith("#")) return;
    const fields = body.split(/[ \t]+/);
    const op = fields[0];
    if (op === "a" || op === "alloc") {
      if (fields.length < 3 || fields.length > 4) {
        throw new TraceError(n, `expected "a ID SIZE [TAG]", got ${quote(body)}`);
      }
      const id = this.id(n, fields[1]);
      const size = UINT.test(fields[2]) ? Number(fields[2]) : Number.NaN;
      if (!(isSafeNonNegative(size) && size >= 1)) {
        throw new TraceError(n, `SIZE must be a whole number of bytes >= 1, got ${quote(fields[2])}`);
      }
      const tag =
        fields.length === 4 && UINT.test(fields[3]) ? Number(fields[3]) : fields.length === 4 ? -1 : 0;
      if (!(tag >= 0 && tag <= MAX_TAG)) {
        throw new TraceError(n, `TAG must be an integer 0..${MAX_TAG}, got ${quote(fields[3])}`);
      }
      if (this.live.has(id))
        throw new TraceError(n, `block ${quote(id)} is allocated again before it is freed`);
      const slot = this.spare.length > 0 ? this.spare.pop()! : this.nextSlot++;
      this.live.set(id, slot);
      this.builder.alloc(slot, size, tag);
    } else if (op === "f" || op === "free") {
      if (fields.length !== 2) throw new TraceError(n, `expected "f ID", got ${quote(body)}`);
      const id = this.id(n, fields[1]);
      const slot = this.live.get(id);
      if (slot === undefined) throw new TraceError(n, `free of ${quote(id)}, which is not allocated`);
      this.live.delete(id);
      this.spare.push(slot);
      this.builder.free(slot);
    } else {
      throw new TraceError(n, `unknown operation ${quote(op)} (expected "a" or "f")`);
    }
  }

  /** The operations read; blocks still live at the end simply stay allocated in a replay. */
  finish(): OpList {
    return this.builder.build();
  }

  private id(line: number, field: string): string {
    if (!ID.test(field)) {
      throw new TraceError(
        line,
        `ID must be 1..64 characters of letters, digits and _ . : -, got ${quote(field)}`,
      );
    }
    return field;
  }
}

/**
 * Parses a whole trace held in a string.
 * @throws AllocError BAD_TRACE naming the first bad line; nothing is returned then.
 */
export function parseTrace(text: string): OpList {
  const parser = new TraceParser();
  const lines = text.split("\n");
  // A final line break does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) parser.line(line);
  return parser.finish();
}

/** The first line of every trace this library writes. */
export const TRACE_HEADER = "# buddy-alloc trace v1";

/** One allocation line: `a ID SIZE` or `a ID SIZE TAG` (no line break). */
export function allocLine(id: string | number, size: number, tag = 0): string {
  return tag === 0 ? `a ${id} ${size}` : `a ${id} ${size} ${tag}`;
}

/** One free line: `f ID` (no line break). */
export function freeLine(id: string | number): string {
  return `f ${id}`;
}

/** Writes `ops` as trace text (header first, one line per operation, slots as IDs). */
export function formatTrace(ops: OpList): string {
  const lines = [TRACE_HEADER];
  for (let i = 0; i < ops.length; i++) {
    lines.push(
      ops.kind[i] === OP_ALLOC ? allocLine(ops.slot[i], ops.size[i], ops.tag[i]) : freeLine(ops.slot[i]),
    );
  }
  return `${lines.join("\n")}\n`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
