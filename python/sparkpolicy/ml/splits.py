"""Train/test splits and cross-validation folds by a seeded row hash (Scala: ``org.sparkpolicy.ml.HashSplit``).

On a classic session they call the Scala ``HashSplit``; a Spark Connect client has no JVM, so they build the
same expression from DataFrame functions (:func:`_hash_unit`, the one Python definition of ``HashSplit.unit``;
``tests/test_evaluation.py`` checks that both pick the same rows).
"""
from typing import List

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.utils import is_remote


def _seq(spark, values):
    return spark.sparkContext._jvm.PythonUtils.toSeq(list(values))


def _hash_unit(df: DataFrame, key_cols, seed: int):
    """HashSplit.unit in DataFrame functions, for Connect clients (no JVM): the same expression, so the
    same rows. xxhash64 of the seed (a bigint literal, as in Scala), then (isNull, value) per key column,
    pmod 2^53, / 2^53: a double in [0, 1)."""
    keys = list(key_cols) or df.columns
    for c in keys:
        if c not in df.columns:
            raise ValueError(f"keyCols: column '{c}' does not exist; available columns: {', '.join(df.columns)}")
    cols = [F.lit(int(seed)).cast("bigint")]
    for c in keys:
        ref = F.col("`" + c.replace("`", "``") + "`")
        cols += [ref.isNull(), ref]
    return F.pmod(F.xxhash64(*cols), F.lit(1 << 53).cast("bigint")).cast("double") / F.lit(float(1 << 53))


def _remote_train_test_split(df: DataFrame, train_fraction: float, key_cols, seed: int):
    if not 0 < train_fraction < 1:
        raise ValueError(f"trainFraction must be in (0, 1), got {train_fraction}")
    u = _hash_unit(df, key_cols, seed)
    return df.where(u < float(train_fraction)), df.where(u >= float(train_fraction))


def _remote_with_fold_column(df: DataFrame, k: int, fold_col: str, key_cols, seed: int) -> DataFrame:
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    fold = F.least(F.floor(_hash_unit(df, key_cols, seed) * int(k)).cast("int"), F.lit(int(k) - 1))
    return df.withColumn(fold_col, fold)


def train_test_split(df: DataFrame, train_fraction: float, key_cols: List[str] = (), seed: int = 17):
    """(train, test) decided by a hash of ``key_cols`` (all columns if empty): the same in any layout."""
    if is_remote():
        return _remote_train_test_split(df, train_fraction, key_cols, seed)
    jvm = df.sparkSession.sparkContext._jvm
    pair = jvm.org.sparkpolicy.ml.HashSplit.trainTestSplit(df._jdf, float(train_fraction), _seq(df.sparkSession, key_cols), int(seed))
    return DataFrame(pair._1(), df.sparkSession), DataFrame(pair._2(), df.sparkSession)


def with_fold_column(df: DataFrame, k: int, fold_col: str = "fold", key_cols: List[str] = (), seed: int = 23) -> DataFrame:
    """Adds an integer fold column in 0..k-1 from a row hash, for ``CrossValidator.setFoldCol``."""
    if is_remote():
        return _remote_with_fold_column(df, k, fold_col, key_cols, seed)
    jvm = df.sparkSession.sparkContext._jvm
    return DataFrame(jvm.org.sparkpolicy.ml.HashSplit.withFoldColumn(df._jdf, int(k), fold_col, _seq(df.sparkSession, key_cols), int(seed)),
                     df.sparkSession)
