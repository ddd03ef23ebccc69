"""Outputs of a year built once: GeoPackages QGIS can open, and one source of truth.

The run's tables are the same as the single commands' tables for the same seed and draws:
each is written from one :class:`~vluchtelingen_in_beeld.geography.result.YearResult`. And
they are the same as a reference version's, run from git on the same snapshot.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from .conftest import cli

#: The tests of this module share a run built once: one xdist worker takes them all.
pytestmark = pytest.mark.xdist_group("outputs")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {"VIB_DATA_DIR": str(tmp_path_factory.mktemp("store"))}


def test_estimate_as_geopackage_reads_back_like_the_csv(statline, tmp_path, env):
    """`vib estimate --out e.gpkg`: 342 features in EPSG:28992, the CSV's numbers."""
    gpkg, csv = tmp_path / "e.gpkg", tmp_path / "e.csv"
    for out in (gpkg, csv):
        r = cli("estimate", "--snapshot", str(statline), "--draws", "300", "--out", str(out),
                env=env)  # fmt: skip
        assert r.exit_code == 0, r.output
    info = pyogrio.read_info(gpkg)  # what QGIS's reader (GDAL) sees
    assert info["features"] == 342
    assert info["crs"] == "EPSG:28992"
    assert info["geometry_type"] in ("MultiPolygon", "Polygon")
    layer = pyogrio.read_dataframe(gpkg)
    table = pd.read_csv(csv)
    assert [c for c in layer.columns if c != "geometry"] == list(table.columns)
    merged = layer.drop(columns="geometry").merge(table, on="gemeentecode", suffixes=("", "_csv"))
    for col in ("werkzoekend", "werkzoekend_p10", "werkzoekend_p90", "doelgroep"):
        assert (merged[col] - merged[f"{col}_csv"]).abs().max() < 1e-6, col
    meta = pyogrio.read_info(gpkg)["layer_metadata"]
    record = json.loads(meta["vib_provenance"])
    assert record["year"] == 2025 and record["snapshot"]["warnings"]
    manifest = json.loads((tmp_path / "e.gpkg.manifest.json").read_text())
    assert manifest["outputs"] == {"e.gpkg": manifest["outputs"]["e.gpkg"]}


def test_regions_as_geopackage_are_dissolved_areas(statline, tmp_path, env):
    out = tmp_path / "regios.gpkg"
    r = cli("regions", "--snapshot", str(statline), "--level", "arbeidsmarktregio",
            "--draws", "300", "--out", str(out), env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    layer = pyogrio.read_dataframe(out)
    assert len(layer) == 35 and layer.crs.to_epsg() == 28992
    assert layer["aantal_gemeenten"].sum() == 342
    # the dissolved areas tile the country: their area is the sum of the gemeenten's
    assert layer.geometry.area.sum() == pytest.approx(layer.geometry.union_all().area, rel=1e-6)


@pytest.fixture(scope="module")
def run_out(statline, tmp_path_factory, env):
    """One `vib run --draws 300` on the snapshot, read by the tests below (built once)."""
    out = tmp_path_factory.mktemp("run") / "run"
    r = cli("run", "--snapshot", str(statline), "--draws", "300", "--out", str(out), env=env)
    assert r.exit_code == 0, r.output
    return out


def test_run_tables_are_the_single_commands_tables(statline, tmp_path, env, run_out):
    """One source of truth: `vib run` writes the same tables as estimate, rank and regions."""
    singles = {
        "schatting_2025.csv": ("estimate",),
        "rangorde_2025.csv": ("rank",),
        "regio_arbeidsmarktregio_2025.csv": ("regions", "--level", "arbeidsmarktregio"),
    }
    for name, args in singles.items():
        out = tmp_path / name
        r = cli(*args, "--snapshot", str(statline), "--draws", "300", "--out", str(out), env=env)
        assert r.exit_code == 0, r.output
        pd.testing.assert_frame_equal(
            pd.read_csv(run_out / "tabellen" / name), pd.read_csv(out), rtol=1e-9
        )
    for layer in ("schatting_2025", "rangorde_2025"):
        info = pyogrio.read_info(run_out / "tabellen" / f"{layer}.gpkg")
        assert info["features"] == 342 and info["crs"] == "EPSG:28992"


#: The version whose tables a run must reproduce (same seed and draws). Move it, with the
#: reason in the commit message, only when a change is meant to alter the numbers; the last
#: was issue 29 (explanations as facts: alternatives, costs as one draw, lokaal per group,
#: card 3.1).
REFERENCE_COMMIT = "35829d9"


def _reference_tables(statline: Path, tmp_path: Path, cache: pytest.Cache) -> Path:
    """The tables of :data:`REFERENCE_COMMIT`'s run on this snapshot: kept, or made now.

    Kept in pytest's cache (``.pytest_cache``, never committed) under the commit and the
    snapshot's checksum, so a second run of the suite does not run the old version again;
    another snapshot, or another reference commit, is another entry.
    """
    import hashlib
    import platform
    import shutil
    from importlib import metadata

    from vluchtelingen_in_beeld.access.snapshot import snapshot_settings
    from vluchtelingen_in_beeld.settings import Settings

    label = snapshot_settings(Settings(data_dir=tmp_path / "x"), statline).snapshot_label
    digest = label.rsplit(" ", 1)[-1].strip(")")
    # the reference runs with this environment's packages: another environment, another entry
    names = ("numpy", "pandas", "highspy", "geopandas", "shapely", "pyogrio", "cbsodata")
    env = ";".join([platform.python_version(), *(metadata.version(n) for n in names)])
    tag = hashlib.sha256(env.encode()).hexdigest()[:8]
    kept = cache.mkdir("vib-reference") / f"{REFERENCE_COMMIT}-{digest}-{tag}"
    if len(list((kept / "tabellen").glob("*.csv"))) >= 9:
        return kept
    made = _reference_run(statline, tmp_path)
    staging = kept.with_name(kept.name + f".tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(made / "tabellen", staging / "tabellen")
    shutil.rmtree(kept, ignore_errors=True)
    os.replace(staging, kept)  # complete, or not there
    return kept


def _reference_run(statline: Path, tmp_path: Path) -> Path:
    """A run of :data:`REFERENCE_COMMIT`'s code on the same snapshot, in its own store."""
    import subprocess
    import sys
    import tarfile

    repo = Path(__file__).resolve().parents[1]
    known = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", f"{REFERENCE_COMMIT}^{{commit}}"],
        capture_output=True,
    )
    if known.returncode != 0:
        pytest.skip(f"commit {REFERENCE_COMMIT} is not in this checkout (a shallow clone?)")
    archive = tmp_path / "ref.tar"
    subprocess.run(
        ["git", "-C", str(repo), "archive", "-o", str(archive), REFERENCE_COMMIT, "src"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "ref", filter="data")
    src = tmp_path / "ref" / "src"
    out = tmp_path / "ref_run"
    code = "\n".join(
        [
            "import sys",
            "sys.path.insert(0, sys.argv[1])",
            "import vluchtelingen_in_beeld as v",
            "assert v.__file__.startswith(sys.argv[1]), v.__file__",
            "try:  # the command line's module where the reference has it",
            "    from vluchtelingen_in_beeld.cli.commands import main",
            "except ModuleNotFoundError:  # before the stage folders: cli.py",
            "    from vluchtelingen_in_beeld.cli import main",
            "main(sys.argv[2:], prog_name='vib')",
        ]
    )
    args = ["run", "--snapshot", str(statline), "--draws", "300", "--out", str(out)]
    env = {**os.environ, "VIB_DATA_DIR": str(tmp_path / "ref_store")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(src), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def test_run_tables_match_the_reference_version(statline, tmp_path, run_out, pytestconfig):
    """`vib run` writes the same tables as the reference version for the same seed and draws.

    The reference is :data:`REFERENCE_COMMIT`'s code, run here from git (its tables kept by
    commit and snapshot checksum), or the run folder in ``$VIB_REFERENCE_RUN`` (one made by
    any earlier version, with ``--draws 300``).
    """
    given = os.environ.get("VIB_REFERENCE_RUN")
    assert pytestconfig.cache is not None
    ref = Path(given) if given else _reference_tables(statline, tmp_path, pytestconfig.cache)
    out = run_out
    tables = sorted((ref / "tabellen").glob("*.csv"))
    assert len(tables) >= 9, [t.name for t in tables]
    for old in tables:
        pd.testing.assert_frame_equal(
            pd.read_csv(out / "tabellen" / old.name), pd.read_csv(old), rtol=1e-9
        )


def test_run_workbook_opens_with_its_formats(run_out):
    """tabellen/ holds one workbook of the run's tables: each sheet the CSV's rows, a frozen
    header under the sources line, number formats, and the sources sheet."""
    from openpyxl import load_workbook

    (path,) = (run_out / "tabellen").glob("vluchtelingen_in_beeld_*.xlsx")
    wb = load_workbook(path)
    want = {"gemeenten", "nederland", "rangorde", "prijzen", "regio_provincie", "selectie",
            "trajecten", "gevoeligheid", "vergelijking_2009", "regio_arbeidsmarktregio",
            "regio_corop", "vergelijkbaar", "trend", "bronnen"}  # fmt: skip
    assert want <= set(wb.sheetnames)
    sheet = wb["gemeenten"]
    assert "LET OP" in str(sheet["A1"].value)  # the snapshot's warning above the header
    assert sheet.freeze_panes == "A3"
    header = [c.value for c in sheet[2]]
    year = path.stem.rsplit("_", 1)[1]
    csv = pd.read_csv(run_out / "tabellen" / f"schatting_{year}.csv")
    assert header == list(csv.columns)
    assert sheet.max_row == 2 + len(csv)
    col = header.index("werkzoekend") + 1
    assert sheet.cell(row=3, column=col).number_format == "#,##0"
    col = header.index("werkzoekend_per_1000") + 1
    assert sheet.cell(row=3, column=col).number_format == "0.0"
    peers = wb["vergelijkbaar"]
    assert [c.value for c in peers[2]][:3] == ["gemeentecode", "gemeentenaam", "inwoners"]
    kinds = {r[0].value for r in wb["bronnen"].iter_rows(min_row=2)}
    assert {"bron", "tabel", "methodekaart", "parameter"} <= kinds
