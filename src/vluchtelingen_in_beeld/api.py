"""The library's front door: build a year, then write what you need from it.

>>> from vluchtelingen_in_beeld import Session, Settings, build_year, write_map
>>> year = build_year(Session(Settings()), shapes=True)   # the latest year, live CBS
>>> year.estimate.table.head()                           # one row per gemeente
>>> write_map(year, Path("kaart.html"), highlight_top=11)

Stage: orchestration (after render).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.estimate import Estimate
from vluchtelingen_in_beeld.inputs import YearChoice, latest_year
from vluchtelingen_in_beeld.method import MethodCard, load_card
from vluchtelingen_in_beeld.year import YearResult, estimate_inputs, prepare_card


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
    """Only the estimate of ``year`` (``None``: the latest with the card's inputs).

    ``draws``, ``seed``, ``scenario`` and ``contact_share`` override the card's values.
    """
    the_card = prepare_card(
        card, draws=draws, seed=seed, scenario=scenario, contact_share=contact_share
    )
    return estimate_inputs(session, year, the_card)[0]


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
        named = "gemeenten" if gemeenten else "--top"
        raise ConfigError(f"--all already makes a page for every gemeente; drop the {named}.")
    if top is not None and top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}.")
    if not (all_ or gemeenten or top is not None):
        raise ConfigError("Name at least one gemeente, or use --top N or --all.")


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
                f"--top {top} asks for more pages than there are gemeenten ({total}); use "
                "--all for a page for every gemeente."
            )
        if top > chosen:
            raise ConfigError(
                f"--top {top} asks for more pages than the {chosen} selected gemeenten; raise "
                f"--n (the size of the selection) to {top}, or use --all."
            )
        codes += [c for c in result.ranking.selected["gemeentecode"][:top] if c not in codes]
    if not codes:
        raise ConfigError("Name at least one gemeente, or use --top N or --all.")
    return codes
