"""One year's result: what every output of a year is made from (:class:`YearResult`).

A result holds the inputs, the estimate and its draws, the regions and their totals,
growth, the ranking, the gemeente shapes, the sources, the notes and the snapshot's
warnings, each computed once from one source of truth for the year (``result.year``).
:func:`~.pipeline.build_year` makes one; the renderers (:mod:`.output`, :mod:`.maps`,
:mod:`.pitch`, :mod:`.index`) take one and need no session: they do no I/O but writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Literal

import pandas as pd

from vluchtelingen_in_beeld.clean.inputs import Growth, Inputs
from vluchtelingen_in_beeld.clean.method import MethodCard
from vluchtelingen_in_beeld.clean.names import GemeenteNames
from vluchtelingen_in_beeld.clean.regions import Regions, level_columns
from vluchtelingen_in_beeld.estimation.estimate import Estimate
from vluchtelingen_in_beeld.estimation.peers import peers
from vluchtelingen_in_beeld.estimation.totals import region_totals
from vluchtelingen_in_beeld.fmt import nl_about
from vluchtelingen_in_beeld.ranking.rank import Ranking
from vluchtelingen_in_beeld.ranking.reference import compare_reference
from vluchtelingen_in_beeld.records import SourceRecord
from vluchtelingen_in_beeld.settings import Settings, public_source

if TYPE_CHECKING:
    import geopandas as gpd

    from vluchtelingen_in_beeld.estimation.trend import Trend
    from vluchtelingen_in_beeld.geography.geo import Boundaries


@dataclass(frozen=True)
class Origin:
    """Where a result's numbers come from, as outputs state it (no paths, no session)."""

    #: ``cbs:<host>`` for a CBS-protocol server, ``snapshot:<name>@<sha256>`` for a snapshot
    source: str
    #: the snapshot's name and checksum, e.g. ``statline (sha256 1a2b…)``; empty for live CBS
    snapshot_label: str = ""
    #: (table, ExplanatoryText) of the snapshot's tables: its own warning texts
    snapshot_warnings: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Origin:
        """The origin of what ``settings`` read."""
        source = public_source(settings.source)  # no host or port of the user's own server
        return cls(source, settings.snapshot_label, settings.snapshot_warnings)

    @property
    def is_snapshot(self) -> bool:
        """Whether the numbers come from a snapshot (so may not be real)."""
        return bool(self.snapshot_label or self.snapshot_warnings)

    @property
    def warning(self) -> str:
        """The snapshot's own warning text in one Dutch sentence, or ``""`` for live CBS."""
        if not self.is_snapshot:
            return ""
        texts = dict(self.snapshot_warnings)
        unique = list(dict.fromkeys(texts.values()))
        tables = ", ".join(texts) or self.snapshot_label
        body = " ".join(unique) if unique else "Deze snapshot bevat geen toelichting."
        return (
            f"Gemaakt met snapshot {self.snapshot_label} ({tables}), niet met live "
            f"CBS-gegevens: {body}"
        )


@dataclass(frozen=True)
class Shapes:
    """Checked gemeente boundaries of a year and their simplified geometry (RD New)."""

    boundaries: Boundaries
    frame: gpd.GeoDataFrame  # index statcode; columns geometry, naam
    tolerance: float


@dataclass
class YearResult:
    """Everything for one year, each piece computed once (see :func:`build_year`)."""

    year: int
    card: MethodCard
    estimate: Estimate
    regions: Regions
    growth: Growth
    ranking: Ranking
    origin: Origin
    inputs: Inputs | None = None
    shapes: Shapes | None = None
    _totals: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _comparison: pd.DataFrame | None = field(default=None, repr=False)
    _peers: pd.DataFrame | None = field(default=None, repr=False)
    #: the estimate over the years the origin table serves (:func:`~.pipeline.year_trend`)
    trend: Trend | None = None

    @property
    def year_note(self) -> str:
        """Why this year, when the tool chose it (latest with the card's inputs)."""
        return self.estimate.year_note

    def totals(self, level: str) -> pd.DataFrame:
        """The estimate summed per region of ``level`` (computed once per level)."""
        level_columns(level)
        if level not in self._totals:
            self._totals[level] = region_totals(self.estimate, self.regions, level)
        return self._totals[level]

    def comparison_2009(self) -> pd.DataFrame:
        """Where the 2009 voortrekkersgemeenten stand today (computed once)."""
        if self._comparison is None:
            self._comparison = compare_reference(self.ranking)
        return self._comparison

    @property
    def sensitivity(self) -> pd.DataFrame | None:
        """Each parameter at its bounds, as the outputs show it.

        The ranking's table (with the picks that change), else the estimate's; ``None``
        without either.
        """
        if self.ranking.sensitivity is not None:
            return self.ranking.sensitivity
        return self.estimate.sensitivity.table if self.estimate.sensitivity is not None else None

    def peers(self) -> pd.DataFrame:
        """Each gemeente among comparable gemeenten, with the reception flag (computed once).

        See :mod:`.peers`.
        """
        if self._peers is None:
            self._peers = peers(self.estimate.table, self.regions.frame)
        return self._peers

    @property
    def notes(self) -> list[str]:
        """Every note of the estimate, regions, growth, ranking and boundaries, in order."""
        out = [
            *self.estimate.notes,
            *self.regions.notes,
            *self.growth.notes,
            *self.ranking.notes,
            *(self.shapes.boundaries.notes if self.shapes else []),
        ]
        return list(dict.fromkeys(out))

    def sources(self) -> list[SourceRecord]:
        """Every CBS extract used, once each."""
        seen: dict[tuple[object, object], SourceRecord] = {}
        for rec in [
            *self.estimate.provenance,
            *self.regions.provenance(),
            *[x.provenance() for x in self.growth.extracts],
        ]:
            seen.setdefault((rec.get("table"), rec.get("filter")), rec)
        return list(seen.values())

    def names(self) -> GemeenteNames:
        """Name resolver over the gemeenten of the year."""
        return names_of(self.estimate)

    def geoframe(self, kind: Literal["ranking", "estimate"] = "ranking") -> gpd.GeoDataFrame:
        """The ranking (or the estimate) with each gemeente's boundary, for a notebook.

        One row per gemeente, the table's columns and a ``geometry`` in RD New (EPSG:28992),
        the boundaries as loaded (not simplified). Needs a year built with ``shapes=True``.
        """
        # lazy: geopandas: +0.3 s at start-up, only boundaries need it
        import geopandas as gpd

        if kind not in ("ranking", "estimate"):
            raise ValueError(f"kind is 'ranking' or 'estimate', got {kind!r}.")
        if self.shapes is None:
            raise ValueError("This year has no boundaries: build it with shapes=True.")
        table = self.ranking.table if kind == "ranking" else self.estimate.table
        geometry = self.shapes.boundaries.frame.geometry.reindex(table["gemeentecode"])
        return gpd.GeoDataFrame(
            table.reset_index(drop=True),
            geometry=geometry.to_numpy(),
            crs=self.shapes.boundaries.frame.crs,
        )

    def _repr_html_(self) -> str:
        """A short summary in a notebook: the year, the card, the selection."""
        chosen = ", ".join(self.ranking.selected["gemeentenaam"])
        total = float(self.estimate.national["werkzoekend"].iloc[0])
        rows = [
            ("Jaar", str(self.year)),
            ("Methodekaart", f"{self.card.name} {self.card.version}"),
            ("Werkzoekende vluchtelingen (Nederland)", nl_about(total)),
            ("Voorgestelde voortrekkersgemeenten", chosen),
            ("Bron", self.origin.warning or self.origin.source),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table>{body}</table>"

    def gemeente_name(self, code: str) -> str:
        """The name of one gemeente of the year."""
        return str(self.estimate.table.set_index("gemeentecode").at[code, "gemeentenaam"])


def names_of(est: Estimate) -> GemeenteNames:
    """Name resolver over the gemeenten of an estimate."""
    t = est.table
    return GemeenteNames(dict(zip(t["gemeentecode"], t["gemeentenaam"], strict=True)))
