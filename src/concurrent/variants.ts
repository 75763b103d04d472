/** The tree variants a ConcurrentBuddy can be built on, by name and by header code. */

import type { Variant } from "./layout.js";
import { NodeTree } from "./node-tree.js";
import { PackedTree } from "./packed-tree.js";
import type { Tree, TreeShape } from "./tree.js";

export { VARIANTS, type Variant } from "./layout.js";

/** Words of tree a variant needs for a shape. */
export function wordCount(variant: Variant, shape: TreeShape): number {
  return variant === "node" ? NodeTree.wordCount(shape) : PackedTree.wordCount(shape);
}

/** A tree of `variant` over `words`, writing its steps into `record` (a private one if omitted). */
export function makeTree(variant: Variant, words: Int32Array, shape: TreeShape, record?: Int32Array): Tree {
  return variant === "node" ? new NodeTree(words, shape, record) : new PackedTree(words, shape, record);
}
