"""PDOK's gemeente boundaries: the requests we send, and how PDOK answers them.

Two routes to the same CBS gebiedsindelingen, tried in this order:

**WFS** (one service per year, ``/cbs/gebiedsindelingen/{year}/wfs/v1_0`` on
``service.pdok.nl``). What the client relies on, and the replay server
(:mod:`.server`) imitates:

- Without ``srsName`` PDOK answers in its native CRS, EPSG:28992 (RD New, metres), and names
  it in the GeoJSON ``crs`` member. We always ask ``srsName=EPSG:28992`` explicitly.
- ``srsName=EPSG:4326`` is answered in degrees with **latitude/longitude** axis order, as
  WFS 2.0 prescribes for that CRS; a client that reads it as x/y draws the country on its side.
- At most 1,000 features per request; further pages through ``startIndex``.
- A year the service does not have is HTTP 404 (410 once a service is retired).

**OGC API Features** (PDOK's successor: one collection for all years,
``/cbs/gebiedsindelingen/ogc/v1/collections/gemeente_gegeneraliseerd/items`` on
``api.pdok.nl``), used when the year's WFS answers 404 or 410. As PDOK's server (gokoala)
answers it, from its documentation and test answers:

- a FeatureCollection with ``numberReturned`` and ``links``; no ``numberMatched``; further
  pages only through the ``rel="next"`` link (an opaque ``cursor``), never an offset;
- one collection for every year: ``jaarcode=YEAR`` selects a year (each feature carries its
  ``jaarcode``); a year it does not have is an empty page;
- coordinates in CRS84 (longitude/latitude) unless ``crs=`` asks for another; the body has
  no ``crs`` member: the ``Content-Crs`` header names the CRS of the answer;
- ``limit`` at most 1,000.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from vluchtelingen_in_beeld.access.client import get_json, get_json_headers
from vluchtelingen_in_beeld.errors import (
    PdokError,  # noqa: F401
)
from vluchtelingen_in_beeld.settings import Settings

log = logging.getLogger(__name__)

PDOK_PATH = "/cbs/gebiedsindelingen/{year}/wfs/v1_0"
PATH_RE = re.compile(r"^/cbs/gebiedsindelingen/(\d{4})/wfs/v1_0/?$")
#: The OGC API Features collection of every year's generalised gemeente boundaries.
OGC_PATH = "/cbs/gebiedsindelingen/ogc/v1/collections/gemeente_gegeneraliseerd/items"
#: CRS URIs as OGC API Features writes them (``crs=`` and the ``Content-Crs`` header).
RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
LAYER = "gebiedsindelingen:gemeente_gegeneraliseerd"
#: The CRS we ask for, and PDOK's native one.
NATIVE_SRS = "EPSG:28992"
#: PDOK's cap on features per request.
MAX_COUNT = 1000
#: More pages than this for ~350 gemeenten means the server is not paging as promised.
MAX_PAGES = 20

PARAMS = {
    "service": "WFS",
    "version": "2.0.0",
    "request": "GetFeature",
    "typeNames": LAYER,
    "outputFormat": "application/json",
    "srsName": NATIVE_SRS,
}


def epsg_of(name: str | None) -> int | None:
    """EPSG code of a CRS name as WFS and GeoJSON write it (``EPSG:4326``, URN, URL)."""
    if not name:
        return None
    if "crs84" in str(name).casefold():  # OGC's longitude/latitude WGS84
        return 4326
    m = re.search(r"EPSG(?::|::|/\d+/|/0/)(\d+)\s*$", str(name), re.IGNORECASE)
    if m is None:
        m = re.search(r"(\d{4,5})\s*$", str(name))
    return int(m.group(1)) if m else None


def latlon_order(name: str | None) -> bool:
    """Whether coordinates under this CRS name come latitude first (WFS 2.0 / URN EPSG:4326).

    ``EPSG:4326`` in a WFS 2.0 request and ``urn:ogc:def:crs:EPSG::4326`` in an answer both
    mean latitude/longitude; only the GeoJSON default (no ``crs`` member, or CRS84) is x/y.
    """
    return epsg_of(name) == 4326 and "crs84" not in str(name).casefold()


def merge_pages(pages: list[dict[str, Any]]) -> bytes:
    """One FeatureCollection from pages, keeping the first page's ``crs`` member."""
    first = pages[0]
    features = [f for page in pages for f in page.get("features", [])]
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if "crs" in first:
        out["crs"] = first["crs"]
    if "name" in first:
        out["name"] = first["name"]
    return json.dumps(out, ensure_ascii=False).encode("utf-8")


def check_page(data: Any, url: str) -> list[dict[str, Any]]:
    """The features of one answer, or :class:`PdokError` if it is not a FeatureCollection."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise PdokError(
            f"{url} did not return gemeente features (type {kind!r}); is this PDOK's "
            "gebiedsindelingen service?"
        )
    features = data.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise PdokError(f"{url} returned a FeatureCollection without a list of features.")
    return features


def service_url(settings: Settings, year: int) -> str:
    """The WFS endpoint of ``year``'s gebiedsindelingen."""
    return settings.pdok_url.rstrip("/") + PDOK_PATH.format(year=year)


def ogc_url(settings: Settings) -> str:
    """The OGC API items of the gemeente collection: PDOK's API host, or the same local server."""
    return settings.pdok_api_url.rstrip("/") + OGC_PATH


def route_url(settings: Settings, year: int, route: str) -> str:
    """The address a route asked for ``year``, for the manifest."""
    return service_url(settings, year) if route == "wfs" else f"{ogc_url(settings)}?jaarcode={year}"


def download(settings: Settings, year: int) -> tuple[bytes, str] | None:
    """All gemeente features of ``year`` as one GeoJSON document in EPSG:28992, and the route.

    The year's WFS first; when it answers 404 or 410, the OGC API collection (``"ogc"``).
    ``None`` when neither has the year.
    """
    data = download_wfs(settings, year)
    if data is not None:
        return data, "wfs"
    log.info("PDOK: no WFS for %s; asking the OGC API collection", year)
    data = download_ogc(settings, year)
    return None if data is None else (data, "ogc")


def download_wfs(settings: Settings, year: int) -> bytes | None:
    """The WFS route, paged by ``startIndex``; ``None`` when it has no such year (404, 410).

    Pages until a page comes back short (or ``numberMatched`` is reached).
    """
    url = service_url(settings, year)
    pages: list[dict[str, Any]] = []
    start = 0
    for _ in range(MAX_PAGES):
        params = {**PARAMS, "count": str(MAX_COUNT), "startIndex": str(start)}
        data = get_json(settings, url, params, what=f"PDOK boundaries {year}")
        if data is None:
            if not pages:
                return None
            raise PdokError(f"{url} answered 404 for page startIndex={start} of {year}.")
        features = check_page(data, url)
        pages.append(data)
        start += len(features)
        matched = data.get("numberMatched")
        if isinstance(matched, int) and len(features) < MAX_COUNT and start < matched:
            raise PdokError(
                f"{url} sent {start} gemeente features of the {matched} it says it matched "
                f"for {year} (a page came back short); nothing was stored. Try again later."
            )
        if isinstance(matched, int) and start >= matched:
            break
        if len(features) < MAX_COUNT:
            break
    else:
        raise PdokError(f"{url} kept sending pages of {MAX_COUNT} features; stopped after {start}.")
    if start == 0:
        raise PdokError(f"{url} returned no gemeente features for {year}.")
    return merge_pages(pages)


def _content_crs(headers: dict[str, str]) -> str:
    """The CRS URI an OGC API answer is in: its ``Content-Crs`` header, else CRS84."""
    value = headers.get("content-crs", "").strip().strip("<>").strip()
    return value or CRS84_URI


def download_ogc(settings: Settings, year: int) -> bytes | None:
    """The OGC API route: ``jaarcode=year``, asked in RD, paged by ``next`` links.

    Every page must be in the CRS its ``Content-Crs`` header names, the same for all pages;
    every feature must carry the asked ``jaarcode`` (a server that ignores the filter
    answers every year); a ``next`` link must stay on the same server and move on.
    ``None`` when the collection does not exist (404, 410) or has no features of ``year``.
    """
    url = ogc_url(settings)
    params: dict[str, Any] = {"f": "json", "jaarcode": str(year), "limit": str(MAX_COUNT),
                              "crs": RD_URI}  # fmt: skip
    base = urlsplit(url)
    pages: list[dict[str, Any]] = []
    seen: set[str] = set()
    crs = ""
    what = f"PDOK boundaries {year} (OGC API)"
    for _ in range(MAX_PAGES):
        got = get_json_headers(settings, url, params, what=what)
        if got is None:
            if not pages:
                return None
            raise PdokError(f"{url} answered 404 for a next page of {year}; nothing was stored.")
        data, headers = got
        features = check_page(data, url)
        page_crs = _content_crs(headers)
        if crs and page_crs != crs:
            raise PdokError(
                f"{url}: the pages of {year} came in different CRSs ({crs}, {page_crs}); "
                "nothing was stored. Try again later."
            )
        crs = page_crs
        other = sorted({str(f.get("properties", {}).get("jaarcode")) for f in features}
                       - {str(year)})  # fmt: skip
        if other:
            raise PdokError(
                f"{url} answered features of jaarcode {', '.join(other[:3])} when asked for "
                f"{year} (the filter was not applied); nothing was stored."
            )
        pages.append(data)
        nxt = next(
            (lk.get("href") for lk in data.get("links") or [] if isinstance(lk, dict)
             and lk.get("rel") == "next" and lk.get("href")),
            None,
        )  # fmt: skip
        if not nxt:
            break
        parts = urlsplit(str(nxt))
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or nxt in seen:
            raise PdokError(
                f"{url}: a next link of {year} leads elsewhere or back ({nxt[:120]}); "
                "nothing was stored."
            )
        seen.add(str(nxt))
        url, params = str(nxt), {}
    else:
        raise PdokError(f"{url} kept sending next pages for {year}; stopped after {MAX_PAGES}.")
    if not any(p.get("features") for p in pages):
        return None  # the collection has no gemeenten of that year
    merged = json.loads(merge_pages(pages))
    merged["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(merged, ensure_ascii=False).encode("utf-8")
