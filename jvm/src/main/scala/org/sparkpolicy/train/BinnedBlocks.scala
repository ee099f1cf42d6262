package org.sparkpolicy.train

import scala.collection.mutable

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.functions.{col, shiftRightUnsigned}
import org.apache.spark.sql.types.DoubleType
import org.apache.spark.sql.vectorized.ColumnarBatch
import org.apache.spark.storage.StorageLevel
import org.sparkpolicy.bridge.{BlockBuilder, DoubleBatchWriter, NativeConfig, TaskResources}
import org.sparkpolicy.contract.Signatures

/** A training block's bytes and its rows' key hashes (`TrainingData.RowKeyName`) in block row order; no keys for other blocks. */
private[sparkpolicy] final case class KeyedBlock(bytes: Array[Byte], rowKeys: Array[Long])

/**
 * Bins the training data once: each partition becomes compact native training blocks (feature
 * codes as u8/u16, Γ as fixed-point i64), persisted so every tree level re-reads only these bytes.
 * The outcome trees behind AIPW use the same blocks with other channels (`rewards.CrossFitting.channelColumns`).
 */
private[sparkpolicy] object BinnedBlocks extends Serializable { // its task closures call its methods
  /** Rows per Arrow batch sent to the block builder. */
  val BatchRows = 8192
  /** Bytes per training block: well below the JVM's 2 GiB array limit, and a moderate unit of memory. */
  val MaxBlockBytes: Long = 256L << 20

  /** Rows per block for F features and K arms (≤ 2 bytes per code, 8 per reward). */
  def maxBlockRows(nFeatures: Int, nArms: Int): Int =
    math.max(1L, math.min(1L << 20, MaxBlockBytes / (2L * nFeatures + 8L * nArms))).toInt

  def build(data: TrainingData, edges: Array[Array[Double]], shift: Int): RDD[Array[Byte]] =
    buildFrom(data.frame, data.nFeatures, data.nArms, edges, shift, None, "sparkpolicy training blocks")

  /**
   * The training blocks with each row's key hash beside them (`TrainingData.RowKeyName`, in block row
   * order), so the output signature can be signed from the blocks once the tree is grown.
   */
  def buildKeyed(data: TrainingData, edges: Array[Array[Double]], shift: Int, rowHashChannel: Boolean = false): RDD[KeyedBlock] = {
    val (nFeatures, nArms) = (data.nFeatures, data.nArms)
    // A forest's blocks carry each row's sample hash as one more, unscaled channel (`RowSample`'s input):
    // its top 53 bits, so the double the writer carries holds it exactly.
    val channels = nArms + (if (rowHashChannel) 1 else 0)
    // With numeric features only, the row keys are hashed here from the values the blocks get (a categorical
    // feature's key is its label, which the blocks do not see: then the frame's key column is read).
    val keys = if (data.categoricalFlags.contains(true)) RowKeys.Column(nFeatures + channels) else RowKeys.FromValues
    // Only what the blocks hold: the sample hash behind Γ is not computed again.
    val columns = ((0 until nFeatures).map(TrainingData.featureName) ++ (0 until nArms).map(TrainingData.rewardName)).map(col) ++
      (if (rowHashChannel) Seq(shiftRightUnsigned(col(TrainingData.SampleHashName), 11).cast(DoubleType)) else Nil) ++
      (if (keys == RowKeys.FromValues) Nil else Seq(col(TrainingData.RowKeyName)))
    // Broadcast, not captured: a captured array rides in the task binary of every stage that reads the
    // blocks (each level, refinement, the output signature), 8 MB per task at 20 features × 50,000 edges.
    val shared = data.frame.sparkSession.sparkContext.broadcast(edges)
    val frame = data.frame.select(columns: _*)
    // The source's column vectors where its plan allows (a key column is a SQL hash: rows then).
    val vectors = if (keys == RowKeys.FromValues) ColumnarInput.batches(frame) else None
    val unscaledFrom = if (rowHashChannel) Some(nArms) else None
    def blocks(feed: Feed): Iterator[KeyedBlock] = {
      FaultInjection.maybeFail("binning")
      encodeFeed(feed, nFeatures, channels, shared.value, shift, unscaledFrom, keys)
    }
    vectors.map(_.mapPartitions(it => blocks(new BatchFeed(it))))
      .getOrElse(frame.queryExecution.toRdd.mapPartitions(it => blocks(new RowFeed(it, keys))))
      .setName("sparkpolicy training blocks")
      .persist(StorageLevel.MEMORY_AND_DISK)
  }

  /** Blocks of the first `nFeatures` + `nChannels` columns of `frame` (features, then channels, all double). */
  def buildFrom(frame: DataFrame, nFeatures: Int, nChannels: Int, edges: Array[Array[Double]], shift: Int,
      unscaledFrom: Option[Int], name: String): RDD[Array[Byte]] = {
    // Broadcast, not captured: with exact thresholds the fine edges reach 2^20 doubles.
    val shared = frame.sparkSession.sparkContext.broadcast(edges)
    frame.queryExecution.toRdd
      .mapPartitions { rows =>
        FaultInjection.maybeFail("binning")
        encode(rows, nFeatures, nChannels, shared.value, shift, unscaledFrom)
      }
      .setName(name)
      .persist(StorageLevel.MEMORY_AND_DISK)
  }

  /** One partition's rows as native blocks; also called without Spark (a single in-process "partition"). */
  def encode(rows: Iterator[InternalRow], nFeatures: Int, nChannels: Int, edges: Array[Array[Double]], shift: Int,
      unscaledFrom: Option[Int]): Iterator[Array[Byte]] =
    encodeKeyed(rows, nFeatures, nChannels, edges, shift, unscaledFrom, RowKeys.Absent).map(_.bytes)

  /** Where a block's row keys come from. */
  private sealed trait RowKeys extends Serializable
  private object RowKeys {
    case object Absent extends RowKeys
    /** `Signatures.numericRowKeys` of the features, as each batch is drained. */
    case object FromValues extends RowKeys
    /** The row's long at this ordinal. */
    final case class Column(ordinal: Int) extends RowKeys
  }

  /** A partition's input, handed to the block writer a run of rows at a time. */
  private sealed trait Feed {
    def hasNext: Boolean

    /** Writes up to `max` (> 0) more rows into `writer`, and their keys into `keys` when the feed has them; how many. */
    def fill(writer: DoubleBatchWriter, max: Int, keys: mutable.ArrayBuilder.ofLong): Int
  }

  /** Catalyst rows: features, then channels (all double), then the key column when `rowKeys` is `Column`. */
  private final class RowFeed(rows: Iterator[InternalRow], rowKeys: RowKeys) extends Feed {
    private val keyAt = rowKeys match { case RowKeys.Column(i) => i; case _ => -1 }
    def hasNext: Boolean = rows.hasNext
    def fill(writer: DoubleBatchWriter, max: Int, keys: mutable.ArrayBuilder.ofLong): Int = {
      val width = writer.columns
      var n = 0
      while (n < max && rows.hasNext) {
        val row = rows.next()
        if (keyAt >= 0) keys += row.getLong(keyAt)
        var c = 0
        while (c < width) {
          if (row.isNullAt(c)) writer.setNull(c) else writer.set(c, row.getDouble(c))
          c += 1
        }
        writer.endRow()
        n += 1
      }
      n
    }
  }

  /** The source's column batches (`ColumnarInput`), the writer's columns first; copied a column run at a time. */
  private final class BatchFeed(batches: Iterator[ColumnarBatch]) extends Feed {
    private var batch: ColumnarBatch = _
    private var offset = 0
    def hasNext: Boolean = {
      while ((batch == null || offset == batch.numRows()) && batches.hasNext) { batch = batches.next(); offset = 0 }
      batch != null && offset < batch.numRows()
    }
    def fill(writer: DoubleBatchWriter, max: Int, keys: mutable.ArrayBuilder.ofLong): Int =
      if (!hasNext) 0
      else {
        val n = math.min(max, batch.numRows() - offset)
        var c = 0
        while (c < writer.columns) { writer.putVector(c, batch.column(c), offset, n); c += 1 }
        writer.endRows(n)
        offset += n
        n
      }
  }

  /** [[encode]], with each row's key gathered beside its block. */
  private def encodeKeyed(rows: Iterator[InternalRow], nFeatures: Int, nChannels: Int, edges: Array[Array[Double]], shift: Int,
      unscaledFrom: Option[Int], rowKeys: RowKeys): Iterator[KeyedBlock] =
    encodeFeed(new RowFeed(rows, rowKeys), nFeatures, nChannels, edges, shift, unscaledFrom, rowKeys)

  private def encodeFeed(feed: Feed, nFeatures: Int, nChannels: Int, edges: Array[Array[Double]], shift: Int,
      unscaledFrom: Option[Int], rowKeys: RowKeys): Iterator[KeyedBlock] =
    if (!feed.hasNext) Iterator.empty
    else {
      val config = NativeConfig.Block(nChannels, edges.map(_.length).toSeq, shift, unscaledFrom)
      val flatEdges = edges.flatten
      val names = (0 until nFeatures).map(TrainingData.featureName) ++ (0 until nChannels).map(TrainingData.rewardName)
      val blockRows = maxBlockRows(nFeatures, nChannels)
      val writer = new DoubleBatchWriter(names, BatchRows)
      TaskResources.closeAtTaskEnd(writer)
      new Iterator[KeyedBlock] {
        def hasNext: Boolean = feed.hasNext
        def next(): KeyedBlock = {
          val builder = BlockBuilder.open(config, flatEdges)
          val keys = new mutable.ArrayBuilder.ofLong
          def push(): Unit = {
            if (rowKeys == RowKeys.FromValues)
              keys ++= Signatures.numericRowKeys(writer.columnValues, writer.missingRows, nFeatures, writer.rowCount)
            builder.push(writer.drain())
          }
          try {
            var n = 0
            while (n < blockRows && feed.hasNext) {
              n += feed.fill(writer, math.min(BatchRows - writer.rowCount, blockRows - n), keys)
              if (writer.rowCount == BatchRows) push()
            }
            if (writer.rowCount > 0) push()
            KeyedBlock(builder.finish(), keys.result())
          } finally {
            builder.close()
            // Outside a task nothing else closes the writer.
            if (!feed.hasNext && org.apache.spark.TaskContext.get() == null) writer.close()
          }
        }
      }
    }
}
