"""PDOK's WFS for gemeente boundaries: the request we send, and how PDOK answers it.

The CBS gebiedsindelingen are one WFS 2.0 service per year at
``/cbs/gebiedsindelingen/{year}/wfs/v1_0``. What the client relies on, and the replay server
(:mod:`._impl.server`) imitates:

- Without ``srsName`` PDOK answers in its native CRS, EPSG:28992 (RD New, metres), and names
  it in the GeoJSON ``crs`` member. We always ask ``srsName=EPSG:28992`` explicitly.
- ``srsName=EPSG:4326`` is answered in degrees with **latitude/longitude** axis order, as
  WFS 2.0 prescribes for that CRS; a client that reads it as x/y draws the country on its side.
- At most 1,000 features per request; further pages through ``startIndex``.
- A year the service does not have is HTTP 404.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from vluchtelingen_in_beeld._impl.client import get_json
from vluchtelingen_in_beeld.errors import (
    PdokError,  # noqa: F401
)
from vluchtelingen_in_beeld.settings import Settings

log = logging.getLogger(__name__)

PDOK_PATH = "/cbs/gebiedsindelingen/{year}/wfs/v1_0"
PATH_RE = re.compile(r"^/cbs/gebiedsindelingen/(\d{4})/wfs/v1_0/?$")
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


def download(settings: Settings, year: int) -> bytes | None:
    """All gemeente features of ``year`` as one GeoJSON document in EPSG:28992.

    Pages by ``startIndex`` until a page comes back short (or ``numberMatched`` is reached).
    ``None`` when PDOK has no such year (404).
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
