package org.sparkpolicy.ml

final case class QiniResult(
    qiniAucScore: Double,
    areaModel: Double,
    areaPerfect: Double,
    areaRandom: Double,
    model: QiniCurve,
    perfect: QiniCurve,
    random: QiniCurve,
    numTreatment: Long,
    numControl: Long,
    numExcluded: Long)
