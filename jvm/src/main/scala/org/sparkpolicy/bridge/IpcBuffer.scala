package org.sparkpolicy.bridge

import java.nio.ByteBuffer
import java.nio.channels.WritableByteChannel

/**
 * A reused, growable byte array that Arrow's IPC writer writes into directly: no stream wrapper
 * copying through its own chunk buffer, no final copy. Bytes `[0, length)` are the stream.
 */
private[sparkpolicy] final class IpcBuffer(initialCapacity: Int) extends WritableByteChannel {
  private var buffer = new Array[Byte](math.max(initialCapacity, 64))
  private var size = 0

  def bytes: Array[Byte] = buffer
  def length: Int = size
  def reset(): Unit = size = 0
  def toByteArray: Array[Byte] = java.util.Arrays.copyOf(buffer, size)

  override def write(src: ByteBuffer): Int = {
    val n = src.remaining()
    if (size + n > buffer.length) buffer = java.util.Arrays.copyOf(buffer, math.max(size + n, 2 * buffer.length))
    src.get(buffer, size, n)
    size += n
    n
  }

  override def isOpen: Boolean = true
  override def close(): Unit = ()
}
