"""Every random stream of the Monte Carlo, in one registry.

Each part of the simulation draws from its own stream, seeded by the card's seed and the
stream's number (``numpy.random.default_rng([seed, number])``), so adding draws to one part
never shifts the numbers of another. The numbers are part of the method's results: changing
one changes every output made with that seed.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """The stream numbers. ``RATES`` is the card's seed alone (the first stream)."""

    #: the national rates (e_i per group, s, β, q): ``default_rng(seed)``
    RATES = 0
    #: the outreach funnel per scenario (contact share, reach, placements)
    FUNNEL = 6
    #: the local variation (gemeente and arbeidsmarktregio terms)
    LOCAL = 12
    #: the binomial noise of small numbers
    BINOMIAL = 13
    #: the selection's own parameter ρ (share of the region a pilot reaches)
    REGION_REACH = 21
    #: the uncertainty of a gemeente's own figures (``--lokale-cijfers``)
    LOCAL_FIGURES = 22


def rng(seed: int, stream: Stream) -> np.random.Generator:
    """The generator of ``stream`` for ``seed`` (the same numbers on every run)."""
    if stream is Stream.RATES:
        return np.random.default_rng(seed)
    return np.random.default_rng([seed, int(stream)])
