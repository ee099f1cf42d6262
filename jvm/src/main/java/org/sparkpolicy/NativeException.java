package org.sparkpolicy;

/** A failure inside libsparkpolicy that is not the caller's fault (a broken invariant or a native panic). */
public class NativeException extends RuntimeException {
  public NativeException(String message) {
    super(message);
  }

  public NativeException(String message, Throwable cause) {
    super(message, cause);
  }
}
