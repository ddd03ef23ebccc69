"""A local server that replays a StatLine snapshot as CBS's OData v3 feed.

The snapshot layout is what ``cbsodata.download_data(table, dir=...)`` writes: one folder per
table, one JSON file per endpoint. The server answers
``/ODataFeed/odata/<table>/`` (the endpoint listing, with both ``TypedDataSet`` and
``UntypedDataSet``) and ``/ODataFeed/odata/<table>/<endpoint>`` with ``$filter``,
``$select``, ``$top``, ``$skip`` and ``odata.nextLink`` paging, so the real ``cbsodata`` client
runs unchanged against it. It listens on 127.0.0.1 only.

It answers mistakes the way CBS's feed does: a ``$filter`` clause on a property the table
does not have is dropped without a word (HTTP 200, unfiltered rows), and a key that does not
exist (an unknown period, a key padded to the wrong width) gives an empty list.

Beside the feed it can stand in for PDOK (``boundaries``: year -> GeoJSON file in
EPSG:28992), by both of PDOK's routes (see :mod:`.pdok`): the per-year WFS (RD unless
asked otherwise, ``srsName=EPSG:4326`` in latitude/longitude order, pages of at most 1,000
features with ``startIndex``, 404 for a year it does not have) and the OGC API Features
collection of all years (``jaarcode`` on each feature and as a filter, CRS84 unless ``crs``
asks for RD, the CRS in the ``Content-Crs`` header, pages by ``next`` links with an opaque
cursor, at most 1,000 features a page).

:func:`check_snapshot` reads a snapshot's files before anything is served, so a truncated
or missing file is one clear error instead of a failure inside a request.

Its work and waits are bounded: a ``$filter`` over :data:`MAX_FILTER_BYTES` is answered 413
and one with more than :data:`MAX_FILTER_TERMS` comparisons 400 (before any scan); a request
line and headers must arrive within :data:`HEADER_TIMEOUT` seconds, any one read or write
within :data:`IO_TIMEOUT`; at most :data:`MAX_CLIENTS` requests are served at once, more
get 503 at once. ``confined`` (``vib serve``) serves only files whose real path lies in the
snapshot's: a symlink that leads out of it is answered 404.

It refuses answers over a row limit as CBS's API does (``refuse_over``). A subclass of its
handler can answer a request itself or change an answer before it is sent
(:meth:`_Handler.intercept`, :meth:`_Handler.adjust`); the test suite's fault injection is
such a subclass and lives with the tests.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import re
import socket
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import numpy as np

from vluchtelingen_in_beeld.access import pdok
from vluchtelingen_in_beeld.access.odata_filter import FilterSyntaxError, Needs, plan_filter

log = logging.getLogger(__name__)
#: A table or endpoint name as CBS has them (85458NED, TypedDataSet, RegioS)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,63}")

FEED = "/ODataFeed/odata/"
PAGE_SIZE = 10_000
#: A ``$filter`` longer than this is answered 413 (CBS's own front end refuses long queries;
#: this tool's longest is about 2 KB), one with more terms 400: the scan stays bounded.
MAX_FILTER_BYTES = 16_384
MAX_FILTER_TERMS = 200
_TERM = re.compile(r"\b(?:eq|ne|gt|ge|lt|le)\b|\b(?:startswith|endswith|substringof)\s*\(")
#: Seconds a client may take to send its request line and headers; seconds any one read
#: or write may block; requests served at once (more get 503 at once).
HEADER_TIMEOUT = 10.0
IO_TIMEOUT = 30.0
MAX_CLIENTS = 16
DATASETS = ("TypedDataSet", "UntypedDataSet")


#: A file's version: resolved path, size in bytes, modification time in ns.
FileKey = tuple[str, int, int]


class _Parsed:
    """Snapshot files read once, shared by every server in the process.

    Three caches: files parsed, filtered row lists, and the text of the last row file
    searched (:meth:`text`, for :func:`_rows_holding`).

    A file is known by its resolved path, size and modification time, so an edited file is
    read again and a symlinked copy of a snapshot shares its original's rows. Parsing
    85458NED's ``TypedDataSet.json`` takes about a second and a ``$filter`` scan of it as
    long; a process that starts many servers (a test suite, ``vib`` calls in a notebook)
    does each once. The lists are shared: nothing that serves them may change them (an
    :meth:`_Handler.adjust` that rewrites rows works on copies). Both caches are bounded
    (least recently used out).
    """

    #: At most this many bytes of JSON files kept parsed (in memory about 5 times as many);
    #: 85458NED's ``TypedDataSet.json`` is 76 MB.
    FILE_BYTES = 200_000_000
    FILTERED = 256

    def __init__(self) -> None:
        self._files: OrderedDict[FileKey, Any] = OrderedDict()
        self._filtered: OrderedDict[tuple[FileKey, str], Any] = OrderedDict()
        self._text: dict[FileKey, tuple[bytes, np.ndarray]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(path: Path) -> FileKey:
        """The version of a file: its resolved path, size and modification time."""
        st = path.stat()
        return (str(path.resolve()), st.st_size, st.st_mtime_ns)

    def has(self, path: Path) -> bool:
        """Whether this version of the file is parsed already."""
        key = self.key(path)
        with self._lock:
            return key in self._files

    def file(self, path: Path, read: Callable[[Path], Any]) -> tuple[FileKey, Any]:
        """(version, ``read(path)``), read once per version of the file."""
        key = self.key(path)
        with self._lock:
            if key in self._files:
                self._files.move_to_end(key)
                return key, self._files[key]
        value = read(path)  # outside the lock: other servers go on meanwhile
        with self._lock:
            self._files[key] = value
            while len(self._files) > 1 and sum(k[1] for k in self._files) > self.FILE_BYTES:
                gone, _ = self._files.popitem(last=False)
                for k in [k for k in self._filtered if k[0] == gone]:
                    del self._filtered[k]  # its answers go with it
        return key, value

    def text(self, path: Path) -> tuple[bytes, np.ndarray]:
        """A row file's bytes and where each ``{`` is in them, for its last version searched.

        One file at a time (85458NED's is 76 MB): searching another drops the last.
        """
        key = self.key(path)
        with self._lock:
            if key in self._text:
                return self._text[key]
        raw = path.read_bytes()
        starts = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord("{"))
        with self._lock:
            self._text = {key: (raw, starts)}
        return raw, starts

    def filtered(self, key: FileKey, query: str, select: Callable[[], Any]) -> Any:
        """``select()``, once per version of the file (as :meth:`file` gave it) and query."""
        with self._lock:
            if (key, query) in self._filtered:
                self._filtered.move_to_end((key, query))
                return self._filtered[(key, query)]
        value = select()
        with self._lock:
            self._filtered[(key, query)] = value
            while len(self._filtered) > self.FILTERED:
                self._filtered.popitem(last=False)
        return value


_PARSED = _Parsed()


@dataclass
class ServerState:
    """What the server serves and what it has seen."""

    root: Path
    page_size: int = PAGE_SIZE
    refuse_over: int | None = None
    requests: list[str] = field(default_factory=list)
    #: PDOK stand-in: boundary year -> GeoJSON file (EPSG:28992, as PDOK sends it).
    boundaries: dict[int, Path] = field(default_factory=dict)
    #: Serve only files whose real path lies in the snapshot's (``vib serve``): a symlinked
    #: table folder or file that leads elsewhere is not served. Off for the process's own
    #: replays (tests link unchanged tables of a doctored copy to the original).
    confined: bool = False
    _tables: dict[str, Path] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inside(self, path: Path) -> bool:
        """Whether ``path`` may be served: its real path lies in the snapshot's real path."""
        if not self.confined:
            return True
        real, root = path.resolve(), self.root.resolve()
        if real == root or root in real.parents:
            return True
        log.warning("replay: refused %s: its real path %s is outside the snapshot", path, real)
        return False

    def table_dir(self, table: str) -> Path | None:
        """The folder of ``table`` (any case), if the snapshot holds it."""
        if not self._tables:
            self._tables = {
                p.name.casefold(): p
                for p in self.root.iterdir()
                if p.is_dir()
                and not p.name.startswith(".")
                and (p / "TableInfos.json").is_file()
                and self.inside(p)
            }
        return self._tables.get(table.casefold())

    def endpoint_rows(self, table_dir: Path, endpoint: str) -> list[dict[str, Any]] | None:
        """The parsed ``value`` list of one endpoint file (``None``: no such file).

        Raises :class:`SnapshotFileError` for a file that is not a JSON list.
        """
        path = self.endpoint_file(table_dir, endpoint)
        if not path.is_file() or not self.inside(path):
            return None
        rows: list[dict[str, Any]] = _PARSED.file(path, _read_list)[1]
        return rows

    @staticmethod
    def endpoint_file(table_dir: Path, endpoint: str) -> Path:
        """The file that holds an endpoint's rows (both data sets: ``TypedDataSet.json``)."""
        name = "TypedDataSet" if endpoint in DATASETS else endpoint
        return table_dir / f"{name}.json"

    def properties(self, table_dir: Path) -> frozenset[str] | None:
        """Every property a row of the table can have (``None`` if unknown)."""
        props = self.endpoint_rows(table_dir, "DataProperties")
        if not props:
            return None
        return frozenset({"ID", *(str(p.get("Key")) for p in props if p.get("Key"))})

    def features(self, year: int) -> dict[str, Any] | None:
        """The boundary file of ``year``, parsed (``None``: not served)."""
        path = self.boundaries.get(year)
        if path is None:
            return None
        if self.confined and path.is_symlink():
            log.warning("replay: refused boundary file %s: it is a link", path)
            return None

        def read(p: Path) -> Any:
            try:
                return json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SnapshotFileError(f"{p.name}: not valid JSON ({exc})") from None

        data: dict[str, Any] = _PARSED.file(path, read)[1]
        return data


class _Handler(BaseHTTPRequestHandler):
    server_version = "vib-replay/1"
    protocol_version = "HTTP/1.1"
    #: any one read or write of the connection (BaseHTTPRequestHandler sets it on the socket)
    timeout = IO_TIMEOUT
    _deadline: threading.Timer | None = None
    state: ServerState  # set on the subclass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("replay: " + format, *args)

    # -- helpers ---------------------------------------------------------------------------
    def _base(self) -> str:
        host, port = self.server.server_address[:2]  # type: ignore[index,str-unpack,unused-ignore]
        return f"http://{host!s}:{port}"

    def _send(
        self,
        status: int,
        payload: Any,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        extra = {"Content-Type": "application/json;charset=utf-8", **(headers or {})}
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(
            status, {"odata.error": {"code": "", "message": {"lang": "en-US", "value": message}}}
        )

    def handle_one_request(self) -> None:
        """One request, whose line and headers must come within the header deadline.

        A client that sends part of a request and then trickles or waits is cut off; the
        answer itself is bounded by the per-read/write timeout only.
        """
        self._deadline = threading.Timer(self.server.header_timeout, self._cut)  # type: ignore[attr-defined]
        self._deadline.daemon = True
        self._deadline.start()
        try:
            super().handle_one_request()
        finally:
            self._deadline.cancel()

    def _cut(self) -> None:
        log.warning(
            "replay: a request from %s took too long to arrive; closed", self.client_address
        )
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- routing ---------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        if self._deadline is not None:
            self._deadline.cancel()  # the request has arrived
        self.state.requests.append(self.path)
        if self.intercept():
            return
        try:
            self._route()
        except SnapshotFileError as exc:
            log.error("replay: %s", exc)
            self._error(500, f"Snapshot file broken: {exc}")

    # -- hooks for a subclass (the test suite's faults) ------------------------------------
    def intercept(self) -> bool:
        """Answer the request some other way and say so (``True``); here: never."""
        return False

    def filter_of(self, query: dict[str, str]) -> str:
        """The ``$filter`` this answer applies (a subclass may ignore it, as CBS can)."""
        return query.get("$filter", "")

    def adjust(self, answer: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
        """Change a normal answer in place before it is sent; here: nothing.

        ``answer`` is ``"wfs"``, ``"ogc"``, ``"listing"`` or the endpoint's name; the rows
        are ``payload["value"]`` (CBS) or ``payload["features"]`` (PDOK), shared with
        other answers (replace them, never change them).
        """

    def _route(self) -> None:
        state = self.state
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if m := pdok.PATH_RE.match(path):
            self._wfs(int(m.group(1)), parts.query)
            return
        if path.rstrip("/") == pdok.OGC_PATH:
            self._ogc(parts.query)
            return
        if not path.startswith(FEED):
            self._error(404, f"No such resource: {path}")
            return
        rest = path[len(FEED) :].strip("/")
        if not rest:
            self._send(
                200,
                {
                    "value": [
                        {"name": p.name, "url": f"{self._base()}{FEED}{p.name}"}
                        for p in sorted(state.root.iterdir())
                        if p.is_dir()
                    ]
                },
            )
            return
        table, _, endpoint = rest.partition("/")
        if not _NAME.fullmatch(table) or (endpoint and not _NAME.fullmatch(endpoint)):
            # "..", "/", "\\", encoded or not: the snapshot's own files only
            log.warning("replay: refused a path outside the snapshot: %r", self.path)
            self._error(404, f"No such resource: {path}")
            return
        tdir = state.table_dir(table)
        if tdir is None:
            self._error(404, f"Resource not found for the segment '{table}'.")
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if not endpoint:
            self._listing(table, tdir)
            return
        file = state.endpoint_file(tdir, endpoint)
        if not file.is_file() or not state.inside(file):
            self._error(404, f"Resource not found for the segment '{endpoint}'.")
            return
        self._rows(table, tdir, endpoint, file, query)

    def _wfs(self, year: int, query_text: str) -> None:
        """Answer a WFS GetFeature as PDOK does (see :mod:`.pdok`)."""
        data = self.state.features(year)
        if data is None:
            self._error(404, f"No gebiedsindelingen service for {year}.")
            return
        query = {k.casefold(): v[-1] for k, v in parse_qs(query_text).items()}
        features = data.get("features", [])
        try:
            start = int(query.get("startindex", "0") or 0)
            count = min(int(query.get("count", str(pdok.MAX_COUNT))), pdok.MAX_COUNT)
        except ValueError:
            self._error(400, "startIndex and count take whole numbers.")
            return
        page = features[start : start + count]
        srs = query.get("srsname")
        crs_name = "urn:ogc:def:crs:EPSG::28992"
        epsg = pdok.epsg_of(srs) if srs else 28992
        if epsg not in (28992, 4326):
            self._error(400, f"srsName {srs!r} is not offered by this service.")
            return
        if epsg == 4326:
            page = _to_latlon(page)
            crs_name = "urn:ogc:def:crs:EPSG::4326"
        payload: dict[str, Any] = {
            "type": "FeatureCollection",
            "name": data.get("name", "gemeente_gegeneraliseerd"),
            "crs": {"type": "name", "properties": {"name": crs_name}},
            "numberMatched": len(features),
            "numberReturned": len(page),
            "features": page,
        }
        headers: dict[str, str] = {}
        self.adjust("wfs", payload, headers)
        self._send(200, payload, headers=headers)

    def _ogc(self, query_text: str) -> None:
        """Answer OGC API Features items as PDOK's server does (see :mod:`.pdok`)."""
        query = {k: v[-1] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
        problem = ""
        fmt = query.get("f", "json")
        crs = query.get("crs", pdok.CRS84_URI)
        try:
            limit = int(query.get("limit", str(OGC_DEFAULT_LIMIT)))
            year = int(query["jaarcode"]) if query.get("jaarcode") else None
        except ValueError:
            limit, year, problem = 0, None, "limit and jaarcode take whole numbers"
        if fmt != "json":
            problem = f"format {fmt!r} is not offered here (use f=json)"
        elif crs not in (pdok.CRS84_URI, pdok.RD_URI):
            problem = f"crs {crs!r} is not supported by this collection"
        elif not problem and limit < 1:
            problem = "limit must be at least 1"
        filters = {"jaarcode": str(year)} if year is not None else {}
        start = _cursor_offset(query.get("cursor"), filters)
        if start is None and not problem:
            problem = "the cursor is not valid for this request"
        if problem:
            self._error(400, problem)
            return
        limit = min(limit, pdok.MAX_COUNT)
        years = sorted(self.state.boundaries) if year is None else [year]
        features: list[dict[str, Any]] = []
        for y in years:
            data = self.state.features(y)
            for f in (data or {}).get("features", []):
                props = {**f.get("properties", {}), "jaarcode": y}
                features.append({"type": "Feature", "id": f.get("id") or props.get("id"),
                                 "geometry": f.get("geometry"), "properties": props})  # fmt: skip
        offset = start or 0
        page = features[offset : offset + limit]
        if crs == pdok.CRS84_URI:
            page = _to_crs84(page)
        url = self._base() + pdok.OGC_PATH
        keep = {"f": "json", "limit": str(limit), **filters}
        if "crs" in query:
            keep["crs"] = crs
        here = urlencode({**keep, **_cursor_param(start, filters)})
        links = [{"rel": "self", "type": "application/geo+json",
                  "title": "This document as GeoJSON", "href": f"{url}?{here}"}]  # fmt: skip
        if offset + limit < len(features):
            nxt = {**keep, "cursor": _cursor(offset + limit, filters)}
            links.append({"rel": "next", "type": "application/geo+json", "title": "Next page",
                          "href": f"{url}?{urlencode(nxt)}"})  # fmt: skip
        payload = {
            "type": "FeatureCollection",
            "timeStamp": "2026-01-01T00:00:00Z",
            "links": links,
            "numberReturned": len(page),
            "features": page,
        }
        headers = {"Content-Type": "application/geo+json", "Content-Crs": f"<{crs}>"}
        self.adjust("ogc", payload, headers)
        self._send(200, payload, headers=headers)

    def _listing(self, table: str, tdir: Path) -> None:
        names = sorted(p.stem for p in tdir.glob("*.json"))
        if "TypedDataSet" in names and "UntypedDataSet" not in names:
            names.append("UntypedDataSet")
        url = f"{self._base()}{FEED}{table}"
        value = [{"name": n, "url": f"{url}/{n}"} for n in names]
        payload = {"odata.metadata": f"{url}/$metadata", "value": value}
        headers: dict[str, str] = {}
        self.adjust("listing", payload, headers)
        self._send(200, payload, headers=headers)

    def _rows(
        self,
        table: str,
        tdir: Path,
        endpoint: str,
        path: Path,
        query: dict[str, str],
    ) -> None:
        """Answer one endpoint, whose rows are in the file ``path``."""
        state = self.state
        flt = self.filter_of(query)
        if len(flt.encode("utf-8")) > MAX_FILTER_BYTES:
            log.warning("replay: refused a $filter of %d bytes", len(flt.encode("utf-8")))
            self._error(413, f"The $filter is longer than {MAX_FILTER_BYTES} bytes.")
            return
        if len(_TERM.findall(flt)) > MAX_FILTER_TERMS:
            self._error(400, f"The $filter has more than {MAX_FILTER_TERMS} comparisons.")
            return
        try:
            known = state.properties(tdir) if endpoint in DATASETS else None
            selected = _selected(path, flt, known)
        except FilterSyntaxError as exc:
            self._error(400, f"Invalid $filter: {exc}")
            return
        except RecursionError:
            log.warning("replay: refused a $filter nested too deeply (%d characters)", len(flt))
            self._error(400, "Invalid $filter: nested too deeply.")
            return
        try:
            skip = int(query.get("$skip", "0") or 0)
            top = int(query["$top"]) if query.get("$top") else None
        except ValueError:
            self._error(400, "$skip and $top take whole numbers.")
            return
        if skip < 0 or (top is not None and top < 0):
            self._error(400, "$skip and $top take whole numbers of 0 or more.")
            return
        if (
            endpoint in DATASETS
            and state.refuse_over is not None
            and top is None
            and len(selected) > state.refuse_over
        ):
            self._error(
                500,
                f"The request would return {len(selected)} rows; the maximum is "
                f"{state.refuse_over} rows per request. Filter the request to fewer rows.",
            )
            return
        end = len(selected) if top is None else min(len(selected), skip + top)
        page_end = min(end, skip + state.page_size)
        page = selected[skip:page_end]
        select = [s.strip() for s in query.get("$select", "").split(",") if s.strip()]
        if select:
            missing = [s for s in select if page and s not in page[0]]
            if missing:
                self._error(400, f"Unknown property in $select: {', '.join(missing)}")
                return
            page = [{k: r.get(k) for k in select} for r in page]
        if endpoint == "UntypedDataSet":
            page = [{k: (None if v is None else str(v)) for k, v in r.items()} for r in page]
        url = f"{self._base()}{FEED}{table}/{endpoint}"
        payload: dict[str, Any] = {"odata.metadata": f"{url}/$metadata", "value": page}
        if page_end < end:
            nxt = {"$format": "json", "$skip": str(page_end)}
            if flt:
                nxt["$filter"] = flt
            if select:
                nxt["$select"] = ",".join(select)
            if top is not None:
                nxt["$top"] = str(end - page_end)
            payload["odata.nextLink"] = f"{url}?{urlencode(nxt)}"
        headers: dict[str, str] = {}
        self.adjust(endpoint, payload, headers)
        self._send(200, payload, headers=headers)


def _selected(path: Path, flt: str, known: frozenset[str] | None) -> list[dict[str, Any]]:
    """The rows of the file ``path`` that ``flt`` selects, once per version and filter.

    A file not parsed yet is first searched as text for the rows that hold the filter's
    rarest plain value (``Herkomstland eq 'H008859'``: :func:`_rows_holding`), which takes
    a fraction of the second that parsing 85458NED's 76 MB takes; a filter without a rare
    value parses the file and scans it. Either way each row is checked by the filter's predicate,
    so both give the same rows.
    """
    if not flt:
        return _PARSED.file(path, _read_list)[1]  # type: ignore[no-any-return]
    plan = plan_filter(flt, known)  # a syntax error is raised before any scan
    query = flt + "\0" + ",".join(sorted(known or ()))  # what the filter may name

    def select() -> list[dict[str, Any]]:
        rows = None if _PARSED.has(path) else _rows_holding(path, plan.needs)
        if rows is None:
            rows = _PARSED.file(path, _read_list)[1]
        return [r for r in rows if plan.predicate(r)]

    selected: list[dict[str, Any]] = _PARSED.filtered(_PARSED.key(path), query, select)
    return selected


#: The text search is used when the filter's rarest plain value occurs at most once in this
#: many bytes of the file (for 85458NED's 76 MB, 190,000 times); else the file is parsed.
TEXT_SEARCH_BYTES_PER_HIT = 400


def _rows_holding(path: Path, needs: Needs) -> list[dict[str, Any]] | None:
    """The rows of a row file whose text holds the filter's rarest plain value, parsed.

    ``needs`` are the filter's alternatives (:class:`~.odata_filter.Plan`); of those with
    one text (``"2025JJ00"``), the one that occurs least is searched. A row is the JSON
    object an occurrence lies in, an element of the file's top-level list, and every one
    found is parsed: a passing row holds the text, so none is missed; the caller checks
    each with the filter. ``None`` (parse the file instead) when no value is rare enough,
    or when the text around an occurrence is not such a row: a ``{`` or ``}`` inside a
    text makes the object around it fail to parse (or parse empty), never a row skipped.
    """
    raw, starts = _PARSED.text(path)
    single = [next(iter(need)).encode("ascii") for need in needs if len(need) == 1]
    if not single:
        return None
    hits, needle = min((raw.count(text), text) for text in single)
    if hits > len(raw) // TEXT_SEARCH_BYTES_PER_HIT:
        return None
    found = []
    at = raw.find(needle)
    while at != -1:
        found.append(at)
        at = raw.find(needle, at + len(needle))
    rows = np.unique(np.searchsorted(starts, np.asarray(found), side="right") - 1)
    if len(rows) and rows[0] < 0:
        return None  # an occurrence before any object
    chunks = []
    for start in starts[rows].tolist():
        end = raw.find(b"}", start) + 1
        before = start - 1
        while before >= 0 and raw[before] in b" \t\r\n":
            before -= 1
        if not end or before < 0 or raw[before] not in b"[,":
            return None  # not an element of the top-level list
        chunks.append(raw[start:end])
    try:  # one parse for them all: a cut object breaks it, or changes the count
        out = json.loads(b"[" + b",".join(chunks) + b"]")
    except ValueError:
        return None  # cut by a brace inside a text: not a flat row
    if len(out) != len(chunks) or not all(isinstance(row, dict) and row for row in out):
        return None  # a "{}" inside a text
    if any(isinstance(v, (dict, list)) for row in out for v in row.values()):
        return None
    rows_found: list[dict[str, Any]] = out
    return rows_found


class _Server(ThreadingHTTPServer):
    """The threading HTTP server, with at most ``max_clients`` requests served at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, *, max_clients: int,
                 header_timeout: float) -> None:  # fmt: skip
        super().__init__(address, handler)
        self.header_timeout = header_timeout
        self._slots = threading.BoundedSemaphore(max_clients)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):  # busy: say so at once, never queue
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                b"Content-Length: 0\r\nConnection: close\r\n\r\n")  # fmt: skip
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("replay: client went away (%s)", exc)  # a killed or timed-out client
            return
        super().handle_error(request, client_address)


class ReplayServer:
    """Serve a snapshot folder on 127.0.0.1 in a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. A subclass may answer
    through its own :attr:`handler` (a subclass of ``_Handler``).
    """

    handler: type[_Handler] = _Handler

    def __init__(
        self,
        root: Path | str,
        *,
        port: int = 0,
        page_size: int = PAGE_SIZE,
        refuse_over: int | None = None,
        boundaries: dict[int, Path] | None = None,
        confined: bool = False,
        max_clients: int = MAX_CLIENTS,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"Snapshot folder {root} does not exist.")
        self.state = ServerState(
            root=root,
            page_size=page_size,
            refuse_over=refuse_over,
            boundaries=dict(boundaries or {}),
            confined=confined,
        )
        handler = type("Handler", (self.handler,), {"state": self.state})
        self._httpd = _Server(("127.0.0.1", port), handler, max_clients=max_clients,
                              header_timeout=header_timeout)  # fmt: skip
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[str]:
        """Every request path seen, in order."""
        return self.state.requests

    def start(self) -> ReplayServer:
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (``vib serve``)."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def close(self) -> None:
        """Release the socket (after :meth:`serve_forever`, or if it never ran)."""
        self._httpd.server_close()


class SnapshotFileError(Exception):
    """A snapshot file cannot be served: missing, truncated, not JSON, not a list."""


def _read_list(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except ValueError as exc:
        raise SnapshotFileError(
            f"{path.parent.name}/{path.name} is not valid JSON ({exc}); the file is truncated "
            "or damaged. Save the table again with `vib snapshot save`."
        ) from None
    except OSError as exc:
        raise SnapshotFileError(f"{path.parent.name}/{path.name} cannot be read ({exc}).") from None
    if not isinstance(data, list):
        raise SnapshotFileError(
            f"{path.parent.name}/{path.name} holds a JSON {type(data).__name__}, not the list of "
            "rows that cbsodata.download_data writes."
        )
    return data


#: Files up to this size are parsed whole by :func:`check_snapshot`; larger ones are checked
#: at both ends (a cut-off file does not end its list) and parsed when first served.
FULL_PARSE_BYTES = 4_000_000
_DIM_TYPES = ("Dimension", "GeoDimension", "TimeDimension", "GeoDetail")


def _ends_look_complete(path: Path) -> bool:
    """A JSON list of rows starts with ``[`` and ends with ``}]`` (or is ``[]``)."""
    with path.open("rb") as fh:
        head = fh.read(64).lstrip()
        fh.seek(max(0, path.stat().st_size - 64))
        tail = fh.read()
    return head.startswith(b"[") and re.search(rb"[}\[]\s*\]\s*$", tail) is not None


def check_snapshot(root: Path) -> list[str]:
    """Problems with the snapshot's files, one line each (empty: fine to serve).

    Every table folder (one with a ``TableInfos.json``) must hold ``DataProperties.json``,
    ``TypedDataSet.json`` and one file per dimension that ``DataProperties`` names, each a
    JSON list. Small files are parsed; large ones are checked at both ends.
    """
    problems: list[str] = []
    tables = [p for p in sorted(root.iterdir()) if p.is_dir() and (p / "TableInfos.json").exists()]
    for tdir in tables:
        needed = ["TableInfos", "DataProperties", "TypedDataSet"]
        try:
            props = _read_list(tdir / "DataProperties.json")
            needed += [str(p["Key"]) for p in props if p.get("Type") in _DIM_TYPES and p.get("Key")]
        except SnapshotFileError as exc:
            problems.append(str(exc))
            continue
        except (KeyError, TypeError, AttributeError):
            problems.append(f"{tdir.name}/DataProperties.json does not list properties.")
            continue
        for name in needed:
            path = tdir / f"{name}.json"
            if not path.is_file():
                problems.append(
                    f"{tdir.name}/{name}.json is missing; every endpoint of the table needs its "
                    "file. Save the table again with `vib snapshot save`."
                )
            elif path.stat().st_size > FULL_PARSE_BYTES:
                if not _ends_look_complete(path):
                    problems.append(
                        f"{tdir.name}/{name}.json is cut off or damaged (it does not hold a "
                        "complete JSON list). Save the table again with `vib snapshot save`."
                    )
            else:
                try:
                    _read_list(path)
                except SnapshotFileError as exc:
                    problems.append(str(exc))
    return problems


def _to_latlon(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Features reprojected from RD to EPSG:4326 in latitude/longitude order (WFS 2.0)."""
    return _from_rd(features, latitude_first=True)


def _to_crs84(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Features reprojected from RD to CRS84 (longitude/latitude), OGC API's default."""
    return _from_rd(features, latitude_first=False)


def _from_rd(features: list[dict[str, Any]], *, latitude_first: bool) -> list[dict[str, Any]]:
    # lazy: pyproj: only reprojection needs it (+0.09 s at start-up)
    from pyproj import Transformer

    rd_to_wgs = Transformer.from_crs(28992, 4326, always_xy=True)

    def convert(coords: Any) -> Any:
        if coords and isinstance(coords[0], (int, float)):
            lon, lat = rd_to_wgs.transform(coords[0], coords[1])
            pair = [round(lat, 7), round(lon, 7)]
            return pair if latitude_first else pair[::-1]
        return [convert(c) for c in coords]

    out = []
    for f in features:
        geom = f.get("geometry") or {}
        out.append({**f, "geometry": {**geom, "coordinates": convert(geom.get("coordinates"))}})
    return out


#: gokoala's default page size when ``limit`` is not given.
OGC_DEFAULT_LIMIT = 10


def _cursor_tag(filters: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:6]


def _cursor(offset: int, filters: dict[str, str]) -> str:
    """An opaque cursor (as gokoala's): the position, tied to the request's filters."""
    pos = base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")
    return f"{pos}|{_cursor_tag(filters)}"


def _cursor_param(offset: int | None, filters: dict[str, str]) -> dict[str, str]:
    return {} if not offset else {"cursor": _cursor(offset, filters)}


def _cursor_offset(cursor: str | None, filters: dict[str, str]) -> int | None:
    """The position of a cursor (0 without one); ``None`` for one that is not ours."""
    if not cursor:
        return 0
    pos, _, tag = cursor.partition("|")
    if tag != _cursor_tag(filters) or len(pos) > 16:
        return None
    try:
        return int(base64.urlsafe_b64decode(pos + "=" * (-len(pos) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


@contextmanager
def serving(root: Path | str, **kwargs: Any) -> Iterator[ReplayServer]:
    """Context manager that serves ``root`` and yields the running server."""
    server = ReplayServer(root, **kwargs)
    with server:
        yield server
