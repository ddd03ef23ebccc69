"""Map build time and HTML size: ours (coverage-simplified, Leaflet inlined, works offline)
against a plain ``folium.Choropleth`` of the unsimplified boundaries (CDN scripts, needs
internet). Reads the shared snapshot and boundaries at run time (target: under 1.5 MB).

    .venv/bin/python benchmarks/bench_map.py [--shared ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from vluchtelingen_in_beeld.access.cbs import Session
from vluchtelingen_in_beeld.access.snapshot import serving_snapshot
from vluchtelingen_in_beeld.geography.geo import read_boundary_file
from vluchtelingen_in_beeld.render.maps import map_for
from vluchtelingen_in_beeld.settings import Settings
from vluchtelingen_in_beeld.workflow.pipeline import build_year


def plain_folium(boundary_file: Path, values: dict[str, float]) -> str:
    """What one would write without this tool: folium.Choropleth on the raw GeoJSON."""
    import folium

    gdf = read_boundary_file(boundary_file).to_crs(4326)
    m = folium.Map(location=[52.2, 5.3], zoom_start=7)
    folium.Choropleth(
        geo_data=gdf[["statcode", "geometry"]].to_json(),
        data=values,
        columns=None,
        key_on="feature.properties.statcode",
        fill_color="YlOrRd",
        bins=5,
    ).add_to(m)
    return m.get_root().render()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(data_dir=Path(tmp))
        with serving_snapshot(settings, args.shared / "statline") as served:
            session = Session(served)
            result = build_year(session, 2025, shapes=True)
            map_for(result, highlight_top=11).html()  # warm: first use of folium's templates
            ours, sizes, png_times = [], [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                m = map_for(result, highlight_top=11)
                page = m.html()
                ours.append(time.perf_counter() - t0)
                sizes.append(len(page.encode()))
                t0 = time.perf_counter()
                png = m.png()
                png_times.append(time.perf_counter() - t0)
    values = dict(
        zip(
            result.estimate.table["gemeentecode"], result.estimate.table["werkzoekend"], strict=True
        )
    )
    plain_times, plain_size = [], 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        page = plain_folium(args.shared / "geo/pdok/gemeente_gegeneraliseerd_2023.geojson", values)
        plain_times.append(time.perf_counter() - t0)
        plain_size = len(page.encode())
    plain_external = len(re.findall(r'<(?:script[^>]+src|link[^>]+href)="https?://', page))
    print(
        f"ours : build {statistics.median(ours):.2f} s (median of {args.repeat}), "
        f"HTML {sizes[-1] / 1e6:.2f} MB, self-contained (Leaflet inlined), 342 gemeenten"
    )
    print(
        f"ours : PNG {statistics.median(png_times):.2f} s (median), {len(png) / 1e6:.2f} MB, "
        "footer set by Pillow"
    )
    print(
        f"plain: build {statistics.median(plain_times):.2f} s, HTML {plain_size / 1e6:.2f} MB, "
        f"needs internet for {plain_external} CDN scripts/styles, unsimplified"
    )


if __name__ == "__main__":
    main()
