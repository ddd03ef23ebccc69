"""Shared fixtures: the shared CBS snapshot served locally, settings, the ``--live`` switch.

Real-data tests read ``../shared/data`` (or ``$VIB_SHARED_DATA``) at run time; nothing of it
is copied into the repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vluchtelingen_in_beeld._impl.server import ReplayServer
from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.geo import geo_settings, static_routes
from vluchtelingen_in_beeld.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="also run tests against live CBS")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    skip = pytest.mark.skip(reason="talks to live CBS; run with --live")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = Path(os.environ.get("VIB_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "statline").is_dir():
        pytest.fail(
            f"Shared test data not found at {path}. Put shared/ beside the project or set "
            "VIB_SHARED_DATA to its data folder."
        )
    return path


@pytest.fixture(scope="session")
def statline(shared_data: Path) -> Path:
    return shared_data / "statline"


@pytest.fixture(scope="session")
def geo_folder(shared_data: Path) -> Path:
    """The shared PDOK-shaped boundary files (2021, 2022, 2023)."""
    return shared_data / "geo" / "pdok"


@pytest.fixture(scope="session")
def replay(statline: Path, geo_folder: Path) -> Iterator[ReplayServer]:
    """One replay server of the shared snapshot, and the boundaries at PDOK's paths (no faults)."""
    with ReplayServer(statline, static=static_routes(geo_folder)) as server:
        yield server


@pytest.fixture
def fresh_replay(statline: Path) -> Iterator[ReplayServer]:
    """A replay server of its own, for tests that make it misbehave."""
    with ReplayServer(statline) as server:
        yield server


def make_settings(url: str, data_dir: Path, **kw: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": data_dir,
        "cbs_url": url,
        "timeout": 5.0,
        "retries": 2,
        "backoff": 0.01,
        "source": "snapshot:test",
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def session(replay: ReplayServer, tmp_path: Path) -> Session:
    return Session(make_settings(replay.url, tmp_path / "store"))


@pytest.fixture(scope="session")
def shared_session(
    replay: ReplayServer,
    statline: Path,
    geo_folder: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Session:
    """One session (and store) over the shared snapshot and boundaries, read-only tests."""
    settings = make_settings(
        replay.url, tmp_path_factory.mktemp("shared-store"), snapshot_dir=statline
    )
    return Session(geo_settings(settings, replay.url, geo_folder))


@pytest.fixture(scope="session")
def est2025(shared_session: Session):  # type: ignore[no-untyped-def]
    """The 2025 estimate on the shared snapshot with the standard card."""
    from vluchtelingen_in_beeld.api import estimate_year

    return estimate_year(shared_session, 2025)


@pytest.fixture(scope="session")
def rank2025(shared_session: Session, est2025):  # type: ignore[no-untyped-def]
    """The default 2025 ranking on the shared snapshot."""
    from vluchtelingen_in_beeld.api import rank_year

    return rank_year(shared_session, 2025, est=est2025)
