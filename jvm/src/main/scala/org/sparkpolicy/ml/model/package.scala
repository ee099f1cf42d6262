package org.sparkpolicy.ml

/**
 * The public, plain data types of a learned tree: `NodeTable` (heap-numbered `TreeNode`s, the model
 * every backend scores), `SplitDecision` (one entry of the decision log) and `LevelStats` (what a level
 * cost), and `PolicyOutputColumns` (the four columns transform appends, named and typed). No behaviour
 * beyond traversal, rendering and a content hash; imports nothing of the toolkit (Spark SQL types only).
 */
package object model
