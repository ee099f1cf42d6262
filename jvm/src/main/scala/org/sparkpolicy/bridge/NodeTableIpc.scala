package org.sparkpolicy.bridge

import java.io.ByteArrayOutputStream
import java.nio.channels.Channels

import scala.jdk.CollectionConverters._

import org.apache.arrow.vector.{BigIntVector, BitVector, Float8Vector, IntVector, VectorSchemaRoot}
import org.apache.arrow.vector.ipc.{ArrowStreamReader, ArrowStreamWriter}
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, Field, FieldType, Schema}
import org.sparkpolicy.ml.model.{NodeTable, TreeNode}

/**
 * The node table as it crosses JNI: one Arrow IPC batch, one row per node, with the columns
 * [[Columns]] then `value_0 … value_{K−1}` (`native/core/src/node_table.rs` reads and writes the same);
 * a forest as one such batch per tree, in tree order (`native/core/src/forest.rs`).
 * Saved models store the same columns in Parquet (`ml/PolicyTreePersistence`), the values as one array.
 */
private[sparkpolicy] object NodeTableIpc {
  /** The per-node columns before the values, in order; `count` is Int64, the flags Bool, the rest Int32 or Float64. */
  val Columns: Seq[String] =
    Seq("node_id", "is_leaf", "feature", "threshold", "threshold_bin", "missing_left", "arm", "count", "categorical")

  private val f64 = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)
  private val i32 = new ArrowType.Int(32, true)
  private val i64 = new ArrowType.Int(64, true)
  private val bool = ArrowType.Bool.INSTANCE
  private val types: Map[String, ArrowType] = Map("node_id" -> i32, "is_leaf" -> bool, "feature" -> i32, "threshold" -> f64,
    "threshold_bin" -> i32, "missing_left" -> bool, "arm" -> i32, "count" -> i64, "categorical" -> bool)

  private def valueName(a: Int): String = s"value_$a"

  def schema(nArms: Int): Schema = {
    def field(name: String, t: ArrowType) = new Field(name, FieldType.notNullable(t), null)
    new Schema((Columns.map(c => field(c, types(c))) ++ (0 until nArms).map(a => field(valueName(a), f64))).asJava)
  }

  def encode(table: NodeTable): Array[Byte] = encodeAll(Seq(table))

  /** A forest as it crosses JNI: one batch per tree, in tree order (`native/core/src/forest.rs`). */
  def encodeAll(tables: Seq[NodeTable]): Array[Byte] = {
    require(tables.nonEmpty && tables.forall(_.nArms == tables.head.nArms), "node tables to encode must share their number of arms")
    val allocator = ArrowAllocator.child("sparkpolicy-node-table")
    val root = VectorSchemaRoot.create(schema(tables.head.nArms), allocator)
    try {
      val out = new ByteArrayOutputStream()
      val writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))
      writer.start()
      tables.foreach { table =>
        fill(root, table)
        writer.writeBatch()
      }
      writer.end()
      writer.close()
      out.toByteArray
    } finally {
      root.close()
      allocator.close()
    }
  }

  private def fill(root: VectorSchemaRoot, table: NodeTable): Unit = {
    root.allocateNew()
    def int(name: String) = root.getVector(name).asInstanceOf[IntVector]
    def bit(name: String) = root.getVector(name).asInstanceOf[BitVector]
    def dbl(name: String) = root.getVector(name).asInstanceOf[Float8Vector]
    def flag(b: Boolean) = if (b) 1 else 0
    table.nodes.zipWithIndex.foreach { case (n, i) =>
      int("node_id").setSafe(i, n.id)
      bit("is_leaf").setSafe(i, flag(n.isLeaf))
      int("feature").setSafe(i, n.feature)
      dbl("threshold").setSafe(i, n.threshold)
      int("threshold_bin").setSafe(i, n.thresholdBin)
      bit("missing_left").setSafe(i, flag(n.missingLeft))
      int("arm").setSafe(i, n.arm)
      root.getVector("count").asInstanceOf[BigIntVector].setSafe(i, n.count)
      bit("categorical").setSafe(i, flag(n.categorical))
      (0 until table.nArms).foreach(a => dbl(valueName(a)).setSafe(i, n.values(a)))
    }
    root.setRowCount(table.nodes.size)
  }

  /** Reads one table back (what the native side wrote, in the round-trip test). */
  def decode(ipc: Array[Byte]): NodeTable = {
    val tables = decodeAll(ipc)
    require(tables.nonEmpty, "node table IPC stream holds no batch")
    tables.head
  }

  /** Every table of a stream, in order (a forest's trees). */
  def decodeAll(ipc: Array[Byte]): Seq[NodeTable] = {
    val allocator = ArrowAllocator.child("sparkpolicy-node-table-reader")
    val reader = new ArrowStreamReader(new java.io.ByteArrayInputStream(ipc), allocator)
    try {
      val root = reader.getVectorSchemaRoot
      val nArms = root.getSchema.getFields.size - Columns.size
      def int(name: String, i: Int) = root.getVector(name).asInstanceOf[IntVector].get(i)
      def bit(name: String, i: Int) = root.getVector(name).asInstanceOf[BitVector].get(i) == 1
      def dbl(name: String, i: Int) = root.getVector(name).asInstanceOf[Float8Vector].get(i)
      val tables = Vector.newBuilder[NodeTable]
      while (reader.loadNextBatch()) {
        val nodes = Vector.tabulate(root.getRowCount) { i =>
          TreeNode(int("node_id", i), bit("is_leaf", i), int("feature", i), dbl("threshold", i), int("threshold_bin", i),
            bit("missing_left", i), int("arm", i), root.getVector("count").asInstanceOf[BigIntVector].get(i),
            Vector.tabulate(nArms)(a => dbl(valueName(a), i)), bit("categorical", i))
        }
        tables += NodeTable(nArms, nodes)
      }
      tables.result()
    } finally {
      reader.close()
      allocator.close()
    }
  }
}
