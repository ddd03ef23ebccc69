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
from vluchtelingen_in_beeld.inputs import Growth, gather, target_growth
from vluchtelingen_in_beeld.method import MethodCard, Rate, load_card
from vluchtelingen_in_beeld.names import GemeenteNames
from vluchtelingen_in_beeld.rank import Constraints, Ranking, parse_weights, rank
from vluchtelingen_in_beeld.regions import Regions, level_columns, load_regions, region_totals


def estimate_year(
    session: Session,
    year: int,
    card: MethodCard | str | Path | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    scenario: str | None = None,
    contact_share: float | None = None,
) -> Estimate:
    """Gather the inputs for ``year`` and run the method card on them.

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
        if draws < 1:
            raise ConfigError(f"--draws must be at least 1, got {draws}.")
        card = replace(card, draws=draws)
    if seed is not None:
        if seed < 0:
            raise ConfigError(f"--seed must be 0 or more, got {seed}.")
        card = replace(card, seed=seed)
    inputs = gather(session, card, year)
    return estimate(inputs, card)


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
    year: int,
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
    year: int,
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
