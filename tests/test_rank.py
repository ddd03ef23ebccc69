"""The selection of voortrekkersgemeenten: exactness on hand-made frames, then the snapshot."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vluchtelingen_in_beeld.errors import ConfigError, InfeasibleError
from vluchtelingen_in_beeld.rank import (
    Constraints,
    Problem,
    compare_reference,
    pilot_value,
    rank,
    reach,
    reference_breaks,
)
from vluchtelingen_in_beeld.year import build_year

OFF = {
    "max_per_provincie": None,
    "max_per_regio": None,
    "min_per_landsdeel": None,
    "min_klein": None,
    "max_groot": None,
}


def towns(m: int = 9, seed: int = 0) -> pd.DataFrame:
    """``m`` made-up gemeenten over 3 provincies, 4 regio's and 2 landsdelen, mixed sizes."""
    rng = np.random.default_rng(seed)
    prov = rng.integers(0, 3, m)
    amr = prov * 2 + rng.integers(0, 2, m)  # regio's nest in provincies
    return pd.DataFrame(
        {
            "gemeentenaam": [f"G{i}" for i in range(m)],
            "inwoners": rng.choice([20e3, 60e3, 150e3, 400e3], m),
            "provincie_code": [f"P{p}" for p in prov],
            "provincie": [f"Prov {p}" for p in prov],
            "arbeidsmarktregio_code": [f"R{a}" for a in amr],
            "arbeidsmarktregio": [f"Regio {a}" for a in amr],
            "landsdeel_code": ["L0" if p < 2 else "L1" for p in prov],
            "landsdeel": ["Noord" if p < 2 else "Zuid" for p in prov],
        },
        index=pd.Index([f"G{i}" for i in range(m)], name="gemeentecode"),
    )


def brute_force(frame: pd.DataFrame, values: np.ndarray, c: Constraints, cost: float = 0.0):
    """The best subset by trying every one: (set of codes, objective) or None."""
    best = None
    codes = list(frame.index)
    for combo in itertools.combinations(range(len(codes)), c.n):
        sel = frame.iloc[list(combo)]
        chosen = set(sel.index)
        if not set(c.include) <= chosen or set(c.exclude) & chosen:
            continue
        if c.max_per_provincie is not None:
            if sel.groupby("provincie_code").size().max() > c.max_per_provincie:
                continue
        if c.max_per_regio is not None:
            if sel.groupby("arbeidsmarktregio_code").size().max() > c.max_per_regio:
                continue
        if c.min_per_landsdeel:
            counts = sel.groupby("landsdeel_code").size()
            counts = counts.reindex(frame["landsdeel_code"].unique(), fill_value=0)
            if counts.min() < c.min_per_landsdeel:
                continue
        if c.min_klein and (sel["inwoners"] < c.klein_onder).sum() < c.min_klein:
            continue
        if c.max_groot is not None and (sel["inwoners"] > c.groot_boven).sum() > c.max_groot:
            continue
        v = values[list(combo)]
        if c.budget_eur is not None and (c.pilot_cost_eur + cost * v).sum() > c.budget_eur:
            continue
        total = float(v.sum())
        if best is None or total > best[1] + 1e-9:
            best = (chosen, total)
    return best


CASES = [
    Constraints(n=3, **OFF),
    Constraints(n=3, **{**OFF, "max_per_provincie": 1}),
    Constraints(n=4, **{**OFF, "max_per_regio": 1, "min_per_landsdeel": 1}),
    Constraints(n=4, **{**OFF, "min_klein": 2, "klein_onder": 100e3, "max_groot": 1}),
    Constraints(n=3, max_per_provincie=2, max_per_regio=1, min_per_landsdeel=1, min_klein=1),
    Constraints(n=3, **{**OFF, "max_per_provincie": 2}, include=("G8",), exclude=("G0",)),
    Constraints(n=3, **OFF, budget_eur=300.0, pilot_cost_eur=50.0),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", range(12))
def test_integer_programme_equals_brute_force(case, seed):
    """Over every subset of 9 (or 10) gemeenten: the same objective and, without ties,
    the same selection. Values are drawn so that no two subsets tie."""
    frame = towns(9 + seed % 2, seed)
    c = CASES[case]
    values = np.random.default_rng(100 + seed).uniform(1, 100, len(frame))
    cost = 2.0 if c.budget_eur is not None else 0.0
    expected = brute_force(frame, values, c, cost)
    if expected is None:
        with pytest.raises(InfeasibleError):
            Problem(frame, c).solve(values, cost)
        return
    idx, objective = Problem(frame, c).solve(values, cost)
    assert objective == pytest.approx(expected[1])
    assert set(frame.index[idx]) == expected[0]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(1, 500), min_size=8, max_size=8),
    st.integers(0, 7),
    st.floats(1.01, 3),
    st.integers(0, 4),
)
def test_raising_a_value_never_drops_it_from_the_optimum(values, who, factor, case):
    """Raising one gemeente's value keeps it in the optimum if it was in (a linear programme
    over 0/1: every other selection gains at most as much)."""
    frame = towns(8, 3)
    c = CASES[case]
    v = np.array(values)
    try:
        before, _ = Problem(frame, c).solve(v)
    except InfeasibleError:
        return
    v2 = v.copy()
    v2[who] *= factor
    after, _ = Problem(frame, c).solve(v2)
    if who in before:
        assert who in after


def test_value_saturates_at_capacity_and_reach_counts_the_region():
    p = np.array([0.0, 100.0, 1e6])
    v = pilot_value(p, np.array(64.0), np.array(0.25))
    assert v[0] == 0 and v[1] == pytest.approx(64 * (1 - np.exp(-25 / 64)))
    assert v[2] == pytest.approx(64)
    # three gemeenten in region 0, one in region 1; rho = 0.5. The 300 reaches half of
    # 100 and of 40; the 100 half of 100 (of the 300) and of 40; the 40 half of 40 and 40.
    j = np.array([[100.0, 300.0, 40.0, 50.0]])
    out = reach(j, np.array([0, 0, 0, 1]), np.array([0.5]))
    assert out.tolist() == [[170.0, 370.0, 80.0, 50.0]]


def test_infeasible_names_the_constraint():
    frame = towns(9, 1)
    c = Constraints(n=3, **{**OFF, "min_klein": 3, "klein_onder": 10e3})
    from vluchtelingen_in_beeld.rank import why_infeasible

    with pytest.raises(InfeasibleError):
        Problem(frame, c).solve(np.ones(len(frame)))
    assert "min_klein" in why_infeasible(frame, c)
    capped = Constraints(n=5, **{**OFF, "max_per_provincie": 1})
    assert "max_per_provincie = 1" in why_infeasible(frame, capped)


def test_constraints_checked_before_work():
    with pytest.raises(ConfigError, match="at least 1"):
        Constraints(n=0).check()
    with pytest.raises(InfeasibleError, match="both included and excluded"):
        Constraints(include=("GM1",), exclude=("GM1",)).check()


# --- the shared snapshot ------------------------------------------------------------------


def gebieden(statline) -> pd.DataFrame:
    """The raw Gebieden in Nederland 2025 rows of the snapshot, by gemeente code."""
    raw = json.loads((statline / "86059NED" / "TypedDataSet.json").read_text("utf-8"))
    return pd.DataFrame(
        {
            "provincie": [r["Code_34"].strip() for r in raw],
            "regio": [r["Code_4"].strip() for r in raw],
            "landsdeel": [r["Code_24"].strip() for r in raw],
            "inwoners": [r["Inwonertal_52"] for r in raw],
        },
        index=[r["Code_1"].strip() for r in raw],
    )


def test_default_selection_holds_every_constraint_against_gebieden(rank2025, statline):
    t = rank2025.ranking.table
    c = rank2025.ranking.constraints
    assert (c.n, c.max_per_provincie, c.max_per_regio, c.min_per_landsdeel) == (11, 2, 1, 1)
    assert (c.min_klein, c.klein_onder, c.max_groot, c.groot_boven) == (2, 100e3, 4, 200e3)
    g = gebieden(statline).loc[t.loc[t["geselecteerd"], "gemeentecode"]]
    assert len(g) == 11
    assert g.groupby("provincie").size().max() <= 2
    assert g.groupby("regio").size().max() <= 1
    assert set(g["landsdeel"]) == {"LD01", "LD02", "LD03", "LD04"}
    assert (g["inwoners"] < 100e3).sum() >= 2
    assert (g["inwoners"] > 200e3).sum() <= 4


def test_columns_rank_and_reasons(rank2025):
    t = rank2025.ranking.table
    assert list(t.columns[:10]) == [
        "rang",
        "gemeentecode",
        "gemeentenaam",
        "provincie",
        "arbeidsmarktregio",
        "landsdeel",
        "geselecteerd",
        "waarde",
        "kans_geselecteerd",
        "reden",
    ]
    assert len(t) == 342 and t["rang"].tolist() == list(range(1, 343))
    # selected first, then the rest by the value they would add
    assert t["geselecteerd"].iloc[:11].all() and not t["geselecteerd"].iloc[11:].any()
    rest = t.iloc[11:]["waarde"].to_numpy()
    assert (np.diff(rest) <= 1e-9).all()
    assert t["reden"].str.len().gt(40).all()
    assert t.loc[t["geselecteerd"], "reden"].str.startswith("Gekozen").all()
    # the objective is the sum of the selected values
    assert rank2025.ranking.objective == pytest.approx(t.loc[t["geselecteerd"], "waarde"].sum())


def test_a_strong_gemeente_left_out_names_what_kept_it_out(rank2025):
    t = rank2025.ranking.table
    weakest = t.loc[t["geselecteerd"], "waarde"].min()
    strong_out = t[~t["geselecteerd"] & (t["waarde"] > weakest)]
    assert len(strong_out)
    for r in strong_out.itertuples():
        assert r.reden.startswith("Niet gekozen, ondanks"), r.reden
        assert isinstance(r.buiten_door, str)
    sel = t[t["geselecteerd"]]
    for r in strong_out[strong_out["buiten_door"] == "max_per_regio"].itertuples():
        same = sel[sel["arbeidsmarktregio_code"] == r.arbeidsmarktregio_code]
        assert len(same) == 1 and same["gemeentenaam"].iloc[0] in r.reden
    weak_out = t[~t["geselecteerd"] & (t["waarde"] < weakest - 1e-9)]
    weak_out = weak_out[weak_out["buiten_door"].isna()]
    assert weak_out["reden"].str.contains("de laagste gekozen gemeente").all()


def test_kans_geselecteerd_is_uncertain_for_several(rank2025):
    k = rank2025.ranking.table["kans_geselecteerd"]
    assert k.between(0, 1).all()
    assert ((k > 0.05) & (k < 0.95)).sum() >= 5
    assert k.sum() == pytest.approx(11)  # 11 chosen in every re-solved draw
    assert rank2025.ranking.params["resolve_draws"] >= 200


def test_prices_match_a_solve_without_the_constraint(rank2025):
    r = rank2025.ranking
    prices = r.prices.set_index("beperking")
    assert set(r.constraints.active()) <= set(prices.index)
    for name in r.constraints.active():
        _, without = Problem(r.frame, r.constraints.without(name)).solve(r.values)
        assert prices.at[name, "prijs"] == pytest.approx(without - r.objective, abs=1e-6)
        assert prices.at[name, "prijs"] >= -1e-9
    assert prices["prijs"].max() > 0  # at least one constraint costs something


def test_raising_one_gemeentes_job_seekers_never_lowers_its_chance(rank2025):
    """Common random numbers: the same draws, with one gemeente's job-seekers raised by 30%
    in every draw. Checked for the gemeenten whose chance is neither 0 nor 1."""
    est, ranking = rank2025.estimate, rank2025.ranking
    t = ranking.table.set_index("gemeentecode")
    middle = t[(t["kans_geselecteerd"] > 0.02) & (t["kans_geselecteerd"] < 0.98)].index[:6]
    assert len(middle) >= 5
    for code in middle:
        raised = replace(est, draws=replace(est.draws, j=est.draws.j.copy()))
        col = raised.draws.codes.get_loc(code)
        raised.draws.j[:, col] *= 1.3
        table = raised.table.copy()
        table.loc[table["gemeentecode"] == code, "werkzoekend"] *= 1.3
        raised.table = table
        again = rank(raised, rank2025.regions.frame, None, constraints=ranking.constraints)
        before = t.at[code, "kans_geselecteerd"]
        after = again.table.set_index("gemeentecode").at[code, "kans_geselecteerd"]
        assert after >= before, (code, before, after)


def test_infeasible_on_snapshot_names_the_constraint(shared_session, est2025):
    with pytest.raises(
        InfeasibleError, match="max_per_provincie = 2: at most 2 per provincie over 12"
    ):
        build_year(shared_session, estimate=est2025, n=40)
    with pytest.raises(InfeasibleError, match="min_klein"):
        build_year(
            shared_session, estimate=est2025, selection={"min_klein": 11, "klein_onder": 2000}
        )


def test_overrides_hold_on_snapshot(shared_session, est2025):
    r = build_year(
        shared_session,
        estimate=est2025,
        n=5,
        include=("Den Haag", "winterswijk"),
        exclude=("GM0363",),
        selection={"max_per_regio": None, "min_per_landsdeel": None},
    )
    t = r.ranking.table
    chosen = set(t.loc[t["geselecteerd"], "gemeentecode"])
    assert len(chosen) == 5 and {"GM0518", "GM0294"} <= chosen and "GM0363" not in chosen
    assert t.set_index("gemeentecode").at["GM0363", "reden"] == "Niet gekozen: uitgesloten."
    assert "vastgezet" in t.set_index("gemeentecode").at["GM0294", "reden"]


def test_compare_2009(rank2025):
    cmp = compare_reference(rank2025.ranking)
    members = cmp[cmp["soort"] == "lid"]
    assert len(members) == 11
    today = dict(zip(members["gemeente_2009"], members["gemeentenaam"], strict=True))
    for name in ["Groningen", "Emmen", "Zwolle", "Utrecht", "Amsterdam", "Haarlem"]:
        assert today[name] == name
    assert today["Schagen (intergemeentelijk)"] == "Schagen"
    assert (
        "2013"
        in members.set_index("gemeente_2009").at["Schagen (intergemeentelijk)", "toelichting"]
    )
    t = rank2025.ranking.table.set_index("gemeentecode")
    m = members.set_index("gemeentecode")
    assert (m["rang"] == t.loc[m.index, "rang"]).all()
    assert (m["kans_geselecteerd"] == t.loc[m.index, "kans_geselecteerd"]).all()
    summary = cmp[cmp["soort"] != "lid"].set_index("soort")
    own, best = summary.at["lijst 2009", "waarde"], summary.at["optimum", "waarde"]
    assert own == pytest.approx(m["waarde"].sum())
    assert best >= own - 1e-9
    assert summary.at["spijt", "waarde"] == pytest.approx(best - own)
    breaks = summary.at["lijst 2009", "toelichting"]
    assert "4 in provincie Noord-Holland" in breaks
    assert "2 in arbeidsmarktregio" in breaks
    assert "0 in landsdeel Zuid-Nederland" in breaks


def test_2009_breaks_and_loosened_constraints_by_hand():
    frame = towns(9, 2)
    c = Constraints(n=3, max_per_provincie=1, max_per_regio=1, min_per_landsdeel=1)
    codes = list(frame[frame["provincie_code"] == frame["provincie_code"].iloc[0]].index[:3])
    said = reference_breaks(frame, codes, replace(c, n=len(codes)))
    assert any("(hoogstens 1 per provincie)" in s for s in said)
