package org.sparkpolicy.bridge

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{GenericInternalRow, UnsafeProjection}
import org.apache.spark.sql.types._
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector
import org.sparkpolicy.ml.model.{NodeTable, TreeNode}
import org.sparkpolicy.score.PartitionScorer

/**
 * Scoring without Spark's scheduler or a file source: in-memory UnsafeRows through the batch
 * scorer and the same UnsafeProjection the scan applies, to profile the per-row cost alone.
 * Not a benchmark of record (see SparkBench); a profiling aid: `ScoringProbe [rows] [reps] [batch]`.
 */
object ScoringProbe {
  /** A monomorphic iterator, as generated code gives the scorer (a generic ArrayIterator reads through reflection). */
  private def input(rows: Array[InternalRow]): Iterator[InternalRow] = new Iterator[InternalRow] {
    private var i = 0
    def hasNext: Boolean = i < rows.length
    def next(): InternalRow = { i += 1; rows(i - 1) }
  }

  def main(args: Array[String]): Unit = {
    val n = args.headOption.map(_.toInt).getOrElse(2000000)
    val reps = if (args.length > 1) args(1).toInt else 5
    val batch = if (args.length > 2) args(2).toInt else 4096
    val f = 10
    val schema = StructType((0 until f).map(i => StructField(s"x$i", DoubleType)))
    val toUnsafe = UnsafeProjection.create(schema)
    val rnd = new java.util.Random(7)
    val rows = Array.tabulate[InternalRow](n) { _ =>
      toUnsafe(new GenericInternalRow(Array.fill[Any](f)(rnd.nextDouble()))).copy()
    }
    // A depth-3 tree on x0..x2.
    val nodes = (1 to 15).map { id =>
      if (id >= 8) TreeNode(id, isLeaf = true, -1, Double.NaN, -1, missingLeft = false, arm = id % 3, count = 1L, Vector(0.1 * id, 0.2, 0.3))
      else TreeNode(id, isLeaf = false, feature = (id - 1) % 3, threshold = 0.5, thresholdBin = 0, missingLeft = true, arm = 0, count = 1L, Vector(0.0, 0.0, 0.0))
    }
    val tree = NodeTable(3, nodes.toVector)
    val payload = ScoringPayload(NodeTableIpc.encode(tree), tree.contentHash, f, 3)
    val outSchema = schema.add("a", StringType).add("i", IntegerType).add("s", ArrayType(DoubleType, false)).add("l", IntegerType)
    for (r <- 0 until reps) {
      val t0 = System.nanoTime()
      var sink = 0L
      val it = input(rows)
      while (it.hasNext) sink += it.next().getDouble(0).toLong
      val t1 = System.nanoTime()
      val proj = UnsafeProjection.create(outSchema)
      val out = PartitionScorer.scoreInternal(input(rows), payload, Array("a", "b", "c"), Array.tabulate(f)(identity), Nil, batch)
      while (out.hasNext) sink += proj(out.next()).getInt(f + 1)
      val t2 = System.nanoTime()
      println(f"rep $r: iterate ${(t1 - t0) / 1e6}%.0f ms, score ${(t2 - t1) / 1e6}%.0f ms = ${(t2 - t1).toDouble / n}%.0f ns/row ($sink)")
    }
    columnar(rows, payload, reps, batch)
  }

  /** The columnar path's steps, timed apart: feature copy into the writer, IPC write, native call (writing the reply's arrays). */
  private def columnar(rows: Array[InternalRow], payload: ScoringPayload, reps: Int, batch: Int): Unit = {
    val f = payload.nFeatures
    val vectors = OnHeapColumnVector.allocateColumns(batch, StructType((0 until f).map(i => StructField(s"x$i", DoubleType))))
    (0 until batch).foreach(i => (0 until f).foreach(c => vectors(c).putDouble(i, rows(i).getDouble(c))))
    val batches = rows.length / batch
    val scorer = new TaskScorer(payload, batch)
    val out = scorer.columns(batch)
    for (r <- 0 until reps) {
      val t = new Array[Long](3)
      var sink = 0L
      (0 until batches).foreach { _ =>
        val t0 = System.nanoTime()
        (0 until f).foreach(c => scorer.putVector(c, vectors(c), 0, batch))
        scorer.endRows(batch)
        val t1 = System.nanoTime()
        val ipc = scorer.drain()
        val t2 = System.nanoTime()
        scorer.scoreNative(ipc, out, 0)
        sink += out.leaf(0)
        val t3 = System.nanoTime()
        Seq(t1 - t0, t2 - t1, t3 - t2).zipWithIndex.foreach { case (d, i) => t(i) += d }
      }
      val perRow = t.map(_.toDouble / (batches.toLong * batch))
      println(f"columnar rep $r: copy ${perRow(0)}%.1f, IPC write ${perRow(1)}%.1f, native and reply ${perRow(2)}%.1f ns/row ($sink)")
    }
    scorer.close()
  }
}
