"""Shared fixtures: the shared CBS snapshot served locally, settings, the ``--live`` switch.

Real-data tests read ``../shared/data`` (or ``$VIB_SHARED_DATA``) at run time; nothing of it
is copied into the repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.replay import FaultyReplay
from vluchtelingen_in_beeld.access.cbs import Session
from vluchtelingen_in_beeld.geography.geo import boundary_files, geo_settings
from vluchtelingen_in_beeld.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="also run tests against live CBS")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The longest first (marked slow, then the modules that share a built run), so the two
    # xdist workers end together instead of one waiting for a long test started last.
    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("slow"):
            return 0
        return 1 if item.get_closest_marker("xdist_group") else 2

    items.sort(key=weight)  # stable: the order within each weight is kept
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
def replay(statline: Path, geo_folder: Path) -> Iterator[FaultyReplay]:
    """One replay server of the shared snapshot, and the boundaries at PDOK's paths (no faults)."""
    with FaultyReplay(statline, boundaries=boundary_files(geo_folder)) as server:
        yield server


@pytest.fixture
def fresh_replay(statline: Path) -> Iterator[FaultyReplay]:
    """A replay server of its own, for tests that make it misbehave."""
    with FaultyReplay(statline) as server:
        yield server


@pytest.fixture
def plain_http() -> Iterator[None]:
    """``cbsodata`` speaking http, as it must to the local replay server."""
    import cbsodata

    old = cbsodata.options.use_https
    cbsodata.options.use_https = False
    yield
    cbsodata.options.use_https = old


def cli(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """``vib ARGS`` in this process (click's runner), with ``env`` as its environment."""
    from click.testing import CliRunner

    from vluchtelingen_in_beeld.cli.commands import main

    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


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
def session(replay: FaultyReplay, tmp_path: Path) -> Session:
    return Session(make_settings(replay.url, tmp_path / "store"))


@pytest.fixture(scope="session")
def shared_session(
    replay: FaultyReplay,
    statline: Path,
    geo_folder: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Session:
    """One session (and store) over the shared snapshot and boundaries, read-only tests."""
    from vluchtelingen_in_beeld.access.snapshot import snapshot_settings

    settings = make_settings(replay.url, tmp_path_factory.mktemp("shared-store"))
    named = snapshot_settings(settings, statline)  # its name, checksum and warning texts
    return Session(geo_settings(named.with_(cbs_url=replay.url), replay.url, geo_folder))


@pytest.fixture(scope="session")
def est2025(shared_session: Session):  # type: ignore[no-untyped-def]
    """The 2025 estimate on the shared snapshot with the standard card."""
    from vluchtelingen_in_beeld.workflow.pipeline import estimate_year

    return estimate_year(shared_session, 2025)


@pytest.fixture(scope="session")
def rank2025(shared_session: Session, est2025):  # type: ignore[no-untyped-def]
    """The default 2025 year (ranking, regions, shapes) on the shared snapshot."""
    from vluchtelingen_in_beeld.workflow.pipeline import build_year

    return build_year(shared_session, estimate=est2025, shapes=True)


def doctored_snapshot(
    statline: Path,
    to: Path,
    *,
    drop: tuple[str, ...] = (),
    rows: dict[str, object] | None = None,
    files: dict[str, object] | None = None,
) -> Path:
    """A copy of the shared snapshot with some tables changed, for tests of what it lacks.

    Unchanged table folders are symlinked (nothing of the shared data is copied into the
    repository, and little is copied at all). ``drop`` leaves tables out; ``rows`` maps a
    table to a function over its ``TypedDataSet`` rows; ``files`` maps ``TABLE/File.json``
    to a function over that file's parsed JSON.
    """
    import json
    import shutil

    rows = dict(rows or {})
    files = dict(files or {})
    changed = set(rows) | {k.split("/")[0] for k in files}
    to.mkdir(parents=True, exist_ok=True)
    for src in sorted(statline.iterdir()):
        if not src.is_dir() or src.name in drop:
            continue
        dst = to / src.name
        if src.name not in changed:
            dst.symlink_to(src, target_is_directory=True)
            continue
        dst.mkdir()
        for f in src.iterdir():
            key = f"{src.name}/{f.name}"
            if f.name == "TypedDataSet.json" and src.name in rows:
                data = rows[src.name](json.loads(f.read_text("utf-8")))  # type: ignore[operator]
                (dst / f.name).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
            elif key in files:
                data = files[key](json.loads(f.read_text("utf-8")))  # type: ignore[operator]
                (dst / f.name).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
            else:
                shutil.copyfile(f, dst / f.name)
    return to


REFUGEE_KEYS = ("H008533", "H008597", "H008599", "H008633", "H008634", "H008747", "H008753")


@pytest.fixture(scope="session")
def statline_no_bands_2024(statline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot as CBS published it before 2024 age bands existed for the refugee groups.

    2024 rows of the refugee countries keep only the all-ages total (Leeftijd 10000);
    2023 and 2025 are untouched. The Gebieden table of 2025 is left out, so regions of 2025
    fall back to 2024 (same gemeenten).
    """

    def strip(data: list[dict]) -> list[dict]:
        return [
            r
            for r in data
            if not (
                r["Perioden"] == "2024JJ00"
                and r["Herkomstland"] in REFUGEE_KEYS
                and r["Leeftijd"] != "10000"
            )
        ]

    return doctored_snapshot(
        statline,
        tmp_path_factory.mktemp("snap-no-bands-2024"),
        drop=("86059NED",),
        rows={"85458NED": strip},
    )


@pytest.fixture
def doctored_session(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: a session over a doctored snapshot folder, served by its own replay server."""
    from contextlib import ExitStack

    with ExitStack() as stack:

        def make(folder: Path, **kw: object) -> Session:
            server = stack.enter_context(FaultyReplay(folder))
            return Session(make_settings(server.url, tmp_path / f"store-{folder.name}", **kw))

        yield make
