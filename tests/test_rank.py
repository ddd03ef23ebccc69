"""Ranking and selection: hand-made cases for each constraint, then the shared snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.rank import (
    Constraints,
    InfeasibleError,
    compare_reference,
    contributions,
    parse_weights,
    percentile_rank,
    score_draws,
    select,
)
from vluchtelingen_in_beeld.year import build_year


def towns() -> pd.DataFrame:
    """Eight made-up gemeenten in three provincies (P1 has four) and four regio's.

    Scores fall from A (0.9) to H (0.2); E, G and H are small (< 50,000 inhabitants).
    P1: A, B, C, E (regio R1: A, B; R2: C, E). P2: D, F (R3). P3: G, H (R4).
    """
    return pd.DataFrame(
        {
            "gemeentenaam": list("ABCDEFGH"),
            "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
            "inwoners": [200e3, 150e3, 120e3, 90e3, 40e3, 60e3, 30e3, 20e3],
            "provincie_code": ["P1", "P1", "P1", "P2", "P1", "P2", "P3", "P3"],
            "provincie": ["Een", "Een", "Een", "Twee", "Een", "Twee", "Drie", "Drie"],
            "arbeidsmarktregio_code": ["R1", "R1", "R2", "R3", "R2", "R3", "R4", "R4"],
            "arbeidsmarktregio": ["Rа1", "Rа1", "Rа2", "Rа3", "Rа2", "Rа3", "Rа4", "Rа4"],
        },
        index=pd.Index(list("ABCDEFGH"), name="gemeentecode"),
    )


def pick(**kw) -> list[str]:
    return select(towns(), Constraints(**kw)).chosen


def test_no_constraints_takes_the_top_scores():
    assert pick(n=3, max_per_provincie=None) == ["A", "B", "C"]


def test_provincie_cap_skips_and_says_why():
    sel = select(towns(), Constraints(n=4, max_per_provincie=2))
    assert sel.chosen == ["A", "B", "D", "F"]
    assert "Een heeft al 2 gekozen gemeenten (A, B)" in sel.passed_over["C"]


def test_regio_cap():
    assert pick(n=4, max_per_provincie=None, max_per_regio=1) == ["A", "C", "D", "G"]


def test_min_klein_reserves_places():
    sel = select(towns(), Constraints(n=4, max_per_provincie=None, min_klein=2))
    assert sel.chosen == ["A", "B", "E", "G"]
    assert "kleine gemeenten" in sel.passed_over["C"]


def test_include_and_exclude():
    assert pick(n=3, max_per_provincie=None, include=("H",), exclude=("A",)) == ["H", "B", "C"]


def test_all_places_forced_in(est2025, shared_session):
    r = build_year(shared_session, estimate=est2025, n=2, include=("Winterswijk", "Emmen"))
    t = r.ranking.table
    assert set(t.loc[t["geselecteerd"], "gemeentenaam"]) == {"Winterswijk", "Emmen"}
    rest = t[~t["geselecteerd"]]
    assert (rest["reden"] == "Niet gekozen: alle plaatsen zijn vastgezet met --include.").all()


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        (
            {"n": 7, "max_per_provincie": 2},
            "at most 2 per provincie over 3 provincies allows at most 6",
        ),
        (
            {"n": 4, "max_per_provincie": None, "max_per_regio": 1, "exclude": ("G", "H")},
            "arbeidsmarktregio",
        ),
        (
            {"n": 3, "max_per_provincie": 1, "include": ("A", "B")},
            "--include forces 2 gemeenten from provincie Een",
        ),
        ({"n": 3, "max_per_provincie": None, "min_klein": 4}, "--min-klein 4 is more than --n 3"),
        ({"n": 4, "max_per_provincie": None, "min_klein": 4}, "only 3 eligible gemeenten"),
        ({"n": 2, "max_per_provincie": None, "min_klein": 1, "include": ("A", "B")}, "leaving 0"),
        ({"n": 8, "exclude": ("A",), "max_per_provincie": None}, "only 7 gemeenten are left"),
        ({"n": 2, "include": ("A",), "exclude": ("A",)}, "both included and excluded"),
    ],
)
def test_infeasible_is_refused_with_the_reason(kw, why):
    with pytest.raises(InfeasibleError, match=why):
        select(towns(), Constraints(**kw))


def test_min_klein_with_caps_that_block_small_ones():
    """Small ones: E (P1), G and H (P3). With 1 per provincie and 2 small, P1 must be E."""
    assert sorted(pick(n=3, max_per_provincie=1, min_klein=2)) == ["D", "E", "G"]


def test_percentile_rank_and_contributions_by_hand():
    v = pd.DataFrame(
        {
            "volume": [10.0, 30.0, 20.0],
            "concentratie": [3.0, 1.0, 2.0],
            "groei": [0.1, np.nan, 0.3],
        },
        index=["x", "y", "z"],
    )
    assert percentile_rank(v["volume"]).tolist() == pytest.approx([1 / 3, 1.0, 2 / 3])
    c = contributions(v, {"volume": 0.5, "concentratie": 0.3, "groei": 0.2})
    # x: 0.5/3 + 0.3*1 + 0.2*0.5 ; y has no growth: (0.5*1 + 0.3/3) * 1/0.8
    assert c.loc["x", "score"] == pytest.approx(0.5 / 3 + 0.3 + 0.1)
    assert c.loc["y", "score"] == pytest.approx((0.5 + 0.1) / 0.8)
    assert c.loc["y", "herschaald"] and not c.loc["x", "herschaald"]
    assert c.filter(like="bijdrage_").sum(axis=1).tolist() == pytest.approx(c["score"].tolist())


def test_score_draws_match_central_scores_when_draws_are_constant():
    rng = np.random.default_rng(1)
    j = rng.uniform(10, 100, 6)
    inw = rng.uniform(1e4, 1e5, 6)
    g = np.array([0.1, 0.2, np.nan, 0.05, 0.3, 0.0])
    w = {"volume": 0.5, "concentratie": 0.3, "groei": 0.2}
    central = contributions(pd.DataFrame({"volume": j, "concentratie": j / inw, "groei": g}), w)[
        "score"
    ].to_numpy()
    sd = score_draws(np.tile(j, (4, 1)), inw, g, w)
    assert sd.shape == (4, 6)
    assert np.allclose(sd, central[None, :])


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("volume=0.5,conc=0.3", "Did you mean 'concentratie'"),
        ("volume=-1", "0 or more"),
        ("volume", "not name=value"),
        ("volume=0,groei=0", "at least one"),
    ],
)
def test_bad_weights(text, msg):
    with pytest.raises(ConfigError, match=msg):
        parse_weights(text)


# --- the shared snapshot ------------------------------------------------------------------


def _holds(table: pd.DataFrame, n, cap_prov=None, cap_regio=None, min_klein=0, klein=50_000):
    sel = table[table["geselecteerd"]]
    assert len(sel) == n
    if cap_prov:
        assert sel.groupby("provincie").size().max() <= cap_prov
    if cap_regio:
        assert sel.groupby("arbeidsmarktregio").size().max() <= cap_regio
    assert (sel["inwoners"] < klein).sum() >= min_klein


def test_default_ranking_on_snapshot(rank2025):
    t = rank2025.ranking.table
    assert list(t.columns[:12]) == [
        "rang",
        "gemeentecode",
        "gemeentenaam",
        "provincie",
        "arbeidsmarktregio",
        "score",
        "bijdrage_volume",
        "bijdrage_concentratie",
        "bijdrage_groei",
        "kans_top_n",
        "geselecteerd",
        "reden",
    ]
    assert len(t) == 342 and t["rang"].tolist() == list(range(1, 343))
    _holds(t, 11, cap_prov=3)
    assert t["kans_top_n"].between(0, 1).all()
    assert t["kans_top_n"].sum() == pytest.approx(11)
    assert t["reden"].str.len().gt(40).all()


@pytest.mark.parametrize(
    "kw",
    [
        {"n": 15, "max_per_provincie": 2},
        {"n": 11, "max_per_provincie": None, "max_per_regio": 1},
        {"n": 11, "min_klein": 4, "klein_onder": 50_000},
        {"n": 5, "include": ("Den Haag", "winterswijk"), "exclude": ("GM0363", "Eindhoven")},
    ],
)
def test_constraints_hold_on_snapshot(shared_session, est2025, kw):
    r = build_year(shared_session, estimate=est2025, **kw)
    t = r.ranking.table
    _holds(
        t, kw["n"], kw.get("max_per_provincie", 3), kw.get("max_per_regio"), kw.get("min_klein", 0)
    )
    chosen = set(t.loc[t["geselecteerd"], "gemeentecode"])
    if "include" in kw:
        assert {"GM0518", "GM0294"} <= chosen
        assert not {"GM0363", "GM0772"} & chosen
        assert t.set_index("gemeentecode").at["GM0363", "reden"] == "Uitgesloten met --exclude."
        # reasons below the cut compare with the last gemeente chosen on merit, never with
        # one that was forced in (Winterswijk ranks far lower than many that are out)
        below = t[t["reden"].str.startswith("Niet gekozen: score")]
        assert not below["reden"].str.contains("Winterswijk|'s-Gravenhage").any()


def test_same_seed_same_ranking(shared_session, rank2025):
    again = build_year(shared_session, 2025, draws=rank2025.estimate.card.draws)
    pd.testing.assert_frame_equal(again.ranking.table, rank2025.ranking.table)


def test_infeasible_on_snapshot(shared_session, est2025):
    with pytest.raises(
        InfeasibleError, match="at most 3 per provincie over 12 provincies allows at most 36"
    ):
        build_year(shared_session, estimate=est2025, n=40, max_per_provincie=3)


def test_reasons_show_why_in_and_why_the_next_is_out(rank2025):
    t = rank2025.ranking.table
    sel, rest = t[t["geselecteerd"]], t[~t["geselecteerd"]]
    last, first_out = sel.iloc[-1], rest.iloc[0]
    assert last["score"] >= first_out["score"]
    assert "Gekozen als nummer 11 van 11" in last["reden"]
    assert first_out["gemeentenaam"] in last["reden"]  # names the runner-up and its score
    below = rest[rest["reden"].str.startswith("Niet gekozen: score")]
    assert len(below) > 300
    assert last["gemeentenaam"] in below.iloc[0]["reden"]
    # the criterion named as the gap really is the largest gap in the contribution columns
    crit = {"aantal werkzoekende": "volume", "per 1.000": "concentratie", "groei van": "groei"}
    gap_text = below.iloc[0]["reden"].split("vooral in ")[1]
    named = next(v for k, v in crit.items() if gap_text.startswith(k) or k in gap_text[:40])
    gaps = {c: last[f"bijdrage_{c}"] - below.iloc[0][f"bijdrage_{c}"] for c in crit.values()}
    assert named == max(gaps, key=gaps.get)


def test_capped_reason_on_snapshot(shared_session, est2025):
    r = build_year(shared_session, estimate=est2025, n=11, max_per_provincie=1)
    t = r.ranking.table
    capped = t[t["reden"].str.contains("heeft al 1 gekozen")]
    assert len(capped) >= 1
    row = capped.iloc[0]
    chosen_same = t[t["geselecteerd"] & (t["provincie"] == row["provincie"])]
    assert chosen_same.iloc[0]["gemeentenaam"] in row["reden"]


def test_compare_2009(rank2025):
    cmp = compare_reference(rank2025.ranking)
    assert len(cmp) == 11
    today = dict(zip(cmp["gemeente_2009"], cmp["gemeentenaam"], strict=True))
    for name in [
        "Groningen",
        "Emmen",
        "Zwolle",
        "Utrecht",
        "Amsterdam",
        "Haarlem",
        "Hilversum",
        "Nijmegen",
        "Winterswijk",
        "Hardenberg",
    ]:
        assert today[name] == name
    assert today["Schagen (intergemeentelijk)"] == "Schagen"
    assert "2013" in cmp.set_index("gemeente_2009").at["Schagen (intergemeentelijk)", "toelichting"]
    assert "Haren" in cmp.set_index("gemeente_2009").at["Groningen", "toelichting"]
    t = rank2025.ranking.table.set_index("gemeentecode")
    assert (cmp.set_index("gemeentecode")["rang"] == t.loc[cmp["gemeentecode"], "rang"]).all()
