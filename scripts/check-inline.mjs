#!/usr/bin/env node
/**
 * `npm run check:inline`: guards the V8 inlining that the page allocator's speed depends on.
 *
 * The notes on `take` (src/page/page-map.ts) and `free` (src/page/buddy-allocator.ts) explain
 * it: a loop calling `allocPages` and `free` runs fast only while TurboFan inlines the whole
 * alloc and free paths into it, and that holds only while their bytecode fits V8's inlining
 * budget (920 bytes in all, --max-inlined-bytecode-size-cumulative), within a few bytes. A
 * harmless-looking edit on those paths can push `free` out of the loop and cost a tenth of the
 * benchmark, with every test still green. This script notices.
 *
 * What it does: for each build of the library (the sources through tsx, as the benchmarks run
 * them, and tsc's output, as a user gets it), and for each of the two W1 loops that bench:page
 * times (`allocPages(2^k)` + `free`, the `ours-pages` row; `allocOrder(k)` + `free`, the `ours`
 * row), it runs the loop in a fresh `node --trace-opt --trace-deopt --trace-turbo-inlining`
 * (compilation made synchronous, so V8's trace reads as one compilation after another), reads
 * V8's own report of what it inlined into the loop function, and checks:
 * - the loop function was optimized by TurboFan and did not deoptimize after its last
 *   compilation (that compilation is the code that ran the steady state);
 * - that last compilation inlined every function of the hot path (HOT_PATH below).
 * It prints what was inlined, with V8's bytecode sizes, and exits 1 with the list of what was
 * not when any loop misses one. A third loop, the heap's W3 (`Heap.malloc` / `Heap.free`), is
 * reported the same way but only warns (ADVISORY below). Trace lines come from V8, so nothing in the library is
 * instrumented and the check does not depend on its internals beyond the function names.
 *
 * Usage: node scripts/check-inline.mjs [--only src|dist] [--keep-trace DIR] [-- <V8 flags>]
 *   V8 flags after `--` go to every child, e.g. `-- --max-inlined-bytecode-size-cumulative=800`
 *   to see the check fail when the budget is a little smaller than the hot path needs.
 * When a function is renamed or the hot path is changed on purpose, update HOT_PATH.
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * The functions V8 must inline into each loop (by their names in V8's trace, which are the
 * method and function names in src). Today's hot paths, as V8 inlines them on Node 20:
 * allocPages → orderOfCount, take, addressOf; allocOrder → take, addressOf;
 * free → slotOf, release → push. (`unlink`, on release's merge path, does not fit as well.)
 */
const HOT_PATH = {
  pages: ["allocPages", "orderOfCount", "take", "addressOf", "free", "slotOf", "release", "push"],
  order: ["allocOrder", "take", "addressOf", "free", "slotOf", "release", "push"],
  heap: ["malloc", "sync", "slabAlloc", "free"],
};

/**
 * Loops whose misses are reported (WARN) without failing the check: none. The heap's W3 loop must
 * inline `Heap.malloc` → sync, slabAlloc and `Heap.free` (whose slow path `release` → slabFreePtr
 * does not fit, and need not): that is why src/heap's hot paths use const-enum copies of the
 * layout names, which compile to literals (slabs.ts).
 */
const ADVISORY = new Set([]);

/** The W1 pool of bench/workloads.ts: 1 GiB at 0 in 4 KiB pages, orders 0..20, half of it live. */
const POOL_BYTES = 2 ** 30;
const PAGE_SIZE = 4096;
const MAX_ORDER = 20;
const TARGET_PERCENT = 50;
/** Runs of the loop on fresh allocators (bench/run-one.ts makes two warm-up runs and a timed one), and ops per run. */
const RUNS = 4;
const OPS = 1_000_000;

const root = fileURLToPath(new URL("..", import.meta.url));
const self = fileURLToPath(import.meta.url);
const LOOP_NAME = { pages: "w1AllocPages", order: "w1AllocOrder", heap: "w3Heap" };
/** bench/heap's W3 pool: 64 MiB, half of it live, sizes log-uniform over [16, 2048). */
const HEAP_BYTES = 64 * 2 ** 20;

// ---------------------------------------------------------------------------------------------
// The child: one W1 loop, run until V8 has settled on its code.

/*
 * The live table: module-level, as in bench/workloads.ts, where this placement was measured.
 */
let liveAddresses = new Float64Array(0);
let liveOrders = new Uint8Array(0);
let liveSizes = new Float64Array(0);

/** W1 (bench/workloads.ts `runSteady`) calling `allocPages(2^k)` and `free`. */
function w1AllocPages(a, ops, totalPages, targetPercent) {
  const target = ((totalPages * targetPercent) / 100) | 0;
  let x = 0x9e3779b9 | 0;
  let n = 0;
  let livePages = 0;
  let failures = 0;
  for (let i = 0; i < ops; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (livePages < target) {
      const r = x | 1024;
      const k = 31 - Math.clz32(r & -r);
      const address = a.allocPages(1 << k);
      if (address === null) {
        failures++;
        continue;
      }
      liveAddresses[n] = address;
      liveOrders[n] = k;
      n++;
      livePages += 1 << k;
    } else {
      const idx = (x >>> 1) % n;
      const k = liveOrders[idx];
      a.free(liveAddresses[idx]);
      livePages -= 1 << k;
      n--;
      liveAddresses[idx] = liveAddresses[n];
      liveOrders[idx] = liveOrders[n];
    }
  }
  return failures;
}

/**
 * The same loop calling `allocOrder(k)` and `free`: a copy, not a shared loop taking the method,
 * because the check is whether V8 inlines each call site into its own loop.
 */
function w1AllocOrder(a, ops, totalPages, targetPercent) {
  const target = ((totalPages * targetPercent) / 100) | 0;
  let x = 0x9e3779b9 | 0;
  let n = 0;
  let livePages = 0;
  let failures = 0;
  for (let i = 0; i < ops; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (livePages < target) {
      const r = x | 1024;
      const k = 31 - Math.clz32(r & -r);
      const address = a.allocOrder(k);
      if (address === null) {
        failures++;
        continue;
      }
      liveAddresses[n] = address;
      liveOrders[n] = k;
      n++;
      livePages += 1 << k;
    } else {
      const idx = (x >>> 1) % n;
      const k = liveOrders[idx];
      a.free(liveAddresses[idx]);
      livePages -= 1 << k;
      n--;
      liveAddresses[idx] = liveAddresses[n];
      liveOrders[idx] = liveOrders[n];
    }
  }
  return failures;
}

/** W3 (bench/heap/workload.ts, without its failure handling): malloc while below the live target, else free. */
function w3Heap(h, ops, liveTarget) {
  let x = 0x9e3779b9 | 0;
  let n = 0;
  let live = 0;
  let failures = 0;
  for (let op = 0; op < ops; op++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (live < liveTarget) {
      const r = x >>> 0;
      const e = r % 7;
      const size = (16 << e) + ((r >>> 3) % (16 << e));
      const p = h.malloc(size);
      if (p === null) {
        failures++;
        continue;
      }
      liveAddresses[n] = p;
      liveSizes[n] = size;
      n++;
      live += size;
    } else {
      const idx = (x >>> 1) % n;
      h.free(liveAddresses[idx]);
      live -= liveSizes[idx];
      n--;
      liveAddresses[idx] = liveAddresses[n];
      liveSizes[idx] = liveSizes[n];
    }
  }
  return failures;
}

async function child(entry, loop) {
  if (loop === "heap") {
    const { Heap } = await import(entry);
    liveAddresses = new Float64Array(HEAP_BYTES / 16);
    liveSizes = new Float64Array(HEAP_BYTES / 16);
    for (let r = 0; r < RUNS; r++) w3Heap(new Heap(new ArrayBuffer(HEAP_BYTES)), OPS, HEAP_BYTES / 2);
    return;
  }
  const { BuddyAllocator } = await import(entry);
  const run = loop === "pages" ? w1AllocPages : w1AllocOrder;
  const totalPages = (POOL_BYTES / PAGE_SIZE) | 0;
  liveAddresses = new Float64Array(totalPages);
  liveOrders = new Uint8Array(totalPages);
  for (let r = 0; r < RUNS; r++) {
    const a = new BuddyAllocator({ pageSize: PAGE_SIZE, maxOrder: MAX_ORDER });
    a.addRegion(0, POOL_BYTES);
    run(a, OPS, totalPages, TARGET_PERCENT);
  }
}

// ---------------------------------------------------------------------------------------------
// The parent: runs each child under V8's trace and reads it.

function main() {
  const args = process.argv.slice(2);
  const dash = args.indexOf("--");
  const v8Flags = dash >= 0 ? args.slice(dash + 1) : [];
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const opt = (name) => {
    const i = own.indexOf(name);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const only = opt("--only");
  const keepTrace = opt("--keep-trace");
  if (keepTrace) mkdirSync(keepTrace, { recursive: true });
  const traceDir = keepTrace ?? mkdtempSync(join(tmpdir(), "check-inline-trace-"));

  const builds = [];
  let scratch = null;
  if (only !== "dist") {
    builds.push({ name: "src (tsx)", entry: "../src/index.ts", loader: ["--import", "tsx"] });
  }
  if (only !== "src") {
    // tsc's output in a scratch directory, so the repository's dist is left alone.
    scratch = mkdtempSync(join(tmpdir(), "check-inline-"));
    const tsc = spawnSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", scratch],
      { cwd: root, encoding: "utf8" },
    );
    // tsc writes its output even when it reports type errors; those are `npm run typecheck`'s
    // business, and this check still reads what V8 makes of the code.
    if (!existsSync(join(scratch, "index.js"))) {
      process.stdout.write(tsc.stdout + tsc.stderr);
      fail(["tsc -p tsconfig.build.json wrote no output"]);
    }
    if (tsc.status !== 0)
      console.log("(tsc reported type errors: see npm run typecheck; checking its output anyway)");
    writeFileSync(join(scratch, "package.json"), '{ "type": "module" }\n');
    builds.push({ name: "dist (tsc)", entry: pathToFileURL(join(scratch, "index.js")).href, loader: [] });
  }

  const problems = [];
  try {
    for (const build of builds) {
      for (const loop of ["pages", "order", "heap"]) {
        const name = LOOP_NAME[loop];
        const flags = [
          ...build.loader,
          "--trace-opt",
          "--trace-deopt",
          "--trace-turbo-inlining",
          // Compile on the main thread, so each compilation's trace is one block, in order.
          "--no-concurrent-recompilation",
          "--no-concurrent-osr",
          ...v8Flags,
        ];
        // V8 writes its trace with C stdio. Into a pipe, which Node makes non-blocking, writes
        // that find it full are dropped: the trace goes to a file.
        const tracePath = join(traceDir, `${build.name.split(" ")[0]}-${loop}.txt`);
        const traceFd = openSync(tracePath, "w");
        const res = spawnSync(process.execPath, [...flags, self, "--child", build.entry, loop], {
          cwd: root,
          encoding: "utf8",
          stdio: ["ignore", traceFd, "pipe"],
        });
        closeSync(traceFd);
        const trace = readFileSync(tracePath, "utf8");
        const label = `${build.name}, ${name}`;
        if (res.status !== 0) {
          problems.push(`${label}: the loop exited with ${res.status ?? res.signal}\n${res.stderr}`);
          continue;
        }
        const r = analyse(trace, name);
        const missing = HOT_PATH[loop].filter((f) => !r.inlined.has(f));
        const ok = r.problem === null && missing.length === 0;
        const advisory = ADVISORY.has(loop);
        console.log(`${ok ? "ok  " : advisory ? "WARN" : "FAIL"} ${label}: ${describe(r)}`);
        const found = [];
        if (r.problem) found.push(`${label}: ${r.problem}`);
        if (missing.length > 0) {
          found.push(
            `${label}: V8 no longer inlines ${missing.join(", ")} into the loop` +
              (r.notInlined.length > 0 ? ` (candidates left out: ${r.notInlined.join(", ")})` : ""),
          );
        }
        if (advisory) for (const f of found) console.log(`     (advisory, not a failure) ${f}`);
        else problems.push(...found);
      }
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    if (!keepTrace) rmSync(traceDir, { recursive: true, force: true });
  }
  if (problems.length > 0) fail(problems);
  console.log(
    `check:inline: the page allocator's hot path is inlined into every W1 loop (${builds.map((b) => b.name).join(", ")})`,
  );
}

function fail(problems) {
  console.error(`\ncheck:inline FAILED:\n${problems.map((p) => `- ${p}`).join("\n")}`);
  console.error(
    "\nThe alloc/free paths must stay within V8's inlining budget: see the note on `take` in" +
      " src/page/page-map.ts. Keep them small (move rare cases into out-of-line helpers), or, if" +
      " the hot path changed on purpose, update HOT_PATH in scripts/check-inline.mjs." +
      " --keep-trace DIR keeps V8's traces.",
  );
  process.exit(1);
}

/**
 * Splits V8's trace into the loop function's TurboFan compilations and returns the last one:
 * what it inlined (names, with bytecode sizes where V8 printed them), the candidates it left
 * out, and whether the loop deoptimized after it.
 */
function analyse(trace, loopName) {
  const compiling = new RegExp(
    `^\\[compiling method .*<JSFunction ${loopName} .*\\(target TURBOFAN\\)( OSR)?`,
  );
  const completed = new RegExp(`^\\[completed compiling .*<JSFunction ${loopName} `);
  const deopt = new RegExp(
    `^\\[bailout \\(kind: ([^,]*), reason: ([^)]*)\\).*deoptimizing .*<JSFunction ${loopName} `,
  );
  const inlining =
    /^Inlining 0x[0-9a-f]+ \{0x[0-9a-f]+ <SharedFunctionInfo ([^>]*)>\} into .*<SharedFunctionInfo ([^>]*)>\}/;
  const target = /- target: .*<SharedFunctionInfo ([^>]*)>\}, bytecode size: (\d+)/;

  const compilations = [];
  let current = null;
  let lastDeopt = null;
  const sizes = new Map();
  for (const line of trace.split("\n")) {
    let m = line.match(compiling);
    if (m) {
      current = { osr: Boolean(m[1]), inlined: [], candidates: new Set(), done: false };
      compilations.push(current);
      lastDeopt = null;
      continue;
    }
    if (current && !current.done) {
      m = line.match(inlining);
      if (m && m[2] === loopName) current.inlined.push(m[1] || "(anonymous)");
      m = line.match(target);
      if (m) {
        sizes.set(m[1], Number(m[2]));
        current.candidates.add(m[1]);
      }
      if (completed.test(line)) current.done = true;
      continue;
    }
    m = line.match(deopt);
    if (m) lastDeopt = `${m[1]}: ${m[2]}`;
  }
  const last = compilations.at(-1);
  if (!last) {
    return { problem: `V8 never optimized ${loopName} with TurboFan`, inlined: new Set(), notInlined: [] };
  }
  const inlined = new Set(last.inlined);
  return {
    problem: !last.done
      ? `${loopName}'s last compilation did not complete`
      : lastDeopt
        ? `${loopName} deoptimized after its last compilation (${lastDeopt}): no steady state`
        : null,
    compilations: compilations.length,
    osr: last.osr,
    inlined,
    order: last.inlined,
    sizes,
    notInlined: [...last.candidates].filter((c) => !inlined.has(c)),
  };
}

function describe(r) {
  if (!r.order) return r.problem;
  const names = [...new Set(r.order)].map((f) => (r.sizes.has(f) ? `${f} ${r.sizes.get(f)}` : f));
  const total = [...new Set(r.order)].reduce((sum, f) => sum + (r.sizes.get(f) ?? 0), 0);
  const left = r.notInlined.length > 0 ? `; not inlined: ${r.notInlined.join(", ")}` : "";
  return (
    `compilation ${r.compilations}${r.osr ? " (OSR)" : ""} inlined ${names.join(", ")}` +
    ` (${total} bytes of bytecode)${left}`
  );
}

// Last, so that every module-level binding above is initialized.
if (process.argv[2] === "--child") await child(process.argv[3], process.argv[4]);
else main();
