package org.sparkpolicy.bridge

import org.apache.spark.TaskContext

/** Ties native handles to the running task: closed when the task ends, whatever way it ends. */
private[sparkpolicy] object TaskResources {
  /** Registers `close(handle)` at task completion (if in a task) and returns a closer for early release. */
  def closeAtTaskEnd(handle: Long): () => Unit = {
    val closed = new java.util.concurrent.atomic.AtomicBoolean(false)
    val close = () => if (closed.compareAndSet(false, true)) NativeLib.close(handle)
    Option(TaskContext.get()).foreach(_.addTaskCompletionListener[Unit](_ => close()))
    close
  }

  def closeAtTaskEnd(resource: AutoCloseable): Unit =
    Option(TaskContext.get()).foreach(_.addTaskCompletionListener[Unit](_ => resource.close()))
}
