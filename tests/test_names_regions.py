"""Gemeente name resolution, and regional roll-ups on the shared snapshot."""

from __future__ import annotations

import numpy as np
import pytest

from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.names import (
    AmbiguousNameError,
    GemeenteNames,
    UnknownNameError,
    normalise,
)
from vluchtelingen_in_beeld.regions import load_regions, region_totals
from vluchtelingen_in_beeld.year import build_year

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
    assert f["provincie_code"].str.match(r"^PV\d\d$").all()
    assert f["arbeidsmarktregio_code"].str.match(r"^AM\d\d$").all()
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
    from vluchtelingen_in_beeld.regions import level_columns

    with pytest.raises(ConfigError, match="provincie"):
        level_columns("wijk")
