"""vluchtelingen-in-beeld: job-seeking refugees per Dutch gemeente, from CBS open data.

The library in four steps: settings and a session (where the data comes from), a year built
once (:func:`build_year`, in :mod:`.pipeline`), and writers that take the result (in
:mod:`.output`; the whole job in :func:`run_all`)::

    from vluchtelingen_in_beeld import Session, Settings, build_year, write_map

    year = build_year(Session(Settings()), shapes=True)  # latest year, live CBS and PDOK
    table = year.estimate.table                          # one row per gemeente
    frame = year.geoframe()                              # the ranking with its boundaries
    write_map(year, "kaart.html", highlight_top=11)      # paths: str or Path

Heavy modules load on first use, so ``import vluchtelingen_in_beeld`` stays fast.

Stage: orchestration (the front door).
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
    "Ranking": "rank",
    "YearResult": "result",
    "Origin": "result",
    "build_year": "pipeline",
    "estimate_year": "pipeline",
    "choose_year": "pipeline",
    "pitch_codes": "pipeline",
    "serving_snapshot": "snapshot",
    "snapshot_settings": "snapshot",
    "write_estimate": "output",
    "write_ranking": "output",
    "write_regions": "output",
    "write_map": "output",
    "write_pitch": "output",
    "run_all": "run",
    "write_run": "run",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"vluchtelingen_in_beeld.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vluchtelingen_in_beeld' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (the lazy exports included), for ``dir()`` and tab completion."""
    return sorted(__all__)
