"""The estimate summed per region (provincie, arbeidsmarktregio, COROP-gebied, landsdeel).

Sums of the central figures, and p10/p50/p90 from sums within each Monte Carlo draw (a
region's interval is not the sum of its gemeenten's intervals). Provincie sums are checked
against the population table's own provincie rows.
"""

from __future__ import annotations

import pandas as pd

from vluchtelingen_in_beeld.clean.regions import Regions, level_columns
from vluchtelingen_in_beeld.errors import DataCoverageError
from vluchtelingen_in_beeld.estimation.estimate import Estimate

#: The columns of the estimate that add up over gemeenten.
SUM_COLUMNS = (
    "inwoners",
    "doelgroep",
    "niet_zelfstandig",
    "werkzoekend",
    "route_a",
    "route_b",
    "contacten",
    "plaatsingen",
    "kosten_eur",
)


def region_totals(est: Estimate, regions: Regions, level: str) -> pd.DataFrame:
    """The estimate summed per region; p10/p50/p90 from sums within each Monte Carlo draw."""
    code_col, name_col, _ = level_columns(level)
    table = est.table.set_index("gemeentecode")
    membership = regions.frame[code_col].reindex(table.index)
    if membership.isna().any():
        lost = membership.index[membership.isna()]
        raise DataCoverageError(
            f"{len(lost)} gemeente(n) of the estimate have no {level}: {', '.join(lost[:10])}. "
            "If the data and the region table are of one year, a stored answer may be "
            "incomplete: run again with `refresh`."
        )
    cols = [c for c in SUM_COLUMNS if c in table.columns]
    sums = table[cols].groupby(membership).sum(min_count=1)
    counts = membership.value_counts().rename("aantal_gemeenten")
    names = regions.frame.groupby(code_col)[name_col].first()
    intervals = est.draws.region_sums(membership.rename(code_col))
    out = pd.concat([names, counts, sums, intervals], axis=1, join="inner")
    cbs_pv = est.provincie_inwoners
    if level == "provincie" and cbs_pv is not None:
        _check_provincie_totals(out["inwoners"], cbs_pv, regions.table)
    out["werkzoekend_per_1000"] = out["werkzoekend"] / out["inwoners"] * 1000
    out.index.name = "code"
    out = out.reset_index().rename(columns={name_col: "naam"})
    out.insert(0, "niveau", level)
    out.insert(0, "jaar", est.year)
    return out.sort_values("werkzoekend", ascending=False, ignore_index=True)


def _check_provincie_totals(sums: pd.Series, cbs: pd.Series, table: str) -> None:
    """Provincie sums of gemeenten against the population table's own provincie rows.

    A difference means the memberships (``table``) do not belong with the data's year.
    """
    both = pd.concat([sums.rename("som"), cbs.rename("cbs")], axis=1)
    off = both[(both["som"] - both["cbs"]).abs() > 0.5]
    if len(off):
        shown = ", ".join(
            f"{code}: {r.som:,.0f} vs {r.cbs:,.0f}" for code, r in off.head(6).iterrows()
        )
        raise DataCoverageError(
            f"The gemeenten that {table} puts in each provincie do not add up to CBS's own "
            f"provincie rows ({shown}). The region table and the data must be of the same year; "
            "if they are, a stored answer may be incomplete: run again with `refresh`."
        )
