"""Calls into ``cbsodata`` with timeouts, retries and errors that say what to do.

``cbsodata`` (the client CBS users know) does the HTTP and the ``odata.nextLink`` paging.
It has no timeout by default and turns every failure into a bare ``requests`` error; this
module adds both, and classifies failures: transient ones (5xx, 429, time-outs, dropped
connections, truncated JSON) are retried with exponential back-off, the rest become
:class:`~vluchtelingen_in_beeld.errors.VibError` subclasses at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cbsodata
import requests
from cbsodata import cbsodata3 as _cbs

from vluchtelingen_in_beeld.errors import (
    CbsError,
    CbsUnavailableError,
    TooManyRowsError,
    UnknownTableError,
)
from vluchtelingen_in_beeld.settings import Settings

log = logging.getLogger(__name__)
_options_lock = threading.RLock()
#: Phrases CBS (and our replay server) use when an answer is over the row limit.
_TOO_MANY = ("10000", "10.000", "maximum is", "too many rows", "te veel")


@contextmanager
def _cbsodata_scheme(settings: Settings) -> Iterator[None]:
    """Set ``cbsodata``'s global http/https switch for the duration of one call."""
    with _options_lock:
        old = cbsodata.options.use_https
        cbsodata.options.use_https = settings.use_https
        try:
            yield
        finally:
            cbsodata.options.use_https = old


def _http_details(exc: requests.HTTPError) -> tuple[int | None, str]:
    """Status and body text of an HTTP error, also when ``cbsodata`` re-raised it bare."""
    for err in (exc, exc.__cause__):
        response = getattr(err, "response", None)
        if response is not None:
            try:
                body = response.json()["odata.error"]["message"]["value"]
            except Exception:  # noqa: BLE001 - any shape of body
                body = (response.text or "")[:300]
            return response.status_code, str(body)
    return None, str(exc)


class _Transient(Exception):
    """A failure worth retrying."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _call_once(
    settings: Settings,
    table: str,
    endpoint: str,
    filters: str | None,
    select: list[str] | None,
) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"timeout": settings.request_timeout}
    try:
        with _cbsodata_scheme(settings):
            # ``cbsodata.get_meta`` has no filter argument, and ``download_data`` downloads
            # every metadata endpoint again on each call; its pager is the function both use.
            rows = _cbs._download_metadata(
                table,
                endpoint,
                select=select,
                filters=filters,
                catalog_url=settings.catalog_url,
                **kwargs,
            )
        return list(rows)
    except requests.HTTPError as exc:
        status, body = _http_details(exc)
        if (
            status is not None
            and status in (400, 403, 413, 500)
            and any(p in body.lower() for p in _TOO_MANY)
        ):
            raise TooManyRowsError(
                f"CBS refused {table}/{endpoint}: the answer is over its row limit ({body})."
            ) from exc
        if status == 404:
            if endpoint in ("", "TableInfos") and settings.snapshot_dir is not None:
                held = sorted(
                    p.name
                    for p in settings.snapshot_dir.iterdir()
                    if p.is_dir() and (p / "TableInfos.json").exists()
                )
                raise UnknownTableError(
                    f"Snapshot {settings.snapshot_dir.name} has no table {table} (it holds: "
                    f"{', '.join(held) or 'none'}). Add it with `vib snapshot save {table} "
                    "--to DIR` on a machine with internet."
                ) from exc
            if endpoint in ("", "TableInfos"):
                raise UnknownTableError(
                    f"Table {table!r} does not exist at {settings.cbs_url}. Check the id on "
                    "https://opendata.cbs.nl/statline (ids look like 85458NED); "
                    "`vib tables` lists the tables this tool knows."
                ) from exc
            raise CbsError(f"{table} has no endpoint {endpoint!r} at {settings.cbs_url}.") from exc
        if status is not None and (status >= 500 or status == 429):
            raise _Transient(f"HTTP {status}: {body}") from exc
        raise CbsError(
            f"CBS answered HTTP {status} for {table}/{endpoint} with filter {filters!r}: {body}"
        ) from exc
    except requests.Timeout as exc:
        raise _Transient(f"no answer within {settings.timeout:g} s") from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise _Transient(f"connection failed ({type(exc).__name__})") from exc
    except json.JSONDecodeError as exc:
        raise _Transient(f"the answer was not complete JSON ({exc.msg})") from exc


def fetch_endpoint(
    settings: Settings,
    table: str,
    endpoint: str = "",
    *,
    filters: str | None = None,
    select: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of one OData endpoint of ``table`` (all pages), with retries.

    ``endpoint`` ``""`` is the table's listing of endpoints.
    """
    attempts = settings.retries + 1
    last = ""
    for attempt in range(1, attempts + 1):
        log.info(
            "GET %s/ODataFeed/odata/%s/%s filter=%r select=%r (attempt %d/%d)",
            settings.cbs_url,
            table,
            endpoint,
            filters,
            select,
            attempt,
            attempts,
        )
        try:
            return _call_once(settings, table, endpoint, filters, select)
        except _Transient as exc:
            last = exc.reason
            log.warning("CBS %s/%s: %s", table, endpoint or "(listing)", last)
            if attempt < attempts:
                time.sleep(min(settings.backoff * 2 ** (attempt - 1), 30.0))
    if settings.snapshot_dir is not None:
        raise CbsUnavailableError(
            f"The local server of snapshot {settings.snapshot_dir.name} failed on "
            f"{table}/{endpoint or '(listing)'}: {last}. Check the snapshot's files."
        )
    hint = " Increase --timeout if CBS is slow." if "no answer within" in last else ""
    raise CbsUnavailableError(
        f"Could not get {table}/{endpoint or '(listing)'} from {settings.cbs_url} after "
        f"{attempts} attempt(s): {last}.{hint} If CBS is down or you are offline, use "
        "--offline to work from the local store, or --snapshot DIR with a saved snapshot."
    )


def _retrying(settings: Settings, what: str, call: Any) -> Any:
    """Run ``call()`` with the client's retry and back-off rules on :class:`_Transient`."""
    attempts = settings.retries + 1
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except _Transient as exc:
            last = exc.reason
            log.warning("%s: %s (attempt %d/%d)", what, last, attempt, attempts)
            if attempt < attempts:
                time.sleep(min(settings.backoff * 2 ** (attempt - 1), 30.0))
    raise _Transient(last)


def get_json(settings: Settings, url: str, params: dict[str, Any], *, what: str) -> Any | None:
    """GET ``url`` and parse its JSON, with the same timeouts and retries as CBS requests.

    Returns ``None`` on HTTP 404. Transient failures (5xx, 429, time-outs, dropped
    connections, incomplete JSON) are retried; anything else is a :class:`CbsError`.
    """

    def once() -> Any | None:
        log.info("GET %s %s", url, params)
        try:
            r = requests.get(url, params=params, timeout=settings.request_timeout)
        except requests.Timeout as exc:
            raise _Transient(f"no answer within {settings.timeout:g} s") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"connection failed ({type(exc).__name__})") from exc
        if r.status_code == 404:
            return None
        if r.status_code >= 500 or r.status_code == 429:
            raise _Transient(f"HTTP {r.status_code}")
        if r.status_code != 200:
            raise CbsError(f"{what}: HTTP {r.status_code} for {r.url}: {r.text[:200]}")
        try:
            return r.json()
        except ValueError as exc:
            raise _Transient("the answer was not complete JSON") from exc

    try:
        return _retrying(settings, what, once)
    except _Transient as exc:
        raise CbsUnavailableError(
            f"{what}: {url} could not be reached after {settings.retries + 1} attempt(s): "
            f"{exc.reason}."
        ) from None
