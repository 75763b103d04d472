/**
 * The examples in examples/ run as a user would run them (`node examples/<name>/main.mjs`), each in
 * a child process: exit code 0 and their result line. They import the package by its name, which
 * resolves through package.json `exports` to dist/: built here when missing (CI builds first).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function run(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { cwd: root, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const examples: [string, RegExp][] = [
  ["examples/file-blocks/main.mjs", /^file-blocks: reopened .* found 3 allocations .*: ok$/m],
  ["examples/gpu-suballoc/main.mjs", /^gpu-suballoc: 9 meshes at 256-byte alignment .*: ok$/m],
  [
    "examples/workers/main.mjs",
    /^workers: 500 heap blocks and 500 page blocks .* doomed true\/none; 6 blocks .*: ok$/m,
  ],
  ["examples/wasm/main.mjs", /^wasm: heap at \d+ .* a 2000-node list built by wasm .*: ok$/m],
];

describe("examples", () => {
  beforeAll(() => {
    if (!existsSync(`${root}dist/index.js`)) execFileSync("npm", ["run", "build"], { cwd: root });
  }, 120_000);

  it.concurrent.each(examples)("%s runs and prints its result", async (script, line) => {
    const { code, stdout, stderr } = await run(script);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(line);
  });
});
