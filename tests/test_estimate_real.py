"""The estimate on the shared snapshot (real CBS rows where the snapshot says so)."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from vluchtelingen_in_beeld.clean.inputs import gather
from vluchtelingen_in_beeld.clean.method import load_card, parse_card
from vluchtelingen_in_beeld.errors import DataCoverageError, MetadataError
from vluchtelingen_in_beeld.estimation.estimate import CENTRAL_COLUMNS
from vluchtelingen_in_beeld.workflow.pipeline import estimate_year


def card_2019():
    """The default groups, both birthplaces (the snapshot's 84910NED has Generatie total only)."""
    base = load_card()
    data = json.loads(json.dumps(base.data))
    data["population"]["birthplace"] = "totaal"
    data["population"]["groups"] = ["afghanistan", "irak", "iran", "somalie"]
    return parse_card(data, "test:2019")


def test_84910_target_population_equals_raw_rows(session, statline):
    card = card_2019()
    est = estimate_year(session, 2019, card)
    raw = json.loads((statline / "84910NED" / "TypedDataSet.json").read_text())
    keys = {g.key: g.name for g in card.groups}
    # 18 to the AOW age of 2019 (66 years and 4 months): 2/5 of 15-20 (70400), all of
    # 20-25 .. 60-65 (70500 .. 71300), (1 + 4/12)/5 of 65-70 (71400)
    bands = {f"7{i:02d}00": 1.0 for i in range(5, 14)}
    bands |= {"70400": 2 / 5, "71400": (1 + 4 / 12) / 5}
    expected: dict[tuple[str, str], float] = {}
    for r in raw:
        if (
            r["Geslacht"] == "T001038"
            and r["Generatie"] == "T001040"
            and r["Perioden"] == "2019JJ00"
            and r["Leeftijd"] in bands
            and r["Migratieachtergrond"] in keys
        ):
            k = (r["RegioS"].strip(), keys[r["Migratieachtergrond"]])
            share = bands[r["Leeftijd"]] * r["BevolkingOp1Januari_1"]
            expected[k] = expected.get(k, 0) + share
    t = est.table.set_index("gemeentecode")
    assert sorted(t.index) == ["GM0363", "GM0518"]
    for (code, group), value in expected.items():
        assert t.loc[code, f"doelgroep_{group}"] == pytest.approx(value, rel=1e-12)
    assert t.loc["GM0518", "gemeentenaam"] == "'s-Gravenhage"
    assert any("trendbreuk" in n for n in est.notes)


def test_84910_first_generation_missing_is_explained(session):
    with pytest.raises(MetadataError, match='Eerste generatie.*birthplace = "totaal"'):
        estimate_year(session, 2019, "scp2011")


def test_2025_all_gemeenten_no_missing(est2025):
    t = est2025.table
    assert len(t) == 342 and t["gemeentecode"].is_unique
    assert t[list(CENTRAL_COLUMNS)].notna().all().all()
    assert (t["werkzoekend"] <= t["doelgroep"]).all()
    assert (t["werkzoekend_p10"] <= t["werkzoekend_p50"]).all()
    assert (t["werkzoekend_p50"] <= t["werkzoekend_p90"]).all()
    for g in ("afghanistan", "eritrea", "irak", "iran", "somalie", "syrie"):
        assert f"doelgroep_{g}" in t and f"werkzoekend_{g}" in t
    assert t.loc[t.gemeentecode == "GM0363", "gemeentenaam"].item() == "Amsterdam"


def test_2025_national_totals_match_national_rows(est2025):
    nat = est2025.national.iloc[0]
    assert nat["inwoners"] == 18_044_027
    for name, check in est2025.checks.items():
        assert check["som_gemeenten"] == pytest.approx(check["nederland_cbs"]), name
    assert len(est2025.checks) == 7
    t = est2025.table
    assert nat["werkzoekend"] == pytest.approx(t["werkzoekend"].sum())
    assert nat["werkzoekend_p10"] <= nat["werkzoekend"] <= nat["werkzoekend_p90"]
    # the national interval is a sum within draws, not the sum of the gemeenten's p90s (the
    # gemeenten differ in origin mix, so their draws are not in step: strictly below)
    assert nat["werkzoekend_p90"] < t["werkzoekend_p90"].sum() - 1.0


def test_same_seed_same_numbers(session, est2025):
    again = estimate_year(session, 2025)
    pd.testing.assert_frame_equal(again.table, est2025.table)
    other = estimate_year(session, 2025, replace(load_card(), seed=7))
    assert not np.allclose(other.table["werkzoekend_p90"], est2025.table["werkzoekend_p90"])
    assert np.allclose(other.table["werkzoekend"], est2025.table["werkzoekend"])


def test_year_without_age_bands_names_what_works(statline_no_bands_2024, doctored_session):
    session = doctored_session(statline_no_bands_2024)
    with pytest.raises(
        DataCoverageError, match=r"2024.*Afghanistan.*Years where this card works: 2025, 2023"
    ):
        gather(session, load_card(), 2024)


def test_all_ages_card_works_for_2024(statline_no_bands_2024, doctored_session):
    data = json.loads(json.dumps(load_card().data))
    data["population"].update(age_min=0, age_max=120)
    session = doctored_session(statline_no_bands_2024)
    est = estimate_year(session, 2024, parse_card(data, "test:all-ages"))
    assert len(est.table) == 342 and est.table["werkzoekend"].notna().all()


def test_lokaal_uses_bijstand(session, est2025):
    lok = estimate_year(session, 2025, "lokaal")
    # 2025 and 2026 editions are registered but not in the snapshot: 2024's is used, said so
    assert lok.bijstand_table == "85984NED"
    assert any("85984NED" in n and "86165NED (2025): niet gepubliceerd" in n for n in lok.notes)
    t, base = lok.table.set_index("gemeentecode"), est2025.table.set_index("gemeentecode")
    assert not np.allclose(t["werkzoekend"], base["werkzoekend"])
    assert (t["doelgroep"] == base["doelgroep"]).all()
    assert {p["table"] for p in lok.provenance} == {"85458NED", "85984NED", "86059NED"}
