"""Gemeente boundaries of the data's year: fetched from PDOK, kept in the store, joined on codes.

Boundaries come from the CBS gebiedsindelingen on PDOK (WFS layer
``gebiedsindelingen:gemeente_gegeneraliseerd``, GeoJSON), one service per year, asked for in
PDOK's native CRS, EPSG:28992 (RD New, metres); see
:mod:`~vluchtelingen_in_beeld.access.pdok`. Geometry work stays in RD; maps reproject once
to WGS84. A local file (GeoJSON, TopoJSON, GeoPackage) can be given instead. Every source's
coordinates are checked against its declared CRS: metres labelled as degrees (or
latitude/longitude swapped) are refused with the file's name. A folder of
``gemeente_gegeneraliseerd_<year>.geojson`` files (a snapshot's ``geo`` folder) is served on
127.0.0.1 at PDOK's paths, so the same code runs offline as online.

Joins are on CBS codes and always checked both ways: a gemeente without a shape or a shape
without data is an error that lists the codes. When the data year's boundaries are not
available, an earlier year is used only if its gemeenten are exactly the data's (no
herindeling in between), and every output says so. Comparing years across herindelingen goes
through :func:`crosswalk`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from vluchtelingen_in_beeld.access import pdok
from vluchtelingen_in_beeld.access.snapshot import (  # noqa: F401 - part of geo's interface
    boundary_files,
    find_geo_folder,
    geo_settings,
    serving_boundaries,
)
from vluchtelingen_in_beeld.access.store import sha256_file
from vluchtelingen_in_beeld.clean.regions import year_gemeenten
from vluchtelingen_in_beeld.errors import (  # noqa: F401
    BoundaryError,
    CbsUnavailableError,
    ConfigError,
    CrsMismatchError,
    DataCoverageError,
    OfflineMissError,
    VibError,
)
from vluchtelingen_in_beeld.files import check_regular
from vluchtelingen_in_beeld.settings import Settings, public_source, public_url

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from vluchtelingen_in_beeld.access.cbs import Session

log = logging.getLogger(__name__)

STORE_TABLE = "PDOK-GEMEENTE-GEGENERALISEERD"
#: A gemeente boundary file is a few MB (PDOK's generalised one: 4 MB); far more is not one.
MAX_BOUNDARY_BYTES = 1_000_000_000
#: CRS for geometry work (Amersfoort / RD New, metres); maps are drawn in WGS84.
RD = 28992
#: Where the Netherlands lies, in degrees (lon, lat), with a margin: every source's shapes,
#: once transformed to WGS84 from their declared CRS, must fall inside.
NL_LONLAT = (2.5, 50.0, 7.9, 54.0)
CODE_COLUMNS = ("statcode", "gemeentecode", "code", "gm_code", "GM_CODE")
NAME_COLUMNS = ("statnaam", "gemeentenaam", "naam", "GM_NAAM")


# --- where boundaries come from ------------------------------------------------------------


def _geo_source(settings: Settings) -> str:
    return settings.geo_source or f"pdok:{urlsplit(settings.pdok_url).netloc}"


def recorded_url(url: str) -> str:
    """The address a manifest records: PDOK's in full; another server's path only.

    ``http://127.0.0.1:41723/cbs/…`` -> ``/cbs/…`` (PDOK's path, as served from a snapshot or
    the user's own server): no host or port of a local or private server in any output.
    """
    return public_url(url)


def _url(settings: Settings, year: int) -> str:
    return pdok.service_url(settings, year)


def _store_key(settings: Settings, year: int) -> str:
    digest = hashlib.sha256(
        f"{_geo_source(settings)}|{pdok.LAYER}|{pdok.NATIVE_SRS}|{year}".encode()
    ).hexdigest()
    return f"{year}-{digest[:16]}"


def cached_years(session: Session) -> list[int]:
    """Boundary years the local store holds (for this source)."""
    root = session.store.root / "cbs" / STORE_TABLE
    years = []
    if root.is_dir():
        for p in root.iterdir():
            y = int(p.name[:4]) if p.name[:4].isdigit() else None
            if (
                y
                and session.store.read(STORE_TABLE, p.name)
                and p.name == _store_key(session.settings, y)
            ):
                years.append(y)
    return sorted(years)


@dataclass(frozen=True)
class Reference:
    """The gemeenten a boundary answer must hold: code -> name, and what says so.

    ``strict``: the answer holds exactly these (the Gebieden of its year). Not strict (the
    data's gemeenten, when the boundary year has no Gebieden table): another indeling is
    allowed (new codes and old ones both differ), but an answer that only lacks gemeenten
    (none of another indeling instead) is a cut one.
    """

    names: Mapping[str, str]
    source: str
    strict: bool = True


def fetch_boundaries(
    session: Session,
    year: int,
    expect: Reference | Callable[[], Reference | None] | None = None,
) -> tuple[bytes, dict[str, Any]] | None:
    """GeoJSON bytes of ``year`` and their provenance: from the store, or PDOK (then stored).

    ``None`` when the source has no boundaries for ``year``. An answer is checked before it
    is stored (:func:`check_shapes`): its gemeenten against ``expect`` (the data's, or the
    Gebieden of ``year``; a callable is asked only when an answer came), its polygons
    against each other and against the boundaries of another year in the store.
    """
    settings = session.settings
    key = _store_key(settings, year)
    entry = None if settings.refresh else session.store.read(STORE_TABLE, key)
    if entry is not None:
        return entry.file("gemeenten.geojson").read_bytes(), dict(entry.manifest)
    if settings.offline:
        return None  # load_boundaries tries the other years, then says what is missing
    if settings.boundary_years is not None and year not in settings.boundary_years:
        return None
    got = pdok.download(settings, year)
    if got is None:
        return None
    data, route = got
    origin = f"PDOK gemeentegrenzen {year} ({route})"
    frame = _from_bytes(data, origin, pdok.NATIVE_SRS)  # refuse a bad answer unstored
    ref = expect() if callable(expect) else expect
    check_shapes(frame, origin, expect=ref, earlier=_nearest_stored(session, year))
    info = {
        "source": public_source(_geo_source(settings)),
        "url": recorded_url(pdok.route_url(settings, year, route)),
        "route": route,
        "layer": pdok.LAYER,
        "srs": pdok.NATIVE_SRS,
        "year": year,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    entry = session.store.write(STORE_TABLE, key, {"gemeenten.geojson": data}, info)
    return data, dict(entry.manifest)


#: Part of a gemeente's area that may overlap other gemeenten (generalisation slivers: the
#: real 2023 file has 0.8% for Diemen); more means a polygon lies where another one is.
MAX_OVERLAP = 0.05
#: The farthest a gemeente may lie from its nearest neighbour (real: 5.3 km, Schiermonnikoog).
MAX_GAP_M = 15_000.0
#: Part of the smaller shape that a gemeente's polygon shares with itself in another year
#: (real, 2021–2023: at least 97.6%); less means it moved.
MIN_SAME = 0.5


def _nearest_stored(session: Session, year: int) -> tuple[int, gpd.GeoDataFrame] | None:
    """The boundaries of the stored year nearest ``year`` (another year), for comparison."""
    others = [y for y in cached_years(session) if y != year]
    if not others:
        return None
    y = min(others, key=lambda o: (abs(o - year), -o))
    entry = session.store.read(STORE_TABLE, _store_key(session.settings, y))
    if entry is None:
        return None
    try:
        return y, _from_bytes(entry.file("gemeenten.geojson").read_bytes(), f"boundaries {y}",
                              entry.manifest.get("srs"))  # fmt: skip
    except VibError:
        return None


def _named(codes: Sequence[str], names: Mapping[str, str], limit: int = 8) -> str:
    shown = ", ".join(f"{c} ({names[c]})" if c in names else c for c in list(codes)[:limit])
    return shown + (f" and {len(codes) - limit} more" if len(codes) > limit else "")


def check_shapes(
    frame: gpd.GeoDataFrame,
    origin: str,
    *,
    expect: Reference | None = None,
    earlier: tuple[int, gpd.GeoDataFrame] | None = None,
) -> None:
    """Refuse boundaries that cannot be the gemeenten: before anything is stored.

    - the gemeenten are those of ``expect`` (none missing, none extra), if given;
    - no polygon lies on top of others (more than :data:`MAX_OVERLAP` of its area);
    - none lies apart from the rest (more than :data:`MAX_GAP_M` from its nearest neighbour);
    - a gemeente in ``earlier`` (another year's boundaries) shares at least :data:`MIN_SAME`
      of the smaller shape with its polygon there.
    """
    # lazy: shapely: only geometry needs it (+0.07 s at start-up)
    import shapely

    names = {str(k): str(v) for k, v in frame["statnaam"].items()}
    fix = (
        "; nothing was stored. Try again later (PDOK may be updating), or give `boundaries` "
        "(a file you trust)."
    )
    if expect is not None:
        have, want = set(frame.index), set(expect.names)
        if not expect.strict and have - want:
            pass  # another indeling: the join says so, with the codes both ways
        elif want - have:
            raise BoundaryError(
                f"{origin} lacks {len(want - have)} gemeente(s) of {expect.source}: "
                f"{_named(sorted(want - have), expect.names)}{fix}"
            )
        elif have - want:
            raise BoundaryError(
                f"{origin} has gemeenten that {expect.source} does not list: "
                f"{_named(sorted(have - want), names)}{fix}"
            )
    geoms = frame.geometry.values
    if len(geoms) < 2:
        return
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a != b
    a, b = a[keep], b[keep]
    shared = np.zeros(len(geoms))
    if len(a):
        np.add.at(shared, a, shapely.area(shapely.intersection(geoms[a], geoms[b])))
    part = shared / np.maximum(shapely.area(geoms), 1.0)
    if part.max() > MAX_OVERLAP:
        worst = int(part.argmax())  # the one that moved: the most of it lies on others
        under = sorted({str(frame.index[j]) for i, j in zip(a, b, strict=True) if i == worst})
        raise BoundaryError(
            f"{origin}: the polygon of {_named([str(frame.index[worst])], names)} lies on top "
            f"of other gemeenten ({part[worst]:.0%} of its area, on {_named(under, names, 4)}), "
            f"so it is not where it belongs{fix}"
        )
    (src, _), dist = tree.query_nearest(geoms, exclusive=True, return_distance=True)
    gap = np.zeros(len(geoms))
    np.maximum.at(gap, src, dist)
    apart = [str(c) for c in frame.index[gap > MAX_GAP_M]]
    if apart:
        raise BoundaryError(
            f"{origin}: {_named(apart, names)} lies {gap.max() / 1000:,.0f} km from any other "
            f"gemeente, so it is not where it belongs{fix}"
        )
    if earlier is not None:
        year, old = earlier
        common = frame.index.intersection(old.index)
        if len(common):
            new_g = frame.geometry.loc[common].values
            old_g = old.geometry.loc[common].values
            same = shapely.area(shapely.intersection(new_g, old_g)) / np.maximum(
                np.minimum(shapely.area(new_g), shapely.area(old_g)), 1.0
            )
            moved = [str(c) for c in common[same < MIN_SAME]]
            if moved:
                raise BoundaryError(
                    f"{origin}: {_named(moved, names)} lies elsewhere than in the boundaries "
                    f"of {year} (shares {same.min():.0%} of its area with itself there){fix}"
                )


# --- reading, checking, joining ------------------------------------------------------------


def _standardise(gdf: gpd.GeoDataFrame, origin: str) -> gpd.GeoDataFrame:
    """Columns ``statcode``, ``statnaam``, ``geometry`` in RD; codes stripped."""
    code_col = next((c for c in CODE_COLUMNS if c in gdf.columns), None)
    if code_col is None:
        raise BoundaryError(
            f"{origin} has no gemeente code column (looked for {', '.join(CODE_COLUMNS)}); "
            f"it has: {', '.join(map(str, gdf.columns))}."
        )
    name_col = next((c for c in NAME_COLUMNS if c in gdf.columns), None)
    out = gdf[[code_col, *([name_col] if name_col else []), "geometry"]].copy()
    out = out.rename(columns={code_col: "statcode", **({name_col: "statnaam"} if name_col else {})})
    if "statnaam" not in out:
        out["statnaam"] = out["statcode"]
    out["statcode"] = out["statcode"].astype(str).str.strip()
    bad = out.index[~out["statcode"].str.fullmatch(r"GM\d{4}")]
    if len(bad):
        first = out.loc[bad[0]]
        raise BoundaryError(
            f"{origin}: feature {int(bad[0]) + 1} has gemeente code {first['statcode']!r}, not "
            "GM and four digits; nothing was stored. Try again later, or give another file."
        )
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        code = out.loc[empty, "statcode"].iloc[0]
        raise BoundaryError(
            f"{origin}: {code} has no geometry ({int(empty.sum())} feature(s) without one); "
            "nothing was stored. Try again later, or give another file."
        )
    kinds = set(out.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise BoundaryError(
            f"{origin}: gemeente shapes must be polygons, got {', '.join(sorted(kinds))}."
        )
    if out.crs is None:
        out = out.set_crs(4326)  # GeoJSON without a crs member is WGS84 (RFC 7946)
    check_crs(out, origin)
    out = out.to_crs(RD)
    dup = out["statcode"][out["statcode"].duplicated()]
    if len(dup):
        raise BoundaryError(f"{origin} has gemeente codes twice: {', '.join(dup.unique()[:10])}.")
    return out.set_index("statcode", drop=False)


def check_crs(gdf: gpd.GeoDataFrame, origin: str) -> None:
    """Refuse shapes whose coordinates do not fit their declared CRS.

    Transformed from the declared CRS to WGS84, the gemeenten must lie in the Netherlands.
    The usual mistakes get their own message: RD metres labelled as degrees (PDOK's native
    answer read as GeoJSON's default), and latitude/longitude in swapped order (WFS 2.0's
    EPSG:4326).
    """
    if gdf.empty:
        raise BoundaryError(f"{origin} holds no shapes.")
    declared = gdf.crs
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    label = declared.to_string() if declared is not None else "none"
    if declared is not None and declared.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            looks_rd = 0 <= minx and maxx <= 300_000 and 250_000 <= miny and maxy <= 650_000
            raise CrsMismatchError(
                f"{origin}: coordinates run from ({minx:,.0f}, {miny:,.0f}) to ({maxx:,.0f}, "
                f"{maxy:,.0f}), which are not degrees, but the file declares {label}."
                + (
                    " They look like metres in RD New (EPSG:28992), PDOK's native CRS: "
                    "declare that CRS in the file (GeoJSON 'crs' member) or reproject it."
                    if looks_rd
                    else " Declare the CRS the coordinates are in."
                )
            )
        if 50 <= minx and maxx <= 54 and 2.5 <= miny and maxy <= 8:
            raise CrsMismatchError(
                f"{origin}: the coordinates are latitude/longitude in swapped order (x from "
                f"{minx:.2f} to {maxx:.2f}), as WFS 2.0 writes EPSG:4326. Ask PDOK for "
                "srsName=EPSG:28992, or swap the axes."
            )
    wgs = gdf.geometry.to_crs(4326).total_bounds
    lo_x, lo_y, hi_x, hi_y = NL_LONLAT
    if not np.isfinite(wgs).all() or not (
        lo_x <= wgs[0] and wgs[2] <= hi_x and lo_y <= wgs[1] and wgs[3] <= hi_y
    ):
        raise CrsMismatchError(
            f"{origin}: declared CRS {label}, but then the shapes would lie at longitude "
            f"{wgs[0]:.2f} to {wgs[2]:.2f}, latitude {wgs[1]:.2f} to {wgs[3]:.2f}, not in the "
            "Netherlands. The coordinates do not fit the declared CRS."
        )


def read_boundary_file(path: Path) -> gpd.GeoDataFrame:
    """A local GeoJSON, TopoJSON or GeoPackage of gemeenten, standardised."""
    # lazy: geopandas: +0.3 s at start-up, only boundaries need it
    import geopandas as gpd

    # lazy: pyogrio: only GeoPackage writing needs it
    import pyogrio

    check_regular(path, "boundary file", MAX_BOUNDARY_BYTES)  # no FIFO, device, folder
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        layer = _gemeente_layer(layers)
        gdf = gpd.read_file(path, layer=layer)
    except BoundaryError:
        raise
    except Exception as exc:  # pyogrio raises several kinds
        raise BoundaryError(
            f"Cannot read {path} as GeoJSON, TopoJSON or GeoPackage: {exc}"
        ) from None
    return _standardise(gdf, path.name)


def _gemeente_layer(layers: list[str]) -> str | None:
    """The gemeente layer of a multi-layer file (TopoJSON often holds several)."""
    if len(layers) <= 1:
        return layers[0] if layers else None
    for name in layers:
        low = name.casefold()
        if low.startswith("gm") or "gemeente" in low:
            return name
    raise BoundaryError(
        f"The file has several layers ({', '.join(layers)}) and none is named like gemeenten "
        "(gm…, gemeente…); give a file with one layer."
    )


def _from_bytes(data: bytes, origin: str, asked: str | None = None) -> gpd.GeoDataFrame:
    """Shapes from a GeoJSON answer, in the CRS its ``crs`` member names.

    PDOK names its CRS (``urn:ogc:def:crs:EPSG::28992``); an answer without a ``crs``
    member is in the CRS the request ``asked`` for (``srsName``), or else WGS84
    longitude/latitude (RFC 7946); either way its coordinates must lie in the Netherlands.
    A URN for EPSG:4326 means latitude/longitude order (WFS 2.0), turned into x/y here.
    """
    # lazy: geopandas: +0.3 s at start-up, only boundaries need it
    import geopandas as gpd

    # lazy: shapely: only geometry needs it (+0.07 s at start-up)
    import shapely

    try:
        parsed = json.loads(data)
        features = pdok.check_page(parsed, origin)
    except ValueError as exc:
        raise BoundaryError(f"{origin} is not valid GeoJSON ({exc}).") from None
    crs_name = (parsed.get("crs") or {}).get("properties", {}).get("name")
    epsg = pdok.epsg_of(crs_name) or pdok.epsg_of(asked) or 4326
    gdf = gpd.GeoDataFrame.from_features(features, crs=epsg)
    if crs_name and pdok.latlon_order(crs_name):
        gdf["geometry"] = shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1])
    return _standardise(gdf, origin)


@dataclass
class JoinReport:
    """How the data's gemeenten and the shapes matched, both ways."""

    data_codes: int
    shapes: int
    without_shape: list[str]
    without_data: list[str]

    @property
    def ok(self) -> bool:
        """Every gemeente has a shape and every shape has data."""
        return not self.without_shape and not self.without_data

    def describe(self) -> str:
        """Plain English summary with the codes."""

        def few(codes: list[str]) -> str:
            return ", ".join(codes[:20]) + (" …" if len(codes) > 20 else "")

        parts = [f"{self.data_codes} gemeenten in the data, {self.shapes} shapes"]
        if self.without_shape:
            parts.append(f"{len(self.without_shape)} without a shape: {few(self.without_shape)}")
        if self.without_data:
            parts.append(f"{len(self.without_data)} shapes without data: {few(self.without_data)}")
        return "; ".join(parts)


def join_report(codes: Sequence[str], shapes: gpd.GeoDataFrame) -> JoinReport:
    """Compare data codes with shape codes."""
    have, want = set(shapes["statcode"]), set(map(str, codes))
    return JoinReport(len(want), len(have), sorted(want - have), sorted(have - want))


@dataclass
class Boundaries:
    """Gemeente shapes (RD New) for a year, checked against the data's codes."""

    year: int
    data_year: int
    frame: gpd.GeoDataFrame
    report: JoinReport
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _available(session: Session) -> list[int]:
    known = session.settings.boundary_years
    return sorted(set(known or ()) | set(cached_years(session)))


def _reference(session: Session, year: int, data_year: int, names: Mapping[str, str]) -> Reference:
    """What boundaries of ``year`` must hold, for data of ``data_year`` (see :class:`Reference`).

    The Gebieden in Nederland of ``year`` when CBS has that table: exactly its gemeenten.
    Else the data's gemeenten, not strictly: boundaries that only lack some of them are a
    cut answer, refused unstored; any other difference is told by the join afterwards.
    """
    try:
        ref = year_gemeenten(session, year)
    except CbsUnavailableError as exc:  # CBS out of reach: the data's list, not strictly
        log.warning("no Gebieden in Nederland %s to check the boundaries against (%s)", year, exc)
        ref = None
    if ref is not None:
        return Reference({c: ref.names.get(c, c) for c in ref.keys}, ref.source)
    return Reference(names, f"the data of {data_year}", strict=False)


def load_boundaries(
    session: Session,
    year: int,
    codes: Sequence[str] | Mapping[str, str],
    *,
    boundary_year: int | None = None,
    path: Path | None = None,
) -> Boundaries:
    """Boundaries for data of ``year`` whose gemeenten are ``codes``; refuse any mismatch.

    ``codes`` may map each code to its name (for messages). An answer from PDOK that does
    not hold exactly these gemeenten is refused before it is stored: boundaries of another
    year are only used when their indeling is the data's.
    """
    names = (
        {str(k): str(v) for k, v in codes.items()}
        if isinstance(codes, Mapping)
        else {str(c): str(c) for c in codes}
    )
    codes = list(names)
    if path is not None:
        frame = read_boundary_file(path)
        m = re.search(r"(19|20)\d\d", path.name)
        file_year = boundary_year or (int(m.group(0)) if m else year)

        prov = {
            "source": f"file:{path.name}",
            "checksum": sha256_file(path),
            "year": file_year,
        }
        return _checked(session, frame, year, file_year, codes, prov, [])

    if boundary_year is not None:
        tries = [boundary_year]
    else:
        known = session.settings.boundary_years
        earlier = sorted((y for y in known if y < year), reverse=True) if known else []
        tries = [year, *(earlier or range(year - 1, year - 4, -1))]
    for y in tries:
        got = fetch_boundaries(session, y, partial(_reference, session, y, year, names))
        if got is None:
            continue
        data, manifest = got
        frame = _from_bytes(data, manifest.get("url", f"boundaries {y}"), manifest.get("srs"))
        prov = {k: manifest.get(k) for k in ("source", "url", "layer", "year", "fetched_at")}
        prov["checksum"] = manifest.get("files", {}).get("gemeenten.geojson")
        notes = []
        if y != year:
            notes.append(
                f"Gemeentegrenzen van {y}: die van {year} zijn hier niet beschikbaar; de "
                f"indeling is dezelfde (alle {len(set(codes))} gemeentecodes komen overeen)."
            )
        return _checked(session, frame, year, y, codes, prov, notes)
    avail = _available(session)
    settings = session.settings
    if settings.offline:
        raise OfflineMissError(
            f"The local store holds no gemeente boundaries for {year} (or the years before it) "
            f"from {_geo_source(settings)}, and `offline` forbids fetching them. Call again "
            "once without `offline`, or give `boundaries` (a file)."
        )
    if settings.snapshot_dir is not None and settings.geo_dir is None:
        raise BoundaryError(
            f"The snapshot {settings.snapshot_label} has no geo/ folder with gemeente boundaries, "
            "and a snapshot run does not go to the internet for them. Save them into the "
            "snapshot with `vib snapshot save ... --boundary-year YEAR`, or give `boundaries` "
            "(a file)."
        )
    raise BoundaryError(
        f"No gemeente boundaries for {year}"
        + (f" (nor the years tried: {', '.join(map(str, tries[1:]))})" if len(tries) > 1 else "")
        + f". Boundary years available here: {', '.join(map(str, avail)) or 'none known'}. "
        "Give `boundary_year` (its gemeenten must match the data) or `boundaries` (a file)."
    )


def _checked(
    session: Session,
    frame: gpd.GeoDataFrame,
    data_year: int,
    year: int,
    codes: Sequence[str],
    prov: dict[str, Any],
    notes: list[str],
) -> Boundaries:
    report = join_report(codes, frame)
    if not report.ok:
        available = _available(session)  # only on failure: it reads the store
        raise BoundaryError(
            f"Data of {data_year} does not match the gemeente boundaries of {year}: "
            f"{report.describe()}. Boundary years available here: "
            f"{', '.join(map(str, available)) or 'none known'}. Use the boundaries of the "
            "data's year, or translate codes across herindelingen with a crosswalk. If both "
            "are of one indeling, a stored answer may be incomplete: run again with `refresh`."
        )
    return Boundaries(year, data_year, frame, report, prov, notes)


# --- geometry ----------------------------------------------------------------------------


def simplify(frame: gpd.GeoDataFrame, tolerance: float = 100.0) -> gpd.GeoDataFrame:
    """Simplify as a coverage: shared borders stay shared (no gaps, no overlaps).

    The polygons are first cleaned into a valid coverage (slivers and overlaps from the
    source removed), then simplified together with ``tolerance`` metres.
    """
    # lazy: shapely: only geometry needs it (+0.07 s at start-up)
    import shapely

    geoms = frame.geometry.values
    cleaned = shapely.coverage_clean(geoms)
    simple = shapely.coverage_simplify(cleaned, tolerance)
    out = frame.copy()
    out["geometry"] = simple
    return out


def dissolve(frame: gpd.GeoDataFrame, membership: pd.Series) -> gpd.GeoDataFrame:
    """Union gemeenten into regions (``membership``: statcode -> region code)."""
    # lazy: geopandas: +0.3 s at start-up, only boundaries need it
    import geopandas as gpd

    # lazy: shapely: only geometry needs it (+0.07 s at start-up)
    import shapely

    region = membership.reindex(frame.index)
    if region.isna().any():
        lost = list(region.index[region.isna()])
        raise DataCoverageError(f"{len(lost)} shapes have no region: {', '.join(lost[:10])}.")
    rows = []
    for code, part in frame.groupby(region.to_numpy()):
        rows.append(
            {"statcode": code, "geometry": shapely.coverage_union_all(part.geometry.values)}
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs)
    return out.set_index("statcode", drop=False)


def crosswalk(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, min_share: float = 0.01
) -> pd.DataFrame:
    """Code crosswalk between two years' gemeenten, from shared area.

    One row per (old code, new code) with ``share``: the part of the old gemeente's area
    inside the new one. Overlaps below ``min_share`` (generalisation slivers) are dropped and
    the rest rescaled, so each old gemeente's shares sum to 1 and totals are conserved.
    """
    # lazy: geopandas: +0.3 s at start-up, only boundaries need it
    import geopandas as gpd

    a = old[["statcode", "geometry"]].reset_index(drop=True).rename(columns={"statcode": "oud"})
    b = new[["statcode", "geometry"]].reset_index(drop=True).rename(columns={"statcode": "nieuw"})
    pieces = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
    pieces["area"] = pieces.area
    total = pieces.groupby("oud")["area"].transform("sum")
    pieces["share"] = pieces["area"] / total
    pieces = pieces[pieces["share"] >= min_share].copy()
    pieces["share"] = pieces["share"] / pieces.groupby("oud")["share"].transform("sum")
    missing = sorted(set(a["oud"]) - set(pieces["oud"]))
    if missing:
        raise BoundaryError(f"No overlap with the new gemeenten for: {', '.join(missing[:10])}.")
    out: pd.DataFrame = (
        pieces[["oud", "nieuw", "share"]].sort_values(["oud", "nieuw"]).reset_index(drop=True)
    )
    return out


def snapshot_boundaries(session: Session, years: Sequence[int]) -> dict[int, bytes]:
    """The checked boundaries of ``years`` (GeoJSON bytes), for a snapshot's ``geo/`` folder.

    Each is checked against the Gebieden of its year when CBS has that table (else only a
    cut answer is told), as every PDOK answer is before it is stored.
    """
    out: dict[int, bytes] = {}
    for year in years:
        got = fetch_boundaries(session, year, partial(_reference, session, year, year, {}))
        if got is None:
            avail = _available(session)
            raise BoundaryError(
                f"No gemeente boundaries for {year} at {_geo_source(session.settings)}. "
                f"Years available here: {', '.join(map(str, avail)) or 'none known'}."
            )
        out[year] = got[0]
    return out
