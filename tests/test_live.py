"""Opt-in tests against live CBS (``pytest --live``); skipped otherwise, and in CI."""

from pathlib import Path

import pytest

from vluchtelingen_in_beeld.cbs import Session, get_metadata
from vluchtelingen_in_beeld.inputs import gather
from vluchtelingen_in_beeld.method import load_card
from vluchtelingen_in_beeld.settings import Settings

pytestmark = pytest.mark.live


@pytest.fixture
def live(tmp_path: Path) -> Session:
    return Session(Settings(data_dir=tmp_path, timeout=60, retries=2))


def test_live_registry_tables_resolve(live):
    meta = get_metadata(live, "85458NED")
    assert "2025JJ00" in meta.periods()
    assert {"H008533", "H008753"} <= set(meta.keys("Herkomstland"))


def test_live_fetch_2025(live):
    inputs = gather(live, load_card(), 2025)
    assert len(inputs.inwoners) == 342
    assert inputs.national_inwoners == 18_044_027


def test_live_pdok_boundaries_and_regions(live):
    from vluchtelingen_in_beeld.geo import load_boundaries
    from vluchtelingen_in_beeld.regions import load_regions

    inputs = gather(live, load_card(), 2025)
    codes = list(inputs.inwoners.index)
    b = load_boundaries(live, 2025, codes)
    assert b.year == 2025 and b.report.ok
    regs = load_regions(live, 2025, codes)
    assert regs.table == "86059NED" and regs.frame["provincie_code"].nunique() == 12
