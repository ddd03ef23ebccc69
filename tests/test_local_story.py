"""A gemeente's own story: peers, a reception centre, its own figures, tables for Excel.

The hand computations here recompute from the estimate's own table (or from made-up
frames); the snapshot's refugee rows are an allocation, so only the arithmetic is checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vluchtelingen_in_beeld.clean.localfiles import (
    LocalFigure,
    LocalFiles,
    read_local_figures,
    read_reception,
)
from vluchtelingen_in_beeld.clean.method import load_card
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.estimation.estimate import calibrate
from vluchtelingen_in_beeld.estimation.peers import RECEPTION_RATIO, reception_flags, size_class
from vluchtelingen_in_beeld.workflow.pipeline import build_year

from .conftest import cli

# --- peers --------------------------------------------------------------------------------


def test_size_classes_are_cbs_gemeentegrootteklassen():
    got = size_class(pd.Series([1217, 4999, 5000, 99_999, 100_000, 249_999, 250_000, 934_526]))
    assert got.tolist() == [
        "minder dan 5.000 inwoners",
        "minder dan 5.000 inwoners",
        "5.000 tot 10.000 inwoners",
        "50.000 tot 100.000 inwoners",
        "100.000 tot 150.000 inwoners",
        "150.000 tot 250.000 inwoners",
        "250.000 inwoners of meer",
        "250.000 inwoners of meer",
    ]


@pytest.mark.parametrize("code", ["GM0363", "GM1706", "GM0193"])
def test_peers_median_and_place_by_hand(rank2025, code):
    """Three gemeenten: the group, its median of job-seekers per 1,000 and the place in it,
    recomputed from the estimate's table and the regions of the year."""
    p = rank2025.peers().set_index("gemeentecode")
    t = rank2025.estimate.table.set_index("gemeentecode")
    reg = rank2025.regions.frame
    rate = t["werkzoekend"] / t["inwoners"] * 1000
    bounds = [0, 5_000, 10_000, 20_000, 50_000, 100_000, 150_000, 250_000]
    klass = pd.Series(np.searchsorted(bounds, t["inwoners"], side="right"), index=t.index)
    for suffix, members in (
        ("klasse", klass.index[klass == klass[code]]),
        ("regio", reg.index[reg["arbeidsmarktregio"] == reg.loc[code, "arbeidsmarktregio"]]),
        ("provincie", reg.index[reg["provincie"] == reg.loc[code, "provincie"]]),
    ):
        group = rate[members]
        assert p.loc[code, f"aantal_{suffix}"] == len(group)
        assert p.loc[code, f"mediaan_per_1000_{suffix}"] == pytest.approx(group.median())
        assert p.loc[code, f"plaats_{suffix}"] == 1 + int((group > rate[code]).sum())


def test_a_count_under_ten_shows_no_rate_among_peers(rank2025):
    p = rank2025.peers().set_index("gemeentecode")
    t = rank2025.estimate.table.set_index("gemeentecode")
    small = t.index[t["werkzoekend"] < 10]
    assert len(small)  # Vlieland, Schiermonnikoog, … on the snapshot
    assert p.loc[small, "werkzoekend_per_1000"].isna().all()
    assert p.loc[t.index.difference(small), "werkzoekend_per_1000"].notna().all()


# --- the reception rule -------------------------------------------------------------------


def _towns(shares: list[float], regions: list[str], size: int = 30_000) -> pd.DataFrame:
    codes = [f"GM{i:04d}" for i in range(len(shares))]
    return pd.DataFrame(
        {
            "inwoners": float(size),
            "doelgroep": [s * size / 1000 for s in shares],
            "grootteklasse": "20.000 tot 50.000 inwoners",
            "arbeidsmarktregio": regions,
        },
        index=codes,
    )


def test_a_gemeente_at_five_times_its_regions_share_is_flagged_its_neighbours_not():
    shares = [8.0, 6.0, 7.0, 40.0, 9.0, 5.0, 7.5, 6.5]
    f = reception_flags(_towns(shares, ["A"] * 4 + ["B"] * 4))
    assert f["mogelijk_opvang"].tolist() == [False, False, False, True, False, False, False, False]
    # the reference is the median of the others: 7 in region A, 7 in the size class
    assert f.loc["GM0003", "doelgroep_per_1000_regio_anderen"] == pytest.approx(7.0)


def test_a_share_just_under_the_ratio_is_not_flagged_and_a_region_of_high_shares_is_not():
    f = reception_flags(_towns([10, 10, 10, 10 * RECEPTION_RATIO - 0.1], ["A"] * 4))
    assert not f["mogelijk_opvang"].any()
    # a whole region high (cities): each is compared with its size class too
    towns = _towns([30, 31, 32, 6, 7, 8, 6.5, 7.5], ["A"] * 3 + ["B"] * 5)
    assert not reception_flags(towns)["mogelijk_opvang"].any()


def test_a_small_target_group_is_never_flagged():
    towns = _towns([5, 5, 5, 60], ["A"] * 4, size=500)  # 30 people at 60 per 1,000
    assert not reception_flags(towns)["mogelijk_opvang"].any()


# --- --opvang -----------------------------------------------------------------------------


def test_opvang_lowers_exactly_that_gemeentes_target_population(shared_session, est2025, tmp_path):
    f = tmp_path / "opvang.csv"
    f.write_text("gemeentecode;bewoners;peildatum;bron\nGM1706;150;2025-01-01;COA\n", "utf-8")
    local = LocalFiles.read(f, None)
    res = build_year(shared_session, 2025, local=local)
    before = est2025.table.set_index("gemeentecode")["doelgroep"]
    after = res.estimate.table.set_index("gemeentecode")["doelgroep"]
    assert after["GM1706"] == pytest.approx(before["GM1706"] - 150)
    assert (after.drop("GM1706") == before.drop("GM1706")).all()
    assert any(s.get("table") == "opvang.csv" for s in res.estimate.provenance)
    assert "150 bewoners van de opvang (COA, 2025-01-01)" in _page(res, "GM1706")


def _page(result, code: str) -> str:
    from vluchtelingen_in_beeld.render.pitch import render_page

    return " ".join(render_page(result, code).split())


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("gemeentecode,bewoners,peildatum,bron\nGM03x3,10,2025,COA\n", "regel 2: 'GM03x3'"),
        ("gemeentecode,bewoners,peildatum,bron\nGM0363,-5,2025,COA\n", "regel 2: bewoners -5"),
        ("gemeentecode,bewoners,peildatum,bron\nGM0363,2.5,2025,COA\n", "geen geheel aantal"),
        ("gemeentecode,bewoners,peildatum,bron\nGM0363,5,2025,\n", "regel 2: geen bron"),
        ("gemeentecode,bewoners,peildatum,bron\nGM0363,5,2025,A\nGM0363,6,2025,B\n",
         "regel 3: GM0363 staat er al op regel 2"),
        ("gemeentecode,aantal\nGM0363,5\n", "lacks the columns bewoners, peildatum, bron"),
    ],
)  # fmt: skip
def test_a_bad_opvang_row_is_refused_by_line(tmp_path, text, said):
    f = tmp_path / "opvang.csv"
    f.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=None) as exc:
        read_reception(f)
    assert said in str(exc.value)


def test_opvang_above_the_target_population_or_not_a_gemeente_of_the_year(shared_session, tmp_path):
    f = tmp_path / "opvang.csv"
    f.write_text(
        "gemeentecode,bewoners,peildatum,bron\nGM1706,99999,2025-01-01,COA\n"
        "GM9999,10,2025-01-01,COA\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        build_year(shared_session, 2025, local=LocalFiles.read(f, None))
    text = str(exc.value)
    assert "regel 2: 99.999 bewoners is meer dan de doelgroep van GM1706" in text
    assert "regel 3: GM9999 is geen gemeente van 2025" in text
    assert "niets van het bestand gebruikt" in text


# --- local figures ------------------------------------------------------------------------


def _figure(code: str, value: float, wat: str = "werkzoekend", marge: float = 0.1) -> LocalFigure:
    return LocalFigure(code, wat, value, "2025-01-01", "eigen telling", marge, 2)


def test_calibration_on_known_truth():
    """Five made-up gemeenten whose true job-seekers are 0.7 and 0.9 times the estimate in
    the two that know their figure: those two get their figure (and draws around it), the
    other three are moved by the geometric mean, sqrt(0.63), in the centre and each draw's
    s by exp(σ z) with σ the spread of the two log ratios."""
    card = load_card()
    codes = pd.Index([f"GM{i:04d}" for i in range(5)])
    j = pd.Series([100.0, 200.0, 300.0, 400.0, 500.0], index=codes)
    groups = pd.DataFrame({"a": j * 0.25, "b": j * 0.75})
    rng = np.random.default_rng(1)
    s = np.exp(np.log(0.55) + 0.1 * rng.standard_normal(4000))
    draws = j.to_numpy()[None, :] * (s / 0.55)[:, None]
    figures = {"GM0000": _figure("GM0000", 70.0), "GM0001": _figure("GM0001", 180.0)}
    j2, g2, d2, cal = calibrate(j, groups, draws, s, card, figures, seed=7)
    assert j2["GM0000"] == 70.0 and j2["GM0001"] == 180.0
    k = np.sqrt(0.7 * 0.9)
    assert cal.factor == pytest.approx(k)
    assert j2[["GM0002", "GM0003", "GM0004"]].tolist() == pytest.approx([300 * k, 400 * k, 500 * k])
    assert g2.sum(axis=1).tolist() == pytest.approx(j2.tolist())
    spread = np.std(np.log([0.7, 0.9]), ddof=1)
    assert cal.spread == pytest.approx(spread)
    # the calibrated: mean at the figure, spread of the margin
    assert d2[:, 0].mean() == pytest.approx(70.0, rel=0.01)
    assert np.std(np.log(d2[:, 0])) == pytest.approx(0.1, rel=0.05)
    # the others: s follows the calibrations' spread, in the order of the draws' own s
    ratio = d2[:, 2] / draws[:, 2]
    s_new = ratio * s
    assert np.std(np.log(s_new)) == pytest.approx(spread, rel=0.01)
    assert np.corrcoef(np.log(s_new), np.log(s))[0, 1] == pytest.approx(1.0)


def test_a_bijstand_figure_is_turned_into_job_seekers_with_s_over_q():
    card = load_card()
    codes = pd.Index(["GM0001", "GM0002"])
    j = pd.Series([100.0, 100.0], index=codes)
    s = np.full(10, card.job_seeking.value)
    out, _, _, cal = calibrate(
        j, pd.DataFrame({"a": j}), np.ones((10, 2)) * 100, s, card,
        {"GM0001": _figure("GM0001", 60.0, "bijstand")}, seed=1,
    )  # fmt: skip
    want = 60.0 * card.job_seeking.value / card.target_bijstand_share.value
    assert out["GM0001"] == pytest.approx(want)
    assert cal.factor == pytest.approx(want / 100.0)


def test_local_figures_through_the_command_line(statline, tmp_path):
    f = tmp_path / "lokaal.csv"
    f.write_text(
        "gemeentecode;wat;waarde;peildatum;bron\nGM0363;werkzoekend;9.000;2025-01-01;Gemeente\n",
        "utf-8",
    )
    out = tmp_path / "s.csv"
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("estimate", "--snapshot", str(statline), "--lokale-cijfers", str(f), "--out",
            str(out), "--draws", "400", env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out).set_index("gemeentecode")
    assert t.loc["GM0363", "werkzoekend"] == 9000
    assert t.loc["GM0363", "bron_schatting"].startswith("gekalibreerd op lokale cijfers (Gemeente")
    assert (t.drop("GM0363")["bron_schatting"] == "geschat").all()
    manifest = (tmp_path / "s.csv.manifest.json").read_text("utf-8")
    assert "lokaal.csv" in manifest


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("GM0363;werkloos;10;2025;X", "wat 'werkloos' is niet bekend"),
        ("GM0363;werkzoekend;-3;2025;X", "geen geheel aantal"),
        ("GM0363;werkzoekend;1e-300;2025;X", "geen geheel aantal"),
        ("GM0363;werkzoekend;12,5;2025;X", "geen geheel aantal"),
        ("GM0363;werkzoekend;abc;2025;X", "geen getal"),
    ],
)
def test_a_bad_local_figure_is_refused_by_line(tmp_path, row, said):
    f = tmp_path / "lokaal.csv"
    f.write_text(f"gemeentecode;wat;waarde;peildatum;bron\nGM0014;werkzoekend;5;2025;A\n{row}\n")
    with pytest.raises(ConfigError) as exc:
        read_local_figures(f)
    assert f"regel 3: {said}" in str(exc.value) or said in str(exc.value)
    assert "regel 3" in str(exc.value)


def test_a_local_figure_above_the_target_population_is_refused(shared_session, tmp_path):
    f = tmp_path / "lokaal.csv"
    f.write_text("gemeentecode,wat,waarde,peildatum,bron\nGM0096,werkzoekend,5000,2025,X\n")
    with pytest.raises(ConfigError, match="regel 2: 5.000 werkzoekenden is meer dan de doelgroep"):
        build_year(shared_session, 2025, local=LocalFiles.read(None, f))


# --- tables for Excel ---------------------------------------------------------------------


def test_csv_dialect_nl_reads_back_to_the_same_numbers(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    en, nl = tmp_path / "en.csv", tmp_path / "nl.csv"
    for out, dialect in ((en, "en"), (nl, "nl")):
        r = cli("estimate", "--snapshot", str(statline), "--draws", "400", "--out", str(out),
                "--csv-dialect", dialect, env=env)  # fmt: skip
        assert r.exit_code == 0, r.output
    a = pd.read_csv(en)
    b = pd.read_csv(nl, sep=";", decimal=",")
    pd.testing.assert_frame_equal(a, b)
    assert ";" in nl.read_text("utf-8-sig").splitlines()[0]
    assert "4,0552" in nl.read_text("utf-8-sig") or "," in nl.read_text("utf-8-sig").split("\n")[1]
    # the per-1000 column has decimals: written with a comma, never a point
    line = nl.read_text("utf-8-sig").splitlines()[1].split(";")
    header = nl.read_text("utf-8-sig").splitlines()[0].split(";")
    assert "," in line[header.index("werkzoekend_per_1000")]


# --- what a hostile review found (each failed before its fix) ------------------------------


def test_figures_that_make_s_above_one_or_no_job_seekers_are_refused():
    card = load_card()
    codes = pd.Index(["GM0001", "GM0002", "GM0003"])
    j = pd.Series([100.0, 100.0, 100.0], index=codes)
    s = np.full(10, card.job_seeking.value)
    draws = np.ones((10, 3)) * 100
    with pytest.raises(ConfigError, match="s = 2,20: meer werkzoekenden dan niet-zelfstandigen"):
        calibrate(j, pd.DataFrame({"a": j}), draws, s, card,
                  {"GM0001": _figure("GM0001", 400.0)}, seed=1)  # fmt: skip
    zero = {c: _figure(c, 0.0) for c in codes}
    with pytest.raises(ConfigError, match="nergens werkzoekenden"):
        calibrate(j, pd.DataFrame({"a": j}), draws, s, card, zero, seed=1)
    # s never above 1 in a draw, even at the spread's tail
    figures = {"GM0001": _figure("GM0001", 170.0), "GM0002": _figure("GM0002", 60.0)}
    wide = np.exp(np.log(0.55) + 0.3 * np.random.default_rng(2).standard_normal(2000))
    _, _, out, cal = calibrate(j, pd.DataFrame({"a": j}), np.outer(wide / 0.55, j), wide, card,
                               figures, seed=1)  # fmt: skip
    assert (out[:, 2] <= 100.0 / 0.55 * 1.0 + 1e-6).all()  # J ≤ N: s ≤ 1 in every draw


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # a row with more cells than the header: the columns would shift
        ("gemeentecode,bewoners,peildatum,bron\nGM0014,12,5,2025-01-01,COA\n",
         "regel 2: 1 cel(len) meer dan de kolommen"),
        # a quoted source over two lines: the bad row is named by its own line
        ('gemeentecode,bewoners,peildatum,bron\nGM0014,5,2025,"COA\nlocatie Zuid"\n'
         "GM0034,-1,2025,COA\n", "regel 4: bewoners -1"),
        ("gemeentecode,bewoners,peildatum,bron\nGM0014,1e308,2025,COA\n",
         "regel 2: bewoners 1e308 is geen geheel aantal van 0 tot 20.000.000"),
    ],
)  # fmt: skip
def test_opvang_rows_that_would_shift_or_overflow_are_refused_by_their_own_line(
    tmp_path, text, said
):
    f = tmp_path / "opvang.csv"
    f.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as exc:
        read_reception(f)
    assert said in str(exc.value)


def test_out_is_never_the_opvang_file(statline, tmp_path):
    """Even a file vib once wrote there, that the user then filled as an opvang file."""
    f = tmp_path / "opv.csv"
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("estimate", "--snapshot", str(statline), "--draws", "400", "--out", str(f), env=env)
    assert r.exit_code == 0, r.output
    text = "gemeentecode,bewoners,peildatum,bron\nGM1706,10,2025-01-01,COA\n"
    f.write_text(text, "utf-8")
    r = cli("estimate", "--snapshot", str(statline), "--opvang", str(f), "--out", str(f),
            "--force", env=env)  # fmt: skip
    assert r.exit_code != 0 and "is the --opvang file" in r.output
    assert f.read_text("utf-8") == text


def test_own_files_are_named_as_such_never_as_cbs(shared_session, tmp_path):
    from vluchtelingen_in_beeld.render.provenance import source_lines

    f = tmp_path / "opvang.csv"
    f.write_text("gemeentecode,bewoners,peildatum,bron\nGM1706,10,2025-01-01,COA\n", "utf-8")
    res = build_year(shared_session, 2025, local=LocalFiles.read(f, None))
    lines = source_lines(res.sources())
    assert "opvang.csv" not in lines[0]  # the CBS line
    assert any(
        line.startswith("Eigen bestand: opvang.csv") and "COA" in line and "2025-01-01" in line
        for line in lines
    )


def test_a_trend_from_after_its_year_is_refused(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("trend", "--snapshot", str(statline), "--year", "2024", "--from", "2025", env=env)
    assert r.exit_code != 0 and "no earlier year" in r.output
