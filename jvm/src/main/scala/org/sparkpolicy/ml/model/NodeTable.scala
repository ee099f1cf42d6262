package org.sparkpolicy.ml.model

import java.nio.ByteBuffer
import java.security.MessageDigest

/** The tree as a flat node table: the model format that crosses JNI, is persisted and is scored. */
final case class NodeTable(nArms: Int, nodes: Vector[TreeNode]) {
  lazy val byId: Map[Int, TreeNode] = nodes.iterator.map(n => n.id -> n).toMap

  def root: TreeNode = byId(1)

  def depth: Int = nodes.map(n => TreeNode.depthOf(n.id)).max

  def numNodes: Int = nodes.size

  def leaves: Vector[TreeNode] = nodes.filter(_.isLeaf)

  /** The features some split reads, ascending (none for a lone leaf). */
  def splitFeatures: Vector[Int] = nodes.filterNot(_.isLeaf).map(_.feature).distinct.sorted

  /** The same tree reading feature `features(i)` as feature i (`features` must hold every split feature). */
  def onFeatures(features: Seq[Int]): NodeTable =
    copy(nodes = nodes.map(n => if (n.isLeaf) n else n.copy(feature = features.indexOf(n.feature))))

  /** Direct traversal: the leaf a row lands in, reading feature `f` with `value(f)` (NaN = missing). */
  def leafOf(value: Int => Double): TreeNode = {
    var node = root
    while (!node.isLeaf) {
      val x = value(node.feature)
      val left = if (x.isNaN) node.missingLeft else if (node.categorical) x == node.threshold else x <= node.threshold
      node = byId(if (left) 2 * node.id else 2 * node.id + 1)
    }
    node
  }

  /**
   * The first structural fault, if any, with the messages of the native scorer's checks (`NodeTable::validate` in
   * `native/core/src/node_table.rs`: a root, unique ids, a parent split for every non-root node, both children of every
   * split, leaf arms in range), plus what the JVM relies on besides: K values on every node and, given `nFeatures`,
   * split features in range (the native scorer checks that against the columns when compiling).
   */
  def structureProblem(nFeatures: Int = Int.MaxValue): Option[String] = {
    val leafById = scala.collection.mutable.HashMap.empty[Int, Boolean]
    val duplicate = nodes.find(n => leafById.put(n.id, n.isLeaf).isDefined)
    def nodeProblem(n: TreeNode): Option[String] =
      if (n.id > 1 && !leafById.get(n.id / 2).contains(false)) Some(s"node ${n.id} has no parent split ${n.id / 2}")
      else if (n.values.size != nArms) Some(s"node ${n.id} has ${n.values.size} values; expected one per arm ($nArms)")
      else if (n.isLeaf) Option.when(n.arm < 0 || n.arm >= nArms)(s"leaf ${n.id} has arm ${n.arm}; expected 0..${nArms - 1}")
      else if (n.feature < 0) Some(s"split node ${n.id} has feature index ${n.feature}")
      else if (n.feature >= nFeatures) Some(s"split node ${n.id} reads feature index ${n.feature}, but there are only $nFeatures features")
      else if (n.threshold.isNaN) Some(s"split node ${n.id} has a NaN threshold")
      else Seq(2 * n.id, 2 * n.id + 1).find(c => !leafById.contains(c)).map(c => s"split node ${n.id} is missing its child $c")
    if (nArms < 2) Some(s"node table has $nArms value columns; a policy needs at least 2 arms")
    else if (duplicate.isDefined) Some(s"node table has node_id ${duplicate.get.id} twice")
    else if (!leafById.contains(1)) Some("node table has no root (node_id 1)")
    else nodes.iterator.map(nodeProblem).collectFirst { case Some(p) => p }
  }

  /** SHA-256 over a canonical encoding (nodes by id, fixed-width big-endian fields, doubles as bits). */
  def contentHash: String = {
    val digest = MessageDigest.getInstance("SHA-256")
    val buf = ByteBuffer.allocate(49 + 8 * nArms)
    digest.update(ByteBuffer.allocate(4).putInt(nArms).array())
    nodes.sortBy(_.id).foreach { n =>
      buf.clear()
      buf.putInt(n.id).put((if (n.isLeaf) 1 else 0).toByte).putInt(n.feature)
      buf.putLong(java.lang.Double.doubleToLongBits(n.threshold)).putInt(n.thresholdBin)
      buf.put((if (n.missingLeft) 1 else 0).toByte).putInt(n.arm).putLong(n.count)
      n.values.foreach(v => buf.putLong(java.lang.Double.doubleToLongBits(v)))
      // Only categorical splits add a byte, so numeric models keep the hashes they always had.
      if (n.categorical) buf.put(2.toByte)
      digest.update(buf.array(), 0, buf.position())
    }
    digest.digest().map(b => f"$b%02x").mkString
  }

  /**
   * A readable rendering with feature names and arm labels, in the style of MLlib's `toDebugString`;
   * `categories(f)` names the codes of a categorical feature.
   */
  def render(featureNames: Seq[String], armLabels: Seq[String], categories: Int => Option[Seq[String]] = _ => None): String = {
    val sb = new StringBuilder
    def fmt(v: Double) = java.lang.Double.toString(v)
    def go(id: Int, indent: String): Unit = {
      val n = byId(id)
      if (n.isLeaf) {
        val scores = n.values.map(v => f"$v%.4f").mkString(", ")
        sb.append(s"${indent}Predict: ${armLabels(n.arm)} (node $id, n=${n.count}, mean reward per arm [$scores])\n")
      } else {
        val name = featureNames(n.feature)
        val (ml, mr) = if (n.missingLeft) (" or missing", "") else ("", " or missing")
        val (ifText, elseText) = categories(n.feature) match {
          case Some(labels) if n.categorical =>
            val label = "\"" + labels(n.threshold.toInt).replace("\\", "\\\\").replace("\"", "\\\"") + "\""
            (s"$name == $label$ml", s"$name != $label$mr")
          // "missing vs the rest" on a categorical feature (x <= +∞): unseen labels count as missing.
          case Some(_) => (s"$name is a known category", s"$name is missing or unseen")
          case None => (s"$name <= ${fmt(n.threshold)}$ml", s"$name > ${fmt(n.threshold)}$mr")
        }
        sb.append(s"${indent}If ($ifText)\n")
        go(2 * id, indent + "  ")
        sb.append(s"${indent}Else ($elseText)\n")
        go(2 * id + 1, indent + "  ")
      }
    }
    go(1, "  ")
    sb.toString
  }
}

object NodeTable {
  /** The node ids of a tree grown by the given splits: the root, every split node and both its children, ascending. */
  def grownIds(splitIds: collection.Set[Int]): Vector[Int] =
    (splitIds.iterator.flatMap(id => Iterator(id, 2 * id, 2 * id + 1)).toSet + 1).toVector.sorted
}
