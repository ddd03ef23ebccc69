"""vluchtelingen-in-beeld: job-seeking refugees per Dutch gemeente, from CBS open data.

The library in four steps: settings and a session (where the data comes from), a year built
once (:func:`build_year`), and writers that take the result::

    from pathlib import Path
    from vluchtelingen_in_beeld import Session, Settings, build_year, write_map

    year = build_year(Session(Settings()), shapes=True)  # latest year, live CBS and PDOK
    table = year.estimate.table                          # one row per gemeente
    write_map(year, Path("kaart.html"), highlight_top=11)

Heavy modules load on first use, so ``import vluchtelingen_in_beeld`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("vluchtelingen-in-beeld")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

#: public name -> module that defines it
_EXPORTS = {
    "Settings": "settings",
    "Session": "cbs",
    "VibError": "errors",
    "MethodCard": "method",
    "load_card": "method",
    "Estimate": "estimate",
    "YearResult": "year",
    "build_year": "year",
    "estimate_year": "api",
    "choose_year": "api",
    "serving_snapshot": "snapshot",
    "write_estimate": "output",
    "write_ranking": "output",
    "write_regions": "output",
    "write_map": "output",
    "write_pitch": "output",
    "run_all": "run",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"vluchtelingen_in_beeld.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vluchtelingen_in_beeld' has no attribute {name!r}")
