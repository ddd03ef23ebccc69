"""Maps: classes, HTML (colours, missing class, legend, escaping), boundaries, joins, crosswalk,
and the real thing in headless Chromium with the network blocked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from vluchtelingen_in_beeld.access.cbs import Session
from vluchtelingen_in_beeld.clean.inputs import apply_crosswalk
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.geography.geo import (
    BoundaryError,
    crosswalk,
    dissolve,
    load_boundaries,
    read_boundary_file,
    simplify,
)
from vluchtelingen_in_beeld.render.maps import (
    MISSING_COLOUR,
    MapData,
    classify,
    map_for,
    render_html,
    render_png,
    tooltip_rows,
)

from .browser import artifact, offline_page
from .conftest import make_settings

EVIL = "<script>alert(1)</script>"


def squares() -> gpd.GeoDataFrame:
    """Four made-up square gemeenten of 10 km in RD New, in a row; GM0004 has no value and
    GM0002 has a name that is HTML."""
    codes = ["GM0001", "GM0002", "GM0003", "GM0004"]
    geoms = [box(150_000 + i * 10_000, 450_000, 160_000 + i * 10_000, 460_000) for i in range(4)]
    frame = gpd.GeoDataFrame(
        {
            "statcode": codes,
            "naam": ["Eerstedorp", EVIL, "Derdestad", "Vierhoven"],
            "value": [10.0, 20.0, 400.0, np.nan],
            "werkzoekend": [10.0, 20.0, 400.0, np.nan],
            "werkzoekend_p10": [8.0, 15.0, 300.0, np.nan],
            "werkzoekend_p90": [12.0, 25.0, 500.0, np.nan],
            "rang": [3, 2, 1, np.nan],
            "provincie": ["Een", "Een", "Twee", "Twee"],
        },
        geometry=geoms,
        crs=28992,
    ).set_index("statcode", drop=False)
    frame["tooltip"] = [tooltip_rows(r, "werkzoekend", "gemeente") for _, r in frame.iterrows()]
    return frame


def square_map(highlight=()) -> tuple[MapData, object]:
    frame = squares()
    classes = classify(frame["value"], "equal_interval", 2, "int")
    data = MapData(
        2025,
        "gemeente",
        "werkzoekend",
        frame,
        highlight=list(highlight),
        highlight_label="omlijnd: top 1",
        title="Werkzoekende vluchtelingen (schatting)",
        footer=[f"Bron: test {EVIL}"],
        warning="TEST SNAPSHOT & niet echt",
    )
    return data, classes


def test_classify_by_hand():
    c = classify(pd.Series([1.0, 2.0, 3.0, 10.0, np.nan], index=list("abcde")), "equal_interval", 3)
    assert c.bounds == pytest.approx([4.0, 7.0, 10.0])
    assert c.index.tolist() == [0, 0, 0, 2, -1]
    assert c.n_missing == 1
    assert c.legend()[-1] == (MISSING_COLOUR, "geen gegevens", 1)
    assert c.labels() == ["minder dan 4", "4 tot 7", "7 of meer"]  # shared by no two classes
    # limits rounded as the pages round; a value on a limit goes to the class above
    r = classify(pd.Series([12.0, 329.4, 991.2, 2042.0]), "equal_interval", 2, "int")
    assert r.limits == [1000.0] and r.labels() == ["minder dan 1.000", "1.000 of meer"]
    assert r.index.tolist() == [0, 0, 0, 1]
    on = classify(pd.Series([1.0, 2.0, 3.0]), "equal_interval", 2)
    assert on.limits == [2.0] and on.index.tolist() == [0, 1, 1]
    assert len(set(c.colours)) == 3
    few = classify(pd.Series([5.0, 5.0]), "fisher_jenks", 5)  # fewer distinct values than k
    assert len(few.bounds) == 1 and few.index.tolist() == [0, 0]
    with pytest.raises(ConfigError, match="Did you mean 'quantiles'"):
        classify(pd.Series([1.0]), "quantile", 5)


def _style_of(html_text: str, code: str) -> dict:
    """The style folium gives the feature with id ``code`` (from its style mapping)."""
    m = re.search(r"switch\(feature\.id\) \{(.*?)default:\s*return (\{.*?\});", html_text, re.S)
    assert m, "folium style mapping not found"
    cases, default = m.group(1), json.loads(m.group(2))
    for block in re.finditer(r'((?:case "[^"]+":\s*)+)return\s*(\{.*?\});', cases):
        if f'"{code}"' in block.group(1):
            return json.loads(block.group(2))
    return default


def test_html_colours_missing_class_legend_and_escaping():
    data, classes = square_map(highlight=["GM0003"])
    out = render_html(data, classes)
    # class colours on the features, grey for the missing one (never folium's black)
    assert _style_of(out, "GM0001")["fillColor"] == classes.colours[0]
    assert _style_of(out, "GM0003")["fillColor"] == classes.colours[-1]
    assert _style_of(out, "GM0004")["fillColor"] == MISSING_COLOUR
    assert classes.colours[0] != classes.colours[-1]
    # legend: a row per class with the Dutch bounds, the missing class with its count
    legend = re.search(r'<div class="vib-legend" id="vib-legend">(.*?)</div></div>', out, re.S)
    assert legend
    assert "minder dan 210" in legend.group(1) and "210 of meer" in legend.group(1)
    assert 'data-count="1"' in legend.group(1) and "geen gegevens" in legend.group(1)
    assert "omlijnd: top 1" in legend.group(1) and "<li>" in legend.group(1)
    # the HTML name never appears as markup, only escaped
    assert EVIL not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out or "\\u0026lt;script" in out
    assert "TEST SNAPSHOT &amp; niet echt" in out
    # self-contained: no external script or stylesheet
    assert not re.search(r"<script[^>]+src=", out)
    assert not re.search(r"<link[^>]+stylesheet", out)
    assert "L.geoJson" in out or "L.geoJSON" in out


def test_template_syntax_in_texts_is_shown_not_run():
    """A CBS text with Jinja syntax is text: ``{{ 7*7 }}`` is not evaluated to 49 and an
    unbalanced ``{% endfor %}`` does not break the page (branca compiles what it is given)."""
    data, classes = square_map()
    data.warning = "let op {{ 7*7 }} en {% endfor %}"
    data.title = "Kaart {{ this }}"
    data.footer = ["Bron: {% raw %}x"]
    out = render_html(data, classes)
    assert "let op {{ 7*7 }} en {% endfor %}" in out and "let op 49" not in out
    assert "<title>Kaart {{ this }}</title>" in out
    assert "Bron: {% raw %}x" in out


def _donut_and_pair() -> gpd.GeoDataFrame:
    """GM0001 a 10 km square with a 6 km hole whose ring runs the same way as the outside
    (so a non-zero fill fills it unless the rings are oriented); GM0002 two squares."""
    outer = [(0, 0), (10_000, 0), (10_000, 10_000), (0, 10_000)]
    inner = [(2_000, 2_000), (8_000, 2_000), (8_000, 8_000), (2_000, 8_000)]
    donut = shapely.Polygon(outer, [inner])
    assert shapely.is_ccw(donut.exterior) == shapely.is_ccw(donut.interiors[0])
    pair = shapely.MultiPolygon([box(20_000, 0, 24_000, 4_000), box(26_000, 6_000, 30_000, 10_000)])
    frame = squares().iloc[:2].copy()
    frame["geometry"] = gpd.GeoSeries([donut, pair], index=frame.index, crs=28992)
    return frame.set_geometry("geometry").set_crs(28992, allow_override=True)


def _pixels(png: bytes, colour: str) -> np.ndarray:
    """(row, col) of the pixels within 12 of ``colour`` in each channel."""
    from io import BytesIO

    from PIL import Image

    rgb = np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)
    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.argwhere(np.abs(rgb - want).max(axis=2) <= 12)


def test_geojson_keeps_holes_and_parts_rounded_and_oriented():
    """The HTML's geometries are the shapes (to 5 decimals), exteriors counter-clockwise and
    holes clockwise as RFC 7946 asks, one MultiPolygon per area."""
    from shapely.geometry import shape

    from vluchtelingen_in_beeld.render.maps import _geojson_geometries

    frame = _donut_and_pair()
    wgs = shapely.transform(frame.geometry.values, lambda xy: xy / 1e5 + [5.1234567, 52.0])
    out = _geojson_geometries(wgs)
    assert [g["type"] for g in out] == ["MultiPolygon", "MultiPolygon"]
    for got, want in zip(out, wgs, strict=True):
        back = shape(got)
        assert back.hausdorff_distance(want) < 1e-5
        assert back.area == pytest.approx(want.area, rel=1e-3)
        for polygon in back.geoms:
            assert shapely.is_ccw(polygon.exterior)
            assert not any(shapely.is_ccw(ring) for ring in polygon.interiors)
    assert len(out[0]["coordinates"][0]) == 2  # the donut: exterior and hole
    assert len(out[1]["coordinates"]) == 2  # the pair: two polygons
    first = out[0]["coordinates"][0][0][0]
    assert first == [round(v, 5) for v in first] and first[0] != 5.1234567


def test_footer_lines_fit_and_keep_every_character():
    """The PNG footer's lines: each fits the width in the font, paragraphs stay apart, and a
    word wider than a line (a path, a checksum) is cut, not lost or left sticking out."""
    from matplotlib import get_data_path
    from PIL import ImageFont

    from vluchtelingen_in_beeld.render.maps import _footer_lines

    font = ImageFont.truetype(str(Path(get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), 12.5)
    text = "Bron: CBS 85458NED en " + "a1b2c3" * 40 + " einde\n\nTweede alinea, kort."
    lines = _footer_lines(text, font, 300)
    assert all(font.getlength(line) <= 300 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert lines[-2:] == ["", "Tweede alinea, kort."]
    assert len(lines) > 5 and all(lines[:-2])


def test_png_draws_holes_parts_outline_and_footer():
    """The PNG is drawn from our own paths and a Pillow footer: a hole stays empty, both parts
    of a multipolygon are filled, the outline is drawn, and the footer's lines (in the warning's
    red and the footer's grey) sit below the map and travel in the file's text chunks."""
    from io import BytesIO

    from PIL import Image

    from vluchtelingen_in_beeld.render.maps import FOOTER_COLOUR, OUTLINE_COLOUR, WARNING_COLOUR

    data, classes = square_map(highlight=["GM0002"])
    data.frame = _donut_and_pair()
    classes = classify(data.frame["value"], "equal_interval", 2, "int")
    png = render_png(data, classes, dpi=60)
    image = Image.open(BytesIO(png))
    assert image.size == (round(8.27 * 60), round(10.5 * 60))
    donut = _pixels(png, classes.colour_of("GM0001"))
    pair = _pixels(png, classes.colour_of("GM0002"))
    assert len(donut) > 500 and len(pair) > 500
    (top, left), (bottom, right) = donut.min(axis=0), donut.max(axis=0)
    centre = np.asarray(image.convert("RGB"))[(top + bottom) // 2, (left + right) // 2]
    assert centre.tolist() == [255, 255, 255], "the hole was filled"
    # the pair: two blocks of fill, with white between them along the diagonal
    cols = np.unique(pair[:, 1])
    assert cols.max() - cols.min() > 1.3 * (right - left) * 0.6
    assert len(_pixels(png, OUTLINE_COLOUR)) > 100
    # below the map: the warning's line in red, then the footer's in grey
    warning_rows = _pixels(png, WARNING_COLOUR)[:, 0]
    footer_rows = _pixels(png, FOOTER_COLOUR)[:, 0]
    footer_rows = footer_rows[footer_rows > bottom]
    assert len(warning_rows) > 20 and len(footer_rows) > 20
    assert warning_rows.min() > bottom and warning_rows.max() < footer_rows.max()
    assert image.text["Source"].splitlines() == [
        "LET OP: TEST SNAPSHOT & niet echt",
        f"Bron: test {EVIL}",
    ]
    assert image.text["Title"] == "Werkzoekende vluchtelingen (schatting)"


def test_simplify_keeps_neighbours_together(geo_folder):
    """Coverage simplification: valid coverage after, and the union area barely moves."""
    g = read_boundary_file(geo_folder / "gemeente_gegeneraliseerd_2023.geojson")
    s = simplify(g, 200.0)
    assert shapely.coverage_is_valid(s.geometry.values)
    before = shapely.union_all(g.geometry.values).area
    after = shapely.coverage_union_all(s.geometry.values).area
    assert abs(after - before) / before < 0.01
    assert (
        shapely.get_num_coordinates(s.geometry.values).sum()
        < shapely.get_num_coordinates(g.geometry.values).sum()
    )


def test_dissolve_squares():
    frame = squares()
    regions = dissolve(
        frame, pd.Series({"GM0001": "A", "GM0002": "A", "GM0003": "B", "GM0004": "B"})
    )
    assert sorted(regions.index) == ["A", "B"]
    assert regions.loc["A"].geometry.area == pytest.approx(2e8)


def test_boundaries_come_through_pdok_path_and_the_store(replay, geo_folder, tmp_path, est2025):
    from vluchtelingen_in_beeld.geography.geo import geo_settings

    session = Session(geo_settings(make_settings(replay.url, tmp_path), replay.url, geo_folder))
    codes = list(est2025.table["gemeentecode"])
    before = len(replay.requests)
    b = load_boundaries(session, 2025, codes)
    assert b.year == 2023 and b.report.ok and len(b.frame) == 342
    assert any("2023" in n and "2025" in n for n in b.notes)
    hits = [r for r in replay.requests[before:] if "/cbs/gebiedsindelingen/2023/wfs/v1_0" in r]
    assert len(hits) == 1
    again = load_boundaries(session, 2025, codes)
    assert len(again.frame) == 342
    assert len([r for r in replay.requests[before:] if "gebiedsindelingen" in r]) == 1  # stored


def test_mismatched_join_is_refused_with_codes(shared_session, est2025):
    codes = list(est2025.table["gemeentecode"])
    with pytest.raises(BoundaryError) as e:
        load_boundaries(shared_session, 2025, codes, boundary_year=2021)
    msg = str(e.value)
    assert "GM1980" in msg and "GM0457" in msg  # Dijk en Waard has no 2021 shape; Weesp no data
    assert "2021, 2022, 2023" in msg


def test_year_not_available_lists_years(shared_session):
    with pytest.raises(BoundaryError, match="available here: 2021, 2022, 2023"):
        load_boundaries(shared_session, 2020, ["GM0363"])


def test_crosswalk_2021_to_2023_conserves_population(geo_folder):
    old = read_boundary_file(geo_folder / "gemeente_gegeneraliseerd_2021.geojson")
    new = read_boundary_file(geo_folder / "gemeente_gegeneraliseerd_2023.geojson")
    cw = crosswalk(old, new)
    assert np.allclose(cw.groupby("oud")["share"].sum(), 1.0)
    pairs = set(zip(cw["oud"], cw["nieuw"], strict=True))
    assert ("GM0457", "GM0363") in pairs  # Weesp -> Amsterdam (2022)
    assert {("GM0398", "GM1980"), ("GM0416", "GM1980")} <= pairs  # -> Dijk en Waard
    assert set(cw["nieuw"]) == set(new["statcode"])
    rng = np.random.default_rng(7)
    pop = pd.Series(rng.integers(1_000, 900_000, len(old)).astype(float), index=old["statcode"])
    moved = apply_crosswalk(pop, cw)
    assert moved.sum() == pytest.approx(pop.sum())
    assert moved["GM1980"] == pytest.approx(pop["GM0398"] + pop["GM0416"], rel=0.05)


def test_unknown_metric_and_level(shared_session, rank2025):
    with pytest.raises(ConfigError, match="Did you mean 'bereik'"):
        map_for(rank2025, metric="berijk")
    with pytest.raises(ConfigError, match="`level` gemeente"):
        map_for(rank2025, level="provincie", highlight_top=3)


@pytest.fixture(scope="module")
def real_map(shared_session, rank2025):
    return map_for(rank2025, highlight_top=11)


def test_real_map_html_size_and_content(real_map):
    out = real_map.html()
    assert len(out.encode()) < 1_500_000
    assert out.count('"type": "Feature"') + out.count('"type":"Feature"') >= 342
    assert real_map.classes.n_missing == 0
    missing = '<span class="vib-swatch" style="background:#bdbdbd"></span><span>geen gegevens'
    assert f'data-count="0">{missing}' in out
    assert "TEST SNAPSHOT" in out  # the snapshot's own warning
    assert "85458NED" in out and "standaard" in out


@pytest.mark.parametrize("level", ["provincie", "arbeidsmarktregio"])
def test_region_maps(shared_session, rank2025, level):
    r = map_for(rank2025, level=level, metric="werkzoekend_per_1000")
    assert len(r.data.frame) == (12 if level == "provincie" else 35)
    assert r.classes.n_missing == 0


def test_browser_map_offline(real_map, tmp_path):
    page_file = tmp_path / "kaart.html"
    page_file.write_text(real_map.html(), encoding="utf-8")
    with offline_page() as (page, log):
        page.goto(page_file.as_uri())
        page.wait_for_selector("path.leaflet-interactive")
        shapes = page.locator("path.leaflet-interactive")
        assert shapes.count() == 342
        outlines = page.locator(".leaflet-overlay-pane path:not(.leaflet-interactive)")
        assert outlines.count() == 11
        assert page.locator("#vib-legend").is_visible()
        assert "geen gegevens\n0" in page.locator("#vib-legend").inner_text()
        assert page.locator("#vib-footer").is_visible()
        # hover Amsterdam: its tooltip shows name, code and interval
        idx = list(real_map.data.frame.index).index("GM0363")
        box_ = shapes.nth(idx).bounding_box()
        target = shapes.nth(idx).element_handle()
        inside = [  # a point of the box that is Amsterdam itself, not a neighbour in its box
            (box_["x"] + box_["width"] * fx / 10, box_["y"] + box_["height"] * fy / 10)
            for fy in range(2, 9)
            for fx in range(2, 9)
        ]
        hit = next(
            (x, y)
            for x, y in inside
            if page.evaluate("([x, y, el]) => document.elementFromPoint(x, y) === el",
                             [x, y, target])
        )  # fmt: skip
        page.mouse.move(*hit)
        tip = page.locator(".leaflet-tooltip")
        tip.wait_for(state="visible")
        text = tip.inner_text()
        assert "GM0363" in text and "Waarschijnlijk (8 van de 10 doorrekeningen)" in text
        page.screenshot(path=str(artifact("kaart_2025.png")))
    assert log.errors == []
    assert log.blocked == []


def test_boundary_files_geopackage_and_topojson(tmp_path, shared_data):
    gpkg = tmp_path / "gemeenten.gpkg"
    squares()[["statcode", "naam", "geometry"]].rename(columns={"naam": "statnaam"}).reset_index(
        drop=True
    ).to_file(gpkg, driver="GPKG")
    g = read_boundary_file(gpkg)
    assert list(g.index) == ["GM0001", "GM0002", "GM0003", "GM0004"]
    assert g.crs.to_epsg() == 28992 and g.loc["GM0002", "statnaam"] == EVIL
    topo = next((shared_data / "geo" / "wgs84" / "minvws-2023").glob("*.json"))
    t = read_boundary_file(topo)  # several layers: the gemeente layer is chosen
    assert len(t) == 342 and t.index.str.startswith("GM").all()
    with pytest.raises(ConfigError, match="does not exist"):
        read_boundary_file(tmp_path / "nope.geojson")


def test_own_fisher_jenks_equals_mapclassify():
    """The run's default classes are computed without importing mapclassify; they must be
    mapclassify's own Fisher-Jenks breaks (random skewed data, no ties)."""
    import warnings

    import mapclassify

    from vluchtelingen_in_beeld.render.maps import fisher_jenks_bins

    rng = np.random.default_rng(7)
    for _ in range(60):
        n, k = int(rng.integers(6, 150)), int(rng.integers(2, 8))
        x = rng.lognormal(3, 1.2, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.asarray(mapclassify.FisherJenks(x, k=k).bins)
        assert np.allclose(fisher_jenks_bins(x, k), expected), (n, k)


@pytest.mark.parametrize("k", range(1, 10))
def test_the_written_out_palettes_are_matplotlibs(k):
    """The colours a page uses without importing matplotlib are the ones it would sample."""
    import matplotlib
    from matplotlib.colors import to_hex

    from vluchtelingen_in_beeld.render.maps import PALETTE, palette

    cmap = matplotlib.colormaps[PALETTE]
    stops = [0.6] if k == 1 else [0.12 + 0.83 * i / (k - 1) for i in range(k)]
    assert palette(k) == [to_hex(cmap(x)) for x in stops]
