package org.sparkpolicy.contract

import java.nio.ByteBuffer
import org.json4s._
import org.json4s.jackson.JsonMethods

/**
 * The semantic contract of a policy: feature order and types, treatment vocabulary, the
 * preprocessing manifest (per feature: kind and missing-value policy; the boundary recipe) and the
 * split boundaries, plus the reward definition. Same contract and same rows ⇒ bit-identical scores,
 * split decisions and policy, in any layout. Serialized as canonical JSON (fixed key order, no
 * whitespace) so its bytes, and so its signatures, are stable.
 */
final case class Contract(
    features: Seq[FeatureSpec],
    vocabulary: Seq[String],
    reward: RewardSpec,
    recipe: BoundaryRecipe,
    boundaries: Seq[Seq[Double]]) {
  require(boundaries.length == features.length, s"${boundaries.length} boundary arrays for ${features.length} features")

  def featureNames: Seq[String] = features.map(_.name)

  /** Canonical JSON of everything but the boundary values. */
  def manifestJson: String = Contract.canonical(manifestValue)

  /** Canonical JSON of the whole contract (manifest and boundaries). */
  def toJson: String = Contract.canonical(JObject(
    "version" -> JInt(Contract.FormatVersion),
    "manifest" -> manifestValue,
    "boundaries" -> JArray(boundaries.toList.map(b => JArray(b.toList.map(Contract.doubleValue))))))

  /** SHA-256 of the canonical manifest. */
  def manifestSignature: String = Signatures.sha256Hex(manifestJson.getBytes("UTF-8"))

  /** SHA-256 over the boundary values' IEEE bits, feature by feature. */
  def boundariesSignature: String = {
    val n = boundaries.map(_.length).sum
    val buf = ByteBuffer.allocate(4 + 4 * boundaries.length + 8 * n).putInt(boundaries.length)
    boundaries.foreach { b =>
      buf.putInt(b.length)
      b.foreach(v => buf.putLong(java.lang.Double.doubleToLongBits(v)))
    }
    Signatures.sha256Hex(buf.array())
  }

  private def manifestValue: JObject = {
    def opt(o: Option[String]): JValue = o.map(JString(_)).getOrElse(JNull)
    JObject(
      // "categories" only for categorical features, so numeric manifests (and signatures) are unchanged.
      "features" -> JArray(features.toList.map(f => JObject(List[(String, JValue)](
        "name" -> JString(f.name), "type" -> JString(f.dataType), "kind" -> JString(f.kind), "missing" -> JString(f.missing)) ++
        f.categories.map(c => "categories" -> JArray(c.toList.map(JString(_))))))),
      "vocabulary" -> JArray(vocabulary.toList.map(JString(_))),
      // The aipw recipe is appended only for AIPW, so manifests (and signatures) of earlier reward types are unchanged.
      "reward" -> JObject(List[(String, JValue)](
        "type" -> JString(reward.rewardType),
        "treatmentCol" -> opt(reward.treatmentCol),
        "rewardCols" -> JArray(reward.rewardCols.toList.map(JString(_))),
        "outcomeCol" -> opt(reward.outcomeCol),
        "propensityCol" -> opt(reward.propensityCol)) ++ reward.aipw.map(a => "aipw" -> JObject(
          "folds" -> JInt(a.folds), "foldSeed" -> JInt(a.foldSeed), "propensity" -> JString(a.propensity),
          "propensityFloor" -> Contract.doubleValue(a.propensityFloor), "outcomeModel" -> JString(a.outcomeModel)))),
      // searchBins only for exact thresholds, so manifests (and signatures) of binned searches are unchanged.
      "boundaryRecipe" -> JObject(List[(String, JValue)](
        "strategy" -> JString(recipe.strategy),
        "maxBins" -> JInt(recipe.maxBins),
        "sampleSize" -> JInt(recipe.sampleSize),
        "sampleSeed" -> JInt(recipe.sampleSeed),
        "rowIdCol" -> opt(recipe.rowIdCol)) ++ Option(recipe.searchBins).filter(_ > 0).map(b => "searchBins" -> JInt(b))))
  }
}

object Contract {
  val FormatVersion = 1

  /** Numeric features have their own missing bin; each split learns which side it goes to. */
  val MissingLearnedSide = "own-bin-learned-side"

  val Numeric = "numeric"
  val Categorical = "categorical"

  private[sparkpolicy] def canonical(v: JValue): String = JsonMethods.compact(JsonMethods.render(v))

  // JSON has no infinities; they are written as strings and read back exactly.
  private[contract] def doubleValue(d: Double): JValue =
    if (d.isInfinite) JString(if (d > 0) "Infinity" else "-Infinity") else JDouble(d)

  def fromJson(json: String): Contract = {
    implicit val formats: Formats = DefaultFormats
    val root = JsonMethods.parse(json, useBigDecimalForDouble = false)
    val version = (root \ "version").extract[Int]
    if (version != FormatVersion)
      throw new IllegalArgumentException(s"contract format version $version is not supported by this version (expects $FormatVersion)")
    val m = root \ "manifest"
    def optStr(v: JValue): Option[String] = v match {
      case JString(s) => Some(s)
      case _ => None
    }
    val features = (m \ "features").children.map(f =>
      FeatureSpec((f \ "name").extract[String], (f \ "type").extract[String], (f \ "kind").extract[String], (f \ "missing").extract[String],
        (f \ "categories") match { // json4s would read an absent list as empty
          case a: JArray => Some(a.extract[List[String]])
          case _ => None
        }))
    val r = m \ "reward"
    val aipw = (r \ "aipw") match {
      case a: JObject => Some(AipwSpec((a \ "folds").extract[Int], (a \ "foldSeed").extract[Long], (a \ "propensity").extract[String],
        (a \ "propensityFloor") match { case JDouble(d) => d; case JInt(i) => i.toDouble; case other => other.extract[Double] },
        (a \ "outcomeModel").extract[String]))
      case _ => None
    }
    val reward = RewardSpec((r \ "type").extract[String], optStr(r \ "treatmentCol"), (r \ "rewardCols").extract[List[String]],
      optStr(r \ "outcomeCol"), optStr(r \ "propensityCol"), aipw)
    val b = m \ "boundaryRecipe"
    val recipe = BoundaryRecipe((b \ "strategy").extract[String], (b \ "maxBins").extract[Int], (b \ "sampleSize").extract[Int],
      (b \ "sampleSeed").extract[Long], optStr(b \ "rowIdCol"), (b \ "searchBins").extractOpt[Int].getOrElse(0))
    val boundaries = (root \ "boundaries").children.map(_.children.map {
      case JString("Infinity") => Double.PositiveInfinity
      case JString("-Infinity") => Double.NegativeInfinity
      case JDouble(d) => d
      case JInt(i) => i.toDouble
      case other => throw new IllegalArgumentException(s"contract boundary value $other is not a number")
    })
    Contract(features, (m \ "vocabulary").extract[List[String]], reward, recipe, boundaries)
  }
}
