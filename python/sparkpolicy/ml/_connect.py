"""What a Spark Connect client cannot call, and the error that says so."""
from pyspark.sql.utils import is_remote


class ConnectUnsupportedError(NotImplementedError):
    """A call that Spark Connect cannot make: the server only invokes model methods on its allow-list of
    Spark's own classes (``toString`` is the one our models get), and a Connect client has no JVM."""


def _not_over_connect(what: str, instead: str) -> None:
    if is_remote():
        raise ConnectUnsupportedError(
            f"{what} is not available over Spark Connect (Spark 4.1 invokes only allow-listed methods of its own "
            f"ML classes on the server); {instead}")
