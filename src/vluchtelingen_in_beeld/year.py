"""One year, built once: :func:`build_year` makes a :class:`YearResult`.

A result holds everything the outputs of one year are made from: the inputs, the estimate
and its draws, the regions and their totals, growth, the ranking, the gemeente shapes, the
sources, the notes and the snapshot's warnings. Each piece is computed once, from one source
of truth for the year (``result.year``). The renderers (:mod:`.output`, :mod:`.maps`,
:mod:`.pitch`, :mod:`.index`) take a result and need no session: they do no I/O but writing.

Stage: geography (after CBS access, clean, estimate and rank; before render).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.errors import ConfigError, DataCoverageError, OfflineMissError
from vluchtelingen_in_beeld.estimate import Estimate, estimate
from vluchtelingen_in_beeld.inputs import Growth, Inputs, gather, latest_year, target_growth
from vluchtelingen_in_beeld.method import DRAWS_RANGE, MethodCard, Rate, load_card
from vluchtelingen_in_beeld.names import GemeenteNames
from vluchtelingen_in_beeld.rank import Ranking, rank
from vluchtelingen_in_beeld.reference import compare_reference
from vluchtelingen_in_beeld.regions import Regions, level_columns, load_regions, region_totals
from vluchtelingen_in_beeld.selection import Constraints
from vluchtelingen_in_beeld.settings import Settings

if TYPE_CHECKING:
    import geopandas as gpd

    from vluchtelingen_in_beeld.geo import Boundaries


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
        return cls(settings.source, settings.snapshot_label, settings.snapshot_warnings)

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

    def sources(self) -> list[dict[str, Any]]:
        """Every CBS extract used, once each."""
        seen: dict[Any, dict[str, Any]] = {}
        for rec in [
            *self.estimate.provenance,
            *self.regions.provenance(),
            *[x.provenance() for x in self.growth.extracts],
        ]:
            seen.setdefault((rec.get("table"), rec.get("filter")), rec)
        return list(seen.values())

    def names(self) -> GemeenteNames:
        """Name resolver over the gemeenten of the year."""
        return _names(self.estimate)

    def gemeente_name(self, code: str) -> str:
        """The name of one gemeente of the year."""
        return str(self.estimate.table.set_index("gemeentecode").at[code, "gemeentenaam"])


def _names(est: Estimate) -> GemeenteNames:
    t = est.table
    return GemeenteNames(dict(zip(t["gemeentecode"], t["gemeentenaam"], strict=True)))


def prepare_card(
    card: MethodCard | str | Path | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    contact_share: float | None = None,
) -> MethodCard:
    """The card with the command line's overrides, each checked (the one place for them)."""
    if not isinstance(card, MethodCard):
        card = load_card(card)
    if scenario is not None:
        if scenario not in card.scenarios:
            raise ConfigError(
                f"Unknown scenario {scenario!r}; this card has: {', '.join(card.scenarios)}."
            )
        card = replace(card, scenario=scenario)
    if contact_share is not None:
        if not 0 <= contact_share <= 1:
            raise ConfigError(
                f"--contact-share is a share between 0 and 1 (0.25 = 25%), got {contact_share}."
            )
        card = replace(
            card,
            contact_share=Rate(
                contact_share, contact_share, contact_share, "opgegeven op de opdrachtregel"
            ),
        )
    if draws is not None:
        lo, hi = DRAWS_RANGE
        if not lo <= draws <= hi:
            raise ConfigError(f"--draws must be from {lo} to {hi}, got {draws}.")
        card = replace(card, draws=draws)
    if seed is not None:
        if not 0 <= seed < 2**63:
            raise ConfigError(f"--seed must be 0 or more, got {seed}.")
        card = replace(card, seed=seed)
    return card


def estimate_inputs(
    session: Session, year: int | None, card: MethodCard
) -> tuple[Estimate, Inputs, Regions | None]:
    """Gather the inputs of ``year``, its regions (``None`` if not available), and estimate.

    ``year`` ``None``: the latest with the card's inputs; the estimate's notes say so. The
    regions give the local variation its arbeidsmarktregio component.
    """
    note = ""
    if year is None:
        choice = latest_year(session, card)
        assert choice.inputs is not None
        inputs, note = choice.inputs, choice.note
    else:
        inputs = gather(session, card, year)
    regions: Regions | None
    try:
        regions = load_regions(session, inputs.year, inputs.inwoners.index)
    except (DataCoverageError, OfflineMissError) as exc:
        regions = None  # the estimate can do without; a ranking cannot (it asks again)
        inputs.notes.append(
            f"Lokale spreiding zonder component per arbeidsmarktregio: {exc}".rstrip(".") + "."
        )
    amr = regions.membership("arbeidsmarktregio") if regions is not None else None
    est = estimate(inputs, card, amr=amr)
    if regions is not None:
        est.provenance.extend(regions.provenance())  # the regional component's source
    if note:
        est.notes.insert(0, note)
        est.year_note = note
    return est, inputs, regions


def load_shapes(
    session: Session,
    est: Estimate,
    *,
    boundaries: Path | None = None,
    boundary_year: int | None = None,
    tolerance: float = 100.0,
) -> Shapes:
    """Boundaries matching ``est``'s gemeenten, loaded and simplified once for all maps."""
    from vluchtelingen_in_beeld.geo import load_boundaries, simplify

    codes = list(est.table["gemeentecode"])
    bnd = load_boundaries(session, est.year, codes, boundary_year=boundary_year, path=boundaries)
    frame = simplify(bnd.frame, tolerance)
    frame["naam"] = est.table.set_index("gemeentecode")["gemeentenaam"].reindex(frame.index)
    return Shapes(bnd, frame, tolerance)


def build_year(
    session: Session,
    year: int | None = None,
    card: MethodCard | str | Path | None = None,
    *,
    estimate: Estimate | None = None,
    draws: int | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    contact_share: float | None = None,
    n: int | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    selection: Mapping[str, Any] | None = None,
    shapes: bool = False,
    boundaries: Path | None = None,
    boundary_year: int | None = None,
    tolerance: float = 100.0,
) -> YearResult:
    """Everything for one year: estimate, regions, growth, selection (and shapes if asked).

    Every option is checked before anything is fetched. ``year`` ``None`` takes the latest
    year with the card's inputs. ``estimate`` reuses an estimate made before (its year and
    card win). ``n``, ``include``, ``exclude`` and ``selection`` (constraint name -> value,
    ``None`` switches it off; see :class:`~.selection.Constraints`) override the card's
    ``[selection]``; ``include``/``exclude`` take names or codes (see :mod:`.names`).
    """
    overrides = dict(selection or {})
    if n is not None:
        overrides["n"] = n
    the_card = (
        estimate.card
        if estimate is not None
        else prepare_card(
            card, draws=draws, seed=seed, scenario=scenario, contact_share=contact_share
        )
    )
    Constraints.from_card(the_card, **overrides).check()
    inputs: Inputs | None = None
    regions: Regions | None = None
    if estimate is None:
        estimate, inputs, regions = estimate_inputs(session, year, the_card)
    est = estimate
    names = _names(est)
    if include:
        overrides["include"] = tuple(names.resolve_all(include))
    if exclude:
        overrides["exclude"] = tuple(names.resolve_all(exclude))
    card_codes = {
        k: tuple(names.resolve_all(getattr(est.card.selection, k)))
        for k in ("include", "exclude")
        if getattr(est.card.selection, k) and k not in overrides
    }
    constraints = Constraints.from_card(est.card, **card_codes, **overrides)
    constraints.check()
    if regions is None:
        regions = load_regions(session, est.year, est.table["gemeentecode"])
    growth = target_growth(session, est.card, est.year, now=inputs)
    ranking = rank(est, regions.frame, growth.values, constraints=constraints)
    result = YearResult(
        year=est.year,
        card=est.card,
        estimate=est,
        regions=regions,
        growth=growth,
        ranking=ranking,
        origin=Origin.of(session.settings),
        inputs=inputs,
    )
    if shapes:
        result.shapes = load_shapes(
            session, est, boundaries=boundaries, boundary_year=boundary_year, tolerance=tolerance
        )
    return result
