package org.sparkpolicy

import java.nio.file.{Files, Path, Paths}

import scala.jdk.CollectionConverters._

import org.scalatest.funsuite.AnyFunSuite

/**
 * The package rules of docs/architecture.md, checked on the main sources so a regression fails here:
 * only `bridge` calls the natives, and `contract` depends on no stage of the fit or the transform.
 */
class PackageBoundarySuite extends AnyFunSuite {
  private val root: Path = Seq(Paths.get("src", "main"), Paths.get("jvm", "src", "main")).find(Files.isDirectory(_))
    .getOrElse(fail("run from the repository root or jvm/: src/main not found"))

  private def sources(under: Path): Seq[Path] =
    Files.walk(under).iterator().asScala.filter(p => p.toString.endsWith(".scala") || p.toString.endsWith(".java")).toSeq.sorted

  private val bridge = root.resolve(Paths.get("scala", "org", "sparkpolicy", "bridge"))
  private val bridgeJava = root.resolve(Paths.get("java", "org", "sparkpolicy", "bridge"))

  /** Lines of `file` outside comments that match `pattern`, with their numbers. */
  private def matching(file: Path, pattern: scala.util.matching.Regex): Seq[String] = {
    var inComment = false
    Files.readAllLines(file).asScala.zipWithIndex.flatMap { case (line, i) =>
      val code = new StringBuilder
      var rest = line
      while (rest.nonEmpty) {
        if (inComment) {
          val end = rest.indexOf("*/")
          if (end < 0) rest = "" else { inComment = false; rest = rest.substring(end + 2) }
        } else {
          val (start, lineComment) = (rest.indexOf("/*"), rest.indexOf("//"))
          if (lineComment >= 0 && (start < 0 || lineComment < start)) { code ++= rest.substring(0, lineComment); rest = "" }
          else if (start >= 0) { code ++= rest.substring(0, start); inComment = true; rest = rest.substring(start + 2) }
          else { code ++= rest; rest = "" }
        }
      }
      if (pattern.findFirstIn(code.toString).isDefined) Some(s"$file:${i + 1}: ${line.trim}") else None
    }.toSeq
  }

  test("only the bridge package references NativeLib") {
    val outside = sources(root).filterNot(p => p.startsWith(bridge) || p.startsWith(bridgeJava))
    assert(outside.size > 40, s"expected the main sources under $root, found ${outside.size} files")
    val offenders = outside.flatMap(matching(_, """\bNativeLib\b""".r))
    assert(offenders.isEmpty, "main sources outside org.sparkpolicy.bridge use NativeLib:\n" + offenders.mkString("\n"))
  }

  test("contract imports nothing from training, rewards, scoring, the bridge or the stages") {
    val contract = sources(root.resolve(Paths.get("scala", "org", "sparkpolicy", "contract")))
    assert(contract.map(_.getFileName.toString).contains("RowHash.scala"))
    val offenders = contract.flatMap(matching(_, """org\.sparkpolicy\.(train|rewards|score|bridge|ml|exec)\b""".r))
    assert(offenders.isEmpty, "contract depends on another package:\n" + offenders.mkString("\n"))
  }

  /** What each package may import of the toolkit (docs/architecture.md, each package.scala); `ml` may import all. */
  private val allowed: Map[String, Set[String]] = Map(
    "contract" -> Set.empty,
    "ml.model" -> Set.empty,
    "bridge" -> Set("ml.model"),
    "score" -> Set("bridge", "ml.model"),
    "train" -> Set("bridge", "contract", "ml.model"),
    "rewards" -> Set("train", "bridge", "contract", "ml.model"),
    "ml.params" -> Set("train"))

  /** `ml.model` and `ml.params` are packages of their own; otherwise the first segment names the package. */
  private def packageOf(ref: String): String = if (ref.startsWith("ml.")) ref else ref.takeWhile(_ != '.')

  test("every package imports only what its package doc allows") {
    val ref = """org\.sparkpolicy\.([a-z]+(?:\.[a-z]+)?)""".r
    val offenders = allowed.toSeq.flatMap { case (pkg, may) =>
      val dir = root.resolve(Paths.get("scala", ("org" +: "sparkpolicy" +: pkg.split('.').toSeq): _*))
      assert(Files.isDirectory(dir), s"package $pkg not found at $dir")
      sources(dir).flatMap { file =>
        matching(file, ref).filterNot(_.split(": ", 2).last.startsWith("package ")).flatMap { line =>
          ref.findAllMatchIn(line.dropWhile(_ != ' ')).map(m => packageOf(m.group(1)))
            .filterNot(used => used == pkg || may.contains(used)).map(used => s"$pkg uses $used: $line")
        }
      }
    }
    assert(offenders.isEmpty, offenders.distinct.mkString("\n"))
  }

  test("the matcher sees code, not comments") {
    val tmp = Files.createTempFile("boundary", ".scala")
    try {
      Files.write(tmp, Seq("// NativeLib in a comment", "/* and NativeLib", " here */ val x = 1", "val y = NativeLib.load()").asJava)
      assert(matching(tmp, """\bNativeLib\b""".r).map(_.takeRight(22)) == Seq("val y = NativeLib.load()".takeRight(22)))
    } finally Files.delete(tmp)
  }

  test("no main source file is over 400 lines, in Scala, Java, Rust or Python") {
    val repo = root.toAbsolutePath.getParent.getParent.getParent // <repo>/jvm/src/main
    val others = Seq(Paths.get("native", "core", "src"), Paths.get("native", "jni", "src"), Paths.get("python", "sparkpolicy"))
      .map(repo.resolve).filter(Files.isDirectory(_))
    assert(others.size == 3, s"native/ and python/ not found beside $root")
    val rustAndPython = others.flatMap(d => Files.walk(d).iterator().asScala.filter(p => p.toString.endsWith(".rs") ||
      p.toString.endsWith(".py")).toSeq)
    assert(rustAndPython.exists(_.toString.endsWith("exports.rs")) && rustAndPython.exists(_.toString.endsWith("tree.py")))
    val long = (sources(root) ++ rustAndPython).map(p => p -> Files.readAllLines(p).size).filter(_._2 > 400)
    assert(long.isEmpty, "split these files: " + long.map { case (p, n) => s"$p ($n lines)" }.mkString(", "))
  }
}
