"""The local store: every CBS extract kept on disk with a manifest, written atomically.

Layout under the data dir::

    cbs/<TABLE>/<key>/manifest.json     written last; lists every file with its sha256
    cbs/<TABLE>/<key>/rows.parquet      the rows (extracts), or
    cbs/<TABLE>/<key>/metadata.json     the table's metadata (TableInfos, DataProperties, dims)
    .tmp/                               entries being written (by pid); never read
    .lock                               held while an entry is written (one writer at a time)

An entry is complete only when its ``manifest.json`` exists and every file matches its
checksum. New entries are built in ``.tmp`` and swapped into place (:func:`~.atomic.building`),
so a killed or failed fetch never leaves something that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vluchtelingen_in_beeld.atomic import (
    building,
    holding,
    owner,
    pid_alive,
    remove,
    sync_write,
)
from vluchtelingen_in_beeld.errors import Locked, StoreError

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
#: The store's lock file (one writer at a time) and how long a second writer waits for it.
LOCK = ".lock"
LOCK_WAIT = 60.0
STORE_VERSION = 1


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    """A complete store entry."""

    path: Path
    manifest: dict[str, Any]

    def file(self, name: str) -> Path:
        """Path of one of the entry's files."""
        return self.path / name


class Store:
    """The local store rooted at ``root`` (the data dir)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def _tmp(self) -> Path:
        return self.root / ".tmp"

    def entry_dir(self, table: str, key: str) -> Path:
        """Where the entry ``key`` of ``table`` lives (complete or not)."""
        return self.root / "cbs" / table.upper() / key

    def read(self, table: str, key: str) -> Entry | None:
        """The complete entry, or ``None`` if missing, partial or corrupt."""
        path = self.entry_dir(table, key)
        return self._verify(path)

    def _verify(self, path: Path) -> Entry | None:
        mpath = path / MANIFEST
        if not mpath.is_file():
            return None
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
            files: Mapping[str, str] = manifest["files"]
        except (ValueError, KeyError, TypeError):
            log.warning("store entry %s has an unreadable manifest; ignoring it", path)
            return None
        for name, digest in files.items():
            fpath = path / name
            if not fpath.is_file() or sha256_file(fpath) != digest:
                log.warning("store entry %s: %s is missing or changed; ignoring it", path, name)
                return None
        return Entry(path, manifest)

    def write(
        self, table: str, key: str, files: Mapping[str, bytes], info: Mapping[str, Any]
    ) -> Entry:
        """Write an entry atomically: all files, then the manifest, then one rename.

        One writer at a time (the store's lock, waited for at most :data:`LOCK_WAIT` s).
        """
        try:
            with holding(self.root / LOCK, wait=LOCK_WAIT):
                return self._write(table, key, files, info)
        except Locked as exc:
            raise StoreError(
                f"Another vib (process {exc.pid}, since {exc.since}) has been writing to the "
                f"local store {self.root} for more than {LOCK_WAIT:.0f} s. Try again when it "
                "is done, or give another `data_dir`."
            ) from None

    def _write(
        self, table: str, key: str, files: Mapping[str, bytes], info: Mapping[str, Any]
    ) -> Entry:
        self.clean_stale()
        final = self.entry_dir(table, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with building(final, work=self._tmp) as work:
            digests = {}
            for name, data in files.items():
                sync_write(work / name, data)
                digests[name] = sha256_bytes(data)
            manifest = {
                "store_version": STORE_VERSION,
                "table": table.upper(),
                "key": key,
                **info,
                "files": digests,
            }
            sync_write(
                work / MANIFEST,
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str).encode("utf-8"),
            )
        entry = self._verify(final)
        if entry is None:  # pragma: no cover - would mean the disk lied
            raise StoreError(f"Store entry {final} did not verify right after writing it.")
        return entry

    def clean_stale(self) -> list[Path]:
        """Remove half-written entries left by processes that no longer run."""
        removed: list[Path] = []
        if not self._tmp.is_dir():
            return removed
        for path in self._tmp.iterdir():
            pid = owner(path)
            if pid is None:  # not a name of this tool's pattern: not ours to remove
                continue
            if pid == os.getpid() or pid_alive(pid):
                continue
            remove(path)
            removed.append(path)
        return removed

    def entries(self, table: str | None = None) -> Iterator[Entry]:
        """Every complete entry (of one table, or all)."""
        base = self.root / "cbs"
        if not base.is_dir():
            return
        tables = [base / table.upper()] if table else sorted(base.iterdir())
        for tdir in tables:
            if not tdir.is_dir():
                continue
            for edir in sorted(tdir.iterdir()):
                entry = self._verify(edir)
                if entry is not None:
                    yield entry

    def incomplete(self) -> list[Path]:
        """Entry folders that are not complete (for diagnostics and tests)."""
        base = self.root / "cbs"
        if not base.is_dir():
            return []
        return [
            edir
            for tdir in base.iterdir()
            if tdir.is_dir()
            for edir in tdir.iterdir()
            if self._verify(edir) is None
        ]
