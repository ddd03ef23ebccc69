"""The 2009 voortrekkersgemeenten as a reference: what that list reaches under today's data.

A reference, not a verdict: the list's reach today, the default constraints it breaks, and
its difference from the best list under the constraints it meets itself, with its own size
mix (as many small and large gemeenten as it has). The difference judges 2009 with today's
data, so it is called a difference, never a regret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from vluchtelingen_in_beeld.cells import whole
from vluchtelingen_in_beeld.errors import VibError
from vluchtelingen_in_beeld.ranking.rank import Ranking
from vluchtelingen_in_beeld.ranking.selection import CAPS, Constraints
from vluchtelingen_in_beeld.records import Fact
from vluchtelingen_in_beeld.words import say


@dataclass(frozen=True)
class Reference:
    """One voortrekkersgemeente of 2009 and what it is today."""

    name_2009: str
    codes_now: tuple[str, ...]
    note: str = ""


#: The 11 voortrekkersgemeenten chosen in 2009 (persbericht; method.md, "Historical
#: reference"), mapped to today's gemeenten (CBS codes; mergers from CBS "Gemeentelijke
#: indeling").
REFERENCE_2009: tuple[Reference, ...] = (
    Reference(
        "Groningen",
        ("GM0014",),
        "Sinds 2019 samen met Haren en Ten Boer in de gemeente Groningen.",
    ),
    Reference("Emmen", ("GM0114",)),
    Reference("Zwolle", ("GM0193",)),
    Reference("Utrecht", ("GM0344",)),
    Reference("Amsterdam", ("GM0363",)),
    Reference("Haarlem", ("GM0392",)),
    Reference(
        "Schagen (intergemeentelijk)",
        ("GM0441",),
        "In 2009 een samenwerking van Schagen, Zijpe en Harenkarspel; sinds 2013 één gemeente "
        "Schagen.",
    ),
    Reference("Hilversum", ("GM0402",)),
    Reference("Nijmegen", ("GM0268",)),
    Reference("Winterswijk", ("GM0294",)),
    Reference("Hardenberg", ("GM0160",)),
)


def break_facts(frame: pd.DataFrame, codes: Sequence[str], c: Constraints) -> list[Fact]:
    """Which of the constraints ``c`` a list of gemeenten breaks, as facts (``breuk``)."""
    sel = frame.loc[list(codes)]
    out: list[Fact] = []
    if len(sel) != c.n:
        out.append({"soort": "aantal", "k": len(sel), "n": c.n})
    for name, code, label in CAPS:
        cap = getattr(c, name)
        if cap is None:
            continue
        counts = sel.groupby(code).size()
        names = sel.groupby(code)[label].first()
        for region, k in counts[counts > cap].items():
            out.append(
                {"soort": "kap", "k": int(k), "groep": label, "naam": str(names[region]),
                 "eis": c.fact(name)}
            )  # fmt: skip
    if c.min_per_landsdeel:
        counts = sel.groupby("landsdeel").size().reindex(frame["landsdeel"].unique(), fill_value=0)
        for region, k in counts[counts < c.min_per_landsdeel].sort_index().items():
            out.append(
                {"soort": "landsdeel", "k": int(k), "naam": str(region),
                 "eis": c.fact("min_per_landsdeel")}
            )  # fmt: skip
    small = int((sel["inwoners"] < c.klein_onder).sum())
    if c.min_klein and small < c.min_klein:
        out.append({"soort": "klein", "k": small, "eis": c.fact("min_klein")})
    large = int((sel["inwoners"] > c.groot_boven).sum())
    if c.max_groot is not None and large > c.max_groot:
        out.append({"soort": "groot", "k": large, "eis": c.fact("max_groot")})
    return out


def reference_breaks(frame: pd.DataFrame, codes: Sequence[str], c: Constraints) -> list[str]:
    """Which of the constraints ``c`` a list of gemeenten breaks, in Dutch, one per item."""
    return [say("breuk", b) for b in break_facts(frame, codes, c)]


def satisfied_by(frame: pd.DataFrame, codes: Sequence[str], c: Constraints) -> Constraints:
    """``c`` loosened just enough for the list ``codes`` to meet it, with its size mix.

    Same size, no forcing, no budget or pool; the caps raised to what the list has; at
    least as many small gemeenten as the list has and at most as many large ones (its own
    size mix, at ``c``'s thresholds).
    """
    sel = frame.loc[list(codes)]

    def most(col: str) -> int:
        return int(sel.groupby(col).size().max())

    landsdelen = (
        sel.groupby("landsdeel_code").size().reindex(frame["landsdeel_code"].unique(), fill_value=0)
    )
    small = int((sel["inwoners"] < c.klein_onder).sum())
    large = int((sel["inwoners"] > c.groot_boven).sum())
    return replace(
        c,
        n=len(sel),
        max_per_provincie=None
        if c.max_per_provincie is None
        else max(c.max_per_provincie, most("provincie_code")),
        max_per_regio=None
        if c.max_per_regio is None
        else max(c.max_per_regio, most("arbeidsmarktregio_code")),
        min_per_landsdeel=None
        if not c.min_per_landsdeel
        else min(c.min_per_landsdeel, int(landsdelen.min())) or None,
        min_klein=small or None,
        max_groot=large,
        min_pool=None,
        budget_eur=None,
        include=(),
        exclude=(),
    )


COMPARISON_COLUMNS = [
    "soort",
    "gemeente_2009",
    "gemeentecode",
    "gemeentenaam",
    "rang",
    "bereik",
    "kans_geselecteerd",
    "geselecteerd",
    "werkzoekend",
    "provincie",
    "arbeidsmarktregio",
    "landsdeel",
    "toelichting",
]


def compare_reference(
    ranking: Ranking, reference: Sequence[Reference] = REFERENCE_2009
) -> pd.DataFrame:
    """The 2009 list under today's data: its members, reach and broken defaults.

    Rows of ``soort`` "lid": each member's rank, reach and ``kans_geselecteerd`` today.
    Then "lijst 2009" (its reach, and which default constraints it breaks), "optimum" (the
    best list under the constraints the 2009 list itself meets, with its size mix),
    "verschil" (the optimum minus the list, never negative) and "selectie" (today's
    selection under the defaults).
    """
    t = ranking.table.set_index("gemeentecode")
    frame, values, problem = ranking.frame, ranking.values, ranking.problem
    if frame is None or values is None or problem is None:
        raise VibError("This ranking carries no programme to compare a reference list with.")
    rows = []
    codes: list[str] = []
    for ref in reference:
        missing = [c for c in ref.codes_now if c not in t.index]
        if missing:
            raise VibError(
                f"Reference gemeente {ref.name_2009}: {', '.join(missing)} is not among the "
                f"gemeenten of {ranking.year}; the reference list needs updating for a herindeling."
            )
        for code in ref.codes_now:
            r = t.loc[code]
            codes.append(code)
            rows.append(
                {
                    "soort": "lid",
                    "gemeente_2009": ref.name_2009,
                    "gemeentecode": code,
                    "gemeentenaam": r["gemeentenaam"],
                    "rang": whole(r["rang"]),
                    "bereik": r["bereik"],
                    "kans_geselecteerd": r["kans_geselecteerd"],
                    "geselecteerd": bool(r["geselecteerd"]),
                    "werkzoekend": r["werkzoekend"],
                    "provincie": r["provincie"],
                    "arbeidsmarktregio": r["arbeidsmarktregio"],
                    "landsdeel": r["landsdeel"],
                    "toelichting": ref.note,
                }
            )
    c = ranking.constraints
    own = float(problem.objective_of(frame.index.get_indexer(pd.Index(codes)), values))
    breaks = break_facts(frame, codes, c)
    loose = satisfied_by(frame, codes, c)
    idx, best = problem.under(loose).solve(values)
    best_names = [str(n) for n in frame.iloc[sorted(idx)]["gemeentenaam"]]
    kept = [
        k for k in ("max_per_provincie", "max_per_regio", "min_per_landsdeel") if getattr(loose, k)
    ]
    kept += [k for k in ("min_klein", "max_groot") if getattr(loose, k) is not None]
    diff = max(best - own, 0.0)
    gap = {
        "verschil": diff,
        "lijst": own,
        "beste": best,
        "van_beste": diff / best if best else float("nan"),
        "van_lijst": diff / own if own else float("nan"),
    }
    names = dict(zip(frame.index, frame["gemeentenaam"].astype(str), strict=True))
    summary = [
        ("lijst 2009", "Bereik van de lijst van 2009", own, say("lijst_2009", breaks)),
        (
            "optimum",
            "Beste lijst onder de eisen die de lijst van 2009 zelf haalt",
            best,
            say("eisen_zin", [loose.fact(k) for k in kept], best_names),
        ),
        ("verschil", "Verschil: beste lijst min lijst 2009", diff, say("verschil_2009", gap)),
        (
            "selectie",
            "Selectie met de standaardeisen",
            ranking.objective,
            say("eisen_zin", [c.fact(k, names) for k in ["n", *c.active()]]),
        ),
    ]
    for soort, label, value, text in summary:
        rows.append({"soort": soort, "gemeente_2009": label, "bereik": value, "toelichting": text})
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
