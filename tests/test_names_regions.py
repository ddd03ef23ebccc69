"""Gemeente name resolution, and regional roll-ups on the shared snapshot."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from vluchtelingen_in_beeld.clean.names import (
    AmbiguousNameError,
    GemeenteNames,
    UnknownNameError,
    normalise,
)
from vluchtelingen_in_beeld.clean.regions import load_regions
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.estimation.totals import region_totals
from vluchtelingen_in_beeld.workflow.pipeline import build_year

SMALL = GemeenteNames(
    {
        "GM0518": "'s-Gravenhage",
        "GM0893": "Bergen (L.)",
        "GM0373": "Bergen (NH.)",
        "GM0748": "Bergen op Zoom",
        "GM1900": "Súdwest-Fryslân",
        "GM0363": "Amsterdam",
        "GM0344": "Utrecht (gemeente)",
    }
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Den Haag", "GM0518"),
        ("den haag", "GM0518"),
        ("'s-Gravenhage", "GM0518"),
        ("S GRAVENHAGE", "GM0518"),
        ("sudwest fryslan", "GM1900"),
        ("Súdwest-Fryslân", "GM1900"),
        ("Bergen (L.)", "GM0893"),
        ("bergen nh", "GM0373"),
        ("Bergen op Zoom", "GM0748"),
        ("Utrecht", "GM0344"),
        ("GM0363", "GM0363"),
        ("gm363", "GM0363"),
        ("0363", "GM0363"),
    ],
)
def test_resolves(text, code):
    assert SMALL.resolve(text) == code


def test_bergen_is_ambiguous_and_lists_both():
    with pytest.raises(AmbiguousNameError) as e:
        SMALL.resolve("Bergen")
    assert "Bergen (L.) (GM0893)" in str(e.value) and "Bergen (NH.) (GM0373)" in str(e.value)
    assert "Bergen op Zoom" not in str(e.value)


def test_misspelling_lists_closest():
    with pytest.raises(UnknownNameError, match=r"Closest matches: Amsterdam \(GM0363\)"):
        SMALL.resolve("Amsterdm")


def test_unknown_code_and_empty():
    with pytest.raises(UnknownNameError, match="GM9999"):
        SMALL.resolve("GM9999")
    with pytest.raises(UnknownNameError, match="empty"):
        SMALL.resolve("  ")


def test_resolve_all_reports_every_problem():
    with pytest.raises(UnknownNameError) as e:
        SMALL.resolve_all(["Amsterdam", "Bergen", "Utrech"])
    assert "Bergen" in str(e.value) and "Utrech" in str(e.value)


def test_normalise():
    assert normalise("  'S-Hertogenbosch ") == "s hertogenbosch"
    assert normalise("Nuenen, Gerwen en Nederwetten") == "nuenen gerwen en nederwetten"


def test_real_names_on_snapshot(rank2025):
    names = rank2025.names()
    assert names.resolve("Den Haag") == "GM0518"
    assert names.resolve("den bosch") == "GM0796"
    with pytest.raises(AmbiguousNameError, match="GM0373.*GM0893|GM0893.*GM0373"):
        names.resolve("Bergen")
    with pytest.raises(UnknownNameError, match="Rotterdam"):
        names.resolve("Roterdam")


@pytest.mark.parametrize("level", ["provincie", "arbeidsmarktregio", "corop"])
def test_region_sums_equal_their_gemeenten(shared_session, est2025, level):
    year = build_year(shared_session, estimate=est2025)
    frame, est, regs = year.totals(level), year.estimate, year.regions
    total = est.table["werkzoekend"].sum()
    assert frame["werkzoekend"].sum() == pytest.approx(total)
    assert frame["aantal_gemeenten"].sum() == 342
    code_col = f"{'corop' if level == 'corop' else level}_code"
    by_hand = est.table.set_index("gemeentecode")["werkzoekend"].groupby(regs.frame[code_col]).sum()
    got = frame.set_index("code")["werkzoekend"]
    assert np.allclose(got.loc[by_hand.index], by_hand)
    assert (frame["werkzoekend_p10"] <= frame["werkzoekend"] * 1.0001).all()
    assert (frame["werkzoekend"] <= frame["werkzoekend_p90"] * 1.0001).all()
    if level == "provincie":
        assert len(frame) == 12


def test_every_gemeente_in_exactly_one_region(shared_session, est2025):
    regs = load_regions(shared_session, 2025, est2025.table["gemeentecode"])
    f = regs.frame
    assert len(f) == 342 and f.index.is_unique
    for col, pattern in (("provincie_code", r"^PV\d\d$"), ("arbeidsmarktregio_code", r"^AM\d\d$")):
        assert f[col].notna().all(), col  # str.match counts a missing code as a match
        assert f[col].astype(str).str.fullmatch(pattern).all(), col
    assert f["landsdeel_code"].notna().all()
    assert f["provincie_code"].nunique() == 12
    assert f["arbeidsmarktregio_code"].nunique() == 35
    assert f["landsdeel_code"].nunique() == 4
    # the data's own year: Gebieden in Nederland 2025, nothing to explain
    assert regs.table == "86059NED" and regs.year == 2025
    assert regs.notes == []
    # padded codes and names come back stripped
    assert f.loc["GM0363", "arbeidsmarktregio"] == "Groot Amsterdam"
    assert f.loc["GM0363", "provincie_code"] == "PV27"


def test_regions_fall_back_to_a_year_with_the_same_gemeenten(
    statline_no_bands_2024, doctored_session, est2025
):
    """Without the 2025 Gebieden table, 2024's (same 342 gemeenten) is used and said so."""
    session = doctored_session(statline_no_bands_2024)
    regs = load_regions(session, 2025, est2025.table["gemeentecode"])
    assert regs.table == "85755NED" and regs.year == 2024
    assert any("2024" in n and "85755NED" in n for n in regs.notes)


def test_provincie_totals_checked_against_cbs_provincie_rows(shared_session, est2025):
    """85458NED's own PV rows must equal the sums of the gemeenten placed in each provincie."""
    from dataclasses import replace

    from vluchtelingen_in_beeld.errors import DataCoverageError

    regs = load_regions(shared_session, 2025, est2025.table["gemeentecode"])
    assert est2025.provincie_inwoners is not None and len(est2025.provincie_inwoners) == 12
    region_totals(est2025, regs, "provincie")  # consistent: no error
    moved = regs.frame.copy()
    moved.loc["GM0363", ["provincie_code", "provincie"]] = ["PV26", "Utrecht"]  # Amsterdam
    with pytest.raises(DataCoverageError, match=r"do not add up.*PV2[67].*PV2[67]"):
        region_totals(est2025, replace(regs, frame=moved), "provincie")


def test_unknown_level():
    from vluchtelingen_in_beeld.clean.regions import level_columns

    with pytest.raises(ConfigError, match="provincie"):
        level_columns("wijk")


def _w(codes: list[str], seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.integers(100, 5_000, len(codes)).astype(float), index=codes)


def test_growth_of_a_merged_gemeente_is_over_its_predecessors(shared_session, geo_folder):
    """Voorne aan Zee (GM1992, 1 January 2023) = Brielle + Hellevoetsluis + Westvoorne (2022).

    The real boundary files of 2022 and 2023 give the crosswalk; the populations are made up.
    Weesp (GM0457) went into Amsterdam (GM0363), which kept its code: without the crosswalk
    Amsterdam's growth would count Weesp's people as growth.
    """
    from vluchtelingen_in_beeld.clean.inputs import Growth
    from vluchtelingen_in_beeld.workflow.pipeline import growth_across_herindelingen

    def codes(year: int) -> list[str]:
        path = geo_folder / f"gemeente_gegeneraliseerd_{year}.geojson"
        return sorted(f["properties"]["statcode"] for f in json.loads(path.read_text())["features"])

    old, new = codes(2022), codes(2023)
    then, now = _w(old, 1), _w(new, 2)
    naive = (now - then.reindex(now.index)).rename("groei")
    gap = "Geen groei voor 1 gemeente(n) (herindeling)."  # as target_growth notes it
    growth = Growth(2023, 2022, naive, "test", ["Andere noot.", gap], now=now, then=then,
                    gap_note=gap)  # fmt: skip
    assert growth.regrouped
    out = growth_across_herindelingen(shared_session, growth)
    assert out.values is not None
    predecessors = then["GM0501"] + then["GM0530"] + then["GM0614"]
    assert np.isnan(naive["GM1992"])  # what growth was before the crosswalk
    assert out.values["GM1992"] == pytest.approx(now["GM1992"] - predecessors, rel=1e-9)
    amsterdam = now["GM0363"] - then["GM0363"] - then["GM0457"]
    assert out.values["GM0363"] == pytest.approx(amsterdam, rel=1e-9)
    # gemeenten that did not change keep their people: the generalised borders of 2022 and
    # 2023 differ by slivers of 1-3% (Diemen/Amsterdam, Capelle/Rotterdam, Arnhem), which
    # an area crosswalk alone would count as growth
    for unchanged in ("GM0014", "GM0384", "GM0502", "GM0599", "GM0202", "GM0279", "GM0339"):
        assert out.values[unchanged] == pytest.approx(now[unchanged] - then[unchanged], rel=1e-12)
    assert out.values.notna().all() and len(out.values) == len(new)
    assert (now.sum() - out.values.sum()) == pytest.approx(then.sum())  # nobody lost
    note = out.notes[-1]
    assert "GM1992" in note and "voorgangers" in note and "GM0363" in note
    assert "GM0202" not in note  # Arnhem took over nothing
    assert not any("herindeling)" in n for n in out.notes)  # the "no growth" note is gone
    assert "Andere noot." in out.notes  # and only that one


def test_growth_over_one_indeling_loads_no_boundaries(shared_session):
    from vluchtelingen_in_beeld.clean.inputs import Growth
    from vluchtelingen_in_beeld.workflow.pipeline import growth_across_herindelingen

    same = _w(["GM0014", "GM0034"], 3)
    growth = Growth(2025, 2023, same - same / 2, "test", [], now=same, then=same / 2)
    assert growth_across_herindelingen(shared_session, growth) is growth
