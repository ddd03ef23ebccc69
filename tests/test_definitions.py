"""What is counted: the local factor without the target group's own bijstand, the
sensitivity table against a direct recomputation, the rounding rule, and the pitch page."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from vluchtelingen_in_beeld.clean.inputs import gather
from vluchtelingen_in_beeld.clean.method import load_card
from vluchtelingen_in_beeld.estimation.estimate import estimate, target_population
from vluchtelingen_in_beeld.fmt import nl_about, nl_pct, nl_prob, round_sig
from vluchtelingen_in_beeld.render.pitch import render_page
from vluchtelingen_in_beeld.workflow.pipeline import estimate_inputs

from .browser import artifact, offline_page


def doubled(inputs, code: str, card):
    """``inputs`` with gemeente ``code``'s target group doubled, and with it its
    inhabitants and the bijstand those extra people bring at the card's own rates:
    (1 - EI) of them are not independent, q of those on bijstand."""
    pop = inputs.population.copy()
    rows = pop["gemeentecode"] == code
    w_before = target_population(pop[rows], inputs.weights)
    pop.loc[rows, "bevolking"] = pop.loc[rows, "bevolking"] * 2
    ei = {g.name: g.ei.value for g in card.groups}
    extra_w = float(w_before.sum(axis=1).iloc[0])
    extra_n = float(sum(w_before[g].iloc[0] * (1 - ei[g]) for g in w_before.columns))
    inw = inputs.inwoners.astype(float).copy()
    rate = inputs.bijstand_per_1000.copy()
    count = rate[code] / 1000 * inw[code] + card.target_bijstand_share.value * extra_n
    inw[code] += extra_w
    rate[code] = count / inw[code] * 1000
    return replace(inputs, population=pop, inwoners=inw, bijstand_per_1000=rate)


def test_doubling_a_target_group_does_not_raise_its_local_factor(shared_session):
    """Amsterdam with twice the refugees (and the bijstand they bring): its local factor
    stays where it was. Bijstand per inhabitant including the group would rise, so a
    factor built on it (the old one) would count the concentration twice."""
    card = replace(load_card("lokaal"), draws=100)
    inputs = gather(shared_session, card, 2025)
    code = "GM0363"
    before = estimate(inputs, card)
    more = doubled(inputs, code, card)
    after = estimate(more, card)
    assert after.local[code] <= before.local[code] + 1e-9
    # the factor is scaled per origin group to keep each group's national total; every group
    # doubled keeps Amsterdam's mix, so relative to any other gemeente its factor moves only
    # by the groups' scales (far below 0.01%), never by the doubled bijstand
    other = "GM0599"
    ratio = after.local[code] / after.local[other]
    assert ratio == pytest.approx(before.local[code] / before.local[other], rel=1e-4)
    assert after.table["werkzoekend"].sum() == pytest.approx(
        estimate(more, replace(card, beta=replace(card.beta, value=0.0))).table["werkzoekend"].sum()
    )
    # ... while the target group and the plain bijstand rate did go up
    t0, t1 = before.table.set_index("gemeentecode"), after.table.set_index("gemeentecode")
    assert t1.at[code, "doelgroep"] == pytest.approx(2 * t0.at[code, "doelgroep"])
    naive_before = inputs.bijstand_per_1000[code] / inputs.bijstand_nl_per_1000
    naive_after = more.bijstand_per_1000[code] / inputs.bijstand_nl_per_1000
    assert naive_after > naive_before * 1.05
    assert any("Kerncijfers" in n for n in before.notes)


def test_lokaal_keeps_every_draws_and_every_groups_national_total(shared_session):
    """The local factor moves job-seekers between gemeenten, never in number: the national
    total of every Monte Carlo draw, and each origin group's central total, equal the
    standard card's. (It used to scale only the central total: p10 59,320 -> 58,928 and
    Syrië 36,447 -> 35,620.) A bijstand count under 10 (rounded by KWB) gives no factor."""
    std = replace(load_card("standaard"), draws=300)
    lok = replace(load_card("lokaal"), draws=300)
    inputs = gather(shared_session, lok, 2025)
    a, b = estimate(inputs, std), estimate(inputs, lok)
    assert np.allclose(a.draws.j.sum(axis=1), b.draws.j.sum(axis=1), rtol=1e-9, atol=0)
    assert not np.allclose(a.draws.j, b.draws.j)  # but the gemeenten differ
    for g in std.groups:
        col = f"werkzoekend_{g.name}"
        assert b.table[col].sum() == pytest.approx(a.table[col].sum(), rel=1e-12), g.name
    nat_a, nat_b = a.national.iloc[0], b.national.iloc[0]
    assert nat_b["werkzoekend_p10"] == pytest.approx(nat_a["werkzoekend_p10"], rel=1e-9)
    # small bijstand counts are missing for the factor: those gemeenten keep factor 1 exactly
    counts = inputs.bijstand_per_1000 / 1000 * inputs.inwoners
    small = counts[(counts > 0) & (counts < 10)].index
    assert len(small) > 0, "the snapshot has no small bijstand count to test"
    assert (b.local[small] == 1.0).all()
    named = [inputs.names[c] for c in small[:3]]
    assert any(all(n in note for n in named) for note in b.notes), b.notes
    assert not any("GM0" in note for note in b.notes if "Lokale factor" in note)


def test_sensitivity_matches_a_direct_recomputation(shared_session):
    card = replace(load_card(), draws=100)
    est, inputs, regions = estimate_inputs(shared_session, 2025, card)
    sens = est.sensitivity.table.set_index("parameter")
    with_range = {k for k, r in card.rates().items() if r.has_range}
    # every parameter with a range that the card uses, each once: not the local factor's
    # (beta = 0) and not local_sd (the spread comes from the data)
    assert set(sens.index) == with_range - {"target_bijstand_share", "local_sd"}
    assert len(sens) == len(set(sens.index))
    assert sens.at["reach_factor.resultaat2005", "scenario"] == "resultaat2005"
    amr = regions.membership("arbeidsmarktregio")
    for name in ("job_seeking", "ei.syrie", "contact_share"):
        rate = card.rates()[name]
        for side, value in (("laag", rate.low), ("hoog", rate.high)):
            again = estimate(inputs, card.with_value(name, value), amr=amr).table
            again = again.set_index("gemeentecode")
            assert sens.at[name, f"werkzoekend_{side}"] == pytest.approx(again["werkzoekend"].sum())
            assert sens.at[name, f"plaatsingen_{side}"] == pytest.approx(again["plaatsingen"].sum())
            j = est.sensitivity.j[(name, side)]
            assert j == pytest.approx(again["werkzoekend"].reindex(est.draws.codes).to_numpy())
    # s moves the national total by its whole range; EI of Syria by far less
    s = sens.loc["job_seeking"]
    assert s["werkzoekend_hoog"] / s["werkzoekend_laag"] == pytest.approx(0.70 / 0.40)
    assert sens.index[0] == "job_seeking"


@pytest.mark.parametrize(
    ("x", "text"),
    [(1040, "1.000"), (885, "890"), (1195, "1.200"), (7661, "7.700"), (151, "150"),
     (7.26, "minder dan 10"), (0.4, "minder dan 10"), (0, "0"), (99.6, "100"),
     (12.4, "12"), (10, "10")],
)  # fmt: skip
def test_rounding_rule(x, text):
    assert nl_about(x) == text
    assert round_sig(377_028) == 380_000
    assert nl_about(7.26, count=False) == "7,3"  # a rate keeps its digits


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (1.0, "meer dan 99%"),
        (0.995, "meer dan 99%"),
        (0.0, "minder dan 1%"),
        (0.004, "minder dan 1%"),
        (0.5, "50%"),
        (0.125, "13%"),  # halves away from zero, as the page's script does
    ],
)
def test_chances_are_never_certain(p, text):
    assert nl_prob(p) == text


def significant(token: str) -> int:
    digits = re.sub(r"\D", "", token).lstrip("0").rstrip("0")
    return len(digits)


def test_pitch_page_says_what_it_shows(rank2025):
    code = "GM0014"
    page = render_page(rank2025, code)
    body = page.split("<body>", 1)[1]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    lead = re.search(r'<p class="lead" id="definitie">(.*?)</p>', page, re.S).group(1)
    assert "van 18 jaar tot 67 jaar" in lead
    assert "minder dan 70% van het\nnetto minimumloon (ook wie in deeltijd werkt)" in lead
    rng = re.search(r'<p class="noot" id="bereik">(.*?)</p>', page, re.S).group(1)
    assert "geen telling van UWV of de bijstand" in rng
    # where the range comes from, for this gemeente: the local variation dominates here
    shares = rank2025.estimate.draws.spread.loc[code]
    assert shares["aandeel_lokaal"] > shares["aandeel_s"] > shares["aandeel_landelijk"]
    assert f"komt {nl_pct(shares['aandeel_lokaal'])} uit de lokale afwijking" in rng
    assert "Wat deze schatting niet ziet" in text and "azc" in text and "Pakistan" in text
    assert "in 3 jaar" in text and "Per jaar" in text
    assert "Aan het werk: een baan, stage of werkervaringsplaats" in text
    verantwoording = page.split('id="verantwoording"', 1)[1]
    assert "86136NED" in verantwoording and "(aanname)" in verantwoording
    assert "prijzen van 2006-2008" in text
    assert "100%" not in text
    assert not re.search(r"(?<![\d,.])0%", text)
    figures = re.findall(r'class="(?:n )?getal">(.*?)</', page)
    assert len(figures) > 25
    for fig in figures:
        for token in re.findall(r"\d[\d.,]*", fig):
            assert significant(token) <= 2, fig
    # the unrounded central estimate is not on the page
    row = rank2025.estimate.table.set_index("gemeentecode").loc[code]
    raw = f"{row['werkzoekend']:,.0f}".replace(",", ".")
    if significant(raw) > 2:
        assert raw not in text


def test_pitch_page_prints_on_one_a4_page(rank2025, tmp_path):
    """Every selected gemeente's page (their reasons differ in length: near-ties, the
    constraints they are chosen thanks to), and one that is not selected: one page without
    the verantwoording, and the verantwoording on the pages after it."""
    t = rank2025.ranking.table
    codes = [*t.loc[t["geselecteerd"], "gemeentecode"], t.loc[~t["geselecteerd"]].iloc[0, 1]]
    pages = {}
    with offline_page() as (page, log):
        for code in codes:
            page_file = tmp_path / f"{code}.html"
            page_file.write_text(render_page(rank2025, code, index_href=None), encoding="utf-8")
            page.goto(page_file.as_uri())
            pdf = page.pdf(format="A4", print_background=True)
            if code == "GM0363":
                artifact("pitch-amsterdam.pdf").write_bytes(pdf)
            page.uncheck("#met-verantwoording")
            alone = page.pdf(format="A4", print_background=True)
            count = [len(re.findall(rb"/Type\s*/Page(?!s)", b)) for b in (alone, pdf)]
            pages[code] = tuple(count)
    assert all(alone == 1 and full >= 2 for alone, full in pages.values()), pages
    assert log.errors == [] and log.blocked == []


def test_local_variation_is_from_the_data_and_reported(est2025):
    var = est2025.variation
    assert var is not None and var.n > 300
    assert 0.15 < var.sd < 0.6
    assert var.sd_amr > 0 and var.sd_gemeente > 0
    assert "85984NED" in var.source
    # local variation widens a gemeente's interval beyond the national rates alone
    t = est2025.table.set_index("gemeentecode")
    width = (t["werkzoekend_p90"] - t["werkzoekend_p10"]) / t["werkzoekend"]
    assert width.std() > 0.01  # no longer the same +-15% everywhere
    assert np.isfinite(width).all() and isinstance(est2025.table, pd.DataFrame)


def test_small_numbers_read_as_words_not_as_false_precision():
    from vluchtelingen_in_beeld.fmt import nl_about_between, nl_about_range

    assert nl_about_range(0.3, 4.6) == "minder dan 10"
    assert nl_about_between(0.3, 4.6) == "minder dan 10"
    assert nl_about_range(3, 24) == "tot 24"
    assert nl_about_between(3, 24) == "hooguit 24"
    assert nl_about_between(885, 1195) == "tussen 890 en 1.200"
    assert nl_about_range(885, 1195) == "890–1.200"
