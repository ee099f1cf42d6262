package org.sparkpolicy.train

import org.apache.spark.TaskContext

/**
 * Test-only hook: when armed, the first attempt of partition 0 of the named stage throws, so tests
 * can prove that Spark's retry of a native task yields the same result. Disarmed unless a test arms it.
 */
private[sparkpolicy] object FaultInjection {
  @volatile var armedStage: Option[String] = None

  def maybeFail(stage: String): Unit =
    if (armedStage.contains(stage)) {
      val ctx = TaskContext.get()
      if (ctx != null && ctx.attemptNumber() == 0 && ctx.partitionId() == 0)
        throw new IllegalStateException(s"injected failure in the first attempt of '$stage' (test hook)")
    }
}
