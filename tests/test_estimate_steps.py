"""Each step of the method on a frame small enough to work out by hand, and invariants."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vluchtelingen_in_beeld.clean.inputs import age_bands, age_weights
from vluchtelingen_in_beeld.clean.method import Rate, load_card
from vluchtelingen_in_beeld.estimation.estimate import (
    central,
    job_seeking,
    local_factor,
    not_independent,
    outreach,
    per_1000,
    rest_bijstand_rate,
    routes,
    scale_to_total,
    simulate,
    target_population,
)


def population():
    """Two gemeenten, two groups, two age bands (15-20 and 60-65), counts chosen by hand."""
    rows = [
        ("GM1", "syrie", "70400", 100),
        ("GM1", "syrie", "71300", 20),
        ("GM1", "iran", "70400", 10),
        ("GM1", "iran", "71300", 30),
        ("GM2", "syrie", "70400", 0),
        ("GM2", "syrie", "71300", 40),
        ("GM2", "iran", "70400", 50),
        ("GM2", "iran", "71300", 50),
    ]
    return pd.DataFrame(rows, columns=["gemeentecode", "groep", "leeftijd", "bevolking"])


def test_age_bands_parsed_from_titles():
    titles = {
        "10000": "Totaal",
        "70400": "15 tot 20 jaar",
        "71300": "60 tot 65 jaar",
        "22000": "95 jaar of ouder",
        "53950": "15 tot 65 jaar",
    }
    bands = age_bands(titles)
    assert bands == {"70400": (15, 20), "71300": (60, 65), "22000": (95, 120)}


def test_age_weights_prorate():
    bands = {"70400": (15.0, 20.0), "70500": (20.0, 25.0), "71300": (60.0, 65.0)}
    assert age_weights(bands, 15, 65) == {"70400": 1.0, "70500": 1.0, "71300": 1.0}
    # 18 up to 62: 2/5 of 15-20, all of 20-25, 2/5 of 60-65
    assert age_weights(bands, 18, 62) == pytest.approx({"70400": 0.4, "70500": 1.0, "71300": 0.4})


def test_default_ages_18_to_aow_prorate_the_edge_bands():
    """18 to 67 on CBS's 5-year bands: 18 and 19 of 15-20 (2/5), 65 and 66 of 65-70 (2/5),
    the bands between fully, nothing of 10-15 or 70-75."""
    titles = {"70300": "10 tot 15 jaar", "70400": "15 tot 20 jaar", "70500": "20 tot 25 jaar"}
    titles |= {"71300": "60 tot 65 jaar", "71400": "65 tot 70 jaar", "71500": "70 tot 75 jaar"}
    lo, hi = load_card().ages(2025)
    weights = age_weights(age_bands(titles), lo, hi)
    assert weights == pytest.approx({"70400": 0.4, "70500": 1.0, "71300": 1.0, "71400": 0.4})
    # 100 people in each band: 40 + 100 + 100 + 40
    rows = [("GM1", "syrie", k, 100) for k in titles]
    frame = pd.DataFrame(rows, columns=["gemeentecode", "groep", "leeftijd", "bevolking"])
    assert target_population(frame, weights).loc["GM1", "syrie"] == pytest.approx(280.0)
    # 2023: AOW at 66 years and 10 months -> 1 + 10/12 of the 5 years of 65-70
    lo, hi = load_card().ages(2023)
    assert age_weights(age_bands(titles), lo, hi)["71400"] == pytest.approx((1 + 10 / 12) / 5)


def test_step1_target_population_by_hand():
    w = target_population(population(), {"70400": 1.0, "71300": 1.0})
    assert w.loc["GM1", "syrie"] == 120 and w.loc["GM1", "iran"] == 40
    assert w.loc["GM2", "syrie"] == 40 and w.loc["GM2", "iran"] == 100
    half = target_population(population(), {"70400": 1.0, "71300": 0.5})
    assert half.loc["GM1", "syrie"] == 110  # 100 + 20/2


def test_step2_to_6_by_hand():
    w = pd.DataFrame({"syrie": [120.0], "iran": [40.0]}, index=["GM1"])
    n = not_independent(w, pd.Series({"syrie": 0.25, "iran": 0.5}))
    assert n.loc["GM1"].tolist() == [90.0, 20.0]
    j = job_seeking(n, 0.5)
    assert j.loc["GM1"].tolist() == [45.0, 10.0]
    total = j.sum(axis=1)
    a, b = routes(total, 0.2)
    assert (a.iloc[0], b.iloc[0]) == (11.0, 44.0)
    out = outreach(total, 0.4, 0.25, 1000).iloc[0]
    assert (out["contacten"], out["plaatsingen"], out["kosten_eur"]) == (22.0, 5.5, 5500.0)
    assert out["gesprekken"] == out["contacten"]  # the plan: every contact a conversation
    assert per_1000(total, pd.Series([11_000], index=["GM1"])).iloc[0] == 5.0


def test_step6_funnel_by_hand():
    """The 2006-2008 funnel on 1,000 job-seekers, worked out by hand:
    25% contacted = 250; 4,000/11,250 of contacts had an intake = 88.89; 2,327/4,000 of
    intakes placed = 51.71 over 3 years = 17.24 a year; 1,807/2,327 of placements in route A
    = 40.16, route B 11.56; at EUR 2,500 = EUR 129,272."""
    j = pd.Series([1000.0], index=["GM1"])
    out = outreach(
        j,
        0.25,
        2327 / 4000,
        2500,
        reach_factor=4000 / 11250,
        route_a_share=1807 / 2327,
        period_years=3,
    ).iloc[0]
    assert out["contacten"] == pytest.approx(250.0)
    assert out["gesprekken"] == pytest.approx(88.8889, abs=1e-3)
    assert out["plaatsingen"] == pytest.approx(51.7111, abs=1e-3)
    assert out["plaatsingen_per_jaar"] == pytest.approx(17.2370, abs=1e-3)
    assert out["plaatsingen_route_a"] == pytest.approx(40.1556, abs=1e-3)
    assert out["plaatsingen_route_b"] == pytest.approx(11.5556, abs=1e-3)
    assert out["kosten_eur"] == pytest.approx(129277.8, abs=0.5)
    # the old reading (58% of every job-seeker contacted) would give 145 placements
    assert out["plaatsingen"] < 0.25 * 1000 * 0.58 / 2


def test_step4_local_factor():
    rest = pd.Series([0.02, 0.005], index=["GM1", "GM2"])
    assert local_factor(rest, 0.01, 0).tolist() == [1.0, 1.0]
    assert local_factor(rest, 0.01, 1).tolist() == pytest.approx([2.0, 0.5])
    assert local_factor(rest, 0.005, 0.5).tolist() == pytest.approx([2.0, 1.0])


def test_step4_rest_rate_takes_out_the_target_groups_own_bijstand():
    """GM1: 1,000 inhabitants, 50 on bijstand (50 per 1,000), a target group of 100 of whom
    60 are not independent; q = 0.5 -> 30 of the 50 are the group's own, so the rest of the
    population has 20 in 900. GM2: 2,000 inhabitants, 40 on bijstand, no target group."""
    rate = pd.Series([50.0, 20.0], index=["GM1", "GM2"])
    inw = pd.Series([1000.0, 2000.0], index=["GM1", "GM2"])
    w = pd.Series([100.0, 0.0], index=["GM1", "GM2"])
    n = pd.Series([60.0, 0.0], index=["GM1", "GM2"])
    rest, rest_nl, notes = rest_bijstand_rate(rate, inw, w, n, 0.5)
    assert rest.tolist() == pytest.approx([20 / 900, 40 / 2000])
    assert rest_nl == pytest.approx(60 / 2900)
    assert not notes
    # a q that would take out more than 90% floors at 10% of the gemeente's bijstand
    rest, _, notes = rest_bijstand_rate(rate, inw, w, n, 1.0)
    assert rest["GM1"] == pytest.approx(5 / 900) and "GM1" in notes[0]


def wide(values):
    return pd.DataFrame(
        values,
        index=[f"GM{i}" for i in range(len(values))],
        columns=["afghanistan", "eritrea", "irak", "iran", "somalie", "syrie"],
    )


counts = st.lists(st.lists(st.integers(0, 5000), min_size=6, max_size=6), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(counts, st.floats(0, 1), st.floats(0, 1))
def test_invariants(values, ei, s):
    w = wide(values)
    n = not_independent(w, pd.Series(ei, index=w.columns))
    j = job_seeking(n, s)
    assert (j.to_numpy() <= w.to_numpy() + 1e-9).all()  # werkzoekend <= doelgroep
    # the sum over gemeenten equals the same computation on the national row
    national = w.sum().to_frame("NL").T
    jn = job_seeking(not_independent(national, pd.Series(ei, index=w.columns)), s)
    assert j.to_numpy().sum() == pytest.approx(jn.to_numpy().sum(), rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(counts, st.floats(0, 0.9), st.floats(0.01, 0.1), st.floats(0.05, 0.9), st.floats(0.01, 0.1))
def test_monotone_in_every_rate(values, ei, dei, s, ds):
    w = wide(values)
    base = job_seeking(not_independent(w, pd.Series(ei, index=w.columns)), s).to_numpy()
    more_ei = job_seeking(not_independent(w, pd.Series(ei + dei, index=w.columns)), s).to_numpy()
    more_s = job_seeking(not_independent(w, pd.Series(ei, index=w.columns)), s + ds).to_numpy()
    assert (more_ei <= base + 1e-9).all()
    assert (more_s >= base - 1e-9).all()
    a1, _ = routes(pd.Series(base.sum(axis=1)), 0.15)
    a2, _ = routes(pd.Series(more_s.sum(axis=1)), 0.15)
    assert (a2 >= a1 - 1e-9).all()


@settings(max_examples=20, deadline=None)
@given(counts, st.integers(0, 2**31))
def test_percentiles_ordered_and_seeded(values, seed):
    from dataclasses import replace

    card = replace(load_card(), draws=200, seed=seed)
    w = wide(values)
    d1, _ = simulate(w, card)
    d2, _ = simulate(w, card)
    assert np.array_equal(d1.j, d2.j)  # same seed, same numbers
    p = d1.percentiles()
    assert (p["werkzoekend_p10"] <= p["werkzoekend_p50"] + 1e-9).all()
    assert (p["werkzoekend_p50"] <= p["werkzoekend_p90"] + 1e-9).all()


def test_region_sums_are_within_draws():
    """Two gemeenten with different origin groups (Syrians only, Iranians only): their rates
    vary independently across draws, so the percentiles of the regional sum are strictly
    narrower than the sums of the gemeenten's percentiles. Summing percentiles would fail."""
    card = load_card()
    wide_ei = [replace(g, ei=Rate(0.5, 0.3, 0.7)) for g in card.groups]  # independent ranges
    card = replace(card, groups=tuple(wide_ei), binomial=False)
    names = [g.name for g in card.groups]
    only = lambda g: [1_000 if n == g else 0 for n in names]  # noqa: E731
    w = wide([only("syrie"), only("iran"), only("irak")])
    d, _ = simulate(w, card)
    regions = d.region_sums(pd.Series({"GM0": "R1", "GM1": "R1", "GM2": "R2"}, name="regio"))
    within = d.j[:, 0] + d.j[:, 1]
    p = d.percentiles()
    assert regions.loc["R1", "werkzoekend_p90"] == pytest.approx(np.percentile(within, 90))
    assert regions.loc["R1", "werkzoekend_p10"] == pytest.approx(np.percentile(within, 10))
    summed_p90 = p.loc["GM0", "werkzoekend_p90"] + p.loc["GM1", "werkzoekend_p90"]
    summed_p10 = p.loc["GM0", "werkzoekend_p10"] + p.loc["GM1", "werkzoekend_p10"]
    assert regions.loc["R1", "werkzoekend_p90"] < summed_p90 - 1.0
    assert regions.loc["R1", "werkzoekend_p10"] > summed_p10 + 1.0
    assert p.loc["GM2", "werkzoekend_p50"] == pytest.approx(regions.loc["R2", "werkzoekend_p50"])


def test_monte_carlo_draws_inside_ranges():
    card = load_card()
    w = wide([[100] * 6])
    d, _ = simulate(w, card)
    assert d.params["s"].min() >= 0.40 and d.params["s"].max() <= 0.70
    syrie = d.params["ei"][:, list(w.columns).index("syrie")]
    assert syrie.min() >= 0.285 and syrie.max() <= 0.325


def test_local_factor_keeps_the_national_total_and_zero_bijstand_is_missing():
    """Three gemeenten, the lokaal card (beta 0.5): the factor moves job-seekers between
    them and leaves the national sum as it is; a gemeente with 0 bijstand keeps factor 1
    before scaling (missing data), not 0 job-seekers."""
    from vluchtelingen_in_beeld.estimation.estimate import LocalData

    card = load_card("lokaal")
    w = pd.DataFrame({g.name: [100.0, 100.0, 100.0] for g in card.groups}, index=["A", "B", "C"])
    local = LocalData(
        pd.Series([60.0, 15.0, 0.0], index=w.index),  # bijstand per 1,000; C has none
        pd.Series([20_000.0, 20_000.0, 20_000.0], index=w.index),
    )
    off = central(w, load_card("standaard"), None)
    on = central(w, card, local)
    assert on.j.sum() == pytest.approx(off.j.sum())  # national total unchanged
    assert on.j["A"] > off.j["A"] > on.j["B"]  # more bijstand, more job-seekers
    assert on.j["C"] > 0 and on.factor["C"] == pytest.approx(on.factor["C"])
    raw_c = on.factor["C"] / on.factor.mean()
    assert 0.5 < raw_c < 1.5  # C kept the national rates (factor 1 before scaling)
    assert any("zonder bruikbaar bijstandscijfer (C)" in n for n in on.notes)
    # the same in every Monte Carlo draw
    draws, _ = simulate(w, replace(card, draws=200, binomial=False), local)
    base, _ = simulate(w, replace(load_card("standaard"), draws=200, binomial=False))
    assert draws.j.sum(axis=1) == pytest.approx(base.j.sum(axis=1))
    assert scale_to_total(np.array([1.0, 3.0]), np.array([2.0, 0.0])).tolist() == [4.0, 0.0]


def test_cost_per_placement_is_one_fact_with_the_placement_rate():
    """In every draw: EUR 5.8 m / (4,000 conversations x that draw's placement rate).

    A draw with more placements per conversation has a lower cost per placement, exactly;
    an independent draw of the cost would break the product (cost x rate = 1,450 a
    conversation) in almost every draw.
    """
    from vluchtelingen_in_beeld.estimation.estimate import funnel_draws

    card = replace(load_card("standaard"), draws=500)
    funnels = funnel_draws(card, 500)
    rate = funnels["resultaat2005"].placements / funnels["resultaat2005"].conversations
    cost = funnels["resultaat2005"].cost
    assert np.allclose(cost * rate, 5_800_000 / 4000)
    assert cost.min() >= 5.8e6 / (4000 * 0.58) - 1e-6 and cost.max() <= 5.8e6 / (4000 * 0.41)
    # the plan's placements cost the same per placement (one programme), per draw
    assert np.array_equal(funnels["plan2005"].cost, cost)
    # and its range is wide: 2,500 to 3,500 within the draws
    assert np.percentile(cost, 5) < 2700 < 3100 < np.percentile(cost, 95)
