"""How saved stages find their JVM class, on a classic session and over Spark Connect.

pyspark derives the JVM class from the Python class: ``clazz.__module__`` with "pyspark" replaced by
"org.apache.spark", plus ``clazz.__name__``. Our classes live in ``sparkpolicy.ml.<module>``, so both
readers are told the Scala package instead: the classic one by :class:`_Reader`, the Connect one through a
stand-in class whose ``__module__`` is ``org.sparkpolicy.ml`` (the alias module in ``python/org``).
"""
from pyspark.ml.util import JavaMLReadable, JavaMLReader
from pyspark.sql.utils import is_remote

_JAVA_PACKAGE = "org.sparkpolicy.ml"


class _Reader(JavaMLReader):
    """Loads through ``org.sparkpolicy.ml.<Class>.read`` (pyspark would look under org.apache.spark)."""

    @classmethod
    def _java_loader_class(cls, clazz) -> str:
        return f"{_JAVA_PACKAGE}.{clazz.__name__}"


def _reader(cls):
    if is_remote():
        from pyspark.ml.connect.readwrite import RemoteMLReader

        # pyspark names the JVM class after the Python module ("pyspark." -> "org.apache.spark."); a stand-in
        # whose module is org.sparkpolicy.ml (the alias package) makes it ask the server for our class, and
        # the instance it then builds is the real class, imported from that alias module.
        return RemoteMLReader(type(cls)(cls.__name__, (cls,), {"__module__": _JAVA_PACKAGE}))
    return _Reader(cls)


class _JvmReadable(JavaMLReadable):
    """``Stage.read()`` / ``Stage.load(path)`` for the stages of ``org.sparkpolicy.ml``."""

    @classmethod
    def read(cls) -> _Reader:
        return _reader(cls)
