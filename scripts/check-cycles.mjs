#!/usr/bin/env node
/**
 * Fails when the modules under a source folder (default: src) import each other in a loop at the
 * value level. Type-only imports (`import type`, `export type`, and `import { type A, type B }`
 * where every name is a type) are erased by TypeScript and do not count.
 *
 *   node scripts/check-cycles.mjs [folder ...]      e.g. node scripts/check-cycles.mjs src/heap
 *
 * A regex over import and re-export statements is enough for this code base: every import is a
 * static `import ... from "./x.js"` (no dynamic or require imports between its modules).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const roots = process.argv.slice(2);
const folders = (roots.length > 0 ? roots : ["src"]).map((r) => resolve(r));

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const STATEMENT = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["'](\.[^"']+)["']/gms;

/** The relative modules `file` imports at the value level (absolute paths of .ts files). */
function valueImports(file) {
  const text = readFileSync(file, "utf8");
  const deps = [];
  for (const m of text.matchAll(STATEMENT)) {
    if (m[2]) continue; // import type / export type
    const clause = m[3];
    const braces = clause.match(/^\{([^}]*)\}$/s);
    if (braces) {
      const names = braces[1]
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length > 0 && names.every((n) => n.startsWith("type "))) continue;
    }
    deps.push(resolve(dirname(file), m[4].replace(/\.js$/, ".ts")));
  }
  return deps;
}

const files = folders.flatMap(filesUnder);
const inScope = new Set(files);
const graph = new Map(files.map((f) => [f, valueImports(f).filter((d) => inScope.has(d))]));

// Depth-first search; a back edge to a module on the stack is a cycle.
const state = new Map(); // 1: on the stack, 2: done
const stack = [];
const cycles = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f)) {
    if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d]);
    else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f);

const show = (f) => relative(process.cwd(), f);
if (cycles.length > 0) {
  for (const c of cycles) console.error(`import cycle: ${c.map(show).join(" -> ")}`);
  process.exit(1);
}
console.log(`no value-level import cycle in ${folders.map(show).join(", ")} (${files.length} modules)`);
