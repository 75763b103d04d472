/**
 * `buddy-alloc inspect FILE`: opens saved allocator bytes (a Heap's buffer, or a ConcurrentBuddy's
 * SharedArrayBuffer, as `simulate --save` or a program wrote them), checks them, and prints their
 * figures and a text map; `--html FILE` also writes the SVG map in a page.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConcurrentBuddy } from "../concurrent/concurrent-buddy.js";
import { AllocError } from "../errors.js";
import { Heap } from "../heap/index.js";
import { concurrentTarget } from "../sim/concurrent-target.js";
import { heapMap } from "../sim/heap-target.js";
import { escapeXml, formatBytes, formatCount } from "../viz/format.js";
import { memoryMapSvg } from "../viz/memory-map.js";
import { textMap, textMapCellBytes } from "../viz/text-map.js";
import type { MapModel } from "../viz/types.js";
import { codeOf, FileError, reasonOf } from "./file-errors.js";
import type { CliIO } from "./io.js";
import { parseCount, UsageError } from "./numbers.js";
import { parseOptions } from "./options.js";
import { checkDistinct, checkOutput, writeOutputs } from "./outputs.js";
import { textTable } from "./text-table.js";

/** What inspect found, for callers that want more than the printed lines (tests). */
export interface InspectOutcome {
  kind: "heap" | "concurrent";
  map: MapModel;
}

/**
 * Runs `inspect` with its arguments (after the word `inspect`); null when --help was asked for.
 * The --html path is checked before FILE is read, and written only when everything else worked.
 * @throws UsageError for bad arguments; FileError "cannot read the file: FILE: reason" or
 *   "cannot write the map: OUT: reason"; Error "FILE: ..." for unrecognised bytes.
 */
export function inspect(argv: string[], io: CliIO): InspectOutcome | null {
  const parsed = parseOptions(
    argv,
    { html: { type: "string" }, start: { type: "string" }, help: { type: "boolean", short: "h" } },
    true,
  );
  const values = parsed.values as { html?: string; start?: string; help?: boolean };
  if (values.help) return null;
  if (parsed.positionals.length !== 1) throw new UsageError("inspect needs exactly one FILE");
  const file = parsed.positionals[0];
  if (file === "") throw new UsageError("inspect needs a FILE name, got an empty one");
  const start = values.start === undefined ? 0 : parseCount("start", values.start, 0, 2 ** 32);
  const html =
    values.html === undefined ? null : checkOutput("--html", "cannot write the map", values.html, io.cwd);
  if (html) checkDistinct([html], [{ name: "the file inspected", path: resolve(io.cwd, file) }]);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(resolve(io.cwd, file));
  } catch (error) {
    const reason = codeOf(error) === "ENOENT" ? "no such file" : reasonOf(error);
    throw new FileError("cannot read the file", file, reason);
  }
  const outcome = openSaved(file, bytes, start, io);
  io.out("");
  const cell = textMapCellBytes(outcome.map);
  io.out(`map (one character = ${formatBytes(cell)}; . free, # allocated, + both):`);
  for (const line of textMap(outcome.map)) io.out(`  ${line}`);
  if (html) {
    const svg = memoryMapSvg(outcome.map, { colorBy: outcome.kind === "heap" ? "tag" : "order" });
    const title = escapeXml(`buddy-alloc inspect ${file}`);
    writeOutputs([
      {
        output: html,
        data: () =>
          `<!doctype html><meta charset="utf-8"><title>${title}</title><h1 style="font:18px system-ui">${title}</h1>\n${svg}\n`,
      },
    ]);
    io.out(`map written to ${html.path}`);
  }
  return outcome;
}

function openSaved(file: string, bytes: Uint8Array, start: number, io: CliIO): InspectOutcome {
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  let heapError: unknown;
  try {
    const heap = Heap.open(copy, { start });
    heap.check();
    printHeap(file, heap, io);
    return { kind: "heap", map: heapMap(heap) };
  } catch (error) {
    if (!(error instanceof AllocError)) throw error;
    heapError = error;
  }
  const shared = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(shared).set(bytes);
  let c: ConcurrentBuddy;
  try {
    c = ConcurrentBuddy.open(shared);
  } catch {
    throw new Error(`${file}: not a saved heap or concurrent allocator (${(heapError as Error).message})`);
  }
  try {
    c.check();
  } catch (error) {
    throw new Error(`${file}: a concurrent allocator whose state is damaged: ${(error as Error).message}`);
  }
  const s = c.stats();
  io.out(
    `${file}: concurrent allocator (ConcurrentBuddy), ${formatBytes(c.pageSize)} pages, maxOrder ${c.maxOrder}`,
  );
  io.out(`  managed         ${formatBytes(s.totalBytes)}`);
  io.out(
    `  allocated       ${formatBytes(s.allocatedBytes)} in ${formatCount([...c.allocatedBlocks()].length)} blocks`,
  );
  io.out(`  free            ${formatBytes(s.freeBytes)}, largest block ${formatBytes(s.largestFreeBlock)}`);
  io.out(`  fragmentation   ${s.fragmentation.toFixed(3)}`);
  return { kind: "concurrent", map: concurrentTarget(c).map() };
}

function printHeap(file: string, heap: Heap, io: CliIO): void {
  const s = heap.stats();
  io.out(
    `${file}: heap, ${formatBytes(heap.pageSize)} pages, ${formatBytes(s.heapBytes)} (grows to ${formatBytes(heap.maxLength)})`,
  );
  io.out(`  live allocations ${formatCount(s.liveAllocations)}, ${formatBytes(s.usedBytes)} requested`);
  io.out(
    `  pages            ${formatBytes(s.pageBytes)}: ${formatBytes(s.slabBytes)} in slabs, ${formatBytes(s.largeBytes)} in large blocks, ${formatBytes(s.freeBytes)} free`,
  );
  io.out(
    `  slab free space  ${formatBytes(s.slabFreeBytes)}; lost to rounding ${formatBytes(s.wastedBytes)}`,
  );
  io.out(`  metadata         ${formatBytes(s.metadataBytes)}`);
  io.out(`  fragmentation    ${s.pages.fragmentation.toFixed(3)} (of the free pages)`);
  const rows = s.classes
    .filter((c) => c.slabs > 0)
    .map((c) => [
      String(c.size),
      formatCount(c.slabs),
      formatCount(c.liveObjects),
      formatCount(c.freeObjects),
      formatBytes(c.requestedBytes),
      formatBytes(c.wastedBytes),
    ]);
  if (s.large.count > 0) {
    rows.push([
      "large",
      "",
      formatCount(s.large.count),
      "",
      formatBytes(s.large.requestedBytes),
      formatBytes(s.large.wastedBytes),
    ]);
  }
  if (rows.length > 0) {
    io.out("");
    for (const line of textTable(["class", "slabs", "live", "free", "requested", "lost"], rows, []))
      io.out(`  ${line}`);
  }
}
