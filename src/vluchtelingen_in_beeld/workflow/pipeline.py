"""The pipeline: from a session and a method card to a :class:`~.result.YearResult`.

:func:`build_year` is the library's one way to make a year: it checks every option before
anything is fetched, gathers the inputs, estimates, loads the regions and growth, ranks,
and (if asked) loads and simplifies the gemeente shapes. :func:`estimate_year` stops after
the estimate; :func:`choose_year` says which year a call without one would take;
:func:`pitch_codes` turns a choice of pitch pages into gemeentecodes.

Errors name the parameters of these functions (```draws```), never command-line flags: the
CLI puts its own flag names in (see :func:`~.errors.for_cli`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.access.cbs import Session, get_metadata
from vluchtelingen_in_beeld.access.tables import population_table_for
from vluchtelingen_in_beeld.clean.inputs import (
    Growth,
    Inputs,
    YearChoice,
    gather,
    latest_year,
    target_growth,
)
from vluchtelingen_in_beeld.clean.localfiles import LocalFiles
from vluchtelingen_in_beeld.clean.method import (
    DRAWS_RANGE,
    MethodCard,
    Rate,
    load_card,
    with_region_reach,
)
from vluchtelingen_in_beeld.clean.regions import Regions, load_regions
from vluchtelingen_in_beeld.errors import (
    BoundaryError,
    CbsError,
    ConfigError,
    DataCoverageError,
    OfflineMissError,
)
from vluchtelingen_in_beeld.estimation.estimate import Estimate, estimate
from vluchtelingen_in_beeld.estimation.trend import (
    TREND_YEARS,
    Trend,
    build_trend,
    counterfactual,
    mapping,
    predecessors,
)
from vluchtelingen_in_beeld.geography.geo import crosswalk, load_boundaries, simplify
from vluchtelingen_in_beeld.geography.result import Origin, Shapes, YearResult, names_of
from vluchtelingen_in_beeld.ranking.rank import rank
from vluchtelingen_in_beeld.ranking.selection import Constraints, SelectionValue

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.geography.geo import Boundaries


def prepare_card(
    card: MethodCard | str | Path | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    contact_share: float | None = None,
    region_reach: float | None = None,
) -> MethodCard:
    """The card with the caller's overrides, each checked (the one place for them).

    ``contact_share`` and ``region_reach`` (ρ) given here are fixed in every draw.
    """
    if not isinstance(card, MethodCard):
        card = load_card(card)
    if region_reach is not None:
        card = with_region_reach(card, region_reach)
    if scenario is not None:
        if scenario not in card.scenarios:
            raise ConfigError(
                f"Unknown scenario {scenario!r}; this card has: {', '.join(card.scenarios)}."
            )
        card = replace(card, scenario=scenario)
    if contact_share is not None:
        if not 0 <= contact_share <= 1:
            raise ConfigError(
                f"`contact_share` is a share between 0 and 1 (0.25 = 25%), got {contact_share}."
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
            raise ConfigError(f"`draws` must be from {lo} to {hi}, got {draws}.")
        card = replace(card, draws=draws)
    if seed is not None:
        if not 0 <= seed < 2**63:
            raise ConfigError(f"`seed` must be 0 or more, got {seed}.")
        card = replace(card, seed=seed)
    return card


def estimate_inputs(
    session: Session, year: int | None, card: MethodCard, local: LocalFiles | None = None
) -> tuple[Estimate, Inputs, Regions | None]:
    """Gather the inputs of ``year``, its regions (``None`` if not available), and estimate.

    ``year`` ``None``: the latest with the card's inputs; the estimate's notes say so. The
    regions give the local variation its arbeidsmarktregio component. ``local``: residents
    in reception and a gemeente's own figures (:mod:`.localfiles`).
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
    est = estimate(
        inputs,
        card,
        amr=amr,
        reception=local.reception if local else None,
        figures=local.figures if local else None,
    )
    if regions is not None:
        est.provenance.extend(regions.provenance())  # the regional component's source
    if note:
        est.notes.insert(0, note)
        est.year_note = note
    return est, inputs, regions


def growth_across_herindelingen(session: Session, growth: Growth) -> Growth:
    """Growth whose two years have other gemeenten, computed over the herindelingen.

    The earlier year's target population is moved onto this year's gemeenten by an
    area crosswalk of the two years' boundaries (:func:`~.geo.crosswalk`), so a merged
    gemeente's earlier population is the sum of its predecessors' and a gemeente that took
    over another is not credited with its people as growth. Without boundaries for both
    years, the gemeenten that did not exist are left without growth, and the notes say why.
    Growth over one indeling is returned as it is (nothing is loaded).
    """
    if not growth.regrouped or growth.now is None or growth.then is None:
        return growth

    try:
        old = load_boundaries(session, growth.base_year, list(growth.then.index))
        new = load_boundaries(session, growth.year, list(growth.now.index))
    except (BoundaryError, CbsError, OfflineMissError, DataCoverageError) as exc:
        growth.notes.append(
            f"Groei niet over de herindelingen heen: geen passende grenzen van "
            f"{growth.base_year} en {growth.year} ({exc})".rstrip(".")
            + "."
        )
        return growth
    cw = crosswalk(old.frame, new.frame)
    return growth.across(cw, f"CBS/PDOK {old.year} en {new.year}")


def load_shapes(
    session: Session,
    est: Estimate,
    *,
    boundaries: str | Path | None = None,
    boundary_year: int | None = None,
    tolerance: float = 100.0,
) -> Shapes:
    """Boundaries matching ``est``'s gemeenten, loaded and simplified once for all maps."""
    codes = dict(zip(est.table["gemeentecode"], est.table["gemeentenaam"], strict=True))
    path = Path(boundaries) if boundaries is not None else None
    bnd = load_boundaries(session, est.year, codes, boundary_year=boundary_year, path=path)
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
    region_reach: float | None = None,
    n: int | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    selection: Mapping[str, SelectionValue] | None = None,
    shapes: bool = False,
    boundaries: str | Path | None = None,
    boundary_year: int | None = None,
    tolerance: float = 100.0,
    local: LocalFiles | None = None,
) -> YearResult:
    """Everything for one year: estimate, regions, growth, selection (and shapes if asked).

    Every option is checked before anything is fetched. ``year`` ``None`` takes the latest
    year with the card's inputs. ``estimate`` reuses an estimate made before (its year and
    card win, but ``region_reach``, which moves only the selection, is applied to it).
    ``n``, ``include``, ``exclude`` and ``selection`` (constraint name -> value, ``None``
    switches it off; see :class:`~.selection.Constraints`) override the card's
    ``[selection]``; ``include``/``exclude`` take names or codes (see :mod:`.names`).
    ``region_reach`` fixes ρ in every draw (see :func:`with_region_reach`). ``local``:
    residents in reception and a gemeente's own figures (:mod:`.localfiles`).
    """
    overrides = dict(selection or {})
    if n is not None:
        overrides["n"] = n
    if estimate is not None and region_reach is not None:  # ρ moves the selection only
        estimate = replace(estimate, card=with_region_reach(estimate.card, region_reach))
    the_card = (
        estimate.card
        if estimate is not None
        else prepare_card(
            card,
            draws=draws,
            seed=seed,
            scenario=scenario,
            contact_share=contact_share,
            region_reach=region_reach,
        )
    )
    Constraints.from_card(the_card, **overrides).check()
    inputs: Inputs | None = None
    regions: Regions | None = None
    if estimate is None:
        estimate, inputs, regions = estimate_inputs(session, year, the_card, local)
    est = estimate
    names = names_of(est)
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
        regions = load_regions(session, est.year, list(est.table["gemeentecode"]))
    growth = growth_across_herindelingen(
        session, target_growth(session, est.card, est.year, now=inputs)
    )
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


def estimate_year(
    session: Session,
    year: int | None,
    card: MethodCard | str | Path | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    contact_share: float | None = None,
    local: LocalFiles | None = None,
) -> Estimate:
    """Only the estimate of ``year`` (``None``: the latest with the card's inputs).

    ``draws``, ``seed``, ``scenario`` and ``contact_share`` override the card's values;
    ``local``: residents in reception and a gemeente's own figures.
    """
    the_card = prepare_card(
        card, draws=draws, seed=seed, scenario=scenario, contact_share=contact_share
    )
    return estimate_inputs(session, year, the_card, local)[0]


def choose_year(
    session: Session, year: int | None, card: MethodCard | str | Path | None = None
) -> YearChoice:
    """``year`` as given, or the latest year with everything the card needs."""
    if year is not None:
        return YearChoice(year)
    return latest_year(session, card if isinstance(card, MethodCard) else load_card(card))


def check_pitch_choice(
    gemeenten: Sequence[str] = (), *, top: int | None = None, all_: bool = False
) -> None:
    """Refuse, before any work, a choice of pitch pages that cannot be meant."""
    if all_ and (gemeenten or top is not None):
        named = "gemeenten" if gemeenten else "`top`"
        raise ConfigError(f"`all_` already makes a page for every gemeente; drop the {named}.")
    if top is not None and top < 1:
        raise ConfigError(f"`top` must be at least 1, got {top}.")
    if not (all_ or gemeenten or top is not None):
        raise ConfigError("Name at least one gemeente, or use `top` or `all_`.")


def pitch_codes(
    result: YearResult, gemeenten: Sequence[str] = (), *, top: int | None = None, all_: bool = False
) -> list[str]:
    """Which gemeenten get a page: named ones, the selected top ``top``, or all."""
    check_pitch_choice(gemeenten, top=top, all_=all_)
    if all_:
        return list(result.ranking.table["gemeentecode"])
    codes = result.names().resolve_all(gemeenten) if gemeenten else []
    if top is not None:
        chosen = len(result.ranking.selected)
        total = len(result.ranking.table)
        if top > total:
            raise ConfigError(
                f"`top` {top} asks for more pages than there are gemeenten ({total}); use "
                "`all_` for a page for every gemeente."
            )
        if top > chosen:
            raise ConfigError(
                f"`top` {top} asks for more pages than the {chosen} selected gemeenten; raise "
                f"`n` (the size of the selection) to {top}, or use `all_`."
            )
        codes += [c for c in result.ranking.selected["gemeentecode"][:top] if c not in codes]
    if not codes:
        raise ConfigError("Name at least one gemeente, or use `top` or `all_`.")
    return codes


def trend_years(session: Session, year: int, first: int | None = None) -> list[int]:
    """The years of a trend up to ``year``: those the origin table of ``year`` serves.

    From ``first`` (default: at most :data:`~.trend.TREND_YEARS` years back), never before
    the table's first period: a trend does not cross into 84910NED unless ``first`` asks
    for it (and then says so on every row, :data:`~.trend.BREAK`).
    """
    spec = population_table_for(year)
    meta = get_metadata(session, spec.table_id())
    served = sorted({int(p[:4]) for p in meta.periods() if p.endswith("JJ00") and p[:4].isdigit()})
    served = [y for y in served if y <= year]
    if first is not None and first >= year:
        raise ConfigError(
            f"A trend from {first} to {year} has no earlier year: give a `first` before {year}."
        )
    if first is None:
        return served[-TREND_YEARS:]
    return sorted({*range(first, served[0]), *[y for y in served if y >= first]})


def year_trend(
    session: Session,
    result: YearResult,
    years: Sequence[int] | None = None,
) -> Trend | None:
    """The estimate of ``years`` (default :func:`trend_years`) on ``result``'s gemeenten.

    Each year with ``result``'s card and the last year's local variation (the same draws);
    earlier gemeenten moved
    onto today's over the herindelingen by the two years' boundaries. The user's own files
    (``--opvang``, ``--lokale-cijfers``) have their own peildatum: the trend compares the
    years without them (and says so). ``None`` with one year only.
    """
    years = sorted(set(years or trend_years(session, result.year)) | {result.year})
    if len(years) < 2:
        return None
    last = result.estimate
    card = result.card
    codes = pd.Index(last.table["gemeentecode"])
    amr = result.regions.membership("arbeidsmarktregio")
    inputs_last = result.inputs or gather(session, card, result.year)
    own_files = bool(last.reception) or last.calibration is not None
    if own_files:
        last = estimate(inputs_last, card, amr=amr, with_sensitivity=False)
    estimates: dict[int, Estimate] = {result.year: last}
    alike: dict[int, Estimate] = {}
    maps: dict[int, np.ndarray] = {}
    before: dict[int, dict[str, list[str]]] = {}
    now: Boundaries | None = None
    for y in years:
        if y == result.year:
            maps[y] = np.eye(len(codes))
            continue
        inputs = gather(session, card, y)
        est = estimate(inputs, card, variation=last.variation, with_sensitivity=False)
        old = pd.Index(est.table["gemeentecode"])
        cw = None
        if not set(old) <= set(codes):  # a herindeling since y: today's boundaries, once
            now = now or load_boundaries(session, result.year, list(codes))
            cw = crosswalk(load_boundaries(session, y, list(old)).frame, now.frame)
        maps[y] = mapping(old, codes, cw)
        before[y] = predecessors(old, codes, cw)
        estimates[y] = est
        alike[y] = estimate(
            counterfactual(inputs_last, inputs, maps[y]),
            card,
            variation=last.variation,
            with_sensitivity=False,
        )
    out = build_trend(estimates, alike, maps, before)
    if own_files:
        out.notes.append(
            "De trend vergelijkt de jaren zonder de eigen bestanden (opvang, lokale cijfers): "
            "die gelden voor hun eigen peildatum."
        )
    return out
