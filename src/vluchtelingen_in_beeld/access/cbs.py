"""CBS access: metadata, filtered extracts, the local store, offline use.

The one entry point for rows is :func:`fetch`: give it a :class:`Query` (table, the keys
wanted per dimension) and it returns an :class:`Extract` from the local store, or fetches
exactly those rows with a server-side ``$filter`` through :mod:`.client` and stores them.
CBS keys are kept (never swapped for titles) and stripped of their padding; CBS nulls stay
missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.access.client import fetch_endpoint
from vluchtelingen_in_beeld.access.odata_filter import quote
from vluchtelingen_in_beeld.access.store import Entry, Store
from vluchtelingen_in_beeld.access.tables import SENTINELS
from vluchtelingen_in_beeld.errors import (
    CbsError,
    EmptyAnswerError,
    MetadataError,
    OfflineMissError,
    StoreError,
    TooManyRowsError,
    UnknownTableError,
    did_you_mean,
)
from vluchtelingen_in_beeld.records import SourceRecord
from vluchtelingen_in_beeld.settings import Settings, public_source, snapshot_label

log = logging.getLogger(__name__)

_META_ENDPOINTS = ("TableInfos", "DataProperties", "CategoryGroups")
_DIM_TYPES = ("Dimension", "GeoDimension", "TimeDimension", "GeoDetail")
_INT_TYPES = ("Long", "Integer", "Short", "Int32", "Int64", "Byte")
_FLOAT_TYPES = ("Double", "Float", "Decimal", "Single")


@dataclass(frozen=True)
class TableMeta:
    """A table's metadata: info, properties and the keys of every dimension."""

    table: str
    info: dict[str, Any]
    properties: list[dict[str, Any]]
    dimensions: dict[str, list[dict[str, Any]]]
    source: str = ""

    @property
    def modified(self) -> str:
        """CBS's ``Modified`` stamp of the table."""
        return str(self.info.get("Modified", ""))

    @property
    def title(self) -> str:
        """The table's title."""
        return str(self.info.get("Title", self.table))

    @property
    def explanatory_text(self) -> str:
        """CBS's ``ExplanatoryText`` (a snapshot's warning lives here)."""
        return str(self.info.get("ExplanatoryText") or "")

    def dimension_names(self) -> list[str]:
        """Dimension keys in table order."""
        return [p["Key"] for p in self.properties if _is_dimension(p, self.dimensions)]

    def topics(self) -> list[dict[str, Any]]:
        """Measure properties (type ``Topic``, or a ``GeoDetail`` column without endpoint)."""
        return [
            p
            for p in self.properties
            if p.get("Type") == "Topic"
            or (p.get("Type") == "GeoDetail" and str(p.get("Key")) not in self.dimensions)
        ]

    def keys(self, dim: str) -> list[str]:
        """Stripped keys of a dimension."""
        if dim not in self.dimensions:
            raise MetadataError(
                f"{self.table} has no dimension {dim!r}.{did_you_mean(dim, self.dimensions)} "
                f"Dimensions: {', '.join(self.dimensions) or 'none'}. If the local store holds "
                "an old or damaged copy of the metadata, run again with `refresh`."
            )
        return [str(r["Key"]).strip() for r in self.dimensions[dim]]

    def raw_key(self, dim: str, key: str) -> str:
        """The key as CBS writes it (with padding), for use in a filter."""
        for r in self.dimensions.get(dim, []):
            if str(r["Key"]).strip() == key:
                return str(r["Key"])
        return key

    def titles(self, dim: str) -> dict[str, str]:
        """Stripped key -> title of a dimension."""
        self.keys(dim)
        return {
            str(r["Key"]).strip(): str(r.get("Title", "")).strip() for r in self.dimensions[dim]
        }

    def periods(self) -> list[str]:
        """Period keys of the table."""
        for p in self.properties:
            if p.get("Type") == "TimeDimension":
                return self.keys(p["Key"])
        return []

    def cell_count(self) -> int:
        """Cells in the whole table: product of dimension sizes times measures."""
        sizes = [len(self.dimensions.get(d, [])) or 1 for d in self.dimension_names()]
        return math.prod(sizes) * max(1, len(self.topics()))

    def to_json(self) -> dict[str, Any]:
        """Serialisable form (for the store)."""
        return {
            "table": self.table,
            "info": self.info,
            "properties": self.properties,
            "dimensions": self.dimensions,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableMeta:
        """Inverse of :meth:`to_json`."""
        return cls(
            table=data["table"],
            info=data["info"],
            properties=data["properties"],
            dimensions=data["dimensions"],
            source=data.get("source", ""),
        )


@dataclass(frozen=True)
class Query:
    """Which rows of a table: exact keys per dimension, key prefixes, measures.

    Keys are given stripped; the filter uses CBS's padded form from the metadata.
    """

    table: str
    keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    prefixes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    measures: tuple[str, ...] = ()

    @classmethod
    def make(
        cls,
        table: str,
        keys: Mapping[str, Sequence[str]] | None = None,
        prefixes: Mapping[str, Sequence[str]] | None = None,
        measures: Sequence[str] = (),
    ) -> Query:
        """Build a query from plain dicts (order-insensitive, duplicates removed)."""
        return cls(
            table=table.upper(),
            keys=tuple(sorted((d, tuple(sorted(set(v)))) for d, v in (keys or {}).items())),
            prefixes=tuple(sorted((d, tuple(sorted(set(v)))) for d, v in (prefixes or {}).items())),
            measures=tuple(measures),
        )

    def filter_text(self, meta: TableMeta | None = None) -> str:
        """The OData ``$filter`` for these rows."""
        parts = []
        for dim, keys in self.keys:
            raw = [meta.raw_key(dim, k) if meta else k for k in keys]
            alts = " or ".join(f"{dim} eq {quote(k)}" for k in raw)
            parts.append(f"({alts})" if len(raw) > 1 else alts)
        for dim, prefixes in self.prefixes:
            alts = " or ".join(f"startswith({dim},{quote(p)})" for p in prefixes)
            parts.append(f"({alts})" if len(prefixes) > 1 else alts)
        return " and ".join(parts)

    def select(self, meta: TableMeta) -> list[str] | None:
        """``$select`` columns: every dimension plus the asked measures (None: all)."""
        if not self.measures:
            return None
        return meta.dimension_names() + list(self.measures)

    def store_key(self, source: str) -> str:
        """Stable key of this query from this source, for the store."""
        blob = json.dumps(
            {"source": source, "q": [self.table, self.keys, self.prefixes, self.measures]},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def split(self) -> tuple[Query, Query]:
        """Two queries that together ask for the same rows (to stay under row limits).

        Halves the longest list of keys; failing that, the longest list of prefixes.
        """
        if halves := _halve(self.keys):
            return (
                Query(self.table, halves[0], self.prefixes, self.measures),
                Query(self.table, halves[1], self.prefixes, self.measures),
            )
        if halves := _halve(self.prefixes):
            return (
                Query(self.table, self.keys, halves[0], self.measures),
                Query(self.table, self.keys, halves[1], self.measures),
            )
        raise TooManyRowsError(
            f"{self.table}: even a single-key request ({self.filter_text()}) is over CBS's row "
            "limit; ask for fewer periods or regions."
        )


Pairs = tuple[tuple[str, tuple[str, ...]], ...]


def _halve(pairs: Pairs) -> tuple[Pairs, Pairs] | None:
    """Split the longest value list of ``pairs`` in two halves (None if none has two)."""
    candidates = [(len(v), i) for i, (_, v) in enumerate(pairs) if len(v) > 1]
    if not candidates:
        return None
    _, i = max(candidates)
    dim, values = pairs[i]
    half = len(values) // 2
    return (
        pairs[:i] + ((dim, values[:half]),) + pairs[i + 1 :],
        pairs[:i] + ((dim, values[half:]),) + pairs[i + 1 :],
    )


@dataclass(frozen=True)
class Extract:
    """Rows of one query, with the metadata and manifest they came with."""

    query: Query
    frame: pd.DataFrame
    meta: TableMeta
    manifest: dict[str, Any]
    from_store: bool

    def provenance(self) -> SourceRecord:
        """What an output needs to say about where these rows came from."""
        m = self.manifest
        return {
            "table": self.meta.table,
            "title": self.meta.title,
            "modified": self.meta.modified,
            "filter": m.get("filter"),
            "rows": m.get("rows"),
            "fetched_at": m.get("fetched_at"),
            "source": public_source(str(m.get("source") or "")),
            "explanatory_text": self.meta.explanatory_text,
            "checksum": m.get("files", {}).get("rows.parquet"),
        }


@dataclass
class Session:
    """Settings plus what this process already has in memory (metadata, counts)."""

    settings: Settings
    store: Store = field(init=False)
    _meta: dict[str, TableMeta] = field(default_factory=dict)
    #: extracts this process already has, by store key: each is read or fetched once
    _extracts: dict[str, Extract] = field(default_factory=dict)
    fetched: list[Extract] = field(default_factory=list)

    def __post_init__(self) -> None:
        data_dir = self.settings.data_dir
        if data_dir.exists() and not data_dir.is_dir():
            raise StoreError(
                f"The data dir {data_dir} is a file; the local store needs a folder. Give "
                "another `data_dir` (or $VIB_DATA_DIR)."
            )
        self.store = Store(data_dir)


def _fill_hint(settings: Settings) -> str:
    if settings.snapshot_dir is not None:
        return "Run once without `offline`: it reads the snapshot into the store."
    return "Run once without `offline` (or with a `snapshot` folder) to fill the store."


def offline_settings(settings: Settings) -> tuple[Settings, str]:
    """For ``--offline`` without ``--snapshot``: read what the store holds.

    Extracts are kept apart by source (live CBS, each snapshot by name and checksum). If
    the store has nothing from the configured source but everything it has comes from one
    snapshot, that snapshot is used, with its warning texts from the stored metadata, and
    the returned note says so. With several, the user must choose with ``--snapshot DIR``.
    """
    store = Store(settings.data_dir)
    sources: dict[str, list[dict[str, Any]]] = {}
    geo: set[str] = set()
    for entry in store.entries():
        m = entry.manifest
        if m.get("kind") == "metadata":
            sources.setdefault(str(m.get("source")), []).append(
                {"table": m.get("table"), "path": entry.path}
            )
        elif m.get("table") == "PDOK-GEMEENTE-GEGENERALISEERD":
            geo.add(str(m.get("source")))
    if settings.source in sources or not sources:
        return settings, ""
    if len(sources) > 1:
        raise OfflineMissError(
            f"The local store ({settings.data_dir}) holds nothing from {settings.source}, but "
            f"rows from several snapshots ({', '.join(sorted(sources))}). Choose one: "
            "`offline` with a `snapshot` folder."
        )
    source, tables = next(iter(sources.items()))
    warnings = []
    for t in tables:
        info = json.loads((t["path"] / "metadata.json").read_text("utf-8")).get("info", {})
        if info.get("ExplanatoryText"):
            warnings.append((str(t["table"]), str(info["ExplanatoryText"])))
    adopted = settings.with_(
        source=source,
        snapshot_label=snapshot_label(source),
        snapshot_warnings=tuple(sorted(warnings)),
    )
    if len(geo) == 1:
        adopted = adopted.with_(geo_source=next(iter(geo)))
    return adopted, (
        f"Offline: the local store holds only rows from {source}; using those "
        "(`offline` with a `snapshot` folder chooses explicitly)."
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: How long "this table does not exist" is believed before CBS is asked again: CBS
#: publishes a new edition (a Kerncijfers wijken en buurten year) without notice.
ABSENT_HOURS = 24


def _absent(session: Session, table: str, key: str) -> UnknownTableError | None:
    """The stored answer that ``table`` does not exist, if it is recent (any age offline)."""
    settings = session.settings
    if settings.refresh:
        return None
    entry = session.store.read(table, "absent-" + key)
    if entry is None:
        return None
    try:
        said = json.loads(entry.file("absent.json").read_text("utf-8"))
        checked = datetime.fromisoformat(said["checked_at"])
    except (ValueError, KeyError, TypeError, OSError):
        return None
    age = (datetime.now(UTC) - checked).total_seconds() / 3600
    if age > ABSENT_HOURS and not settings.offline:
        return None
    return UnknownTableError(
        f"{said.get('message', table + ' does not exist')} (answer of {said['checked_at']}; "
        "`refresh` asks again)"
    )


def get_metadata(session: Session, table: str) -> TableMeta:
    """A table's metadata: from memory, the store, or CBS (then stored).

    That a table does not exist (an edition CBS has not published yet) is stored too, and
    believed for :data:`ABSENT_HOURS`, so a warm run asks CBS nothing.
    """
    table = table.upper()
    settings = session.settings
    if table in session._meta:
        return session._meta[table]
    key = hashlib.sha256(f"{settings.source}|{table}|meta".encode()).hexdigest()[:20]
    gone = _absent(session, table, key)
    if gone is not None:
        raise gone
    entry = None if settings.refresh else session.store.read(table, "meta-" + key)
    meta = None
    if entry is not None:
        try:
            meta = TableMeta.from_json(json.loads(entry.file("metadata.json").read_text("utf-8")))
        except Exception as exc:  # noqa: BLE001 - a damaged entry is not usable
            log.warning("store entry %s is damaged (%s)", entry.path, exc)
            if settings.offline:
                raise StoreError(
                    f"The local store's metadata of {table} is damaged ({exc}). Run the "
                    "command without `offline` and with `refresh`."
                ) from None
    if meta is None:
        if settings.offline:
            raise OfflineMissError(
                f"The local store ({settings.data_dir}) has no metadata of {table} from "
                f"{settings.snapshot_label or settings.source}, and `offline` forbids fetching "
                f"it. {_fill_hint(settings)}"
            )
        try:
            listing = fetch_endpoint(settings, table, "")
        except UnknownTableError as exc:
            session.store.write(
                table,
                "absent-" + key,
                {"absent.json": json.dumps({"message": str(exc), "checked_at": _now()}).encode()},
                {"kind": "absent", "source": settings.source, "fetched_at": _now()},
            )
            raise
        names = [str(item.get("name")) for item in listing]
        if not {"TableInfos", "DataProperties"} <= set(names):
            raise CbsError(
                f"{table}: the server's listing of the table names no TableInfos and "
                f"DataProperties (it lists: {', '.join(names) or 'nothing'}); nothing was "
                "stored. Try again later, or check `cbs_url`."
            )
        infos = fetch_endpoint(settings, table, "TableInfos")
        props = fetch_endpoint(settings, table, "DataProperties")
        dims: dict[str, list[dict[str, Any]]] = {}
        for p in props:
            if p.get("Type") in _DIM_TYPES and p.get("Key") in names:
                dims[str(p["Key"])] = fetch_endpoint(settings, table, str(p["Key"]))
        _check_metadata(table, infos, props, dims)
        meta = TableMeta(
            table=table,
            info=infos[0] if infos else {},
            properties=props,
            dimensions=dims,
            source=settings.source,
        )
        session.store.write(
            table,
            "meta-" + key,
            {"metadata.json": json.dumps(meta.to_json(), ensure_ascii=False).encode("utf-8")},
            {
                "kind": "metadata",
                "source": settings.source,
                "modified": meta.modified,
                "fetched_at": _now(),
                "tool_version": __version__,
            },
        )
    session._meta[table] = meta
    return meta


def _is_dimension(prop: Mapping[str, Any], endpoints: Mapping[str, Any]) -> bool:
    """Whether a DataProperties entry is a dimension of the table.

    A ``GeoDetail`` is one only when the table has an endpoint for it; CBS also uses the
    type for descriptive columns of a region (a name, a code) that have none.
    """
    kind = prop.get("Type")
    if kind == "GeoDetail":
        return str(prop.get("Key")) in endpoints
    return kind in _DIM_TYPES


def _check_metadata(
    table: str,
    infos: list[dict[str, Any]],
    props: list[dict[str, Any]],
    dims: dict[str, list[dict[str, Any]]],
) -> None:
    """Refuse metadata that cannot describe a table, before it is stored."""
    problem = ""
    declared = [p for p in props if _is_dimension(p, dims)]
    if not infos:
        problem = "TableInfos is empty"
    elif not props or not all(isinstance(p.get("Key"), str) for p in props):
        problem = "DataProperties lists no properties with keys"
    elif not declared:
        problem = "DataProperties names no dimensions"
    elif missing := [str(p["Key"]) for p in declared if not dims.get(str(p["Key"]))]:
        problem = f"no keys for dimension(s) {', '.join(missing)}"
    elif bad := [d for d, rows in dims.items() if not all("Key" in r for r in rows)]:
        problem = f"dimension(s) {', '.join(bad)} have rows without a Key"
    if problem:
        raise CbsError(
            f"{table}: the server's metadata is incomplete ({problem}); nothing was stored. "
            "Try again later, or check `cbs_url`."
        )


def validate_query(query: Query, meta: TableMeta) -> None:
    """Raise :class:`MetadataError` for any dimension, key or measure not in the table."""
    for dim, keys in query.keys + query.prefixes:
        available = meta.keys(dim)
        if (dim, keys) in query.prefixes:
            continue
        for key in keys:
            if key not in available:
                titles = meta.titles(dim)
                if dim == "Perioden" or meta.dimension_names()[-1:] == [dim]:
                    raise MetadataError(
                        f"Period {key!r} is not in {meta.table} ({meta.title}). Available "
                        f"periods: {', '.join(available)}."
                    )
                shown = ", ".join(f"{k} ({titles.get(k, '')})" for k in available[:30])
                more = " …" if len(available) > 30 else ""
                raise MetadataError(
                    f"Key {key!r} is not in dimension {dim} of {meta.table}."
                    f"{did_you_mean(key, available)} Available: {shown}{more}."
                )
    topic_keys = {p["Key"] for p in meta.topics()}
    for m in query.measures:
        if m not in topic_keys:
            raise MetadataError(
                f"Measure {m!r} is not in {meta.table}.{did_you_mean(m, topic_keys)}"
            )


def _download(
    session: Session, query: Query, meta: TableMeta, depth: int = 0
) -> list[dict[str, Any]]:
    try:
        return fetch_endpoint(
            session.settings,
            query.table,
            "TypedDataSet",
            filters=query.filter_text(meta) or None,
            select=query.select(meta),
        )
    except TooManyRowsError:
        if depth > 12:
            raise
        a, b = query.split()
        log.info("%s: over the row limit; splitting the request in two", query.table)
        return _download(session, a, meta, depth + 1) + _download(session, b, meta, depth + 1)


def rows_to_frame(
    rows: list[dict[str, Any]], meta: TableMeta, measures: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Typed frame from raw OData rows: keys stripped, measures typed, nulls kept missing.

    CBS's placeholder codes in numeric cells (:data:`~.tables.SENTINELS`, e.g. -99997 for
    a suppressed figure) become missing too: they are not numbers.
    """
    dims = meta.dimension_names()
    topics = {p["Key"]: p for p in meta.topics()}
    columns = dims + list(measures or topics)
    frame = pd.DataFrame.from_records(rows)
    for col in columns:
        if col not in frame.columns:
            frame[col] = pd.Series([None] * len(frame), dtype=object)
    if "ID" in frame.columns:
        frame = frame.drop(columns="ID")
    for col in frame.columns:
        if col in dims:
            frame[col] = frame[col].astype("string").str.strip()
        elif col in topics:
            dtype = str(topics[col].get("Datatype", ""))
            if dtype in _INT_TYPES or dtype in _FLOAT_TYPES:
                values = pd.to_numeric(frame[col], errors="coerce")
                values = values.mask(values.isin(SENTINELS))
                frame[col] = values.astype("Int64" if dtype in _INT_TYPES else "Float64")
            else:
                frame[col] = frame[col].astype("string").str.strip()
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class Expected:
    """The keys an answer must hold for one dimension, and where that list comes from.

    ``keys``: e.g. the gemeenten of the data's year; ``source``: what says so, for the
    message (``"Gebieden in Nederland 2025 (86059NED)"``). A key of the list with no rows, or
    with every measure missing, is asked for again alone and then refused: an answer is
    never stored without one of the year's gemeenten. A key outside the list is refused too.
    """

    dim: str
    keys: tuple[str, ...]
    source: str
    names: Mapping[str, str] = field(default_factory=dict)


def fetch(
    session: Session, query: Query, expect: Expected | None = None, *, probe: bool = False
) -> Extract:
    """Rows for ``query``: from the local store, or fetched from CBS and stored.

    ``expect``: the keys the answer must hold (see :class:`Expected`); checked before the
    answer is stored, and on what the store gives back. An empty answer is never stored:
    it is refused, or with ``probe`` (a question whose answer may be "none") returned
    for this run only.
    """
    settings = session.settings
    key = query.store_key(settings.source)
    if key in session._extracts:
        return session._extracts[key]
    entry: Entry | None = None if settings.refresh else session.store.read(query.table, key)
    if entry is not None:
        try:
            if not {"rows.parquet", "metadata.json"} <= set(entry.manifest.get("files", {})):
                raise ValueError("the entry's manifest does not list its files")
            frame = pd.read_parquet(entry.file("rows.parquet"))
            meta = TableMeta.from_json(json.loads(entry.file("metadata.json").read_text("utf-8")))
        except Exception as exc:  # noqa: BLE001 - any damage to an entry means: not usable
            log.warning("store entry %s is damaged (%s); fetching again", entry.path, exc)
            if settings.offline:
                raise StoreError(
                    f"The local store's entry for {query.table} ({entry.path.name}) is damaged "
                    f"({exc}). Run again without `offline` and with `refresh`."
                ) from None
            entry = None
        else:
            log.info(
                "STORE %s %s %s (%d rows)",
                query.table,
                key[:12],
                query.filter_text()[:80],
                len(frame),
            )
            if expect is not None:  # an entry of before this check: refused the same way
                _check_expected(query, meta, frame, expect, refetch="`refresh`")
            extract = Extract(query, frame, meta, entry.manifest, from_store=True)
            session.fetched.append(extract)
            session._extracts[key] = extract
            return extract
    if settings.offline:
        raise OfflineMissError(
            f"The local store ({settings.data_dir}) does not hold {query.table} rows for "
            f"{query.filter_text()!r} from {settings.snapshot_label or settings.source}, and "
            f"`offline` forbids fetching them. {_fill_hint(settings)}"
        )
    meta = get_metadata(session, query.table)
    validate_query(query, meta)
    rows = _download(session, query, meta)
    if not rows and probe:
        frame = rows_to_frame(rows, meta, query.measures)
        return Extract(query, frame, meta, {}, from_store=False)
    if not rows:
        raise EmptyAnswerError(
            f"{query.table} ({meta.title}): the answer to {query.filter_text(meta)!r} is empty; "
            "nothing was stored. CBS answers an empty list for a period or key it does not "
            "have: try again later, or run `vib check`."
        )
    check_values(query, meta, rows)
    frame = rows_to_frame(rows, meta, query.measures)
    check_answer(query, meta, frame)
    check_complete(session, query, meta, frame, expect)
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    n_measures = len(query.measures) or len(meta.topics())
    info = {
        "kind": "extract",
        "title": meta.title,
        "source": settings.source,
        "cbs_url": settings.cbs_url,
        "filter": query.filter_text(meta),
        "select": query.select(meta),
        "modified": meta.modified,
        "fetched_at": _now(),
        "rows": len(frame),
        "cells": len(frame) * n_measures,
        "table_cells": meta.cell_count(),
        "tool_version": __version__,
    }
    entry = session.store.write(
        query.table,
        key,
        {
            "rows.parquet": buf.getvalue(),
            "metadata.json": json.dumps(meta.to_json(), ensure_ascii=False).encode("utf-8"),
        },
        info,
    )
    extract = Extract(query, frame, meta, entry.manifest, from_store=False)
    session.fetched.append(extract)
    session._extracts[key] = extract
    return extract


#: Above this a count cannot be held exactly (2**53) and is no count of people.
MAX_COUNT = 2**53


def check_values(query: Query, meta: TableMeta, rows: list[dict[str, Any]]) -> None:
    """Refuse an answer whose measures are not what the metadata says, before it is stored.

    Every measure asked for is a column of the answer; a numeric measure holds numbers (or
    null, or one of CBS's placeholder codes); a whole-number measure (CBS's counts) holds
    whole numbers of 0 or more, below :data:`MAX_COUNT`. The error names the table, the
    first offending row and what is wrong with it.
    """
    if not rows:
        return
    topics = {p["Key"]: p for p in meta.topics()}
    wanted = [m for m in (query.measures or tuple(topics)) if m in topics]
    present: set[str] = set()
    for r in rows:
        present.update(r)
    missing = [m for m in wanted if m not in present]
    if missing:
        raise CbsError(
            f"{query.table}: the answer lacks the column(s) {', '.join(missing)} that the "
            "table's metadata lists; nothing was stored. Try again later, or run `vib check`."
        )
    dims = meta.dimension_names()
    for m in wanted:
        kind = str(topics[m].get("Datatype", ""))
        if kind not in _INT_TYPES and kind not in _FLOAT_TYPES:
            continue
        for r in rows:
            why = _bad_value(r.get(m), whole=kind in _INT_TYPES)
            if why:
                where = ", ".join(f"{d} {str(r.get(d, '')).strip()}" for d in dims)
                raise CbsError(
                    f"{query.table}: {m} of the row {where} is {r.get(m)!r:.40}: {why}; "
                    "nothing was stored. Try again later; if it stays, the table changed "
                    "(run `vib check`)."
                )


def _bad_value(value: Any, *, whole: bool) -> str:
    """What is wrong with one measure cell ('' when nothing is)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "not a number"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "not a number"
    if x in SENTINELS:
        return ""
    if not math.isfinite(x):
        return "not a finite number"
    if whole:
        if x < 0:
            return "a negative count"
        if x != math.floor(x):
            return "a count with a fraction"
        if x >= MAX_COUNT:
            return "too large to be a count"
    return ""


def _distinct(column: pd.Series) -> set[str]:
    """The distinct keys of a column, missing ones left out (one pass in pandas, not Python)."""
    return {str(v) for v in column.dropna().unique().tolist()}


def check_answer(query: Query, meta: TableMeta, frame: pd.DataFrame) -> None:
    """Refuse an answer that holds rows the query did not ask for, before it is stored.

    CBS drops a ``$filter`` clause it does not understand and answers with the unfiltered
    rows (HTTP 200), so an answer is checked against the query, not trusted.
    """
    # rows_to_frame gives every dimension a column: one the answer lacked is all missing
    absent_dims = [d for d in meta.dimension_names() if frame[d].isna().all()]
    if absent_dims and len(frame):
        raise CbsError(
            f"{query.table}: the answer lacks the dimension column(s) {', '.join(absent_dims)}; "
            "nothing was stored."
        )
    for dim, keys in query.keys:
        wanted = set(keys)
        extra = sorted(_distinct(frame[dim]) - wanted)
        if extra:
            raise CbsError(
                f"{query.table}: the server answered rows for {dim} {', '.join(extra[:5])}"
                f"{' …' if len(extra) > 5 else ''}, which were not asked for (it ignored part "
                "of the filter); nothing was stored. Run `vib check`, or try again later."
            )
    dims = meta.dimension_names()
    if dims and len(frame):
        dup = frame.duplicated(subset=dims)
        if dup.any():
            first = frame.loc[dup, dims].iloc[0].to_dict()
            raise CbsError(
                f"{query.table}: the answer holds {int(dup.sum())} duplicate row(s) (e.g. "
                f"{first}); nothing was stored. Try again later."
            )
        for dim in dims:
            known = set(meta.keys(dim))
            unknown = sorted(_distinct(frame[dim]) - known)
            if unknown:
                raise CbsError(
                    f"{query.table}: the answer has {dim} keys the table's metadata does not "
                    f"know ({', '.join(unknown[:5])}); nothing was stored. Run again with "
                    "`refresh` to fetch the metadata anew."
                )
    for dim, prefixes in query.prefixes:
        bad = sorted(v for v in _distinct(frame[dim]) if not str(v).startswith(tuple(prefixes)))
        if bad:
            raise CbsError(
                f"{query.table}: the server answered rows for {dim} {', '.join(bad[:5])}, "
                f"outside the asked {', '.join(prefixes)}; nothing was stored."
            )


#: At most this many missing regions are asked for again to tell a cut answer from a gap.
MAX_PROBE = 25


def _present(frame: pd.DataFrame, dim: str, measures: Sequence[str]) -> set[str]:
    """Keys of ``dim`` with at least one measure cell that is not missing."""
    cols = [m for m in measures if m in frame.columns]
    if not cols:
        return _distinct(frame[dim])
    filled = frame[cols].notna().any(axis=1)
    return _distinct(frame.loc[filled, dim])


def _gemeenten(n: int) -> str:
    return f"{n} gemeente" if n == 1 else f"{n} gemeenten"


def _named(keys: Sequence[str], names: Mapping[str, str], limit: int = 8) -> str:
    shown = ", ".join(f"{k} ({names[k]})" if k in names else k for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _check_expected(
    query: Query, meta: TableMeta, frame: pd.DataFrame, expect: Expected, *, refetch: str = ""
) -> None:
    """Refuse an answer that lacks a key of ``expect``, or holds one outside it."""
    measures = list(query.measures) or [p["Key"] for p in meta.topics()]
    wanted = set(expect.keys)
    present = _present(frame, expect.dim, measures)
    # the kind of key the list holds (GM…): others (PV…, NL01) are not compared
    kinds = {k[:2] for k in wanted}
    listed = {k for k in present if k[:2] in kinds}
    missing = sorted(wanted - present)
    extra = sorted(listed - wanted)
    again = f" Run again with {refetch}." if refetch else ""
    if missing:
        raise CbsError(
            f"{query.table}: no figures for {_gemeenten(len(missing))} of {expect.source}: "
            f"{_named(missing, expect.names)}; nothing was stored.{again} Try again later; if "
            "it stays, CBS lacks them: run `vib check`, or choose another year."
        )
    if extra:
        raise CbsError(
            f"{query.table} has figures for {_named(extra, meta.titles(expect.dim))}, which "
            f"{expect.source} does not list; the tables disagree, so nothing was stored.{again} "
            "Fetch both again with `refresh`; if it stays, run `vib check`."
        )


def check_complete(
    session: Session,
    query: Query,
    meta: TableMeta,
    frame: pd.DataFrame,
    expect: Expected | None = None,
) -> None:
    """Refuse an answer that lacks regions it must have, before it is stored.

    With ``expect`` (the gemeenten of the data's year) every one of them must have a row
    with a figure: a gemeente without is asked for once more on its own (a cut answer is
    told from a table that lacks it), and refused either way, naming it. Without, every key of
    a ``startswith`` dimension that the metadata lists should be in the answer; a table's
    region list spans all its periods, so a region may legitimately have no rows in the
    period asked (a gemeente merged away): the missing keys are asked for once more alone,
    and only rows that then come make the first answer a cut one.
    """
    measures = list(query.measures) or [p["Key"] for p in meta.topics()]
    for dim, prefixes in query.prefixes:
        if expect is not None and expect.dim == dim:
            expected = set(expect.keys)
            present = _present(frame, dim, measures)
        else:
            expected = {k for k in meta.keys(dim) if k.startswith(tuple(prefixes))}
            present = set(frame[dim].dropna())
        missing = sorted(expected - present)
        if not missing:
            continue
        keys = {d: list(v) for d, v in query.keys}
        probe = Query.make(query.table, {**keys, dim: missing[:MAX_PROBE]}, None, query.measures)
        rows = _download(session, probe, meta)
        if rows:
            found = sorted(_present(rows_to_frame(rows, meta, query.measures), dim, measures))
            if found:
                named = _named(found, meta.titles(dim), 5)
                raise CbsError(
                    f"{query.table}: the answer lacks the rows of {dim} {named}, which the table "
                    "has (asked for alone, they came); nothing was stored. Try again later."
                )
        log.info("%s: no rows for %s %s in this period", query.table, dim, ", ".join(missing[:10]))
    if expect is not None:
        _check_expected(query, meta, frame, expect)
