"""vluchtelingen-in-beeld: job-seeking refugees per Dutch gemeente, from CBS open data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vluchtelingen-in-beeld")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
