package org.sparkpolicy.bridge;

import org.sparkpolicy.NativeException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The natives of libsparkpolicy and the loader that brings the library into the JVM. Only the
 * {@code org.sparkpolicy.bridge} package calls them ({@code PackageBoundarySuite} fails otherwise): it
 * owns every format that crosses, and the rest of the toolkit sees typed Scala values.
 *
 * <p>The library travels inside the jar under a platform folder ({@code linux-x86_64/}). {@link
 * #load()} extracts it once per JVM to a file named with its version and content hash (written to a
 * temp file, then atomically renamed, so concurrent executors never load a half-written file),
 * calls {@link System#load}, and checks the ABI handshake. Set {@code -Dsparkpolicy.native.dir} (or
 * {@code SPARKPOLICY_NATIVE_DIR}) where {@code /tmp} is mounted {@code noexec}, and {@code
 * -Dsparkpolicy.native.path} to load a library built by hand.
 *
 * <p>Every native runs inside a Rust guard: bad input raises {@link IllegalArgumentException},
 * anything else {@link NativeException}; a native panic never aborts the JVM.
 */
final class NativeLib {
  /** Must equal {@code sparkpolicy_core::ABI_VERSION}. */
  public static final int ABI_VERSION = 15;

  private static final String LIBRARY = "libsparkpolicy.so";
  private static volatile boolean loaded = false;

  private NativeLib() {}

  /** Loads the native library once per JVM; later calls return at once. */
  public static void load() {
    if (loaded) return;
    synchronized (NativeLib.class) {
      if (loaded) return;
      Path path = explicitPath();
      if (path == null) path = extract();
      try {
        System.load(path.toString());
      } catch (UnsatisfiedLinkError e) {
        String hint =
            e.getMessage() != null && e.getMessage().contains("another classloader")
                ? " The jar is on two classloaders (e.g. --jars plus addArtifacts); put it on one."
                : "";
        throw new NativeException("could not load " + path + ": " + e.getMessage() + hint, e);
      }
      int abi = abiVersion();
      if (abi != ABI_VERSION) {
        throw new NativeException(
            "native library " + path + " has ABI version " + abi + " but this jar expects "
                + ABI_VERSION + "; rebuild with `make jar` so both come from one build");
      }
      loaded = true;
    }
  }

  /** The jar's platform folder for this JVM, e.g. {@code linux-x86_64}. */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osName = os.contains("linux") ? "linux" : os.contains("mac") ? "darwin" : os.replace(' ', '_');
    String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "aarch64" : arch;
    return osName + "-" + archName;
  }

  private static Path explicitPath() {
    String p = System.getProperty("sparkpolicy.native.path");
    return p == null || p.isEmpty() ? null : Paths.get(p);
  }

  private static Path extract() {
    String resource = "/" + platform() + "/" + LIBRARY;
    byte[] bytes;
    try (InputStream in = NativeLib.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new NativeException(
            "this jar has no native library for platform " + platform() + " (looked for " + resource
                + "); it bundles linux-x86_64 only. Build from source on this platform with `make jar` "
                + "(needs cargo and Maven), or point -Dsparkpolicy.native.path at a libsparkpolicy you built");
      }
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new NativeException("could not read " + resource + " from the jar", e);
    }
    String hash = sha256(bytes).substring(0, 16);
    Path dir = nativeDir();
    Path target = dir.resolve("libsparkpolicy-" + version() + "-" + hash + ".so");
    try {
      Files.createDirectories(dir);
      // Reuse an extracted copy only if its content hash matches: never load a file someone else placed.
      if (!Files.exists(target) || !sha256(Files.readAllBytes(target)).startsWith(hash)) {
        Path tmp = Files.createTempFile(dir, "libsparkpolicy-", ".tmp");
        Files.write(tmp, bytes);
        try {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new NativeException(
          "could not extract the native library to " + dir + " (" + e + "); set -Dsparkpolicy.native.dir "
              + "or SPARKPOLICY_NATIVE_DIR to a writable directory that allows executables", e);
    }
    return target;
  }

  private static Path nativeDir() {
    String dir = System.getProperty("sparkpolicy.native.dir");
    if (dir == null || dir.isEmpty()) dir = System.getenv("SPARKPOLICY_NATIVE_DIR");
    if (dir == null || dir.isEmpty()) {
      // Per user, so users on a shared host never share (or clobber) each other's copy.
      String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
      dir = Paths.get(System.getProperty("java.io.tmpdir"), "sparkpolicy-native-" + user).toString();
    }
    return Paths.get(dir);
  }

  private static String version() {
    String v = NativeLib.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- natives: see native/jni/src/exports.rs --------------------------------------------------

  static native int abiVersion();

  /** Fixed-point shift for {@code nRows} rewards of magnitude at most {@code maxAbs}. */
  static native int rewardShift(long nRows, double maxAbs);

  /** Opens a builder that bins Arrow batches (features, then rewards) into one training block. */
  static native long blockBuilderOpen(byte[] configJson, double[] flatEdges);

  /** The first {@code length} bytes of {@code arrowIpc}: one Arrow IPC stream of feature batches. */
  static native void blockBuilderPush(long builder, byte[] arrowIpc, int length);

  static native byte[] blockBuilderFinish(long builder);

  /**
   * Sets this process's decoded-block cache budget in bytes (0 turns it off; see
   * {@code native/core/src/block_cache.rs}); returns the bytes it holds.
   */
  static native long blockCacheBudget(long bytes);

  /** Opens a level's histogram kernel for one partition: the tree (Arrow IPC node table) and its config. */
  static native long kernelOpen(byte[] treeIpc, byte[] configJson);

  static native void kernelAddBlock(long kernel, byte[] block);

  /** Histograms of one chunk: {@code [slot][feature][code][K sums, count]}. */
  static native long[] kernelEmit(long kernel, int chunk);

  /** Peak native bytes of a kernel so far: its blocks and row routing plus its largest chunk. */
  static native long kernelPeakBytes(long kernel);

  /** Opens a level's threshold-refinement kernel for one partition (`refine.rs`): the tree and its config. */
  static native long refineKernelOpen(byte[] treeIpc, byte[] configJson);

  static native void refineKernelAddBlock(long kernel, byte[] block);

  /** The window histograms of one chunk of windows. */
  static native long[] refineKernelEmit(long kernel, int chunk);

  /** The split record of one merged refine group histogram ({@code refine_split_config}). */
  static native long[] refineSplit(long[] histogram, byte[] configJson);

  /**
   * The best split of a merged (node, feature block) histogram, as a flat split record, over the block's
   * features whose byte in {@code allowedFeatures} is nonzero (an empty array: every feature).
   */
  static native long[] bestSplit(long[] histogram, byte[] configJson, byte[] allowedFeatures);

  /**
   * Opens a level's pair-histogram kernel (the two-level search) for one partition: the tree (Arrow IPC
   * node table) and its config ({@code NativeConfig.Pair}).
   */
  static native long pairKernelOpen(byte[] treeIpc, byte[] configJson);

  static native void pairKernelAddBlock(long kernel, byte[] block);

  /** Pair histograms of one chunk: {@code [slot][root][g][code_r][code_g][K sums, count]} (pair_layout.rs). */
  static native long[] pairKernelEmit(long kernel, int chunk);

  /** Peak native bytes of a pair kernel so far: its blocks and row routing plus its largest chunk. */
  static native long pairKernelPeakBytes(long kernel);

  /**
   * The root split of the best depth-2 subtree of a merged (node, root feature block) pair histogram, as a
   * pair record (a split record and the subtree's two children, pair_record.rs).
   */
  static native long[] bestSubtree(long[] histogram, byte[] configJson);

  /** An outcome-tree node's own score from its totals {@code [S_0..S_{A-1}, n_0..n_{A-1}, ..]} (outcome.rs). */
  static native double outcomeScore(long[] totals, int arms);

  /**
   * Each row's leaf (heap id) in a finished tree (Arrow IPC node table), one per row of a training block,
   * from its bin codes: the training output signature is taken from the blocks instead of re-scoring.
   */
  static native int[] blockLeaves(byte[] treeIpc, byte[] configJson, byte[] block);

  /**
   * Compiles a node table (or, with {@code forest} in the config, one node table per tree) into an
   * immutable, thread-safe model.
   */
  static native long modelCompile(byte[] modelIpc, byte[] configJson);

  /** A task's scorer over a compiled model; close it at task completion. */
  static native long scorerOpen(long model);

  /**
   * Scores the Arrow IPC stream of feature batches in {@code arrowIpc[0, length)} into the arrays from row {@code at}
   * (reply.rs's score columns): {@code action}, and a tree's {@code leaf} or a forest's {@code scores} (K a row) and,
   * when non-null, {@code leaves} (T a row). Returns the rows scored.
   */
  static native int scoreInto(long scorer, byte[] arrowIpc, int length, int at, int[] action, int[] leaf, double[] scores, int[] leaves);

  /** The scorer's leaves as one Arrow IPC batch (leaf, scores): a row's scores are its leaf's. A tree's only. */
  static native byte[] scorerLeafTable(long scorer);

  /** Frees any handle; idempotent. */
  static native void close(long handle);

  /** Handles currently open in this JVM (for leak checks in tests). */
  static native int liveHandles();

  /** Exercises the native error guard: 1 panics, 2 internal error, 3 invalid input; else echoes. */
  static native int selfTest(int mode);

  /**
   * Decodes {@code payload} with the Rust module that owns {@code format} and encodes it again (for the
   * round-trip tests of every cross-JNI format; see {@code WireFormatSuite}).
   */
  static native byte[] wireRoundTrip(String format, byte[] payload);
}
