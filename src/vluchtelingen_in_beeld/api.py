"""The library's front door: one function per job, as the CLI uses them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.estimate import Estimate, estimate
from vluchtelingen_in_beeld.inputs import gather
from vluchtelingen_in_beeld.method import MethodCard, Rate, load_card


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
