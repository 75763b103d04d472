// The code blocks a user copies, run as a user would run them: every ```js block of the README and
// ```ts block of docs/simulator.md is written to a module (its "buddy-alloc" imports pointed at the
// sources) and imported. A block passes when it runs to the end; a `console.log(...)` whose line ends
// in a comment must print text the comment starts with.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");
const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const simulator = readFileSync(new URL("docs/simulator.md", root), "utf8");
const docBlocks = [...simulator.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const dir = new URL("test/.readme-blocks/", root);
const ENTRY: Record<string, string> = {
  "buddy-alloc": "src/index.ts",
  "buddy-alloc/sim": "src/sim/index.ts",
  "buddy-alloc/viz": "src/viz/index.ts",
};

/** The block as a module: sources instead of the package, console.log captured with its expectation. */
function moduleOf(block: string): string {
  const body = block
    .replace(/from "(buddy-alloc(?:\/\w+)?)"/g, (_, name: string) => {
      if (!(name in ENTRY)) throw new Error(`README imports ${name}, which is no entry point`);
      return `from ${JSON.stringify(new URL(ENTRY[name], root).pathname)}`;
    })
    .replace(
      /^(\s*)console\.log\((.*)\);\s*\/\/\s*(.*)$/gm,
      (_, indent: string, args: string, note: string) => {
        return `${indent}__expect([${args}].join(" "), ${JSON.stringify(note)});`;
      },
    );
  const helper = `function __expect(printed, note) {
  if (!note.startsWith(printed)) throw new Error("printed " + JSON.stringify(printed) + ", the README says " + JSON.stringify(note));
}
const console = { log() {} };
`;
  return helper + body;
}

describe("README code blocks", () => {
  mkdirSync(dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has the blocks a user copies first: one per allocator at least", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const name of ["Heap", "BuddyAllocator", "ConcurrentBuddy"]) {
      expect(
        blocks.some((b) => new RegExp(`import \\{[^}]*\\b${name}\\b[^}]*\\} from "buddy-alloc"`).test(b)),
      ).toBe(true);
    }
  });

  it.each(blocks.map((b, i) => [i + 1, b.split("\n").find((l) => l.startsWith("import")) ?? "", b] as const))(
    "block %i (%s) runs",
    async (i, _first, block) => {
      const file = new URL(`block-${i}.mjs`, dir);
      writeFileSync(file, moduleOf(block));
      await import(file.href);
    },
  );

  it.each(docBlocks.map((b, i) => [i + 1, b] as const))(
    "docs/simulator.md block %i runs",
    async (i, block) => {
      expect(block).toMatch(/from "buddy-alloc\/sim"/);
      const file = new URL(`simulator-${i}.ts`, dir);
      writeFileSync(file, moduleOf(block));
      await import(file.href);
    },
  );
});
