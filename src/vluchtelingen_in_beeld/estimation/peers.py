"""A gemeente among comparable gemeenten, and a reception centre that inflates its count.

**Peers.** As Waarstaatjegemeente and the Divosa/CBS benchmark do, a gemeente is compared
with three groups, each on its own: the gemeenten of its size class (CBS's
gemeentegrootteklassen, :data:`SIZE_CLASSES`), of its arbeidsmarktregio and of its
provincie. Per group: how many gemeenten, the median of job-seekers per 1,000 inhabitants
(over every member, the gemeente included) and the gemeente's place in the group (1 = the
most per 1,000).

**Reception centres** (:func:`reception_flags`). Asylum seekers in a reception centre who are
registered count as residents, and many of them cannot work yet: CBS found Syrians at 1.6%
of Cranendonck's inhabitants (the Budel centre) and 1.2% of Noordenveld's (Veenhuizen)
against 0.4% nationally. The rule: a gemeente is flagged when its target group per 1,000
inhabitants is at least :data:`RECEPTION_RATIO` times the median of the *other* gemeenten of
its arbeidsmarktregio **and** of its size class, and the target group is at least
:data:`RECEPTION_MIN` people. Medians of the others, so that the gemeente itself and one
other outlier do not move the reference; both references, so that a region of cities or a
class of small towns is not flagged as a whole. A flag is a question for the gemeente, not
a correction: the estimate is changed only by an ``--opvang`` file (residents in reception,
with their source), see :mod:`~vluchtelingen_in_beeld.clean.localfiles`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.fmt import SMALL_COUNT

#: CBS's gemeentegrootteklassen: (lower bound of inhabitants, label).
SIZE_CLASSES: tuple[tuple[int, str], ...] = (
    (0, "minder dan 5.000 inwoners"),
    (5_000, "5.000 tot 10.000 inwoners"),
    (10_000, "10.000 tot 20.000 inwoners"),
    (20_000, "20.000 tot 50.000 inwoners"),
    (50_000, "50.000 tot 100.000 inwoners"),
    (100_000, "100.000 tot 150.000 inwoners"),
    (150_000, "150.000 tot 250.000 inwoners"),
    (250_000, "250.000 inwoners of meer"),
)
#: The groups a gemeente is compared with: (column suffix, column of the group, its name).
GROUPS = (
    ("klasse", "grootteklasse", "gemeenten even groot"),
    ("regio", "arbeidsmarktregio", "arbeidsmarktregio"),
    ("provincie", "provincie", "provincie"),
)
#: A gemeente's target group per 1,000 inhabitants at least this many times the median of
#: the other gemeenten of its region and of its size class flags a possible reception centre.
RECEPTION_RATIO = 3.0
#: ... when the target group is at least this many people.
RECEPTION_MIN = 50


def size_class(inhabitants: pd.Series) -> pd.Series:
    """CBS's gemeentegrootteklasse of each number of inhabitants (its label)."""
    bounds = [b for b, _ in SIZE_CLASSES]
    labels = [label for _, label in SIZE_CLASSES]
    at = np.searchsorted(bounds, inhabitants.to_numpy(dtype=float), side="right") - 1
    return pd.Series([labels[i] for i in at], index=inhabitants.index, dtype="string")


def _others_median(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Per row, the median of ``values`` over the other rows of its group (NaN if none)."""
    out = pd.Series(np.nan, index=values.index)
    for _, members in values.groupby(groups):
        v = members.to_numpy(dtype=float)
        for k, code in enumerate(members.index):
            rest = np.delete(v, k)
            rest = rest[~np.isnan(rest)]
            if len(rest):
                out[code] = float(np.median(rest))
    return out


def reception_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """The reception rule (module docstring) on a frame indexed by gemeentecode.

    ``frame`` needs ``inwoners``, ``doelgroep``, ``grootteklasse`` and
    ``arbeidsmarktregio``. Returns ``doelgroep_per_1000``, the two reference medians, and
    ``mogelijk_opvang`` (bool).
    """
    share = frame["doelgroep"].astype(float) / frame["inwoners"].astype(float) * 1000.0
    regio = _others_median(share, frame["arbeidsmarktregio"])
    klasse = _others_median(share, frame["grootteklasse"])
    reference = pd.Series(np.fmax(regio, klasse), index=frame.index)
    flag = (
        (frame["doelgroep"].astype(float) >= RECEPTION_MIN)
        & reference.notna()
        & (reference > 0)
        & (share >= RECEPTION_RATIO * reference)
    )
    return pd.DataFrame(
        {
            "doelgroep_per_1000": share,
            "doelgroep_per_1000_regio_anderen": regio,
            "doelgroep_per_1000_klasse_anderen": klasse,
            "mogelijk_opvang": flag.astype(bool),
        },
        index=frame.index,
    )


def peers(table: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Per gemeente: its size class, and per group its median and place (module docstring).

    ``table``: the estimate's table (``gemeentecode``, ``gemeentenaam``, ``inwoners``,
    ``doelgroep``, ``werkzoekend``); ``regions``: the regions frame (indexed by
    gemeentecode, with ``arbeidsmarktregio`` and ``provincie``). A gemeente with fewer than
    10 job-seekers keeps its place but shows no rate (from which the count could be backed
    out); it still counts in its groups' medians.
    """
    t = table.set_index("gemeentecode")
    out = pd.DataFrame(index=t.index)
    out["gemeentenaam"] = t["gemeentenaam"]
    out["inwoners"] = t["inwoners"]
    out["grootteklasse"] = size_class(t["inwoners"])
    out["arbeidsmarktregio"] = regions["arbeidsmarktregio"].reindex(t.index).astype("string")
    out["provincie"] = regions["provincie"].reindex(t.index).astype("string")
    rate = t["werkzoekend"].astype(float) / t["inwoners"].astype(float) * 1000.0
    small = t["werkzoekend"].astype(float) < SMALL_COUNT
    out["werkzoekend_per_1000"] = rate.where(~small)
    for suffix, column, _ in GROUPS:
        groups = out[column]
        out[f"aantal_{suffix}"] = groups.map(groups.value_counts()).astype(int)
        out[f"mediaan_per_1000_{suffix}"] = rate.groupby(groups).transform("median")
        out[f"plaats_{suffix}"] = (
            rate.groupby(groups).rank(ascending=False, method="min").astype(int)
        )
    flags = reception_flags(out.assign(doelgroep=t["doelgroep"]))
    out = out.join(flags)
    # no rate from which a count under 10 can be backed out (a group of one or two is the
    # gemeente's own rate)
    out["doelgroep_per_1000"] = out["doelgroep_per_1000"].where(
        t["doelgroep"].astype(float) >= SMALL_COUNT
    )
    for suffix, _, _ in GROUPS:
        own = out[f"aantal_{suffix}"] < 3
        out[f"mediaan_per_1000_{suffix}"] = out[f"mediaan_per_1000_{suffix}"].where(~(own & small))
    out.index.name = "gemeentecode"
    return out.reset_index()
