"""CBS's OData feed, read with timeouts, deadlines, retries and errors that say what to do.

The requests are the ones ``cbsodata`` (the client CBS users know) sends:
``<cbs_url>/ODataFeed/odata/<table>/<endpoint>?$format=json`` with ``$filter`` and
``$select``, then every ``odata.nextLink`` as given, until there is none. The pager is our
own, a few lines: cbsodata's (``get_meta``) has no timeout by default, no bound on its
paging loop, opens a new session for every page, and turns every failure into a bare
``requests`` error. This module adds all of that:

- **Timeouts and a deadline.** Each HTTP request gets a connect and a read timeout, and
  an overall deadline (:attr:`Settings.request_deadline`) that also covers a server that
  drips its headers or body one byte at a time. The whole call runs in a worker thread; if
  the deadline passes, the call is abandoned and counted as a transient failure.
- **A bounded pager.** Every request goes through :class:`_GuardedSession`: while a call of
  ours is running in the thread, it refuses a ``nextLink`` it has already followed (a loop),
  more than :data:`MAX_PAGES` pages, and anything after the call was abandoned.
- **Retries** for transient failures only (5xx, 429 with its ``Retry-After`` honoured up to
  :data:`MAX_RETRY_AFTER` seconds, time-outs, dropped connections, incomplete JSON), with
  exponential back-off; everything else becomes a
  :class:`~vluchtelingen_in_beeld.errors.VibError` at once.
- **Shape checks**: an answer whose rows are not JSON objects is refused, never returned.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
import urllib3

from vluchtelingen_in_beeld.errors import (
    CbsError,
    CbsUnavailableError,
    TooManyRowsError,
    UnknownTableError,
)
from vluchtelingen_in_beeld.settings import Settings

log = logging.getLogger(__name__)
#: Phrases CBS (and our replay server) use when an answer is over the row limit.
_TOO_MANY = ("10000", "10.000", "maximum is", "too many rows", "te veel")
#: At most this many pages per call (10,000 rows each on CBS's feed: 50 million rows).
MAX_PAGES = 5_000
#: A ``Retry-After`` longer than this is not waited for (the call fails instead).
MAX_RETRY_AFTER = 120.0
#: The largest answer body accepted (bytes); CBS's pages of 10,000 rows are a few MB.
MAX_BODY = 512 * 1024 * 1024

T = TypeVar("T")


class _Transient(Exception):
    """A failure worth retrying (``retry_after``: seconds the server asked us to wait)."""

    def __init__(self, reason: str, retry_after: float | None = None, attempts: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.attempts = attempts  # how many were made, when given up early


class _Abandoned(Exception):
    """Raised in a worker thread whose call passed its deadline."""


class _Guard:
    """Limits for the HTTP requests of one call, checked by :class:`_GuardedSession`."""

    def __init__(self, deadline: float, request_deadline: float):
        self.deadline = deadline  # monotonic time: the whole call, all pages
        self.request_deadline = request_deadline  # seconds per request (page)
        self.page_started = time.monotonic()
        self.seen: set[str] = set()
        self.pages = 0
        self.cancelled = threading.Event()
        self.started = threading.Event()

    def before(self, url: str) -> None:
        if self.cancelled.is_set():
            raise _Abandoned("the call was abandoned")
        if url in self.seen:
            raise CbsError(
                f"The server sent us back to a URL already requested ({url[:200]}): its paging "
                "(odata.nextLink) or its redirects loop. Nothing was stored; check `cbs_url`."
            )
        self.pages += 1
        if self.pages > MAX_PAGES:
            raise CbsError(f"More than {MAX_PAGES} pages for one request; stopped. {url[:200]}")
        self.seen.add(url)
        self.page_started = time.monotonic()
        self.started.set()


_local = threading.local()


class _GuardedSession(requests.Session):
    """The session of every request: bounded when one of our calls runs.

    Outside our calls (no guard on the thread) it is a plain :class:`requests.Session`.
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        guard: _Guard | None = getattr(_local, "guard", None)
        if guard is None:
            return super().send(request, **kwargs)
        guard.before(str(request.url))
        kwargs["stream"] = True
        start = time.monotonic()
        response = super().send(request, **kwargs)
        if response._content_consumed:
            # a redirect: requests followed it through this method, which read the final
            # answer already (reading its raw stream again would give an empty body)
            return response
        body = bytearray()
        try:
            while True:
                if guard.cancelled.is_set():
                    raise _Abandoned("the call was abandoned")
                if time.monotonic() - start > guard.request_deadline:
                    raise requests.Timeout(
                        f"the answer did not complete within {guard.request_deadline:g} s"
                    )
                try:
                    chunk = response.raw.read1(65536, decode_content=True)
                except (urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:
                    # e.g. a body shorter than its Content-Length: transient, retried
                    raise requests.exceptions.ChunkedEncodingError(
                        f"the answer broke off ({exc.__class__.__name__}: {exc})"
                    ) from None
                if not chunk:
                    break
                body += chunk
                if len(body) > MAX_BODY:
                    raise CbsError(f"The answer is larger than {MAX_BODY // 2**20} MB; refused.")
        finally:
            response.close()
        response._content = bytes(body)
        response._content_consumed = True
        return response


def _with_deadline(settings: Settings, fn: Callable[[], T]) -> T:
    """Run ``fn`` in a worker thread under a :class:`_Guard`; give up at the deadline."""
    guard = _Guard(time.monotonic() + settings.call_deadline, settings.request_deadline)
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        _local.guard = guard
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
        finally:
            _local.guard = None
            done.set()

    thread = threading.Thread(target=work, name="vib-request", daemon=True)
    thread.start()
    while not done.wait(0.05):
        now = time.monotonic()
        if now - guard.page_started > settings.request_deadline or now > guard.deadline:
            guard.cancelled.set()
            limit = (
                f"{settings.request_deadline:g} s for one page"
                if now <= guard.deadline
                else f"{settings.call_deadline:g} s for the whole request"
            )
            raise _Transient(
                f"no complete answer within {limit} (the server is too slow, or sends its "
                "answer bit by bit)"
            )
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: use our own back-off


def _http_details(exc: requests.HTTPError) -> tuple[int | None, str, requests.Response | None]:
    """Status, body text (CBS's ``odata.error`` message if it sent one) and response."""
    response = exc.response
    if response is not None:
        try:
            body = response.json()["odata.error"]["message"]["value"]
        except Exception:  # noqa: BLE001 - any shape of body
            body = (response.text or "")[:300]
        return response.status_code, str(body), response
    return None, str(exc), None


def _check_rows(rows: Any, table: str, endpoint: str) -> list[dict[str, Any]]:
    """The answer's ``value`` must be a list of JSON objects."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        example = rows[0] if isinstance(rows, list) and rows else rows
        raise CbsError(
            f"{table}/{endpoint or '(listing)'}: the answer is not a list of rows (found "
            f"{type(example).__name__} {str(example)[:60]!r}); nothing was stored. The server "
            "is not speaking CBS's OData feed, or sent something broken; try again later."
        )
    return rows


def _call_once(
    settings: Settings,
    table: str,
    endpoint: str,
    filters: str | None,
    select: list[str] | None,
) -> list[dict[str, Any]]:
    def call() -> list[Any]:
        return _pages(settings, table, endpoint, filters, select)

    try:
        rows = _with_deadline(settings, call)
    except requests.HTTPError as exc:
        status, body, response = _http_details(exc)
        if (
            status is not None
            and status in (400, 403, 413, 500)
            and any(p in body.lower() for p in _TOO_MANY)
        ):
            raise TooManyRowsError(
                f"CBS refused {table}/{endpoint}: the answer is over its row limit ({body})."
            ) from exc
        if status == 404:
            raise _not_found(settings, table, endpoint) from exc
        if status is not None and (status >= 500 or status == 429):
            raise _Transient(f"HTTP {status}: {body}", _retry_after(response)) from exc
        raise CbsError(
            f"CBS answered HTTP {status} for {table}/{endpoint} with filter {filters!r}: {body}"
        ) from exc
    except requests.Timeout as exc:
        raise _Transient(f"no answer within {settings.timeout:g} s ({exc})") from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise _Transient(f"connection failed ({type(exc).__name__})") from exc
    except requests.TooManyRedirects as exc:
        raise CbsError(
            f"{table}/{endpoint or '(listing)'}: the server redirects in a loop; check "
            f"`cbs_url` ({settings.cbs_url})."
        ) from exc
    except requests.RequestException as exc:
        raise CbsError(f"{table}/{endpoint or '(listing)'}: request failed: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise _Transient(f"the answer was not complete JSON ({exc.msg})") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise CbsError(
            f"{table}/{endpoint or '(listing)'}: the answer is not an OData feed (no 'value' "
            f"list: {type(exc).__name__} {exc}); nothing was stored."
        ) from exc
    return _check_rows(rows, table, endpoint)


def _pages(
    settings: Settings,
    table: str,
    endpoint: str,
    filters: str | None,
    select: list[str] | None,
) -> list[Any]:
    """Every page of one endpoint, as cbsodata asks for them (in the calling thread)."""
    url: str | None = f"{settings.cbs_url.rstrip('/')}/ODataFeed/odata/{table}/{endpoint}"
    params: dict[str, str] = {"$format": "json"}
    if select:
        params["$select"] = ",".join(select)
    if filters:
        params["$filter"] = filters
    rows: list[Any] = []
    with _GuardedSession() as session:
        while url is not None:
            response = session.get(url, params=params, timeout=settings.request_timeout)
            response.raise_for_status()
            response.encoding = "utf-8"
            page = json.loads(response.text)
            rows.extend(page["value"])
            url = page.get("odata.nextLink")
            params = {}  # a next link carries its own query
    return rows


def _not_found(settings: Settings, table: str, endpoint: str) -> CbsError:
    if endpoint in ("", "TableInfos") and settings.snapshot_dir is not None:
        held = sorted(
            p.name
            for p in settings.snapshot_dir.iterdir()
            if p.is_dir() and (p / "TableInfos.json").exists()
        )
        return UnknownTableError(
            f"Snapshot {settings.snapshot_dir.name} has no table {table} (it holds: "
            f"{', '.join(held) or 'none'}). Add it with `vib snapshot save {table} "
            "--to DIR` on a machine with internet."
        )
    if endpoint in ("", "TableInfos"):
        return UnknownTableError(
            f"Table {table!r} does not exist at {settings.cbs_url}. Check the id on "
            "https://opendata.cbs.nl/statline (ids look like 85458NED); "
            "`vib tables` lists the tables this tool knows."
        )
    return CbsError(f"{table} has no endpoint {endpoint!r} at {settings.cbs_url}.")


def _retrying(settings: Settings, what: str, call: Callable[[], T]) -> T:
    """Run ``call()`` with the retry and back-off rules on :class:`_Transient`.

    Waits ``backoff · 2^(attempt-1)`` seconds (at most 30) between attempts, or what the
    server's ``Retry-After`` asks, up to :data:`MAX_RETRY_AFTER`.
    """
    attempts = settings.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except _Transient as exc:
            log.warning("%s: %s (attempt %d/%d)", what, exc.reason, attempt, attempts)
            if attempt == attempts:
                raise
            wait = min(settings.backoff * 2 ** (attempt - 1), 30.0)
            if exc.retry_after is not None:
                if exc.retry_after > MAX_RETRY_AFTER:
                    raise _Transient(
                        f"{exc.reason}; the server asks to wait {exc.retry_after:g} s "
                        f"(Retry-After), longer than {MAX_RETRY_AFTER:g} s",
                        attempts=attempt,
                    ) from None
                wait = exc.retry_after
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


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

    def once() -> list[dict[str, Any]]:
        log.info(
            "GET %s/ODataFeed/odata/%s/%s filter=%r select=%r",
            settings.cbs_url,
            table,
            endpoint,
            filters,
            select,
        )
        return _call_once(settings, table, endpoint, filters, select)

    try:
        return _retrying(settings, f"CBS {table}/{endpoint or '(listing)'}", once)
    except _Transient as exc:
        last = exc.reason
        attempts = exc.attempts or settings.retries + 1
    if settings.snapshot_dir is not None:
        raise CbsUnavailableError(
            f"The local server of snapshot {settings.snapshot_dir.name} failed on "
            f"{table}/{endpoint or '(listing)'}: {last}. Check the snapshot's files."
        )
    hint = " Increase `timeout` if CBS is slow." if "within" in last else ""
    raise CbsUnavailableError(
        f"Could not get {table}/{endpoint or '(listing)'} from {settings.cbs_url} after "
        f"{attempts} attempt(s): {last}.{hint} If CBS is down or you are offline, use "
        "`offline` to work from the local store, or a `snapshot` folder with a saved snapshot."
    )


def get_json(settings: Settings, url: str, params: dict[str, Any], *, what: str) -> Any | None:
    """GET ``url`` and parse its JSON, with the same timeouts, deadline and retries.

    Returns ``None`` on HTTP 404 and 410 (gone). Transient failures (5xx, 429, time-outs,
    dropped connections, incomplete JSON) are retried; anything else is a :class:`CbsError`.
    """
    got = get_json_headers(settings, url, params, what=what)
    return None if got is None else got[0]


def get_json_headers(
    settings: Settings, url: str, params: dict[str, Any], *, what: str
) -> tuple[Any, dict[str, str]] | None:
    """:func:`get_json` with the answer's headers (``Content-Crs`` of OGC API Features)."""

    def request() -> requests.Response:
        with _GuardedSession() as s:
            return s.send(
                requests.Request("GET", url, params=params).prepare(),
                timeout=settings.request_timeout,
            )

    def once() -> tuple[Any, dict[str, str]] | None:
        log.info("GET %s %s", url, params)
        try:
            r = _with_deadline(settings, request)
        except requests.Timeout as exc:
            raise _Transient(f"no answer within {settings.timeout:g} s ({exc})") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"connection failed ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise CbsError(f"{what}: request to {url} failed: {exc}") from exc
        if r.status_code in (404, 410):
            return None
        if r.status_code >= 500 or r.status_code == 429:
            raise _Transient(f"HTTP {r.status_code}", _retry_after(r))
        if r.status_code != 200:
            raise CbsError(f"{what}: HTTP {r.status_code} for {r.url}: {r.text[:200]}")
        try:
            return r.json(), {k.casefold(): v for k, v in r.headers.items()}
        except ValueError as exc:
            raise _Transient("the answer was not complete JSON") from exc

    try:
        return _retrying(settings, what, once)
    except _Transient as exc:
        raise CbsUnavailableError(
            f"{what}: {url} could not be reached after "
            f"{exc.attempts or settings.retries + 1} attempt(s): "
            f"{exc.reason}. Check the connection, or use `boundaries` (a file)."
        ) from None
