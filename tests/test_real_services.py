"""Working against CBS and PDOK as they really answer (the shared replay mirrors them).

The three bugs that broke every live run, and the tests that catch them:

- Regions resolved by the wrong title path ("Gemeenten / Code" instead of "Codes en namen van
  gemeenten / Code", classifications inside "Lokaliseringen van gemeenten"):
  ``test_cbs_fetch.py::test_regions_resolved_by_topic_group_titles``,
  ``test_names_regions.py::test_every_gemeente_in_exactly_one_region`` and
  ``test_check_snapshot_passes_and_a_renamed_topic_fails`` below.
- Bijstand under the wrong path ("Sociale zekerheid / Personen per soort uitkering;
  Bijstand"): ``test_cbs_fetch.py::test_real_national_bijstand``,
  ``test_estimate_real.py::test_lokaal_uses_bijstand`` and ``test_lokaal_manifest_*`` below.
- PDOK's RD coordinates labelled as degrees: ``test_amsterdam_lies_where_it_should_*`` and
  ``test_metres_labelled_as_degrees_are_refused`` below.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cbsodata
import pytest
import requests

from tests.replay import Fault, FaultyReplay
from vluchtelingen_in_beeld.access import pdok
from vluchtelingen_in_beeld.access import tables as T
from vluchtelingen_in_beeld.access.cbs import Query, Session, fetch
from vluchtelingen_in_beeld.errors import CbsError, MetadataError
from vluchtelingen_in_beeld.geography.geo import (
    CrsMismatchError,
    boundary_files,
    geo_settings,
    load_boundaries,
    read_boundary_file,
)
from vluchtelingen_in_beeld.settings import Settings
from vluchtelingen_in_beeld.workflow.pipeline import estimate_year

from .conftest import cli, doctored_snapshot, make_settings

ROOT = Path(__file__).resolve().parents[1]
AMSTERDAM_BOX = (4.7, 52.2, 5.1, 52.5)  # lon_min, lat_min, lon_max, lat_max


def vertices(coords):
    """Every coordinate pair of a (Multi)Polygon's coordinates."""
    if coords and isinstance(coords[0], (int, float)):
        return [coords]
    return [v for c in coords for v in vertices(c)]


def inside(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = AMSTERDAM_BOX
    return x0 <= lon <= x1 and y0 <= lat <= y1


# --- PDOK ------------------------------------------------------------------------------------


def wfs(server: FaultyReplay, year: int, **params: str) -> requests.Response:
    url = server.url + pdok.PDOK_PATH.format(year=year)
    return requests.get(url, params={**pdok.PARAMS, **params}, timeout=10)


def test_replay_answers_like_pdok(replay):
    plain = {k: v for k, v in pdok.PARAMS.items() if k != "srsName"}
    url = replay.url + pdok.PDOK_PATH.format(year=2023)
    rd = requests.get(url, params=plain, timeout=10).json()  # no srsName: native RD
    assert rd["crs"]["properties"]["name"].endswith("EPSG::28992")
    first = vertices(rd["features"][0]["geometry"]["coordinates"])[0]
    assert 0 < first[0] < 300_000 and 300_000 < first[1] < 650_000
    ams = next(f for f in rd["features"] if f["properties"]["statcode"] == "GM0363")
    ll = wfs(replay, 2023, srsName="EPSG:4326").json()
    assert ll["crs"]["properties"]["name"].endswith("EPSG::4326")
    ams_ll = next(f for f in ll["features"] if f["properties"]["statcode"] == "GM0363")
    pairs = vertices(ams_ll["geometry"]["coordinates"])
    lats, lons = [p[0] for p in pairs], [p[1] for p in pairs]  # WFS 2.0: latitude first
    assert amsterdam_ok(min(lons), min(lats), max(lons), max(lats))
    assert not any(inside(lat, lon) for lat, lon in pairs)
    assert len(pairs) == len(vertices(ams["geometry"]["coordinates"]))
    # pages of at most 1,000 with startIndex; 404 for a year it lacks
    page = wfs(replay, 2023, count="100", startIndex="300").json()
    assert page["numberMatched"] == 342 and page["numberReturned"] == 42
    assert wfs(replay, 2023, count="5000").json()["numberReturned"] == 342
    assert wfs(replay, 2030).status_code == 404


def test_client_pages_through_pdok(geo_folder, monkeypatch, tmp_path):
    monkeypatch.setattr(pdok, "MAX_COUNT", 100)
    with FaultyReplay(tmp_path, boundaries=boundary_files(geo_folder)) as server:
        settings = make_settings(server.url, tmp_path / "store", pdok_url=server.url)
        got = pdok.download(settings, 2021)
        assert got is not None and got[1] == "wfs"
        data = json.loads(got[0])
        asked = [r for r in server.requests if "/wfs/" in r]
    assert len(data["features"]) == 352
    assert len({f["properties"]["statcode"] for f in data["features"]}) == 352
    assert len(asked) == 4 and all("srsName=EPSG%3A28992" in r for r in asked)
    assert data["crs"]["properties"]["name"].endswith("28992")


def amsterdam_ok(x0: float, y0: float, x1: float, y1: float) -> bool:
    """Amsterdam's extent: its centre inside lon 4.7–5.1, lat 52.2–52.5, and all of it within
    0.01 degrees of that box (Weesp, part of Amsterdam since 2022, reaches 5.106 E)."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a, b, c, d = AMSTERDAM_BOX
    return inside(cx, cy) and a - 0.01 <= x0 and x1 <= c + 0.01 and b - 0.01 <= y0 and y1 <= d


def test_amsterdam_lies_where_it_should_after_pdok_and_the_store(replay, geo_folder, tmp_path):
    settings = geo_settings(make_settings(replay.url, tmp_path / "store"), replay.url, geo_folder)
    codes = [f["properties"]["statcode"] for f in _features(geo_folder, 2023)]
    for attempt in ("pdok", "store"):
        b = load_boundaries(Session(settings), 2025, codes)
        assert b.frame.crs.to_epsg() == 28992, attempt
        bounds = b.frame.to_crs(4326).loc[["GM0363"]].total_bounds
        assert amsterdam_ok(*bounds), (attempt, bounds)
        assert b.provenance["source"] == "files:pdok@" + b.provenance["source"].split("@")[1]
        assert str(geo_folder) not in json.dumps(b.provenance)


def _features(folder: Path, year: int) -> list[dict]:
    return json.loads(boundary_files(folder)[year].read_text("utf-8"))["features"]


def test_amsterdam_lies_where_it_should_on_the_map(real_map_2025):
    """The rendered HTML's Amsterdam, read back from the GeoJSON that Leaflet draws."""
    html = real_map_2025.html()
    start = html.index('{"features": [')
    data, _ = json.JSONDecoder().raw_decode(html, start)
    ams = next(f for f in data["features"] if f["id"] == "GM0363")
    pairs = vertices(ams["geometry"]["coordinates"])
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    assert len(pairs) > 20
    assert amsterdam_ok(min(xs), min(ys), max(xs), max(ys)), (min(xs), min(ys), max(xs), max(ys))


@pytest.fixture(scope="module")
def real_map_2025(shared_session, rank2025):
    from vluchtelingen_in_beeld.render.maps import map_for

    return map_for(rank2025)


def _rd_without_crs(geo_folder: Path, to: Path) -> Path:
    """PDOK's RD answer with its crs member removed: GeoJSON readers then assume degrees."""
    data = json.loads(boundary_files(geo_folder)[2023].read_text("utf-8"))
    data.pop("crs")
    to.write_text(json.dumps(data), "utf-8")
    return to


def test_metres_labelled_as_degrees_are_refused(geo_folder, tmp_path):
    bad = _rd_without_crs(geo_folder, tmp_path / "gemeenten_2023.geojson")
    with pytest.raises(CrsMismatchError, match=r"gemeenten_2023.geojson.*EPSG:28992"):
        read_boundary_file(bad)
    # the same file with its CRS declared is fine
    good = read_boundary_file(boundary_files(geo_folder)[2023])
    assert good.crs.to_epsg() == 28992 and len(good) == 342


def test_latitude_longitude_swapped_is_refused(tmp_path, replay):
    data = wfs(replay, 2023, srsName="EPSG:4326").json()  # latitude first
    data.pop("crs")  # ... but read as GeoJSON's longitude/latitude
    bad = tmp_path / "swapped.geojson"
    bad.write_text(json.dumps(data), "utf-8")
    with pytest.raises(CrsMismatchError, match="swapped.geojson.*swapped order"):
        read_boundary_file(bad)


def test_pdok_answer_in_wrong_crs_is_not_stored(geo_folder, tmp_path, est2025, monkeypatch):
    """A PDOK answer without a crs member is read in the CRS the request named (RD). One
    whose coordinates are then not in the Netherlands (degrees sent for metres) is refused
    before the store."""
    from vluchtelingen_in_beeld.access.server import _to_latlon

    data = json.loads(boundary_files(geo_folder)[2023].read_text("utf-8"))
    data.pop("crs")
    data["features"] = _to_latlon(data["features"])
    bad = json.dumps(data).encode()
    monkeypatch.setattr(pdok, "download", lambda settings, year: (bad, "wfs"))
    settings = make_settings("http://127.0.0.1:9", tmp_path / "store", boundary_years=(2023,))
    with pytest.raises(CrsMismatchError, match="EPSG:28992"):
        load_boundaries(Session(settings), 2023, list(est2025.table["gemeentecode"]))
    assert not list((tmp_path / "store").rglob("gemeenten.geojson"))


def test_cli_map_refuses_a_mislabelled_boundary_file(geo_folder, tmp_path, statline, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = _rd_without_crs(geo_folder, tmp_path / "grenzen_2023.geojson")
    r = cli(
        "map", "--snapshot", str(statline), "--boundaries", str(bad), "--draws", "100",
        env={"VIB_DATA_DIR": str(tmp_path / "store")},
    )  # fmt: skip
    assert r.exit_code == 1
    assert "grenzen_2023.geojson" in r.output and "EPSG:28992" in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "maps").exists()


# --- CBS: the replay answers mistakes as CBS does; the tool does not rely on it --------------


def test_replay_drops_unknown_filter_properties_and_answers_empty_for_unknown_keys(
    replay, plain_http
):
    host = replay.url.removeprefix("http://")
    all_rows = cbsodata.get_meta("85984NED", "TypedDataSet", catalog_url=host)
    dropped = cbsodata.get_meta(
        "85984NED", "TypedDataSet", filters="Gemeente eq 'GM0363'", catalog_url=host
    )
    assert len(dropped) == len(all_rows) == 343  # HTTP 200, unfiltered, as CBS does
    filt = "RegioS eq 'GM0363' and Perioden eq '{p}' and Herkomstland eq 'T001040'"
    assert cbsodata.get_meta("85458NED", "TypedDataSet", filters=filt.format(p="2031JJ00"),
                             catalog_url=host) == []  # fmt: skip
    padded = "RegioS eq 'GM0363  ' and Perioden eq '2025JJ00'"  # wrong padding width
    assert cbsodata.get_meta("85458NED", "TypedDataSet", filters=padded, catalog_url=host) == []


def _bad_queries():
    base = {
        "Perioden": ["2025JJ00"],
        "Herkomstland": ["T001040"],
        "Geboorteland": ["T001638"],
        "Leeftijd": ["10000"],
        "Geslacht": ["T001038"],
    }
    yield "unknown dimension", {**base, "Gemeente": ["GM0363"]}, "no dimension 'Gemeente'"
    yield "unknown period", {**base, "Perioden": ["2031JJ00"]}, "Period '2031JJ00' is not"
    yield "unknown key", {**base, "Herkomstland": ["H999999"]}, "Key 'H999999' is not"


BAD_QUERIES = list(_bad_queries())


@pytest.mark.parametrize(("what", "keys", "message"), BAD_QUERIES, ids=[q[0] for q in BAD_QUERIES])
def test_tool_validates_before_asking(fresh_replay, tmp_path, what, keys, message):
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    with pytest.raises(MetadataError, match=message):
        fetch(session, Query.make("85458NED", keys=keys, prefixes={"RegioS": ["GM"]}))
    # the server was asked for metadata only: no data request, nothing stored
    assert not [r for r in fresh_replay.requests if "DataSet" in r]
    assert not list((tmp_path / "store").rglob("rows.parquet"))


def test_answer_with_rows_not_asked_for_is_refused_and_not_stored(fresh_replay, tmp_path):
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    fresh_replay.faults.append(Fault("unfiltered", match="TypedDataSet", times=None))
    q = Query.make("85984NED", prefixes={"WijkenEnBuurten": ["NL"]})
    with pytest.raises(CbsError, match="not asked for|outside the asked NL"):
        fetch(session, q)
    assert not list((tmp_path / "store").rglob("rows.parquet"))


# --- broken snapshots ------------------------------------------------------------------------


def _copy_snapshot(statline: Path, to: Path) -> Path:
    return doctored_snapshot(statline, to, files={"85458NED/Perioden.json": lambda d: d})


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.unlink()  # never write through to the shared file
    path.write_bytes(data[: len(data) // 2])


BREAKS = {
    "truncated TypedDataSet": (
        lambda s: _truncate(s / "85458NED" / "TypedDataSet.json"),
        "85458NED/TypedDataSet.json is cut off",
    ),
    "non-JSON dimension file": (
        lambda s: (s / "85458NED" / "Perioden.json").write_text("<html>oops</html>"),
        "85458NED/Perioden.json is not valid JSON",
    ),
    "missing endpoint file": (
        lambda s: (s / "85458NED" / "Perioden.json").unlink(),
        "85458NED/Perioden.json is missing",
    ),
    "missing table folder": (
        lambda s: shutil.rmtree(s / "85458NED"),
        "has no table 85458NED",
    ),
}


@pytest.mark.parametrize("kind", list(BREAKS))
def test_broken_snapshot_is_one_clear_line(statline, tmp_path, kind):
    """Run as a user would (a real process): one line naming the file, no traceback from the
    server thread, nothing written to the store, and no advice to go offline."""
    snap = _copy_snapshot(statline, tmp_path / "snap")
    if kind == "truncated TypedDataSet":  # make the big file a real copy first
        target = snap / "85458NED" / "TypedDataSet.json"
        shutil.copyfile(statline / "85458NED" / "TypedDataSet.json", target)
    breaker, message = BREAKS[kind]
    breaker(snap)
    store = tmp_path / "store"
    proc = subprocess.run(
        [sys.executable, "-m", "vluchtelingen_in_beeld", "estimate", "--snapshot", str(snap)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"VIB_DATA_DIR": str(store), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert message in out, out
    assert "Traceback" not in out and "Exception" not in out
    assert "--offline" not in out
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1, proc.stderr
    assert not store.exists() or not list(store.rglob("*.parquet"))
    assert not (tmp_path / "maps").exists()


# --- the latest year, timeouts --------------------------------------------------------------


def test_latest_year_is_the_newest_with_the_cards_inputs(statline, tmp_path, doctored_session):
    """2025 on the snapshot; on a copy without 2025 age bands, 2024, and the note says why."""

    def no_2025_bands(rows):
        return [
            r
            for r in rows
            if not (r["Perioden"] == "2025JJ00" and r["Herkomstland"] in T_REFUGEES
                    and r["Leeftijd"] != "10000")
        ]  # fmt: skip

    snap = doctored_snapshot(statline, tmp_path / "snap", rows={"85458NED": no_2025_bands})
    est = estimate_year(doctored_session(snap), None, draws=100)
    assert est.year == 2024
    assert "Jaar 2024" in est.year_note and "2025" in est.year_note
    assert est.notes[0] == est.year_note


T_REFUGEES = ("H008533", "H008597", "H008599", "H008633", "H008634", "H008747", "H008753")


def test_estimate_without_year_says_which(cli_env, statline, tmp_path):
    r = cli("estimate", "--snapshot", str(statline), "--draws", "100", env=cli_env)
    assert r.exit_code == 0, r.output
    assert "Jaar 2025: de laatste periode" in r.output
    manifest = json.loads((tmp_path / "maps" / "schatting_2025.csv.manifest.json").read_text())
    assert manifest["year"] == 2025 and "laatste periode" in manifest["year_choice"]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return {"VIB_DATA_DIR": str(tmp_path / "store")}


def test_timeouts_connect_short_read_long(monkeypatch):
    monkeypatch.delenv("VIB_TIMEOUT", raising=False)
    assert Settings.from_env().request_timeout == (10.0, 120.0)
    assert Settings.from_env(timeout=300.0).request_timeout == (10.0, 300.0)
    monkeypatch.setenv("VIB_CONNECT_TIMEOUT", "3")
    assert Settings.from_env().request_timeout == (3.0, 120.0)


# --- KWB: the newest edition with bijstand values ---------------------------------------------


def test_lokaal_manifest_names_the_kwb_table(cli_env, statline, tmp_path):
    r = cli("estimate", "--method", "lokaal", "--snapshot", str(statline), "--draws", "100",
            env=cli_env)  # fmt: skip
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "maps" / "schatting_2025.csv.manifest.json").read_text())
    assert manifest["bijstand_table"] == "85984NED"
    assert "85984NED" in {s["table"] for s in manifest["sources"]}


def test_new_kwb_edition_with_empty_or_suppressed_bijstand_is_skipped(
    statline, tmp_path, doctored_session
):
    """2025's edition exists but its bijstand column is still empty (null or CBS's -99997):
    2024's is used, and the notes say why."""
    snap = doctored_snapshot(statline, tmp_path / "snap")
    new = snap / "86165NED"
    new.mkdir()
    for f in (statline / "85984NED").iterdir():
        data = json.loads(f.read_text("utf-8"))
        if f.name == "TypedDataSet.json":
            for i, row in enumerate(data):
                row["PersonenPerSoortUitkeringBijstand_87"] = None if i % 2 else -99997
        if f.name == "TableInfos.json":
            data[0]["Identifier"] = "86165NED"
        (new / f.name).write_text(json.dumps(data), "utf-8")
    est = estimate_year(doctored_session(snap), 2025, "lokaal", draws=100)
    assert est.bijstand_table == "85984NED"
    note = next(n for n in est.notes if "Bijstand uit" in n)
    assert "86165NED (2025): de bijstandskolom is (nog) leeg" in note


# --- vib check --------------------------------------------------------------------------------


def test_check_snapshot_passes_and_a_renamed_topic_fails(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("check", "--snapshot", str(statline), env=env)
    assert r.exit_code == 0, r.output
    assert re.search(r"ok\s+85984NED .*\n\s+bijstand -> PersonenPerSoortUitkeringBijstand_87",
                     r.output)  # fmt: skip
    assert re.search(r"ok\s+86059NED", r.output) and re.search(r"absent\s+86247NED", r.output)

    def rename(props):
        for p in props:
            if p.get("Title") == "Personen per soort uitkering; Bijstand":
                p["Title"] = "Personen met bijstand"
        return props

    broken = doctored_snapshot(
        statline, tmp_path / "renamed", files={"85984NED/DataProperties.json": rename}
    )
    r = cli("check", "--snapshot", str(broken), env=env)
    assert r.exit_code == 1
    assert re.search(r"FAIL\s+85984NED", r.output)
    assert "Sociale zekerheid / Personen per soort uitkering; Bijstand" in r.output
    assert "Personen met bijstand" in r.output  # the closest title is named


def test_check_every_registered_year_has_an_id():
    years = {spec.name: sorted(y for y in spec.ids if y) for spec in T.REGISTRY.values()}
    assert years["gebieden"] == list(range(2019, 2027))
    assert years["kerncijfers"][-2:] == [2025, 2026]
    assert T.KEY_FIGURES.ids[2025] == "86165NED" and T.KEY_FIGURES.ids[2026] == "86358NED"
