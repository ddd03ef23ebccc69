"""Opt-in tests against live CBS and PDOK (``pytest --live``); skipped otherwise, and in CI.

They check what the replay cannot: that the registry's ids, title paths, keys and periods
still resolve on the real service, and that PDOK answers in RD as the client expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vluchtelingen_in_beeld.access import pdok
from vluchtelingen_in_beeld.access import tables as T
from vluchtelingen_in_beeld.access.cbs import Session, get_metadata
from vluchtelingen_in_beeld.clean.check import FAIL, check_table
from vluchtelingen_in_beeld.clean.inputs import gather, latest_year
from vluchtelingen_in_beeld.clean.method import load_card
from vluchtelingen_in_beeld.settings import Settings

pytestmark = pytest.mark.live


@pytest.fixture
def live(tmp_path: Path) -> Session:
    return Session(Settings(data_dir=tmp_path, retries=2))


@pytest.mark.parametrize(
    ("spec", "year", "table"),
    T.all_table_ids(),
    ids=[f"{tid}-{year or 'all'}" for _, year, tid in T.all_table_ids()],
)
def test_live_registered_table_resolves(live, spec, year, table):
    """Every registered table exists, and every path, dimension, key and period resolves."""
    chk = check_table(live, spec, year, table)
    assert chk.status != FAIL, chk.problems
    assert set(chk.resolved) == {m.role for m in spec.measures}


def test_live_population_has_2026_and_provincie_rows(live):
    meta = get_metadata(live, "85458NED")
    assert "2026JJ00" in meta.periods()
    regions = meta.keys("RegioS")
    assert "NL01" in regions and {f"PV{n}" for n in range(20, 32)} <= set(regions)
    assert latest_year(live, load_card()).year >= 2026


def test_live_fetch_2025(live):
    inputs = gather(live, load_card(), 2025)
    assert len(inputs.inwoners) == 342
    assert inputs.national_inwoners == 18_044_027
    assert inputs.provincie_inwoners is not None and len(inputs.provincie_inwoners) == 12


def test_live_pdok_answers_in_rd(live):
    """PDOK's WFS, asked as the client asks: RD New with its crs member, within one page."""
    data = json.loads(pdok.download(live.settings, 2025) or b"{}")
    assert pdok.epsg_of(data["crs"]["properties"]["name"]) == 28992
    assert len(data["features"]) == 342
    x, y = _first_vertex(data["features"][0]["geometry"]["coordinates"])
    assert 0 < x < 300_000 and 300_000 < y < 650_000


def _first_vertex(coords):  # type: ignore[no-untyped-def]
    while isinstance(coords[0], list):
        coords = coords[0]
    return coords[0], coords[1]


def test_live_pdok_boundaries_and_regions(live):
    from vluchtelingen_in_beeld.clean.regions import load_regions
    from vluchtelingen_in_beeld.geography.geo import load_boundaries

    inputs = gather(live, load_card(), 2025)
    codes = list(inputs.inwoners.index)
    b = load_boundaries(live, 2025, codes)
    assert b.year == 2025 and b.report.ok
    lon0, lat0, lon1, lat1 = b.frame.to_crs(4326).loc[["GM0363"]].total_bounds
    assert 4.7 <= lon0 and lon1 <= 5.12 and 52.2 <= lat0 and lat1 <= 52.5
    regs = load_regions(live, 2025, codes)
    assert regs.table == "86059NED" and regs.frame["provincie_code"].nunique() == 12
