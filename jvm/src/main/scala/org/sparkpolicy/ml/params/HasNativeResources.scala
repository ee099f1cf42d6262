package org.sparkpolicy.ml.params

import org.apache.spark.SparkContext
import org.apache.spark.ml.param._

/**
 * What the native kernels of one task may use. Every stage that runs kernels (the learner,
 * `DoublyRobustScores`) has these and resolves them once, with [[nativeResources]].
 */
trait HasNativeResources[S] extends Params { self: S =>
  final val maxMemoryMB: IntParam = new IntParam(this, "maxMemoryMB",
    "per-task native histogram budget in MiB; frontier nodes and feature blocks are grouped to fit", ParamValidators.gtEq(1))
  final val nativeThreads: IntParam = new IntParam(this, "nativeThreads",
    "native threads per task for histograms; 0 uses spark.task.cpus. Results do not depend on it", ParamValidators.gtEq(0))
  setDefault(maxMemoryMB -> 256, nativeThreads -> 0)

  final def getMaxMemoryMB: Int = $(maxMemoryMB)
  final def getNativeThreads: Int = $(nativeThreads)

  final def setMaxMemoryMB(value: Int): S = set(maxMemoryMB, value)
  final def setNativeThreads(value: Int): S = set(nativeThreads, value)

  /** The settings in force for a job on `sc`: `nativeThreads`, or `spark.task.cpus` when it is 0. */
  private[sparkpolicy] def nativeResources(sc: SparkContext): NativeResources =
    NativeResources($(maxMemoryMB), if ($(nativeThreads) > 0) $(nativeThreads) else sc.getConf.getInt("spark.task.cpus", 1))
}

/** A stage's native settings, resolved: the per-task histogram budget and the threads per task. */
private[sparkpolicy] final case class NativeResources(maxMemoryMB: Int, threads: Int)
