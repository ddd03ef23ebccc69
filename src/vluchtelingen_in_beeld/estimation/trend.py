"""The estimate over the years the origin table serves, on today's gemeenten.

**Same draws.** Every year is estimated with the same method card and seed and the last
year's local variation (its size and regional component), so draw ``d`` of one year and
draw ``d`` of another share their national rates (EI, s, β, q), their local variation and
their noise (over one indeling; across a herindeling the gemeente terms are drawn anew for
the new gemeenten). The change between two years is taken within each draw
(p10–p90 of those differences), so it is not Monte Carlo noise: a gemeente whose population
did not change has a change of exactly 0 in every draw.

**Today's gemeenten.** An earlier year's gemeenten that a herindeling ended are moved onto
their successors by the area crosswalk of the two years' boundaries
(:func:`~.inputs.only_herindelingen`: a gemeente that still exists keeps all of its people),
so a merged gemeente's trend is the sum of its predecessors' (column ``voorgangers``).

**Population or method.** Each change from an earlier year to the last is split in two:
``deel_bevolking``, what the change of the population alone does (the last year's estimate
against the same method inputs on the earlier year's population), and ``deel_methode``, the
rest (the age band of the AOW age, bijstand, the local variation of that year).

**Classification break.** 85458NED (origin by herkomstland) starts in 2022; earlier years
come from 84910NED (migratieachtergrond). A trend that crosses 2022 says so on every row of
the earlier years (``breuk``) and in the notes; the two are never joined silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.access.tables import population_table_for
from vluchtelingen_in_beeld.clean.inputs import Inputs, only_herindelingen
from vluchtelingen_in_beeld.estimation.estimate import Estimate

#: At most this many years in a trend (the newest), so a run stays quick.
TREND_YEARS = 5
#: What a trend across the 2022 classification break says on the earlier years' rows.
BREAK = (
    "Tot en met 2021 naar migratieachtergrond (84910NED), vanaf 2022 naar herkomstland "
    "(85458NED): de groepen zijn niet precies dezelfde; vergelijk met voorzichtigheid."
)


@dataclass
class Trend:
    """The estimate per year on the last year's gemeenten (see the module docstring)."""

    years: list[int]
    #: long: one row per gemeente and year (and NL01 per year)
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def of(self, code: str) -> pd.DataFrame:
        """The rows of one gemeente (or ``NL01``), by year."""
        return self.table[self.table["gemeentecode"] == code].sort_values("jaar")


def mapping(old: pd.Index, new: pd.Index, cw: pd.DataFrame | None) -> np.ndarray:
    """The matrix (old × new) that moves counts of ``old`` gemeenten onto ``new`` ones.

    A code in both is its own; a code that ended is split over its successors by ``cw``
    (area shares, kept to the herindelingen). Without ``cw`` every old code must be new.
    """
    m = np.zeros((len(old), len(new)))
    at = {c: i for i, c in enumerate(new)}
    cw = only_herindelingen(cw, set(new)) if cw is not None else None
    for i, code in enumerate(old):
        if code in at:
            m[i, at[code]] = 1.0
            continue
        rows = cw[cw["oud"] == code] if cw is not None else cw
        if rows is None or rows.empty:
            raise ValueError(f"{code} is not a gemeente of the last year and not in a crosswalk.")
        for _, r in rows.iterrows():
            m[i, at[r["nieuw"]]] += float(r["share"])
    return m


def predecessors(old: pd.Index, new: pd.Index, cw: pd.DataFrame | None) -> dict[str, list[str]]:
    """New code -> the old codes that ended in it (empty when none did)."""
    out: dict[str, list[str]] = {}
    if cw is None:
        return out
    moved = only_herindelingen(cw, set(new))
    for _, r in moved[moved["oud"] != moved["nieuw"]].iterrows():
        if r["oud"] in set(old) and r["oud"] not in set(new):
            out.setdefault(str(r["nieuw"]), []).append(str(r["oud"]))
    return out


def counterfactual(last: Inputs, earlier: Inputs, m: np.ndarray) -> Inputs:
    """The last year's inputs with the earlier year's population on its gemeenten."""
    pop = earlier.population.copy()
    old = pd.Index(earlier.inwoners.index)
    new = pd.Index(last.inwoners.index)
    moved = []
    for (group, age), part in pop.groupby(["groep", "leeftijd"], sort=False):
        counts = part.set_index("gemeentecode")["bevolking"].reindex(old).fillna(0.0)
        values = counts.to_numpy(dtype=float) @ m
        moved.append(
            pd.DataFrame(
                {"gemeentecode": new, "groep": group, "leeftijd": age, "bevolking": values}
            )
        )
    inwoners = pd.Series(earlier.inwoners.reindex(old).to_numpy(dtype=float) @ m, index=new)
    return replace(last, population=pd.concat(moved, ignore_index=True), inwoners=inwoners)


def build_trend(
    estimates: dict[int, Estimate],
    alike: dict[int, Estimate],
    maps: dict[int, np.ndarray],
    before: dict[int, dict[str, list[str]]],
) -> Trend:
    """The trend table from the estimate of each year on its own gemeenten.

    ``alike[t]``: the last year's method on year ``t``'s population (:func:`counterfactual`),
    for the split; ``maps[t]``: :func:`mapping` from year ``t``'s gemeenten to the last
    year's; ``before[t]``: :func:`predecessors`.
    """
    years = sorted(estimates)
    last = estimates[years[-1]]
    codes = pd.Index(last.table["gemeentecode"])
    names = last.table.set_index("gemeentecode")["gemeentenaam"]
    central: dict[int, np.ndarray] = {}
    draws: dict[int, np.ndarray] = {}
    for y in years:
        est = estimates[y]
        t = est.table.set_index("gemeentecode")
        m = maps[y]
        central[y] = np.nan_to_num(t["werkzoekend"].to_numpy(dtype=float)) @ m
        order = est.draws.codes.get_indexer(t.index)
        draws[y] = est.draws.j[:, order] @ m
    rows = []
    first = years[0]
    for y in years:
        change = central[y] - central[first]
        diff = draws[y] - draws[first]
        lo, hi = np.percentile(diff, (10, 90), axis=0)
        p10, p90 = np.percentile(draws[y], (10, 90), axis=0)
        merged = before.get(y, {})
        breaks = population_table_for(y) is not population_table_for(years[-1])
        for k, code in enumerate(codes):
            rows.append(
                {
                    "gemeentecode": code,
                    "gemeentenaam": names[code],
                    "jaar": y,
                    "werkzoekend": central[y][k],
                    "werkzoekend_p10": p10[k],
                    "werkzoekend_p90": p90[k],
                    f"verandering_sinds_{first}": change[k],
                    f"verandering_sinds_{first}_p10": lo[k],
                    f"verandering_sinds_{first}_p90": hi[k],
                    "voorgangers": "; ".join(merged.get(code, [])),
                    "breuk": BREAK if breaks else "",
                }
            )
    table = _split(pd.DataFrame(rows), central, alike, years, codes)
    national = _national(table, draws, years, first)
    notes = []
    if any(population_table_for(y) is not population_table_for(years[-1]) for y in years):
        notes.append(f"Trend over de classificatiebreuk van 2022: {BREAK}")
    if any(before.get(y) for y in years):
        notes.append(
            "Trend op de gemeenten van "
            f"{years[-1]}: een samengevoegde gemeente telt haar voorgangers op (kolom "
            "voorgangers); een gemeente die bleef bestaan houdt al haar inwoners."
        )
    return Trend(years, pd.concat([table, national], ignore_index=True), notes)


def _alike_central(alike: dict[int, Estimate], last: int, y: int, codes: pd.Index) -> np.ndarray:
    if y == last or y not in alike:
        return np.zeros(len(codes))
    t = alike[y].table.set_index("gemeentecode").reindex(codes)
    out: np.ndarray = np.nan_to_num(t["werkzoekend"].to_numpy(dtype=float))
    return out


def _split(
    table: pd.DataFrame,
    central: dict[int, np.ndarray],
    alike: dict[int, Estimate],
    years: list[int],
    codes: pd.Index,
) -> pd.DataFrame:
    """``deel_bevolking`` and ``deel_methode`` of the change from each year to the last."""
    last = years[-1]
    pop = np.zeros(len(table))
    method = np.zeros(len(table))
    for y in years:
        at = (table["jaar"] == y).to_numpy()
        if y == last:
            continue
        same_method = _alike_central(alike, last, y, codes)
        pop[at] = central[last] - same_method
        method[at] = same_method - central[y]
    table[f"deel_bevolking_tot_{last}"] = pop
    table[f"deel_methode_tot_{last}"] = method
    return table


def _national(
    table: pd.DataFrame, draws: dict[int, np.ndarray], years: list[int], first: int
) -> pd.DataFrame:
    """One NL01 row per year: sums, and the change within each draw."""
    rows = []
    last = years[-1]
    for y in years:
        part = table[table["jaar"] == y]
        total = draws[y].sum(axis=1)
        diff = total - draws[first].sum(axis=1)
        rows.append(
            {
                "gemeentecode": "NL01",
                "gemeentenaam": "Nederland",
                "jaar": y,
                "werkzoekend": part["werkzoekend"].sum(),
                "werkzoekend_p10": float(np.percentile(total, 10)),
                "werkzoekend_p90": float(np.percentile(total, 90)),
                f"verandering_sinds_{first}": part[f"verandering_sinds_{first}"].sum(),
                f"verandering_sinds_{first}_p10": float(np.percentile(diff, 10)),
                f"verandering_sinds_{first}_p90": float(np.percentile(diff, 90)),
                "voorgangers": "",
                "breuk": part["breuk"].iloc[0] if len(part) else "",
                f"deel_bevolking_tot_{last}": part[f"deel_bevolking_tot_{last}"].sum(),
                f"deel_methode_tot_{last}": part[f"deel_methode_tot_{last}"].sum(),
            }
        )
    return pd.DataFrame(rows)
