// The README's API tables are complete: every public member of each allocator class (read from
// its source with the TypeScript compiler, leaving out private, @internal and @deprecated ones)
// is named in the table under that class's heading.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

/** The public, documented-for-use member names of class `name` in `file`. */
function publicMembers(file: string, name: string): string[] {
  const text = readFileSync(new URL(file, root), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const names = new Set<string>();
  source.forEachChild((node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== name) return;
    for (const member of node.members) {
      if (ts.isConstructorDeclaration(member) || member.name === undefined) continue;
      const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
      if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      if (ts.isPrivateIdentifier(member.name)) continue;
      const tags = ts.getJSDocTags(member).map((t) => t.tagName.text);
      if (tags.includes("deprecated") || tags.includes("internal")) continue;
      names.add(member.name.getText(source));
    }
  });
  return [...names];
}

/** The README's section for a class: from its "## Name" heading to the next "## ". */
function section(name: string): string {
  const start = readme.indexOf(`\n## ${name}\n`);
  expect(start, `README has a "## ${name}" section`).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe("README API tables", () => {
  it.each([
    ["BuddyAllocator", "src/page/buddy-allocator.ts"],
    ["Heap", "src/heap/heap.ts"],
    ["ConcurrentBuddy", "src/concurrent/concurrent-buddy.ts"],
  ])("name every public member of %s", (name, file) => {
    const members = publicMembers(file, name);
    expect(members.length).toBeGreaterThan(5);
    const table = section(name)
      .split("\n")
      .filter((line) => line.startsWith("|"))
      .join("\n");
    const missing = members.filter((m) => !new RegExp(`\\b${m}\\b`).test(table));
    expect(missing).toEqual([]);
  });
});
