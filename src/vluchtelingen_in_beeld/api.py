"""The library's front door: one function per job, as the CLI uses them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.estimate import Estimate, estimate
from vluchtelingen_in_beeld.inputs import (
    Growth,
    YearChoice,
    gather,
    latest_year,
    target_growth,
)
from vluchtelingen_in_beeld.method import DRAWS_RANGE, MethodCard, Rate, load_card
from vluchtelingen_in_beeld.names import GemeenteNames
from vluchtelingen_in_beeld.rank import Constraints, Ranking, parse_weights, rank
from vluchtelingen_in_beeld.regions import Regions, level_columns, load_regions, region_totals


def estimate_year(
    session: Session,
    year: int | None,
    card: MethodCard | str | Path | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    contact_share: float | None = None,
) -> Estimate:
    """Gather the inputs for ``year`` and run the method card on them.

    ``year`` ``None`` takes the latest year for which the card's inputs exist
    (:func:`~.inputs.latest_year`), and the estimate's notes say so.
    ``draws``, ``seed``, ``scenario`` and ``contact_share`` override the card's values.
    """
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
        if seed < 0:
            raise ConfigError(f"--seed must be 0 or more, got {seed}.")
        card = replace(card, seed=seed)
    if year is None:
        choice = latest_year(session, card)
        assert choice.inputs is not None
        est = estimate(choice.inputs, card)
        est.notes.insert(0, choice.note)
        est.year_note = choice.note
        return est
    return estimate(gather(session, card, year), card)


def choose_year(
    session: Session, year: int | None, card: MethodCard | str | Path | None = None
) -> YearChoice:
    """``year`` as given, or the latest year with everything the card needs."""
    if year is not None:
        return YearChoice(year)
    return latest_year(session, card if isinstance(card, MethodCard) else load_card(card))


@dataclass
class RankResult:
    """A ranking with everything it was made from."""

    ranking: Ranking
    estimate: Estimate
    regions: Regions
    growth: Growth

    @property
    def notes(self) -> list[str]:
        """Every note of the estimate, regions, growth and ranking, in that order."""
        return [*self.estimate.notes, *self.regions.notes, *self.growth.notes, *self.ranking.notes]

    def provenance(self) -> list[dict[str, Any]]:
        """Every CBS extract used."""
        return [
            *self.estimate.provenance,
            *self.regions.provenance(),
            *[x.provenance() for x in self.growth.extracts],
        ]


def gemeente_names(est: Estimate) -> GemeenteNames:
    """Name resolver over the gemeenten of an estimate's year."""
    return GemeenteNames(
        dict(zip(est.table["gemeentecode"], est.table["gemeentenaam"], strict=True))
    )


def rank_year(
    session: Session,
    year: int | None,
    card: MethodCard | str | Path | None = None,
    *,
    weights: str | Mapping[str, float] | None = None,
    n: int = 11,
    max_per_provincie: int | None = 3,
    max_per_regio: int | None = None,
    min_klein: int = 0,
    klein_onder: float = 50_000,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    est: Estimate | None = None,
    **estimate_options: Any,
) -> RankResult:
    """Estimate ``year`` (unless ``est`` is given), then score, select and explain.

    ``include``/``exclude`` take names or codes (see :mod:`.names`).
    """
    w = parse_weights(weights)  # fail on bad weights before any fetching
    Constraints(n, max_per_provincie, max_per_regio, min_klein, klein_onder).check()
    if est is None:
        est = estimate_year(session, year, card, **estimate_options)
    names = gemeente_names(est)
    constraints = Constraints(
        n=n,
        max_per_provincie=max_per_provincie,
        max_per_regio=max_per_regio,
        min_klein=min_klein,
        klein_onder=klein_onder,
        include=tuple(names.resolve_all(include)),
        exclude=tuple(names.resolve_all(exclude)),
    )
    constraints.check()
    regions = load_regions(session, est.year, est.table["gemeentecode"])
    growth = (
        target_growth(session, est.card, est.year)
        if w["groei"] > 0
        else Growth(est.year, est.year - 2, None, "", ["Groei niet gebruikt (gewicht 0)."])
    )
    ranking = rank(est, regions.frame, growth.values, weights=w, constraints=constraints)
    return RankResult(ranking, est, regions, growth)


def regions_year(
    session: Session,
    year: int | None,
    level: str,
    card: MethodCard | str | Path | None = None,
    *,
    est: Estimate | None = None,
    **estimate_options: Any,
) -> tuple[pd.DataFrame, Estimate, Regions]:
    """The estimate of ``year`` summed per provincie, arbeidsmarktregio or COROP-gebied."""
    level_columns(level)
    if est is None:
        est = estimate_year(session, year, card, **estimate_options)
    regions = load_regions(session, est.year, est.table["gemeentecode"])
    return region_totals(est, regions, level), est, regions


@dataclass
class MapResult:
    """A map ready to write: the data, its classes, and where it all came from."""

    data: Any  # maps.MapData
    classes: Any  # maps.Classes
    boundaries: Any  # geo.Boundaries
    rank: RankResult
    record: dict[str, Any]

    def html(self, tiles: bool = False) -> str:
        """The self-contained HTML page."""
        from vluchtelingen_in_beeld.maps import render_html

        return render_html(self.data, self.classes, tiles=tiles)

    def png(self) -> bytes:
        """The static image."""
        from vluchtelingen_in_beeld.maps import render_png

        return render_png(self.data, self.classes)


def map_values(result: RankResult, level: str) -> pd.DataFrame:
    """Per area (index code): ``naam`` and every metric the map can show at ``level``."""
    if level == "gemeente":
        t = result.estimate.table.set_index("gemeentecode")
        r = result.ranking.table.set_index("gemeentecode")
        extra = ["score", "kans_top_n", "groei", "rang", "provincie", "geselecteerd"]
        out = t.join(r[extra])
        return out.rename(columns={"gemeentenaam": "naam"})
    frame = region_totals(result.estimate, result.regions, level)
    return frame.set_index("code")


@dataclass
class Shapes:
    """Checked gemeente boundaries of a year and their simplified geometry (RD New)."""

    boundaries: Any  # geo.Boundaries
    frame: Any  # geopandas.GeoDataFrame, index statcode
    tolerance: float


def gemeente_shapes(
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
    return Shapes(bnd, simplify(bnd.frame, tolerance), tolerance)


def map_year(
    session: Session,
    year: int | None,
    *,
    metric: str = "werkzoekend",
    scheme: str = "fisher_jenks",
    k: int = 5,
    level: str = "gemeente",
    highlight_top: int | None = None,
    boundaries: Path | None = None,
    boundary_year: int | None = None,
    tolerance: float = 100.0,
    result: RankResult | None = None,
    shapes: Shapes | None = None,
    card: MethodCard | str | Path | None = None,
    **estimate_options: Any,
) -> MapResult:
    """Everything for one choropleth: values, year-matched boundaries, classes, sources.

    ``shapes`` (from :func:`gemeente_shapes`) saves loading the boundaries again.
    """
    from vluchtelingen_in_beeld.geo import dissolve
    from vluchtelingen_in_beeld.maps import (
        LEVEL_LABELS,
        METRICS,
        MapData,
        check_scheme,
        classify,
        tooltip_rows,
    )
    from vluchtelingen_in_beeld.output import snapshot_warning, source_lines

    check_scheme(scheme, k)
    if level not in LEVEL_LABELS:
        raise ConfigError(f"Unknown --level {level!r}; choose one of: {', '.join(LEVEL_LABELS)}.")
    if highlight_top is not None and level != "gemeente":
        raise ConfigError("--highlight-top outlines gemeenten; use it with --level gemeente.")
    if highlight_top is not None and highlight_top < 1:
        raise ConfigError(f"--highlight-top must be at least 1, got {highlight_top}.")
    if result is None:
        result = rank_year(session, year, card, n=highlight_top or 11, **estimate_options)
    values = map_values(result, level)
    numeric = [
        c for c in values.columns if c in METRICS and pd.api.types.is_numeric_dtype(values[c])
    ]
    if metric not in numeric:
        from vluchtelingen_in_beeld.errors import did_you_mean

        raise ConfigError(
            f"Cannot map {metric!r} at level {level}.{did_you_mean(metric, numeric)} "
            f"Metrics here: {', '.join(numeric)}."
        )
    est = result.estimate
    if shapes is None:
        shapes = gemeente_shapes(
            session, est, boundaries=boundaries, boundary_year=boundary_year, tolerance=tolerance
        )
    bnd = shapes.boundaries
    areas = shapes.frame
    if level != "gemeente":
        areas = dissolve(areas, result.regions.membership(level))
    frame = areas[["geometry"]].join(values)
    frame["value"] = frame[metric].astype(float)
    n = len(frame)
    frame["tooltip"] = [tooltip_rows(row, metric, level, n) for _, row in frame.iterrows()]
    classes = classify(frame["value"], scheme, k, METRICS[metric][1])
    highlight: list[str] = []
    label = ""
    if highlight_top:
        chosen = result.ranking.selected["gemeentecode"].tolist()
        highlight = chosen[:highlight_top]
        label = f"omlijnd: de {len(highlight)} geselecteerde voortrekkerskandidaten"
    notes = [*bnd.notes, *result.regions.notes] if level != "gemeente" else list(bnd.notes)
    data = MapData(
        year=est.year,
        level=level,
        metric=metric,
        frame=frame,
        highlight=highlight,
        highlight_label=label,
        title=METRICS[metric][0],
        footer=source_lines(
            [*est.provenance, *(result.regions.provenance() if level != "gemeente" else [])],
            est.card,
            boundaries=bnd.provenance,
            notes=notes,
        ),
        warning=snapshot_warning(session.settings),
    )
    record = {
        "kind": "map",
        "year": est.year,
        "level": level,
        "metric": metric,
        "scheme": scheme,
        "k": len(classes.bounds),
        "class_bounds": classes.bounds,
        "missing": classes.n_missing,
        "boundaries": bnd.provenance,
        "join": vars(bnd.report),
        "highlight": highlight,
        "simplify_tolerance_m": shapes.tolerance,
    }
    return MapResult(data, classes, bnd, result, record)


def pitch_context(
    session: Session,
    result: RankResult,
    *,
    boundaries: Path | None = None,
    boundary_year: int | None = None,
    shapes: Shapes | None = None,
) -> Any:
    """What every pitch page of a run shares: regional sums, shapes, sources, warning."""
    from vluchtelingen_in_beeld.output import snapshot_warning, source_lines
    from vluchtelingen_in_beeld.pitch import PitchContext

    est = result.estimate
    provincies = region_totals(est, result.regions, "provincie").set_index("code")
    regios = region_totals(est, result.regions, "arbeidsmarktregio").set_index("code")
    if shapes is None:
        shapes = gemeente_shapes(session, est, boundaries=boundaries, boundary_year=boundary_year)
    bnd = shapes.boundaries
    frame = shapes.frame.copy()
    frame["naam"] = est.table.set_index("gemeentecode")["gemeentenaam"].reindex(frame.index)
    sources = source_lines(
        result.provenance(),
        est.card,
        boundaries=bnd.provenance,
        notes=[*result.notes, *bnd.notes],
    )
    return PitchContext(
        result=result,
        provincies=provincies,
        regios=regios,
        shapes=frame,
        sources=sources,
        warning=snapshot_warning(session.settings),
    )


def pitch_codes(
    result: RankResult, gemeenten: Sequence[str] = (), *, top: int | None = None, all_: bool = False
) -> list[str]:
    """Which gemeenten get a page: named ones, the selected top ``top``, or all."""
    if all_:
        return list(result.ranking.table["gemeentecode"])
    codes = gemeente_names(result.estimate).resolve_all(gemeenten) if gemeenten else []
    if top is not None:
        if top < 1:
            raise ConfigError(f"--top must be at least 1, got {top}.")
        chosen = len(result.ranking.selected)
        if top > chosen:
            raise ConfigError(
                f"--top {top} asks for more pages than the {chosen} selected gemeenten; raise "
                f"--n (the size of the selection) to {top}, or use --all."
            )
        codes += [c for c in result.ranking.selected["gemeentecode"][:top] if c not in codes]
    if not codes:
        raise ConfigError("Name at least one gemeente, or use --top N or --all.")
    return codes
