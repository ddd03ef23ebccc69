"""Boundaries are checked before they are stored, by either of PDOK's routes.

A PDOK answer that lacks a gemeente (its count lowered to match), or whose polygon was moved,
is refused with the gemeente's name and nothing is stored; the next call to a good service
needs no `refresh`. When the year's WFS is gone (404, 410), the OGC API Features collection
gives the same boundaries, checked the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.replay import Fault, FaultyReplay
from vluchtelingen_in_beeld.access import pdok
from vluchtelingen_in_beeld.access.cbs import Session
from vluchtelingen_in_beeld.access.snapshot import boundary_files, geo_settings
from vluchtelingen_in_beeld.errors import BoundaryError, CrsMismatchError, PdokError
from vluchtelingen_in_beeld.geography.geo import fetch_boundaries, load_boundaries

from .conftest import make_settings


def _codes(geo_folder: Path, year: int) -> dict[str, str]:
    data = json.loads((geo_folder / f"gemeente_gegeneraliseerd_{year}.geojson").read_text())
    return {f["properties"]["statcode"]: f["properties"]["statnaam"] for f in data["features"]}


def _shift(code: str, dx: float, dy: float):  # type: ignore[no-untyped-def]
    """A rewrite that moves one gemeente's polygon by (dx, dy) metres (RD answers)."""

    def move(coords):  # type: ignore[no-untyped-def]
        if coords and isinstance(coords[0], (int, float)):
            return [coords[0] + dx, coords[1] + dy]
        return [move(c) for c in coords]

    def rewrite(features: list[dict]) -> list[dict]:
        for f in features:
            if f["properties"]["statcode"] == code:
                f["geometry"]["coordinates"] = move(f["geometry"]["coordinates"])
        return features

    return rewrite


def _stored(store: Path) -> list[Path]:
    return sorted(store.rglob("gemeenten.geojson"))


@pytest.fixture
def pdok_server(statline: Path, geo_folder: Path):  # type: ignore[no-untyped-def]
    with FaultyReplay(statline, boundaries=boundary_files(geo_folder)) as server:
        yield server


def _session(server: FaultyReplay, geo_folder: Path, store: Path) -> Session:
    settings = make_settings(server.url, store)
    return Session(geo_settings(settings, server.url, geo_folder))


@pytest.mark.parametrize(
    ("name", "rewrite", "says"),
    [
        ("missing, count lowered", lambda fs: [f for f in fs
                                               if f["properties"]["statcode"] != "GM0014"],
         r"lacks 1 gemeente\(s\) of the data of 2025: GM0014 \(Groningen\)"),
        ("moved onto others", _shift("GM0014", 0, -50_000),
         r"the polygon of GM0014 \(Groningen\) lies on top of other gemeenten"),
        ("moved out to sea", _shift("GM0448", -50_000, 0),
         r"GM0448 \(Texel\) lies \d+ km from any other gemeente"),
    ],
)  # fmt: skip
def test_a_bad_boundary_answer_is_never_stored(pdok_server, geo_folder, tmp_path, name,
                                               rewrite, says):  # fmt: skip
    codes = _codes(geo_folder, 2023)
    pdok_server.faults.append(Fault("rewrite", match="gebiedsindelingen", times=None,
                                    rows=rewrite, consistent=True))  # fmt: skip
    session = _session(pdok_server, geo_folder, tmp_path / "store")
    with pytest.raises(BoundaryError, match=says) as err:
        load_boundaries(session, 2025, codes)
    assert "nothing was stored" in str(err.value)
    assert _stored(tmp_path / "store") == []
    pdok_server.faults.clear()  # good again, same address: no `refresh` needed
    b = load_boundaries(_session(pdok_server, geo_folder, tmp_path / "store"), 2025, codes)
    assert len(b.frame) == 342 and b.year == 2023


def test_a_polygon_that_moved_since_another_stored_year_is_refused(
    pdok_server, geo_folder, tmp_path
):
    """Vlieland moved 8 km out to sea: it touches nothing and is near Terschelling still, so
    only the boundaries of another year in the store show it is not where it was."""
    session = _session(pdok_server, geo_folder, tmp_path / "store")
    assert fetch_boundaries(session, 2022) is not None  # stored: the year to compare with
    pdok_server.faults.append(Fault("rewrite", match="/2023/", times=None,
                                    rows=_shift("GM0096", 0, 8_000)))  # fmt: skip
    with pytest.raises(BoundaryError, match=r"GM0096 \(Vlieland\) lies elsewhere than in the "
                       r"boundaries of 2022 \(shares 0% of its area"):  # fmt: skip
        fetch_boundaries(_session(pdok_server, geo_folder, tmp_path / "store"), 2023)
    assert len(_stored(tmp_path / "store")) == 1


@pytest.mark.parametrize("status", ["404", "410"])
def test_boundaries_come_from_the_ogc_api_when_the_wfs_is_gone(
    pdok_server, geo_folder, tmp_path, monkeypatch, status
):
    """The year's WFS answers 404 or 410: the OGC API collection, asked in RD for the year's
    jaarcode and paged by its next links, gives the same gemeenten in the same places."""
    codes = _codes(geo_folder, 2023)
    wfs = load_boundaries(_session(pdok_server, geo_folder, tmp_path / "a"), 2025, codes)
    monkeypatch.setattr(pdok, "MAX_COUNT", 100)  # several pages, by next links
    pdok_server.faults.append(Fault(status, match="/wfs/", times=None))
    pdok_server.requests.clear()
    ogc = load_boundaries(_session(pdok_server, geo_folder, tmp_path / "b"), 2025, codes)
    asked = [r for r in pdok_server.requests if "/ogc/v1/" in r]
    assert len(asked) == 4  # 342 features, 100 a page
    assert "jaarcode=2023" in asked[0] and "EPSG%2F0%2F28992" in asked[0]
    assert all("cursor=" in r for r in asked[1:])
    assert ogc.provenance["url"].startswith(pdok.OGC_PATH) and ogc.year == 2023
    assert list(ogc.frame.index) == list(wfs.frame.index)
    assert ogc.frame.crs.to_epsg() == 28992
    assert ogc.frame.geometry.geom_equals_exact(wfs.frame.geometry, tolerance=1e-6).all()
    manifest = json.loads(next((tmp_path / "b" / "cbs").glob("PDOK*/*/manifest.json")).read_text())
    assert manifest["route"] == "ogc"


@pytest.mark.parametrize(
    ("name", "fault", "error", "says"),
    [
        ("jaarcode ignored", Fault("rewrite", match="/ogc/", times=None, rows=lambda fs: [
            {**f, "properties": {**f["properties"], "jaarcode": 2021}} for f in fs]),
         PdokError, r"features of jaarcode 2021 when asked for 2023 \(the filter was not"),
        ("no Content-Crs", Fault("no_crs", match="/ogc/", times=None), CrsMismatchError,
         r"not degrees"),
    ],
)  # fmt: skip
def test_a_bad_ogc_answer_is_never_stored(pdok_server, geo_folder, tmp_path, name, fault,
                                          error, says):  # fmt: skip
    pdok_server.faults.extend([Fault("410", match="/wfs/", times=None), fault])
    session = _session(pdok_server, geo_folder, tmp_path / "store")
    with pytest.raises(error, match=says):
        fetch_boundaries(session, 2023)
    assert _stored(tmp_path / "store") == []


def test_an_ogc_next_link_to_another_server_is_not_followed(geo_folder, tmp_path, monkeypatch):
    """A next link must stay on the server asked (and move on): never a loop, never away."""
    monkeypatch.setattr(pdok, "MAX_COUNT", 100)
    with FaultyReplay(tmp_path, boundaries=boundary_files(geo_folder)) as server:
        server.faults.append(Fault("410", match="/wfs/", times=None))
        settings = make_settings(server.url, tmp_path / "store", pdok_url=server.url)
        # the replay's own next links stay on it: the download succeeds
        got = pdok.download_ogc(settings, 2023)
        assert got is not None and len(json.loads(got)["features"]) == 342
        other = settings.with_(pdok_url=server.url.replace("127.0.0.1", "localhost"))
        with pytest.raises(PdokError, match="leads elsewhere"):
            pdok.download_ogc(other, 2023)  # its next links name 127.0.0.1
