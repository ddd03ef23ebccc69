"""Choropleth maps: self-contained HTML (folium, Leaflet inlined) and a static PNG.

Classes are Fisher-Jenks natural breaks by default (computed here), or another mapclassify
scheme; missing values get their own grey class, counted in the
legend ("geen gegevens (n = …)"). Every name that reaches the HTML is escaped. The HTML needs
no network: Leaflet's JavaScript and CSS are inlined from the installed ``XStatic-Leaflet``
package and background tiles are off unless asked for.
"""

from __future__ import annotations

import html
import io
import json
import textwrap
import warnings
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.errors import ConfigError, did_you_mean
from vluchtelingen_in_beeld.fmt import (
    is_small,
    nl_about,
    nl_about_range,
    nl_int,
    nl_num,
    nl_pct,
    nl_prob,
    round_sig,
    whole,
)
from vluchtelingen_in_beeld.geography.geo import dissolve
from vluchtelingen_in_beeld.render.provenance import source_lines

if TYPE_CHECKING:
    import geopandas as gpd

    from vluchtelingen_in_beeld.geography.result import YearResult

#: Schemes offered (mapclassify names); ``headtail_breaks`` decides its own number of classes.
SCHEMES = (
    "fisher_jenks",
    "quantiles",
    "equal_interval",
    "natural_breaks",
    "jenks_caspall",
    "maximum_breaks",
    "headtail_breaks",
)
MISSING_COLOUR = "#bdbdbd"
OUTLINE_COLOUR = "#08306b"
BORDER_COLOUR = "#ffffff"
PALETTE = "YlOrRd"  #: matplotlib's name of the colormap :data:`PALETTES` is read from

#: metric -> (Dutch label, kind) where kind decides how values are written.
METRICS: dict[str, tuple[str, str]] = {
    "werkzoekend": ("Werkzoekende vluchtelingen (schatting)", "int"),
    "werkzoekend_per_1000": ("Werkzoekende vluchtelingen per 1.000 inwoners", "dec"),
    "doelgroep": ("Doelgroep: vluchtelingen in de leeftijd van de methodekaart", "int"),
    "niet_zelfstandig": ("Doelgroep zonder eigen inkomen", "int"),
    "route_a": ("Route A: direct bemiddelbaar", "int"),
    "route_b": ("Route B: met afstand tot de arbeidsmarkt", "int"),
    "contacten": ("Contacten in het scenario", "int"),
    "plaatsingen": ("Plaatsingen in het scenario", "int"),
    "kosten_eur": ("Kosten in het scenario (euro)", "int"),
    "inwoners": ("Inwoners", "int"),
    "bereik": ("Werkzoekenden binnen bereik van een pilot hier", "int"),
    "kans_geselecteerd": ("Kans gekozen als voortrekkersgemeente", "prob"),
    "groei": ("Groei van de doelgroep in twee jaar (personen)", "int"),
}
LEVEL_LABELS = {
    "gemeente": "gemeenten",
    "provincie": "provincies",
    "arbeidsmarktregio": "arbeidsmarktregio's",
    "corop": "COROP-gebieden",
    "landsdeel": "landsdelen",
}


#: Dutch names of the classification schemes, as the legend says them.
SCHEME_LABELS = {
    "fisher_jenks": "natuurlijke grenzen (Fisher-Jenks)",
    "quantiles": "kwantielen (even veel gebieden per klasse)",
    "equal_interval": "gelijke intervallen",
    "natural_breaks": "natuurlijke grenzen (k-means)",
    "jenks_caspall": "natuurlijke grenzen (Jenks-Caspall)",
    "maximum_breaks": "grootste sprongen",
    "headtail_breaks": "kop-staartindeling",
}


def fmt_value(value: Any, kind: str) -> str:
    """A metric value the Dutch way, by the pages' rounding rule (:func:`~.fmt.nl_about`)."""
    if kind == "int":
        return nl_about(value)
    if kind == "pct":
        return nl_pct(value, signed=False)
    if kind == "prob":
        return nl_prob(value)
    return nl_about(value, count=False)


def fmt_limit(value: float, kind: str) -> str:
    """A class limit: rounded like the pages, but a limit, never "minder dan 10"."""
    if kind in ("pct", "prob"):
        return nl_pct(value)
    return nl_num(value)  # already rounded by round_limit: written as it is


def round_limit(value: float, kind: str) -> float:
    """A class limit rounded as the legend shows it (whole percents for chances)."""
    if kind in ("pct", "prob"):
        return round(value, 2)
    if kind == "int":  # a count is whole first, as fmt.nl_about writes it
        value = whole(value)
    return round_sig(value)


@dataclass
class Classes:
    """Classes of one metric: limits rounded as shown, colours, a class per area.

    Class ``i`` holds the values from ``limits[i - 1]`` up to (not including)
    ``limits[i]``; the first has no lower limit, the last no upper one. The limits are the
    scheme's breaks rounded by the pages' rule, so the legend says exactly what the colours
    do ("330 tot 990"), and no two classes share a value.
    """

    limits: list[float]  # between the classes: k - 1 of them, increasing
    lower: float
    upper: float
    colours: list[str]
    index: pd.Series  # class number per code, -1 = missing
    scheme: str
    kind: str

    @property
    def bounds(self) -> list[float]:
        """The upper end of each class (the last is the largest value)."""
        return [*self.limits, self.upper]

    @property
    def n_missing(self) -> int:
        """How many areas have no value."""
        return int((self.index < 0).sum())

    def colour_of(self, code: str) -> str:
        """Fill colour of an area."""
        i = int(self.index[code])
        return MISSING_COLOUR if i < 0 else self.colours[i]

    def labels(self) -> list[str]:
        """The Dutch label of each class, as CBS writes them.

        "minder dan 330", "330 tot 990", "2.000 of meer" (one class: the range of the values).
        """
        f = [fmt_limit(x, self.kind) for x in self.limits]
        if not f:
            lo, hi = (
                fmt_limit(round_limit(x, self.kind), self.kind) for x in (self.lower, self.upper)
            )
            return [lo if lo == hi else f"{lo} tot en met {hi}"]
        middle = [f"{a} tot {b}" for a, b in zip(f[:-1], f[1:], strict=True)]
        return [f"minder dan {f[0]}", *middle, f"{f[-1]} of meer"]

    def legend(self) -> list[tuple[str, str, int]]:
        """(colour, label, count) per class, the missing class last."""
        counts = self.index.value_counts()
        rows = [
            (colour, label, int(counts.get(i, 0)))
            for i, (label, colour) in enumerate(zip(self.labels(), self.colours, strict=True))
        ]
        rows.append((MISSING_COLOUR, "geen gegevens", self.n_missing))
        return rows


#: ``k`` colours of matplotlib's YlOrRd (ColorBrewer) for ``k`` classes: the colormap read
#: at 0.6 for one class, else at 0.12 to 0.95 in even steps. Written out so that a page
#: needs no matplotlib (0.5 s to import); a test checks them against matplotlib.
PALETTES = {
    1: ["#fc5b2e"],
    2: ["#ffeea3", "#970026"],
    3: ["#ffeea3", "#fd7c37", "#970026"],
    4: ["#ffeea3", "#feac49", "#f23924", "#970026"],
    5: ["#ffeea3", "#fec15d", "#fd7c37", "#e41c1d", "#970026"],
    6: ["#ffeea3", "#fece6a", "#fd9c42", "#fc512b", "#d9131f", "#970026"],
    7: ["#ffeea3", "#fed673", "#feac49", "#fd7c37", "#f23924", "#d00d21", "#970026"],
    8: ["#ffeea3", "#fedb7a", "#feb852", "#fd953f", "#fc5d2e", "#ea2920", "#ca0923", "#970026"],
    9: ["#ffeea3", "#fedd7f", "#fec15d", "#fea145", "#fd7c37", "#f94828", "#e41c1d", "#c50624",
        "#970026"],
}  # fmt: skip


def palette(k: int) -> list[str]:
    """``k`` colours from light to dark (ColorBrewer YlOrRd, as matplotlib samples it)."""
    return list(PALETTES[k])


def check_scheme(scheme: str, k: int) -> None:
    """Refuse an unknown scheme or a silly number of classes before any work."""
    if scheme not in SCHEMES:
        raise ConfigError(
            f"Unknown `scheme` {scheme!r}.{did_you_mean(scheme, SCHEMES)} Schemes: "
            f"{', '.join(SCHEMES)}."
        )
    if not 1 <= k <= 9:
        raise ConfigError(f"`k` must be between 1 and 9 classes, got {k}.")


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of the ``k`` classes with the least within-class sum of squares.

    Fisher's exact dynamic programme on the sorted values, as mapclassify's
    ``FisherJenks`` (same optimum), vectorised over the start of the last class:
    ``O(k · n²)`` array work, milliseconds for 342 gemeenten, and no mapclassify import.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    s1 = np.r_[0.0, np.cumsum(x)]
    s2 = np.r_[0.0, np.cumsum(x * x)]
    i = np.arange(n)[:, None]  # start of a class
    j = np.arange(n)[None, :]  # its end (inclusive)
    length = (j - i + 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = s2[j + 1] - s2[i] - (s1[j + 1] - s1[i]) ** 2 / length
    cost = np.where(j >= i, cost, np.inf)
    best = cost[0].copy()  # one class covering x[0..j]
    starts = []
    for _ in range(1, k):
        prev = np.r_[np.inf, best[:-1]]  # classes so far end just before i
        total = prev[:, None] + cost
        arg = np.argmin(total, axis=0)
        best = total[arg, np.arange(n)]
        starts.append(arg)
    ends = [n - 1]
    for arg in reversed(starts):
        ends.append(int(arg[ends[-1]]) - 1)
    return np.asarray(x[sorted(e for e in ends if e >= 0)])


def classify(
    values: pd.Series, scheme: str = "fisher_jenks", k: int = 5, kind: str = "dec"
) -> Classes:
    """Classes of ``values`` (missing stays missing: class -1).

    Fisher-Jenks (the default) is computed here; other schemes come from mapclassify.
    """
    check_scheme(scheme, k)
    v = values.astype(float).replace([np.inf, -np.inf], np.nan)
    present = v.dropna()
    if present.empty:
        raise ConfigError("No area has a value for this metric; nothing to map.")
    distinct = int(present.nunique())
    k_eff = max(1, min(k, distinct))
    if k_eff == 1:
        bins = np.array([present.max()])
    elif scheme == "fisher_jenks":
        bins = fisher_jenks_bins(present.to_numpy(), k_eff)
    elif scheme == "headtail_breaks":
        # lazy: mapclassify: only the map classes need it (+0.5 s at start-up)
        import mapclassify

        bins = np.asarray(mapclassify.HeadTailBreaks(present.to_numpy()).bins)
    else:
        # lazy: mapclassify: only the map classes need it (+0.5 s at start-up)
        import mapclassify

        with warnings.catch_warnings():  # "Numba not installed": the pure version is fine here
            warnings.simplefilter("ignore", UserWarning)
            classifier = mapclassify.classify(present.to_numpy(), scheme=scheme, k=k_eff)
        bins = np.asarray(classifier.bins)
    lo, hi = float(present.min()), float(present.max())
    # the breaks between classes, rounded as shown; a break that rounds onto another, or to
    # outside the values, goes (fewer classes rather than an empty or a doubled one)
    limits = sorted({round_limit(float(b), kind) for b in np.asarray(bins)[:-1]})
    limits = [x for x in limits if lo < x <= hi]
    # classed as shown: a value the legend and tooltip write as "330" is in "330 tot 990"
    shown = np.array([round_limit(float(x), kind) for x in present.to_numpy()])
    idx = pd.Series(-1, index=v.index, dtype=int)
    idx[present.index] = np.searchsorted(np.asarray(limits), shown, side="right")
    if scheme != "equal_interval":  # an empty class says something only for equal intervals
        used = sorted(set(idx[present.index]))
        limits = [limits[i - 1] for i in used[1:]]
        idx[present.index] = np.searchsorted(np.asarray(limits), shown, side="right")
    return Classes(
        limits=limits,
        lower=lo,
        upper=hi,
        colours=palette(len(limits) + 1),
        index=idx,
        scheme=scheme,
        kind=kind,
    )


@dataclass
class MapData:
    """What a map shows: shapes (RD New) with a value and tooltip lines per area."""

    year: int
    level: str
    metric: str
    frame: gpd.GeoDataFrame  # index code; columns naam, value, tooltip (list of (label, text))
    highlight: list[str] = field(default_factory=list)
    highlight_label: str = ""
    title: str = ""
    footer: list[str] = field(default_factory=list)
    warning: str = ""

    @property
    def label(self) -> str:
        """The metric's Dutch label."""
        return METRICS.get(self.metric, (self.metric, "dec"))[0]

    @property
    def kind(self) -> str:
        """How the metric's values are written."""
        return METRICS.get(self.metric, (self.metric, "dec"))[1]


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS from the installed XStatic-Leaflet package."""
    try:
        base = resources.files("xstatic.pkg.leaflet") / "data"
    except ModuleNotFoundError as exc:  # pragma: no cover - it is a declared dependency
        raise ConfigError(
            "XStatic-Leaflet is not installed; reinstall the project (./dev test sets it up)."
        ) from exc
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    js = "\n".join(line for line in js.splitlines() if not line.startswith("//# sourceMappingURL"))
    return js, css


def _polygon_rings(geoms: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ring of (multi)polygons ``geoms`` in flat arrays, in one pass through shapely.

    Returns ``(coords, rings, polygons, parts)``: ring ``r`` is ``coords[rings[r]:rings[r+1]]``,
    polygon ``p`` is rings ``polygons[p]:polygons[p+1]`` (the exterior first), geometry ``g``
    is polygons ``parts[g]:parts[g+1]``. Exteriors run counter-clockwise and holes clockwise
    (as GeoJSON asks and as a non-zero fill needs).
    """
    # lazy: shapely: only geometry needs it (+0.07 s at start-up)
    import shapely

    oriented = shapely.orient_polygons(np.asarray(geoms, dtype=object))
    kind, coords, offsets = shapely.to_ragged_array(oriented)
    if kind == shapely.GeometryType.POLYGON:
        rings, polygons = offsets
        parts = np.arange(len(polygons))
    elif kind == shapely.GeometryType.MULTIPOLYGON:
        rings, polygons, parts = offsets
    else:  # pragma: no cover - boundaries are checked to be polygons when loaded
        raise ConfigError(f"Map areas must be polygons, got {kind.name.lower()}.")
    return coords, rings, polygons, parts


def _geojson_geometries(geoms: Any, digits: int = 5) -> list[dict[str, Any]]:
    """GeoJSON MultiPolygons of ``geoms`` (WGS84), coordinates rounded to ``digits``."""
    coords, rings, polygons, parts = _polygon_rings(geoms)
    points = np.round(coords, digits).tolist()
    ring_lists = [points[a:b] for a, b in zip(rings[:-1], rings[1:], strict=True)]
    polygon_lists = [ring_lists[a:b] for a, b in zip(polygons[:-1], polygons[1:], strict=True)]
    return [
        {"type": "MultiPolygon", "coordinates": polygon_lists[a:b]}
        for a, b in zip(parts[:-1], parts[1:], strict=True)
    ]


def _features(wgs: gpd.GeoDataFrame, classes: Classes, tooltips: bool = True) -> dict[str, Any]:
    """GeoJSON (5 decimals ≈ 1 m) of WGS84 ``wgs``: fill colour and escaped tooltip text."""
    feats = []
    tips = wgs["tooltip"] if tooltips else [()] * len(wgs)
    geometries = _geojson_geometries(wgs.geometry.array)
    for code, tip, geometry in zip(wgs.index, tips, geometries, strict=True):
        props: dict[str, Any] = {"code": html.escape(str(code)), "kleur": classes.colour_of(code)}
        for i, (_, text) in enumerate(tip):
            props[f"t{i}"] = html.escape(str(text))
        feats.append(
            {"type": "Feature", "id": str(code), "properties": props, "geometry": geometry}
        )
    return {"type": "FeatureCollection", "features": feats}


#: A pilot's number on the folium map: its circle's diameter in pixels, and metres per pixel
#: at the map's opening zoom (7) over the Netherlands (latitude 52°).
PILOT_PX = 20
METRES_PER_PX = 156_543.03 * np.cos(np.radians(52.0)) / 2**7
#: Steps of the label placement (a count, never a time).
LABEL_STEPS = 300


def label_positions(anchors: np.ndarray, min_dist: float) -> np.ndarray:
    """Label positions near ``anchors`` (n × 2, metres) no two closer than ``min_dist``.

    Each step pushes every pair that is too close apart along the line between them (a
    fixed direction for two on one spot) and pulls each label a little back to its anchor;
    :data:`LABEL_STEPS` steps, then a last pass that only pushes, until no pair is too
    close. The same anchors always give the same positions.
    """
    pos = np.asarray(anchors, dtype=float).copy()
    n = len(pos)
    if n < 2:
        return pos

    def push(pull: float) -> bool:
        moved = False
        for i in range(n):
            for j in range(i + 1, n):
                d = pos[j] - pos[i]
                dist = float(np.hypot(*d))
                if dist >= min_dist:
                    continue
                unit = d / dist if dist > 1e-9 else np.array([np.cos(i + j), np.sin(i + j)])
                step = (min_dist - dist) / 2 + 1e-6 * min_dist
                pos[i] -= unit * step
                pos[j] += unit * step
                moved = True
        pos[:] += pull * (anchors - pos)
        return moved

    for _ in range(LABEL_STEPS):
        if not push(0.05):
            break
    for _ in range(LABEL_STEPS):
        if not push(0.0):
            break
    return pos


def _pilot_labels(data: MapData, name: str) -> str:
    """Script: numbered circles for the pilots, numbered as in the legend's list.

    Placed apart from each other (:func:`label_positions`, in RD New metres), each with a
    leader line to its gemeente when it had to move. Leaflet's ``divIcon`` from the start
    (a folium marker loads the default icon's image first, a request the page must not make).
    """
    # lazy: geopandas: +0.3 s at start-up, only boundaries need it
    import geopandas as gpd

    frame = data.frame.loc[data.highlight]
    anchors = np.array([[p.x, p.y] for p in frame.geometry.representative_point()])
    spots = label_positions(anchors, (PILOT_PX + 4) * METRES_PER_PX)
    crs = data.frame.crs

    def wgs(xy: np.ndarray) -> list[list[float]]:
        pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs).to_crs(4326)
        return [[round(p.y, 6), round(p.x, 6)] for p in pts]

    pilots = [
        {"at": at, "spot": spot, "moved": bool(np.hypot(*(s - a)) > 1.0),
         "naam": html.escape(str(frame.loc[code, "naam"])), "nr": k + 1}
        for k, (code, at, spot, a, s) in enumerate(
            zip(data.highlight, wgs(anchors), wgs(spots), anchors, spots, strict=True)
        )
    ]  # fmt: skip
    half = PILOT_PX // 2
    return (
        f"{json.dumps(pilots)}.forEach(function (p) {{\n"
        f"  if (p.moved) L.polyline([p.at, p.spot], {{color: '{OUTLINE_COLOUR}', weight: 1.5, "
        f"interactive: false}}).addTo({name});\n"
        f"  L.marker(p.spot, {{icon: L.divIcon({{className: '', iconSize: [{PILOT_PX}, "
        f'{PILOT_PX}], iconAnchor: [{half}, {half}], html: \'<div class="vib-pilot" '
        f"title=\"' + p.naam + '\">' + p.nr + '</div>'}}), title: p.naam}})"
        f".bindTooltip(p.naam).addTo({name});\n}});\n"
    )


def _legend_html(data: MapData, classes: Classes) -> str:
    rows = "".join(
        f'<div class="vib-legend-row" data-count="{count}"><span class="vib-swatch" '
        f'style="background:{colour}"></span><span>{html.escape(label)}</span>'
        f'<span class="vib-n">{count}</span></div>'
        for colour, label, count in classes.legend()
    )
    outline = ""
    if data.highlight:
        names = data.frame.loc[data.highlight, "naam"].astype(str)
        items = "".join(f"<li>{html.escape(n)}</li>" for n in names)
        outline = (
            f'<div class="vib-legend-row"><span class="vib-swatch vib-outline"></span>'
            f"<span>{html.escape(data.highlight_label)}:</span></div>"
            f'<ol class="vib-pilots" id="vib-pilots">{items}</ol>'
        )
    scheme = html.escape(SCHEME_LABELS.get(classes.scheme, classes.scheme))
    unit = LEVEL_LABELS.get(data.level, data.level)
    return (
        f'<div class="vib-legend" id="vib-legend"><div class="vib-legend-title">'
        f"{html.escape(data.label)}</div>"
        f'<div class="vib-legend-row vib-legend-head"><span class="vib-swatch-space"></span>'
        f'<span></span><span class="vib-n">{html.escape(unit)}</span></div>{rows}{outline}'
        f'<div class="vib-legend-note">indeling: {scheme}; afgerond op twee cijfers</div></div>'
    )


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.vib-pilot { width: 20px; height: 20px; border-radius: 50%; background: #08306b; color: #fff;
  font: 600 11px/20px system-ui, sans-serif; text-align: center; border: 1.5px solid #fff;
  box-shadow: 0 0 2px rgba(0,0,0,.6); }
.vib-title { position: fixed; top: 10px; left: 60px; right: 10px; z-index: 1000;
  background: rgba(255,255,255,.92); padding: 6px 12px; border-radius: 4px;
  font-size: 18px; font-weight: 600; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.vib-title small { display: block; font-size: 12px; font-weight: 400; color: #444; }
.vib-legend { position: fixed; top: 70px; right: 10px; max-height: calc(100vh - 200px);
  overflow-y: auto; z-index: 1000; background: #fff;
  padding: 8px 10px; border-radius: 4px; font-size: 12px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  max-width: 260px; }
.vib-legend-title { font-weight: 600; margin-bottom: 4px; }
.vib-legend-row { display: flex; align-items: center; margin: 2px 0; gap: 6px; }
.vib-legend-row > span:nth-child(2) { flex: 1; }
.vib-n { color: #555; text-align: right; min-width: 2.5em; }
.vib-legend-head { color: #555; font-size: 11px; }
.vib-swatch-space { display: inline-block; width: 18px; }
.vib-pilots { margin: 2px 0 4px 0; padding-left: 2.6em; columns: 2; font-size: 11px; }
.vib-swatch { display: inline-block; width: 18px; height: 12px; border: 1px solid #999; }
.vib-outline { background: transparent; border: 2px solid #08306b; }
.vib-legend-note { color: #666; margin-top: 4px; }
.vib-footer { position: fixed; bottom: 0; left: 0; right: 0; z-index: 1000;
  background: rgba(255,255,255,.97); font-size: 11px; padding: 4px 10px;
  border-top: 1px solid #ccc; max-height: 70vh; overflow-y: auto; }
.vib-footer summary { cursor: pointer; font-weight: 600; }
.vib-footer p { margin: 2px 0; }
.vib-footer[open] summary { margin-bottom: 4px; }
.vib-warning { color: #8a1c1c; font-weight: 600; }
.leaflet-container { background: #eef3f7; }
@media (max-width: 600px) {
  .vib-title { left: 50px; font-size: 14px; }
  .vib-legend { font-size: 10px; max-width: 46vw; padding: 4px 6px; top: 64px; }
  .vib-pilots { columns: 1; }
}
.leaflet-bottom { bottom: 28px; }
"""


def _verbatim(markup: str) -> Any:
    """A branca element that puts ``markup`` into the page as it is.

    ``branca.element.Element(text)`` compiles ``text`` as a Jinja template, so a ``{{`` or
    ``{%`` in a CBS text, a snapshot's warning or a name would be evaluated or break the
    page (``html.escape`` leaves braces alone); and compiling Leaflet's 150 kB of
    JavaScript as a template took 30 ms per map. Here the template is fixed and the markup
    is its value.
    """
    # lazy: folium: +0.5 s at start-up, only the HTML maps need it
    from branca.element import Element

    element = Element("{{ this.markup }}")
    element.markup = markup  # type: ignore[attr-defined]  # read by the template
    return element


def render_html(data: MapData, classes: Classes, *, tiles: bool = False) -> str:
    """The map as one self-contained HTML page (no network needed unless ``tiles``)."""
    # lazy: folium: +0.5 s at start-up, only the HTML maps need it
    import folium

    wgs = data.frame.to_crs(4326)
    minx, miny, maxx, maxy = wgs.total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=7,
        tiles=None,
        control_scale=False,  # Leaflet's default scale adds miles; a metric one is added below
        attribution_control=True,
    )
    m.default_js = []
    m.default_css = []
    js, css = _leaflet_assets()
    root: Any = m.get_root()
    root.header.add_child(_verbatim(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(_verbatim(f"<script>{js}</script>"), name="leaflet_js")
    root.header.add_child(_verbatim(f"<style>{CSS}</style>"), name="vib_css")
    root.header.add_child(_verbatim(f"<title>{html.escape(data.title)}</title>"), name="title")
    if tiles:
        folium.TileLayer("OpenStreetMap", attr="© OpenStreetMap-bijdragers").add_to(m)

    fields = [f"t{i}" for i in range(len(data.frame["tooltip"].iloc[0]))]
    aliases = [html.escape(label) for label, _ in data.frame["tooltip"].iloc[0]]
    folium.GeoJson(
        _features(wgs, classes),
        name=data.label,
        style_function=lambda f: {
            "fillColor": f["properties"]["kleur"],
            "color": BORDER_COLOUR,
            "weight": 0.6,
            "fillOpacity": 0.9,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#333333"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        control=False,
    ).add_to(m)
    if data.highlight:
        folium.GeoJson(
            _features(wgs.loc[data.highlight], classes, tooltips=False),
            name=data.highlight_label,
            style_function=lambda f: {"fill": False, "color": OUTLINE_COLOUR, "weight": 3},
            interactive=False,
            control=False,
        ).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])

    warning = f'<div class="vib-warning">{html.escape(data.warning)}</div>' if data.warning else ""
    footer = "".join(f"<p>{html.escape(line)}</p>" for line in data.footer)
    sub = f"{LEVEL_LABELS.get(data.level, data.level)}, 1 januari {data.year}"
    root.html.add_child(
        _verbatim(
            f'<div class="vib-title" id="vib-title">{html.escape(data.title)}'
            f"<small>{html.escape(sub)}</small></div>"
            + _legend_html(data, classes)
            + f'<div class="vib-footer" id="vib-footer">{warning}<details><summary>Bronnen, '
            f"definities en methode</summary>{footer}</details></div>"
        )
    )
    page = str(root.render())
    end = page.rfind("</script>")  # the map's own script: the map exists by its end
    scale = (
        f"L.control.scale({{imperial: false}}).addTo({m.get_name()});\n"
        # the scale and the attribution sit just above the footer, whatever its height
        "(function () { var f = document.getElementById('vib-footer');"
        " function place() { document.querySelectorAll('.leaflet-bottom').forEach("
        "function (e) { e.style.bottom = f.offsetHeight + 'px'; }); }"
        " place(); f.addEventListener('toggle', place, true);"
        " window.addEventListener('resize', place); })();\n"
    )
    if data.highlight:
        scale += _pilot_labels(data, m.get_name())
    return valid_document(page[:end] + scale + page[end:])


def valid_document(page: str) -> str:
    """Folium's page made valid HTML: ``lang="nl"`` and its map script inside ``<body>``.

    branca's figure template writes ``<html>`` without a language and puts the map's
    script after ``</body>``, which the HTML parser has to repair (a parse error); here
    the closing tag moves behind the script.
    """
    page = page.replace("<html>", '<html lang="nl">', 1)
    body_end = page.rfind("</body>")
    html_end = page.rfind("</html>")
    if body_end < 0 or html_end < body_end:  # pragma: no cover - folium's template changed
        return page
    return page[:body_end] + page[body_end + len("</body>") : html_end] + "</body>\n</html>\n"


def _polygon_paths(geoms: Any) -> list[Any]:
    """One matplotlib path per (multi)polygon, holes included.

    (geopandas' own plotting makes a patch per polygon and redraws the whole figure after
    each call.)
    """
    # lazy: matplotlib: +0.7 s at start-up (pyplot 1.9 s), only the PNG map needs it
    from matplotlib.path import Path as MplPath

    coords, rings, polygons, parts = _polygon_rings(geoms)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[rings[:-1]] = MplPath.MOVETO
    codes[rings[1:] - 1] = MplPath.CLOSEPOLY
    starts = rings[polygons[parts]]
    return [MplPath(coords[a:b], codes[a:b]) for a, b in zip(starts[:-1], starts[1:], strict=True)]


#: The PNG's page (A4 width) and the footer's type size in points.
PNG_SIZE_IN = (8.27, 10.5)
FOOTER_PT = 6.0
FOOTER_COLOUR = "#333333"
WARNING_COLOUR = "#8a1c1c"  # as the HTML's .vib-warning


def _fitting_pieces(words: list[str], font: Any, width_px: float) -> list[str]:
    """``words``, any too wide for a line (a path, a checksum) cut into pieces that fit."""
    out: list[str] = []
    for word in words:
        while len(word) > 1 and font.getlength(word) > width_px:
            lo, hi = 1, len(word) - 1  # the longest prefix that fits (at least one character)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if font.getlength(word[:mid]) <= width_px else (lo, mid - 1)
            out.append(word[:lo])
            word = word[lo:]
        if word:
            out.append(word)
    return out


def _footer_lines(text: str, font: Any, width_px: float) -> list[str]:
    """``text`` broken into lines that fit ``width_px`` in ``font`` (paragraphs kept)."""
    space = font.getlength(" ")
    out: list[str] = []
    for paragraph in text.splitlines():
        line, used = "", 0.0
        for word in _fitting_pieces(paragraph.split(), font, width_px):
            width = font.getlength(word)
            if line and used + space + width > width_px:
                out.append(line)
                line, used = word, width
            else:
                line, used = (f"{line} {word}", used + space + width) if line else (word, width)
        out.append(line)
    return out


def _scale_bar(ax: Any) -> None:
    """A metric scale bar in the lower right (the map is in RD New: one unit is a metre)."""
    # lazy: matplotlib: +0.7 s at start-up, only the PNG map needs it
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, x1 = ax.get_xlim()
    length = SCALE_BAR_M if (x1 - x0) > 3 * SCALE_BAR_M else max(1_000, round((x1 - x0) / 4, -3))
    ax.add_artist(
        AnchoredSizeBar(
            ax.transData, length, f"{length / 1000:.0f} km", "lower right",
            pad=0.4, borderpad=0.6, sep=3, frameon=False, size_vertical=(x1 - x0) / 250,
            fontproperties={"size": 8},
        )
    )  # fmt: skip


#: The PNG's scale bar: 50 km (a tenth of the country's length).
SCALE_BAR_M = 50_000


def render_png(data: MapData, classes: Classes, dpi: int = 150) -> bytes:
    """The same map as a PNG, for reports and slides.

    The map, title and legend are drawn by matplotlib's Agg (no pyplot, one draw). The
    footer (sources, definitions, the snapshot's warning: some 2,000 characters) is set in
    the same font (matplotlib's DejaVu Sans) by Pillow, which does it in a few milliseconds
    where matplotlib's glyph-by-glyph text takes half a second per map. The PNG carries the
    footer lines as text chunks too, so the sources travel with the file.
    """
    # lazy: matplotlib: +0.7 s at start-up (pyplot 1.9 s), only the PNG map needs it
    from matplotlib import get_data_path
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    # lazy: Pillow: only the PNG map needs it
    from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

    width_px, height_px = (round(side * dpi) for side in PNG_SIZE_IN)
    footer_size_px = FOOTER_PT * dpi / 72
    font = ImageFont.truetype(
        str(Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), footer_size_px
    )
    margin = 0.02 * width_px
    warning = [f"LET OP: {data.warning}"] if data.warning else []
    lines = warning + data.footer
    footer = [
        (line, WARNING_COLOUR if paragraph is warning else FOOTER_COLOUR)
        for paragraph in (warning, data.footer)
        for line in _footer_lines("\n".join(paragraph), font, width_px - 2 * margin)
    ]
    line_px = 1.25 * footer_size_px
    footer_px = line_px * len(footer) + 0.01 * height_px

    frame = data.frame
    fig = Figure(figsize=PNG_SIZE_IN, dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    paths = _polygon_paths(frame.geometry.array)
    colours = [classes.colour_of(code) for code in frame.index]
    ax.add_collection(
        PathCollection(paths, facecolors=colours, edgecolors=BORDER_COLOUR, linewidths=0.3)
    )
    if data.highlight:
        outline = [paths[frame.index.get_loc(code)] for code in data.highlight]
        ax.add_collection(
            PathCollection(outline, facecolors="none", edgecolors=OUTLINE_COLOUR, linewidths=1.6)
        )
    ax.autoscale_view()
    ax.set_axis_off()
    ax.set_aspect("equal")
    _scale_bar(ax)
    handles = [
        Patch(facecolor=c, edgecolor="#999999", label=f"{label} ({count})")
        for c, label, count in classes.legend()
    ]
    if data.highlight:
        names = ", ".join(frame.loc[data.highlight, "naam"].astype(str))
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=OUTLINE_COLOUR,
                linewidth=1.6,
                label=f"{data.highlight_label}:\n" + "\n".join(textwrap.wrap(names, 34)),
            )
        )
    ax.legend(
        handles=handles,
        title=f"{data.label}\n(aantal {LEVEL_LABELS.get(data.level, data.level)} per klasse)",
        loc="upper left",
        fontsize=8,
        title_fontsize=9,
        frameon=True,
    )
    sub = f"{LEVEL_LABELS.get(data.level, data.level)}, 1 januari {data.year}"
    ax.set_title(f"{data.title}\n{sub}", fontsize=12)
    bottom = min(0.45, (footer_px + 0.02 * height_px) / height_px)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=bottom)
    canvas.draw()  # type: ignore[no-untyped-call]
    rgba = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    rows, cols = rgba.shape[:2]
    image = Image.frombuffer("RGBA", (cols, rows), rgba, "raw", "RGBA", 0, 1)
    image = image.convert("RGB")  # opaque: a third less to compress
    draw = ImageDraw.Draw(image)
    y = height_px - footer_px
    for line, colour in footer:
        draw.text((margin, y), line, fill=colour, font=font)
        y += line_px
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Title", data.title)
    info.add_itxt("Source", "\n".join(lines))
    buf = io.BytesIO()
    # zlib level 3: 40% faster than the default 6 for a file 7% larger
    image.save(buf, format="PNG", dpi=(dpi, dpi), pnginfo=info, compress_level=3)
    return buf.getvalue()


def tooltip_rows(row: pd.Series, data_metric: str, level: str) -> list[tuple[str, str]]:
    """Tooltip lines (label, text) for one area."""
    label, kind = METRICS.get(data_metric, (data_metric, "dec"))
    shown = fmt_value(row.get("value"), kind)
    if kind == "dec" and is_small(row.get("werkzoekend")):
        # a rate beside "minder dan 10" would give the count away
        shown = "niet getoond (minder dan 10 werkzoekenden)"
    rows = [
        ("Gemeente" if level == "gemeente" else "Naam", str(row.get("naam", ""))),
        ("Code", str(row.name)),
        (label, shown),
    ]
    if data_metric != "werkzoekend":
        rows.append(("Werkzoekend (schatting)", nl_about(row.get("werkzoekend"))))
    rows.append(
        (
            "Waarschijnlijk (8 van de 10 doorrekeningen)",
            nl_about_range(row.get("werkzoekend_p10"), row.get("werkzoekend_p90")),
        )
    )
    if level == "gemeente":
        chosen = row.get("geselecteerd")
        if chosen is not None and pd.notna(chosen):
            rows.append(("Voorgestelde voortrekkersgemeente", "ja" if chosen else "nee"))
        rows.append(("Provincie", str(row.get("provincie", "onbekend"))))
        gap = row.get("geen_gegevens")
        rows.append(("Gegevens", str(gap) if isinstance(gap, str) and gap else "compleet"))
        source = row.get("bron_schatting")
        rows.append(("Schatting", str(source) if isinstance(source, str) and source else "geschat"))
        flag = row.get("mogelijk_opvang")
        rows.append(  # every area has the same lines (the tooltip's labels are shared)
            (
                "Opvang",
                "mogelijk een opvanglocatie: de schatting telt bewoners van een azc mee"
                if flag is not None and pd.notna(flag) and bool(flag)
                else "geen aanwijzing",
            )
        )
    else:
        rows.append(("Aantal gemeenten", nl_int(row.get("aantal_gemeenten"))))
    return rows


@dataclass
class MapResult:
    """A map ready to write: the data, its classes, and what its manifest records."""

    data: MapData
    classes: Classes
    record: dict[str, Any]

    def html(self, tiles: bool = False) -> str:
        """The self-contained HTML page."""
        return render_html(self.data, self.classes, tiles=tiles)

    def png(self) -> bytes:
        """The static image."""
        return render_png(self.data, self.classes)

    def _repr_html_(self) -> str:
        """The map inline in Jupyter: the same offline page, in a frame of its own.

        A frame keeps the page's scripts and styles apart from the notebook's (folium shows
        its maps the same way).
        """
        page = escape(self.html(), quote=True)
        return (
            f'<iframe srcdoc="{page}" title="{escape(self.data.title)}" '
            'style="width:100%;height:640px;border:0" sandbox="allow-scripts"></iframe>'
        )


def check_map_options(
    level: str, highlight_top: int | None, scheme: str, k: int, metric: str | None = None
) -> None:
    """Refuse impossible map options before any work."""
    check_scheme(scheme, k)
    if metric is not None and metric not in METRICS:
        raise ConfigError(
            f"Unknown `metric` {metric!r}.{did_you_mean(metric, METRICS)} Metrics: "
            f"{', '.join(METRICS)}."
        )
    if level not in LEVEL_LABELS:
        raise ConfigError(f"Unknown `level` {level!r}; choose one of: {', '.join(LEVEL_LABELS)}.")
    if highlight_top is not None and level != "gemeente":
        raise ConfigError("`highlight_top` outlines gemeenten; use it with `level` gemeente.")
    if highlight_top is not None and highlight_top < 1:
        raise ConfigError(f"`highlight_top` must be at least 1, got {highlight_top}.")


def map_values(result: YearResult, level: str) -> pd.DataFrame:
    """Per area (index code): ``naam`` and every metric the map can show at ``level``."""
    if level == "gemeente":
        t = result.estimate.table.set_index("gemeentecode")
        r = result.ranking.table.set_index("gemeentecode")
        wanted = ("bereik", "kans_geselecteerd", "groei", "rang", "provincie", "geselecteerd")
        extra = [c for c in wanted if c in r.columns]
        flags = result.peers().set_index("gemeentecode")[["mogelijk_opvang"]]
        return t.join(r[extra]).join(flags).rename(columns={"gemeentenaam": "naam"})
    return result.totals(level).set_index("code")


def map_for(
    result: YearResult,
    *,
    metric: str = "werkzoekend",
    scheme: str = "fisher_jenks",
    k: int = 5,
    level: str = "gemeente",
    highlight_top: int | None = None,
) -> MapResult:
    """Everything for one choropleth of a year: values, its boundaries, classes, sources."""
    check_map_options(level, highlight_top, scheme, k, metric)
    if result.shapes is None:
        raise ConfigError("A map needs the gemeente boundaries: build the year with shapes.")
    values = map_values(result, level)
    numeric = [
        c for c in values.columns if c in METRICS and pd.api.types.is_numeric_dtype(values[c])
    ]
    if metric not in numeric:
        raise ConfigError(
            f"Cannot map {metric!r} at level {level}.{did_you_mean(metric, numeric)} "
            f"Metrics here: {', '.join(numeric)}."
        )
    shapes = result.shapes
    areas = shapes.frame
    if level != "gemeente":
        areas = dissolve(areas, result.regions.membership(level))
    frame = areas[["geometry"]].join(values)
    frame["value"] = frame[metric].astype(float)
    frame["tooltip"] = [tooltip_rows(row, metric, level) for _, row in frame.iterrows()]
    classes = classify(frame["value"], scheme, k, METRICS[metric][1])
    highlight: list[str] = []
    label = ""
    if highlight_top:
        highlight = result.ranking.selected["gemeentecode"].tolist()[:highlight_top]
        label = f"omlijnd: de {len(highlight)} voorgestelde voortrekkersgemeenten"
    bnd = shapes.boundaries
    notes = [*bnd.notes, *result.regions.notes] if level != "gemeente" else list(bnd.notes)
    sources = [
        *result.estimate.provenance,
        *(result.regions.provenance() if level != "gemeente" else []),
    ]
    data = MapData(
        year=result.year,
        level=level,
        metric=metric,
        frame=frame,
        highlight=highlight,
        highlight_label=label,
        title=METRICS[metric][0],
        footer=source_lines(
            sources, result.card, year=result.year, boundaries=bnd.provenance, notes=notes
        ),
        warning=result.origin.warning,
    )
    record = {
        "kind": "map",
        "year": result.year,
        "level": level,
        "metric": metric,
        "scheme": scheme,
        "k": len(classes.bounds),
        "class_bounds": classes.bounds,
        "missing": classes.n_missing,
        "boundaries": bnd.provenance,
        "join": vars(bnd.report),
        "highlight": highlight,
        "simplify_tolerance_m": shapes.tolerance,
    }
    return MapResult(data, classes, record)
