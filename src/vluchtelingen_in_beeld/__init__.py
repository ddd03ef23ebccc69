"""vluchtelingen-in-beeld: job-seeking refugees per Dutch gemeente, from CBS open data.

The library in four steps: settings and a session (where the data comes from), a year built
once (:func:`build_year`, in :mod:`.workflow.pipeline`), and writers that take the result
(in :mod:`.render.output`; the whole job in :func:`run_all`)::

    from vluchtelingen_in_beeld import Session, Settings, build_year, write_map

    year = build_year(Session(Settings()), shapes=True)  # latest year, live CBS and PDOK
    table = year.estimate.table                          # one row per gemeente
    frame = year.geoframe()                              # the ranking with its boundaries
    write_map(year, "kaart.html", highlight_top=11)      # paths: str or Path

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
    "Session": "access.cbs",
    "VibError": "errors",
    "MethodCard": "clean.method",
    "load_card": "clean.method",
    "Estimate": "estimation.estimate",
    "Ranking": "ranking.rank",
    "YearResult": "geography.result",
    "Origin": "geography.result",
    "build_year": "workflow.pipeline",
    "estimate_year": "workflow.pipeline",
    "choose_year": "workflow.pipeline",
    "pitch_codes": "workflow.pipeline",
    "serving_snapshot": "access.snapshot",
    "snapshot_settings": "access.snapshot",
    "write_estimate": "render.output",
    "write_ranking": "render.output",
    "write_regions": "render.output",
    "write_map": "render.output",
    "write_pitch": "render.output",
    "run_all": "workflow.run",
    "write_run": "workflow.run",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"vluchtelingen_in_beeld.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vluchtelingen_in_beeld' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (the lazy exports included), for ``dir()`` and tab completion."""
    return sorted(__all__)
