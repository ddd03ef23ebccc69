"""Writing tables with their provenance: all files complete, or none.

Every table gets a sidecar ``<file>.manifest.json`` that says where its numbers come from:
CBS tables and periods, the method card and its checksum, the snapshot's warning text when
a snapshot was used, the tool version, seed and time. Files are written to temporary names
and renamed into place together, the manifest last.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.settings import Settings
from vluchtelingen_in_beeld.store import sha256_bytes

TABLE_FORMATS = (".csv", ".xlsx", ".parquet")


def check_table_path(path: Path) -> Path:
    """Raise early (before any work) if ``path`` is not a table we can write."""
    if path.suffix.lower() not in TABLE_FORMATS:
        raise ConfigError(
            f"Cannot write {path}: the extension decides the format; use one of "
            f"{', '.join(TABLE_FORMATS)} (e.g. --out maps/schatting_2025.csv)."
        )
    if path.exists() and path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name such as {path / 'schatting.csv'}.")
    check_writable(path, "table")
    national = national_path(path)
    if national.is_dir():
        raise ConfigError(
            f"Cannot write {path}: its national table {national} would replace a folder."
        )
    check_writable(national, "table")
    return path


TOOL_NAME = "vluchtelingen-in-beeld"


def check_writable(path: Path, what: str = "output") -> Path:
    """Raise early if ``path`` cannot be created: a parent is a file, or not writable."""
    for anc in [path, *path.parents]:
        if anc.exists():
            if anc != path and not anc.is_dir():
                raise ConfigError(f"Cannot write the {what} {path}: {anc} is a file, not a folder.")
            if anc != path and not os.access(anc, os.W_OK | os.X_OK):
                raise ConfigError(f"Cannot write the {what} {path}: {anc} is not writable.")
            break
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"Cannot write the {what} {path}: it is not writable.")
    return path


def check_file_path(path: Path) -> Path:
    """An output file (HTML, PNG): not a folder, and its folder can be made and written."""
    if path.exists() and path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name, e.g. {path / 'kaart.html'}.")
    return check_writable(path, "output file")


def _protected(out: Path, settings: Settings) -> str | None:
    """Why ``out`` may never be replaced (the working folder, the store, …), or ``None``."""
    target = out.resolve()
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        return "it is the folder you are working in (or holds it)"
    if target == Path.home().resolve() or target == Path(target.anchor):
        return "it is your home folder or the root of the file system"
    store = settings.data_dir.resolve()
    if target == store or target in store.parents or store in target.parents:
        return f"it holds, or lies inside, the local store ({settings.data_dir})"
    if settings.snapshot_dir is not None:
        snap = settings.snapshot_dir.resolve()
        if target == snap or target in snap.parents or snap in target.parents:
            return "it holds, or lies inside, the snapshot being read"
    return None


def check_output_folder(out: Path, settings: Settings, *, force: bool = False) -> None:
    """Refuse, before any work, an output folder that ``vib run`` may not replace.

    ``vib run`` replaces its output folder as a whole. That is only allowed for a folder
    that does not exist, is empty, or holds exactly what an earlier run wrote (its
    ``manifest.json`` from this tool lists every file). Anything else needs ``force``; the
    working folder, the store and the snapshot are never replaced.
    """
    why = _protected(out, settings)
    if why:
        raise ConfigError(f"Refusing to use {out} as the output folder: {why}. Give --out NEW.")
    if not out.exists():
        check_writable(out, "output folder")
        return
    if not out.is_dir():
        raise ConfigError(f"{out} is a file; --out must be a folder.")
    check_writable(out, "output folder")
    present = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.is_dir())
    if not present or force:
        return
    foreign = present
    try:
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        if (manifest.get("tool") or {}).get("name") == TOOL_NAME and manifest.get("kind") == "run":
            listed = set(manifest.get("outputs") or {}) | {"manifest.json"}
            foreign = [p for p in present if p not in listed]
    except (OSError, ValueError, AttributeError):
        pass
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise ConfigError(
            f"{out} holds files that vib run did not write ({shown}); it would replace the "
            "whole folder. Give a new folder with --out, or --force to replace it anyway."
        )


def table_bytes(frame: pd.DataFrame, suffix: str, sheets: Mapping[str, pd.DataFrame] = {}) -> bytes:
    """Serialise a frame (and extra Excel sheets) to bytes in the format of ``suffix``."""
    buf = io.BytesIO()
    suffix = suffix.lower()
    if suffix == ".csv":
        buf.write(frame.to_csv(index=False).encode("utf-8"))
    elif suffix == ".parquet":
        frame.to_parquet(buf, index=False)
    elif suffix == ".xlsx":
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            frame.to_excel(xl, sheet_name="gemeenten", index=False)
            for name, extra in sheets.items():
                extra.to_excel(xl, sheet_name=name[:31], index=False)
            for sheet in xl.sheets.values():
                _text_stays_text(sheet)
    else:  # pragma: no cover - guarded by check_table_path
        raise ConfigError(f"Unknown table format {suffix}")
    return buf.getvalue()


def _text_stays_text(sheet: Any) -> None:
    """Text that looks like a formula (``=…``, ``+…``, ``-…``, ``@…``) is stored as text.

    openpyxl turns a string starting with ``=`` into a live formula; a gemeente name or a
    note never should be one.
    """
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                cell.data_type = "s"


def provenance(
    settings: Settings,
    *,
    sources: list[dict[str, Any]],
    card: Any = None,
    notes: list[str] = (),  # type: ignore[assignment]
    extra: Mapping[str, Any] = {},
) -> dict[str, Any]:
    """The provenance record every output carries."""
    record: dict[str, Any] = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": settings.source,
        "sources": sources,
        "notes": list(notes),
        "licence": "CBS open data, CC BY 4.0 (Bron: CBS)",
    }
    if card is not None:
        record["method_card"] = card.summary()
        record["parameters"] = {
            k: {
                "value": r.value,
                "low": r.low,
                "high": r.high,
                "source": r.source,
                "assumption": r.assumption,
            }
            for k, r in card.rates().items()
        }
        record["uncertainty"] = {
            "draws": card.draws,
            "seed": card.seed,
            "distribution": card.distribution,
        }
    if settings.snapshot_label or settings.snapshot_warnings:
        record["snapshot"] = {
            "name": settings.snapshot_label,
            "warnings": dict(settings.snapshot_warnings),
        }
    record.update(extra)
    return record


def write_bundle(
    files: Mapping[Path, bytes],
    manifest_path: Path,
    record: dict[str, Any],
    *,
    keep: Mapping[str, str] | None = None,
) -> None:
    """Write ``files`` and then ``manifest_path`` (with their checksums): all or nothing.

    Every file is first written to a temporary name; then each is moved into place, the
    manifest last. If a move fails, the files already moved are put back as they were, so
    no table is left without its manifest. ``keep``: earlier outputs (name -> sha256) that
    stay listed in the manifest (pages of an earlier ``vib pitch`` in the same folder).
    """
    record = dict(record)
    outputs = dict(keep or {})
    outputs.update({p.name: sha256_bytes(b) for p, b in files.items()})
    record["outputs"] = outputs
    all_files = dict(files)
    all_files[manifest_path] = json.dumps(
        record, indent=2, ensure_ascii=False, default=str
    ).encode()
    for path in all_files:
        if path.is_dir():
            raise ConfigError(f"Cannot write {path}: a folder of that name is in the way.")
    temps: dict[Path, Path] = {}
    moved: list[tuple[Path, Path | None]] = []  # (path, its backup)
    try:
        for path, data in all_files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            temps[path] = tmp
        for path, tmp in temps.items():  # manifest is last in the dict
            backup = None
            if path.exists():
                backup = path.with_name(f".{path.name}.{os.getpid()}.bak")
                os.replace(path, backup)
            moved.append((path, backup))
            os.replace(tmp, path)
    except BaseException:
        for path, backup in reversed(moved):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, path)
                elif path.exists():
                    path.unlink()
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for _, backup in moved:
        if backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink()


def earlier_outputs(manifest_path: Path) -> dict[str, str]:
    """Earlier outputs still there unchanged, as this tool's manifest lists them.

    Name -> sha256 from the manifest at ``manifest_path``; empty if there is none, or it is
    not this tool's.
    """
    from vluchtelingen_in_beeld.store import sha256_file

    try:
        record = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict) or (record.get("tool") or {}).get("name") != TOOL_NAME:
        return {}
    folder = manifest_path.parent
    return {
        name: digest
        for name, digest in (record.get("outputs") or {}).items()
        if (folder / name).is_file() and sha256_file(folder / name) == digest
    }


def sidecar(path: Path) -> Path:
    """``maps/x.csv`` -> ``maps/x.csv.manifest.json``."""
    return path.with_name(path.name + ".manifest.json")


def national_path(path: Path) -> Path:
    """``maps/x.csv`` -> ``maps/x_nederland.csv``."""
    return path.with_name(f"{path.stem}_nederland{path.suffix}")


def write_estimate(est: Any, path: Path, settings: Settings) -> list[Path]:
    """Write an :class:`~.estimate.Estimate`: the gemeente table, the national row, manifest.

    ``.xlsx`` gets the national row and the sources as extra sheets; ``.csv`` and
    ``.parquet`` get a ``<name>_nederland`` file beside them.
    """
    check_table_path(path)
    record = provenance(
        settings,
        sources=est.provenance,
        card=est.card,
        notes=est.notes,
        extra={
            "kind": "estimate",
            "year": est.year,
            "periods": sorted({f"{est.year}JJ00"}),
            "rows": len(est.table),
            "year_choice": est.year_note or "given with --year",
            "bijstand_table": est.bijstand_table,
            "national_checks": est.checks,
            "columns_note": "werkzoekend = centrale parameters; p10/p50/p90 uit de Monte Carlo; "
            "de aanname 'job_seeking' (s) is niet uit een publieke bron en moet lokaal worden "
            "gekalibreerd.",
        },
    )
    files: dict[Path, bytes] = {}
    if path.suffix.lower() == ".xlsx":
        bronnen = pd.DataFrame(
            [
                {"onderwerp": k, "waarde": json.dumps(v, ensure_ascii=False, default=str)}
                for k, v in record.items()
            ]
        )
        files[path] = table_bytes(
            est.table, ".xlsx", {"nederland": est.national, "bronnen": bronnen}
        )
    else:
        files[path] = table_bytes(est.table, path.suffix)
        files[national_path(path)] = table_bytes(est.national, path.suffix)
    write_bundle(files, sidecar(path), record)
    return [*files, sidecar(path)]


def write_table(
    frame: pd.DataFrame,
    path: Path,
    settings: Settings,
    *,
    kind: str,
    year: int,
    sources: list[dict[str, Any]],
    card: Any = None,
    notes: list[str] = (),  # type: ignore[assignment]
    extra: Mapping[str, Any] = {},
    companions: Mapping[str, pd.DataFrame] = {},
) -> list[Path]:
    """Write one table and its ``.manifest.json``; ``companions`` are extra tables.

    In ``.xlsx`` the companions are extra sheets; otherwise ``<stem>_<name><ext>`` files.
    """
    check_table_path(path)
    record = provenance(
        settings,
        sources=sources,
        card=card,
        notes=notes,
        extra={"kind": kind, "year": year, "periods": [f"{year}JJ00"], "rows": len(frame), **extra},
    )
    files: dict[Path, bytes] = {}
    if path.suffix.lower() == ".xlsx":
        files[path] = table_bytes(frame, ".xlsx", dict(companions))
    else:
        files[path] = table_bytes(frame, path.suffix)
        for name, comp in companions.items():
            files[path.with_name(f"{path.stem}_{name}{path.suffix}")] = table_bytes(
                comp, path.suffix
            )
    write_bundle(files, sidecar(path), record)
    return [*files, sidecar(path)]


def snapshot_warning(settings: Settings) -> str:
    """The snapshot's own warning text (every table's), or ``""`` for real CBS data."""
    if not (settings.snapshot_label or settings.snapshot_warnings):
        return ""
    texts = dict(settings.snapshot_warnings)
    unique = list(dict.fromkeys(texts.values()))
    tables = ", ".join(texts) or settings.snapshot_label
    body = " ".join(unique) if unique else "Deze snapshot bevat geen toelichting."
    return (
        f"Gemaakt met snapshot {settings.snapshot_label} ({tables}), niet met live "
        f"CBS-gegevens: {body}"
    )


def source_lines(
    sources: list[dict[str, Any]],
    card: Any = None,
    *,
    boundaries: Mapping[str, Any] | None = None,
    notes: list[str] = (),  # type: ignore[assignment]
) -> list[str]:
    """Dutch lines saying where the numbers come from (for maps and pages)."""
    tables: dict[str, set[str]] = {}
    titles: dict[str, str] = {}
    for s in sources:
        t = str(s.get("table"))
        titles[t] = str(s.get("title") or "")
        periods = set(re.findall(r"\d{4}JJ00", str(s.get("filter") or "")))
        tables.setdefault(t, set()).update(periods)
    parts = []
    for t, periods in tables.items():
        per = f", {', '.join(sorted(periods))}" if periods else ""
        parts.append(f"{t} {titles[t]}{per}".strip())
    lines = [f"Bron: CBS StatLine (CC BY 4.0): {'; '.join(parts)}."]
    if boundaries:
        lines.append(
            f"Grenzen: CBS/PDOK gebiedsindelingen {boundaries.get('year')}, "
            f"gemeente_gegeneraliseerd ({boundaries.get('source')})."
        )
    if card is not None:
        lines.append(
            f"Methode: methodekaart {card.name} versie {card.version} "
            f"(sha256 {card.checksum[:12]}), "
            f"{card.draws} trekkingen, seed {card.seed}; vluchtelingen-in-beeld {__version__}, "
            f"gemaakt {datetime.now(UTC).date().isoformat()}."
        )
    lines.extend(notes)
    return lines
