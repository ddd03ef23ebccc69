"""The estimate over the years: common draws, today's gemeenten, the split of a change."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from vluchtelingen_in_beeld.clean.inputs import gather
from vluchtelingen_in_beeld.estimation.trend import build_trend, mapping, predecessors
from vluchtelingen_in_beeld.geography.geo import crosswalk
from vluchtelingen_in_beeld.render.maps import label_positions
from vluchtelingen_in_beeld.workflow.pipeline import year_trend


@pytest.fixture(scope="module")
def trend2025(shared_session, rank2025):
    return year_trend(shared_session, rank2025)


def _by_hand(shared_session, card, year: int) -> pd.Series:
    """J = Σ_g W[m,g] · (1 − EI[g]) · s with W the age-weighted rows of 85458NED."""
    inputs = gather(shared_session, card, year)
    pop = inputs.population
    w = pop["bevolking"].astype(float) * pop["leeftijd"].map(inputs.weights).astype(float)
    wide = pop.assign(w=w).groupby(["gemeentecode", "groep"])["w"].sum().unstack()
    ei = pd.Series({g.name: g.ei.value for g in card.groups})
    return (wide[ei.index] * (1 - ei)).sum(axis=1) * card.job_seeking.value


def test_trend_of_two_gemeenten_and_the_country_by_hand(shared_session, rank2025, trend2025):
    assert trend2025.years == [2023, 2024, 2025]
    card = rank2025.card
    hand = {y: _by_hand(shared_session, card, y) for y in (2023, 2025)}
    for code in ("GM0363", "GM0014"):
        rows = trend2025.of(code).set_index("jaar")
        for y in (2023, 2025):
            assert rows.loc[y, "werkzoekend"] == pytest.approx(hand[y][code], rel=1e-9)
        assert rows.loc[2025, "verandering_sinds_2023"] == pytest.approx(
            hand[2025][code] - hand[2023][code], rel=1e-9
        )
    nl = trend2025.of("NL01").set_index("jaar")
    for y in (2023, 2025):
        assert nl.loc[y, "werkzoekend"] == pytest.approx(hand[y].sum(), rel=1e-9)


def test_a_change_is_taken_within_draws_and_split_in_two(trend2025):
    """Same draws: the change's interval is far narrower than either year's (it would be
    about as wide without common draws), and the two parts add up to the change."""
    nl = trend2025.of("NL01").set_index("jaar")
    width_level = nl.loc[2025, "werkzoekend_p90"] - nl.loc[2025, "werkzoekend_p10"]
    width_change = (
        nl.loc[2025, "verandering_sinds_2023_p90"] - nl.loc[2025, "verandering_sinds_2023_p10"]
    )
    assert width_change < 0.2 * width_level
    assert nl.loc[2025, "verandering_sinds_2023_p10"] > 0  # the target group grew
    t = trend2025.table
    first = t[t["jaar"] == 2023].set_index("gemeentecode")
    last = t[t["jaar"] == 2025].set_index("gemeentecode")
    parts = first["deel_bevolking_tot_2025"] + first["deel_methode_tot_2025"]
    assert np.allclose(parts, last["verandering_sinds_2023"], atol=1e-6)
    # 2024 -> 2025: the same AOW age, the same method inputs: all of it population
    mid = t[t["jaar"] == 2024].set_index("gemeentecode")
    assert np.allclose(mid["deel_methode_tot_2025"], 0.0, atol=1e-6)


def _frame(shared_data, year: int) -> gpd.GeoDataFrame:
    f = gpd.read_file(shared_data / "geo" / "pdok" / f"gemeente_gegeneraliseerd_{year}.geojson")
    return f.set_crs(28992, allow_override=True)


def test_a_merged_gemeentes_trend_is_over_its_predecessors(shared_data):
    """On the real 2021 and 2023 boundaries: Dijk en Waard (GM1980, 2022) is Heerhugowaard
    (GM0398) and Langedijk (GM0416); Amsterdam took over Weesp (GM0457). A gemeente that did
    not change keeps exactly its own count (no slivers from its neighbours)."""
    old, new = _frame(shared_data, 2021), _frame(shared_data, 2023)
    cw = crosswalk(old, new)
    a, b = pd.Index(sorted(old["statcode"])), pd.Index(sorted(new["statcode"]))
    m = mapping(a, b, cw)
    counts = pd.Series(7.0, index=a)
    counts[["GM0398", "GM0416", "GM0457", "GM0363"]] = [100.0, 50.0, 10.0, 1000.0]
    moved = pd.Series(counts.to_numpy() @ m, index=b)
    assert moved["GM1980"] == pytest.approx(150.0)
    assert moved["GM0363"] == pytest.approx(1010.0)
    assert moved["GM0014"] == 7.0
    assert moved.sum() == pytest.approx(counts.sum())
    assert sorted(predecessors(a, b, cw)["GM1980"]) == ["GM0398", "GM0416"]

    # the trend table of made-up estimates: the merged gemeente's first year is the sum
    def est(codes: pd.Index, j: np.ndarray) -> SimpleNamespace:
        table = pd.DataFrame({"gemeentecode": codes, "gemeentenaam": codes, "werkzoekend": j})
        return SimpleNamespace(
            table=table, draws=SimpleNamespace(codes=codes, j=np.tile(j, (4, 1)))
        )

    j_new = counts.to_numpy() @ m + 5.0
    trend = build_trend(
        {2021: est(a, counts.to_numpy()), 2023: est(b, j_new)},
        {},
        {2021: m, 2023: np.eye(len(b))},
        {2021: predecessors(a, b, cw)},
    )
    dw = trend.of("GM1980").set_index("jaar")
    assert dw.loc[2021, "werkzoekend"] == pytest.approx(150.0)
    assert dw.loc[2023, "verandering_sinds_2021"] == pytest.approx(5.0)
    assert dw.loc[2021, "voorgangers"] == "GM0398; GM0416"
    assert dw.loc[2021, "breuk"]  # 2021 is 84910NED: the break is said on its rows
    assert any("classificatiebreuk" in n for n in trend.notes)


def test_pitch_page_and_index_say_the_trend(rank2025, trend2025):
    from dataclasses import replace

    from vluchtelingen_in_beeld.render.pitch import render_page

    res = replace(rank2025, trend=trend2025)
    text = " ".join(render_page(res, "GM0363").split())
    change = trend2025.of("GM0363").set_index("jaar").loc[2025, "verandering_sinds_2023"]
    assert f"Amsterdam: sinds 2023 ongeveer {round(change, -1):.0f} meer" in text
    assert 'class="trendlijn"' in text


def test_pilot_labels_never_collide():
    rng = np.random.default_rng(3)
    for n in (2, 5, 11, 30):
        anchors = rng.uniform(0, 60_000, (n, 2))
        anchors[1] = anchors[0]  # two on one spot
        pos = label_positions(anchors, 15_000.0)
        d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
        d[np.diag_indices(n)] = np.inf
        assert d.min() >= 15_000.0 * 0.999, n
        assert np.array_equal(pos, label_positions(anchors, 15_000.0))  # deterministic


def test_vib_trend_writes_the_table_and_says_the_change(statline, tmp_path):
    from .conftest import cli

    out = tmp_path / "trend.csv"
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("trend", "--snapshot", str(statline), "--draws", "400", "--out", str(out), env=env)
    assert r.exit_code == 0, r.output
    assert "Nederland: sinds 2023 ongeveer" in r.output
    t = pd.read_csv(out)
    assert sorted(t["jaar"].unique()) == [2023, 2024, 2025]
    assert len(t) == 3 * 343  # 342 gemeenten and NL01, each year
    manifest = (tmp_path / "trend.csv.manifest.json").read_text("utf-8")
    assert '"2023JJ00"' in manifest and '"2025JJ00"' in manifest
