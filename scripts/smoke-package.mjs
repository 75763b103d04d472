#!/usr/bin/env node
/**
 * The package as a user gets it: `npm pack` (which builds, through prepack), install the tarball
 * into a scratch project in a temp dir, and use it from there:
 *
 * - the tarball: a LICENSE, no source maps, no `@internal` in the declarations; every relative
 *   link of the README and of the Markdown files under docs/ and examples/ points at a file the
 *   tarball holds;
 * - ESM: `import { BuddyAllocator, Heap, ConcurrentBuddy, AllocError }`, each used;
 * - CommonJS: the same through `require` (Node's require(esm), Node 20.19+ and 22.12+);
 * - the examples, run from the installed package (node_modules/buddy-alloc/examples), and the
 *   `buddy-alloc` command through its bin link;
 * - TypeScript: a consumer compiled with `skipLibCheck: false` and `strict`, once with
 *   `lib: ["ES2022"]` and @types/node, once with `lib: ["ES2022", "DOM"]` and no node types, and
 *   once with `lib: ["ESNext", "DOM"]` and @types/node plus a file that uses `using`.
 *
 * No network: the tarball has no dependencies, and TypeScript and @types/node are this repo's
 * (node_modules/typescript, and `typeRoots` pointing at node_modules/@types).
 *
 *   node scripts/smoke-package.mjs          (npm run check:package)
 *
 * Exits 1 with the failing step's output on any failure.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..");
const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
const typeRoots = join(repo, "node_modules", "@types");
const work = mkdtempSync(join(tmpdir(), "buddy-alloc-smoke-"));
const failures = [];
const started = Date.now();

/** Runs a command; on failure records `what` with the command's output and returns null. */
function run(what, file, args, cwd) {
  try {
    return execFileSync(file, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    failures.push(`${what}:\n${`${e.stdout ?? ""}${e.stderr ?? ""}`.trim() || e.message}`);
    return null;
  }
}

/** `run`, without waiting: the checks of the installed package run side by side. */
function runAsync(what, file, args, cwd) {
  return new Promise((done) => {
    execFile(file, args, { cwd, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) failures.push(`${what}:\n${`${stdout ?? ""}${stderr ?? ""}`.trim() || error.message}`);
      done(error ? null : stdout);
    });
  });
}

function check(what, ok) {
  if (!ok) failures.push(what);
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

try {
  // 1. Pack.
  const packed = run("npm pack", npm, ["pack", "--json", "--pack-destination", work], repo);
  if (packed === null) throw new Error("stop");
  const info = JSON.parse(packed.slice(packed.indexOf("[")))[0];
  const tarball = join(work, info.filename);
  const paths = info.files.map((f) => f.path);
  check("the tarball has no LICENSE", paths.includes("LICENSE"));
  const maps = paths.filter((p) => p.endsWith(".map"));
  check(
    `the tarball ships ${maps.length} source maps (${maps.slice(0, 3).join(", ")}...)`,
    maps.length === 0,
  );
  check("the tarball has no dist/index.d.ts", paths.includes("dist/index.d.ts"));
  for (const doc of paths.filter((p) => p === "README.md" || /^(docs|examples)\/.*\.md$/.test(p))) {
    const text = readFileSync(join(repo, doc), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue; // a URL, or an anchor here
      const file = posix.normalize(posix.join(posix.dirname(doc), target.split("#")[0]));
      const inPackage =
        paths.includes(file) || paths.some((p) => p.startsWith(`${file.replace(/\/$/, "")}/`));
      check(`${doc} links to ${target}, which is not in the package`, inPackage);
    }
  }

  // 2. A scratch project with the tarball installed.
  const app = join(work, "app");
  const write = (name, text) => writeFileSync(join(app, name), text);
  execFileSync("mkdir", ["-p", app]);
  write(
    "package.json",
    `${JSON.stringify({ name: "smoke-app", version: "1.0.0", private: true }, null, 2)}\n`,
  );
  if (
    run(
      "npm install of the tarball",
      npm,
      ["install", "--no-audit", "--no-fund", "--offline", tarball],
      app,
    ) === null
  ) {
    throw new Error("stop");
  }
  const dist = join(app, "node_modules", "buddy-alloc", "dist");
  const internal = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".d.ts") && readFileSync(p, "utf8").includes("@internal")) internal.push(p);
    }
  };
  walk(dist);
  check(`@internal members in the installed declarations: ${internal.join(", ")}`, internal.length === 0);

  // 3. JavaScript, ESM and CommonJS: the same body with two ways in.
  const body = `
const a = new BuddyAllocator({ pageSize: 4096, maxOrder: 4 });
a.addRegion(0, 1 << 16);
const block = a.allocPages(2);
if (block !== 0) throw new Error("BuddyAllocator.allocPages: " + block);
a.free(block);

const heap = new Heap(new ArrayBuffer(1 << 20));
const p = heap.malloc(100);
if (typeof p !== "number" || p <= 0) throw new Error("Heap.malloc: " + p);
const xs = heap.allocArray(Float64Array, 4);
xs[3] = 1.5;
const wasm = new Heap(new WebAssembly.Memory({ initial: 2 }));
if (wasm.malloc(64) === null) throw new Error("Heap over a WebAssembly.Memory: malloc returned null");
heap.free(xs);
heap.free(p);

const c = ConcurrentBuddy.create({ size: 1 << 20, pageSize: 4096 });
const q = c.allocPages(1);
if (typeof q !== "number" || q < 0) throw new Error("ConcurrentBuddy.allocPages: " + q);
c.free(q);

let code = null;
try { heap.malloc(-1); } catch (e) { if (e instanceof AllocError) code = e.code; }
if (code !== "INVALID_ARGUMENT") throw new Error("AllocError: got " + code);

// The subpaths: the simulator and the visualisations, kept out of the root.
if (typeof sim.replay !== "function" || typeof sim.WORKLOADS !== "object") throw new Error("buddy-alloc/sim");
if (typeof viz.memoryMapSvg !== "function") throw new Error("buddy-alloc/viz");
if ("replay" in root || "memoryMapSvg" in root) throw new Error("the root exports the tooling");
const svg = viz.memoryMapSvg(sim.pageTarget(a).map(), { width: 200 });
if (!svg.startsWith("<svg")) throw new Error("memoryMapSvg: " + svg.slice(0, 40));
console.log("ok");
`;
  write(
    "esm.mjs",
    `import { AllocError, BuddyAllocator, ConcurrentBuddy, Heap } from "buddy-alloc";
import * as root from "buddy-alloc";
import * as sim from "buddy-alloc/sim";
import * as viz from "buddy-alloc/viz";
${body}`,
  );
  write(
    "cjs.cjs",
    `const root = require("buddy-alloc");
const { AllocError, BuddyAllocator, ConcurrentBuddy, Heap } = root;
const sim = require("buddy-alloc/sim");
const viz = require("buddy-alloc/viz");
${body}`,
  );
  const pending = ["esm.mjs", "cjs.cjs"].map(async (file) => {
    const out = await runAsync(`node ${file}`, process.execPath, [file], app);
    if (out !== null) check(`node ${file} printed ${JSON.stringify(out)}`, out.trim() === "ok");
  });
  // The command line, through the bin link npm made: a short simulation writing its report.
  const bin = join(app, "node_modules", ".bin", "buddy-alloc");
  pending.push(
    runAsync(
      "buddy-alloc simulate (the installed command)",
      bin,
      ["simulate", "-w", "steady", "-n", "2k", "-o", "report.html"],
      app,
    ).then((out) => {
      if (out !== null)
        check(`buddy-alloc simulate printed ${JSON.stringify(out.slice(-200))}`, /report written/.test(out));
    }),
  );
  // The examples as a user finds them in the installed package (they import "buddy-alloc").
  const examples = [...new Set(paths.filter((p) => /^examples\/[^/]+\/main\.mjs$/.test(p)))];
  check("the tarball has no examples", examples.length >= 4);
  for (const example of examples) {
    const file = join("node_modules", "buddy-alloc", example);
    pending.push(runAsync(`node ${file}`, process.execPath, [file], app));
  }

  // 4. TypeScript consumers (type-checked only: the declarations are what is under test).
  write(
    "consumer.ts",
    `import {
  AllocError,
  type AllocErrorCode,
  BuddyAllocator,
  ConcurrentBuddy,
  Heap,
  type HeapMemory,
  type PageStorage,
  ScopedArray,
  type WasmMemoryLike,
} from "buddy-alloc";
import { pageTarget, type ReplayResult, replay, WORKLOADS } from "buddy-alloc/sim";
import { memoryMapSvg } from "buddy-alloc/viz";

const a: BuddyAllocator = new BuddyAllocator({ pageSize: 4096, maxOrder: 4 });
a.addRegion(0, 1 << 16);
const block: number | null = a.allocPages(2);
if (block !== null) a.free(block);
const storage: PageStorage = { state: new Uint8Array(64), links: new Int32Array(64) };
void storage;

const memory: HeapMemory = new SharedArrayBuffer(1 << 20);
const heap = new Heap(memory);
const xs = heap.allocArray(Float64Array, 4);
if (xs !== null) {
  // On shared memory the view is over a SharedArrayBuffer: its type must not claim ArrayBuffer.
  // @ts-expect-error allocArray's view is not typed Float64Array<ArrayBuffer>
  const wrong: Float64Array<ArrayBuffer> = xs;
  void wrong;
  const buffer: ArrayBufferLike = xs.buffer;
  void buffer;
  heap.free(xs);
}
const scoped: ScopedArray<Float64Array> | null = heap.scopedArray(Float64Array, 2);
scoped?.free();
// A WebAssembly.Memory is accepted by shape (this consumer's libs have no WebAssembly namespace).
declare const wasmMemory: WasmMemoryLike;
const wasmHeap = new Heap(wasmMemory);
void wasmHeap;

const c = ConcurrentBuddy.create({ size: 1 << 20, pageSize: 4096 });
const q: number | null = c.allocPages(1);
if (q !== null) c.free(q);

const svg: string = memoryMapSvg(pageTarget(a).map(), { width: 200 });
void svg;
const run: ReplayResult = replay(WORKLOADS.steady.generate({ ops: 100, seed: 1, memory: 1 << 20, pageSize: 4096 }), pageTarget({ memory: 1 << 20 }));
void run;

try {
  heap.malloc(-1);
} catch (e) {
  if (e instanceof AllocError) {
    const code: AllocErrorCode = e.code;
    void code;
  }
}
`,
  );
  write(
    "using.ts",
    `import { Heap } from "buddy-alloc";

// Explicit resource management, where the consumer's lib has it (merges with its Symbol.dispose).
const heap = new Heap(new WebAssembly.Memory({ initial: 1 }));
{
  using block = heap.scoped(64);
  using view = heap.scopedArray(Float64Array, 4);
  if (block !== null && view !== null) view.view[0] = block.ptr;
}
`,
  );
  const tsconfig = (name, options, files = ["consumer.ts"]) =>
    write(
      name,
      `${JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            ...options,
          },
          files,
        },
        null,
        2,
      )}\n`,
    );
  tsconfig("tsconfig.node.json", { lib: ["ES2022"], types: ["node"], typeRoots: [typeRoots] });
  tsconfig("tsconfig.dom.json", { lib: ["ES2022", "DOM"], types: [] });
  tsconfig("tsconfig.esnext.json", { lib: ["ESNext", "DOM"], types: ["node"], typeRoots: [typeRoots] }, [
    "consumer.ts",
    "using.ts",
  ]);
  for (const config of ["tsconfig.node.json", "tsconfig.dom.json", "tsconfig.esnext.json"]) {
    pending.push(
      runAsync(`tsc -p ${config} (a TypeScript consumer)`, process.execPath, [tsc, "-p", config], app),
    );
  }
  await Promise.all(pending);
} catch (e) {
  if (e.message !== "stop") failures.push(`smoke test: ${e.stack}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`\ncheck:package FAILED (${seconds} s):\n${failures.map((f) => `- ${f}`).join("\n")}`);
  process.exit(1);
}
console.log(
  `check:package: the packed tarball installs; ESM import, CommonJS require and TypeScript (ES2022 + node, ES2022 + DOM, ESNext + DOM + node with using) consumers work; its examples and its command run; its documents' links resolve (${seconds} s)`,
);
