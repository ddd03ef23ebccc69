"""Snapshots: CBS tables saved to a folder, and served back as if CBS were online.

A snapshot folder holds one sub-folder per table in the layout that
``cbsodata.download_data(table, dir=...)`` writes (one JSON file per endpoint, each the
endpoint's ``value`` list). :func:`save_snapshot` writes one; :func:`serving_snapshot` serves
one on 127.0.0.1 and returns settings that make every command read from it through the
normal code path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vluchtelingen_in_beeld.access.cbs import Session, get_metadata
from vluchtelingen_in_beeld.access.client import fetch_endpoint
from vluchtelingen_in_beeld.access.server import ReplayServer, check_snapshot
from vluchtelingen_in_beeld.access.tables import period_key
from vluchtelingen_in_beeld.atomic import building
from vluchtelingen_in_beeld.errors import ConfigError, SnapshotError
from vluchtelingen_in_beeld.settings import Settings, snapshot_label, snapshot_source

#: A boundary file of a year, as `vib snapshot save --boundary-year` writes it.
FILE_PATTERN = re.compile(r"^gemeente_gegeneraliseerd_(\d{4})\.(geo)?json$")

#: Above this many cells a whole-table snapshot needs ``--all`` (or a filter).
WHOLE_TABLE_LIMIT = 2_000_000


@dataclass(frozen=True)
class SavedTable:
    """What :func:`save_snapshot` wrote for one table."""

    table: str
    path: Path
    rows: int
    filter: str


def boundary_files(folder: Path) -> dict[int, Path]:
    """Year -> file for every ``gemeente_gegeneraliseerd_<year>.geojson`` in ``folder``."""
    out = {}
    if folder.is_dir():
        for p in folder.iterdir():
            if m := FILE_PATTERN.match(p.name):
                out[int(m.group(1))] = p
    return dict(sorted(out.items()))


def find_geo_folder(snapshot: Path) -> Path | None:
    """The boundary folder that belongs with a snapshot: ``geo/`` inside it or beside it."""
    for cand in (snapshot / "geo", snapshot / "geo" / "pdok", snapshot.parent / "geo" / "pdok"):
        if boundary_files(cand):
            return cand
    return None


def geo_settings(settings: Settings, url: str, folder: Path) -> Settings:
    """Settings that read boundaries from ``folder`` served at ``url``.

    The folder is named by its name and checksum (store key, provenance), never its path.
    """
    files = boundary_files(folder)
    digest = folder_digest(list(files.values()), folder)
    return settings.with_(
        pdok_url=url,
        boundary_years=tuple(files),
        geo_source=f"files:{folder.name}@{digest}",
        geo_dir=Path(os.path.abspath(folder)),  # as given: a link inside a tree stays in it
    )


@contextmanager
def serving_boundaries(settings: Settings, folder: Path) -> Iterator[Settings]:
    """Serve a folder of boundary files at PDOK's paths on 127.0.0.1."""
    if not boundary_files(folder):
        raise ConfigError(
            f"{folder} holds no gemeente_gegeneraliseerd_<year>.geojson files; give such a "
            "folder or one boundary file."
        )
    with ReplayServer(folder, boundaries=boundary_files(folder)) as server:
        yield geo_settings(settings, server.url, folder)


def folder_digest(files: Sequence[Path], root: Path) -> str:
    """sha256 over the relative names and contents of ``files`` (first 16 hex digits)."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def snapshot_settings(settings: Settings, folder: Path) -> Settings:
    """Settings that name ``folder`` as the source, without serving it (``--offline``).

    The source is the snapshot's name and checksum, so extracts of different snapshots
    stay apart in the store and no output shows where the folder lay on disk.
    """
    _check_folder(folder)
    tables = [
        p
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".") and (p / "TableInfos.json").is_file()
    ]
    files = [f for t in tables for f in t.glob("*.json")]
    digest = folder_digest(files, folder)
    source = snapshot_source(folder.name, digest)
    warnings = tuple(snapshot_warnings(folder).items())
    out = settings.with_(
        source=source,
        snapshot_dir=Path(os.path.abspath(folder)),
        snapshot_label=snapshot_label(source),
        snapshot_warnings=warnings,
    )
    geo = find_geo_folder(folder)
    if geo is not None:
        out = geo_settings(out, settings.pdok_url, geo)
    return out


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ConfigError(
            f"Snapshot folder {folder} does not exist. Give a folder written by "
            "`vib snapshot save` (or cbsodata.download_data), e.g. ../shared/data/statline."
        )
    tables = [p for p in folder.iterdir() if p.is_dir() and (p / "TableInfos.json").is_file()]
    if not tables:
        raise ConfigError(
            f"{folder} holds no table folders with a TableInfos.json; it is not a snapshot."
        )
    problems = check_snapshot(folder)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise SnapshotError(f"Snapshot {folder.name}: {problems[0]}{more}")


@contextmanager
def serving_snapshot(settings: Settings, folder: Path | str) -> Iterator[Settings]:
    """Serve ``folder`` locally; yield settings pointing at it.

    The files are checked first (:func:`~.server.check_snapshot`): a truncated or
    missing file is one clear error before any request. Gemeente boundaries found in
    ``folder/geo`` (or ``../geo/pdok`` beside it, the shared layout) are served at PDOK's
    paths by the same server. Without them, boundaries are not fetched from the internet
    behind the user's back: maps then need ``--boundaries``.
    """
    folder = Path(folder)
    named = snapshot_settings(settings, folder)
    geo = named.geo_dir
    with ReplayServer(folder, boundaries=boundary_files(geo) if geo else {}) as server:
        served = named.with_(cbs_url=server.url)
        if geo is not None:
            served = served.with_(pdok_url=server.url)
        else:
            served = served.with_(pdok_url=server.url, boundary_years=())
        yield served


@contextmanager
def snapshot_server(folder: Path, port: int) -> Iterator[tuple[ReplayServer, list[int]]]:
    """``vib serve``: the checked snapshot (and its boundaries) on 127.0.0.1:``port``."""
    _check_folder(folder)
    geo = find_geo_folder(folder)
    files = boundary_files(geo) if geo else {}
    try:
        # confined: a link in the folder never serves a file from outside it
        server = ReplayServer(folder, port=port, boundaries=files, confined=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on 127.0.0.1:{port} ({exc.strerror}); try another `port`."
        ) from None
    try:
        yield server, sorted(files)
    finally:
        server.close()


def snapshot_warnings(folder: Path | str) -> dict[str, str]:
    """Table id -> ``ExplanatoryText`` of every table in a snapshot folder."""
    out = {}
    for p in sorted(Path(folder).iterdir()):
        info = p / "TableInfos.json"
        if info.is_file():
            rows = json.loads(info.read_text(encoding="utf-8"))
            if rows and rows[0].get("ExplanatoryText"):
                out[p.name] = str(rows[0]["ExplanatoryText"])
    return out


#: Written into every table folder `vib snapshot save` makes: it may replace that folder.
MARKER = ".vib-snapshot"
_TABLE_ID = re.compile(r"[0-9A-Za-z]{4,16}")


def check_snapshot_target(to: Path | str, tables: Sequence[str]) -> None:
    """Refuse, before any work, a bad table id or a table folder that is not ours to replace.

    ``TO/TABLE`` is replaced whole; that is allowed only when it does not exist, is empty,
    or holds this tool's marker (an earlier ``vib snapshot save``).
    """
    to = Path(to)
    for table in tables:
        if not _TABLE_ID.fullmatch(table.strip()):
            raise ConfigError(
                f"{table!r} is not a CBS table id; ids look like 85458NED (see `vib tables`)."
            )
        final = to / table.strip().upper()
        if not final.exists():
            continue
        if not final.is_dir():
            raise ConfigError(f"{final} is a file; the table's folder would replace it.")
        # what is plainly not a table file first: that is what a replace would lose
        present = sorted((p.name for p in final.iterdir()), key=lambda n: (n.endswith(".json"), n))
        if present and MARKER not in present:
            shown = ", ".join(present[:5]) + (" …" if len(present) > 5 else "")
            raise ConfigError(
                f"{final} holds files that vib snapshot save did not write ({shown}); it "
                "would replace the folder. Give another `to`, or move them."
            )


def save_snapshot(
    session: Session,
    tables: Sequence[str],
    to: Path | str,
    *,
    years: Sequence[int] = (),
    filters: str | None = None,
    whole: bool = False,
) -> list[SavedTable]:
    """Save ``tables`` to ``to`` in cbsodata's ``download_data`` layout.

    Rows can be limited to ``years`` (on the table's time dimension) and/or an OData
    ``filters`` text. A table over :data:`WHOLE_TABLE_LIMIT` cells needs a limit or
    ``whole=True``. Each table folder appears complete or not at all.
    """
    settings = session.settings
    to = Path(to)
    check_snapshot_target(to, tables)
    to.mkdir(parents=True, exist_ok=True)
    saved = []
    for table in tables:
        table = table.upper()
        meta = get_metadata(session, table)
        parts = []
        if years:
            tdim = next(
                (p["Key"] for p in meta.properties if p.get("Type") == "TimeDimension"), None
            )
            if tdim is None:
                raise ConfigError(f"{table} has no time dimension; drop `years` for it.")
            available = meta.periods()
            wanted = [period_key(y) for y in years]
            missing = [w for w in wanted if w not in available]
            if missing:
                raise ConfigError(
                    f"{table} has no period {', '.join(missing)}. "
                    f"Available: {', '.join(available)}."
                )
            parts.append(
                "(" + " or ".join(f"{tdim} eq '{meta.raw_key(tdim, w)}'" for w in wanted) + ")"
            )
        if filters:
            parts.append(f"({filters})")
        flt = " and ".join(parts)
        if not flt and not whole and meta.cell_count() > WHOLE_TABLE_LIMIT:
            raise ConfigError(
                f"{table} has {meta.cell_count():,} cells; saving it whole is probably not what "
                "you want. Limit it with `years` or `filters`, or pass `whole`."
            )
        listing = [str(i["name"]) for i in fetch_endpoint(settings, table, "")]
        # cbsodata.download_data(typed=False) drops "UntypedDataSet" and keeps the typed rows.
        names = [n for n in listing if n != "UntypedDataSet"]
        final = to / table
        with building(final) as work:
            n_rows = 0
            for name in names:
                if name == "TypedDataSet":
                    value = fetch_endpoint(settings, table, name, filters=flt or None)
                    n_rows = len(value)
                elif name in meta.dimensions:
                    value = meta.dimensions[name]
                elif name == "TableInfos":
                    value = [meta.info]
                elif name == "DataProperties":
                    value = meta.properties
                else:
                    value = fetch_endpoint(settings, table, name)
                (work / f"{name}.json").write_text(
                    json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8"
                )
            (work / MARKER).write_text("vluchtelingen-in-beeld snapshot save\n", "utf-8")
        saved.append(SavedTable(table, final, n_rows, flt))
    return saved
