"""Writing outputs with their provenance: all files complete, or none.

One function per kind of output, each taking a :class:`~.result.YearResult` (or an estimate
and its :class:`~.result.Origin`), never a session: :func:`write_estimate`,
:func:`write_ranking`, :func:`write_regions`, :func:`write_map` and :func:`write_pitch`, and
the bytes of one table (:func:`table_bytes`, :func:`gpkg_bytes`) for :mod:`.run`. Every
output gets a manifest that says where its numbers come from (:mod:`.provenance`). Files are
written to temporary names and renamed into place together, the manifest last
(:func:`~.atomic.write_files`). Paths may be given as ``str`` or :class:`~pathlib.Path`.

Output paths are checked before any work (:func:`check_table_path`,
:func:`check_output_folder`): a folder the tool did not write is never replaced.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.access.store import sha256_bytes, sha256_file
from vluchtelingen_in_beeld.atomic import holding, write_files
from vluchtelingen_in_beeld.errors import ConfigError, Locked
from vluchtelingen_in_beeld.fmt import whole
from vluchtelingen_in_beeld.geography.geo import dissolve, snapshot_boundaries
from vluchtelingen_in_beeld.geography.result import Origin, YearResult
from vluchtelingen_in_beeld.records import JsonValue, Record, SourceRecord
from vluchtelingen_in_beeld.render.maps import map_for
from vluchtelingen_in_beeld.render.pitch import page_name, pitch_index, render_page
from vluchtelingen_in_beeld.render.provenance import (
    TOOL_NAME,
    parameter_label,
    record,
    source_lines,
)
from vluchtelingen_in_beeld.render.verkenner import render_verkenner, vendored
from vluchtelingen_in_beeld.settings import Settings

if TYPE_CHECKING:
    import geopandas as gpd
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

    from vluchtelingen_in_beeld.access.cbs import Session
    from vluchtelingen_in_beeld.estimation.estimate import Estimate
    from vluchtelingen_in_beeld.render.maps import MapResult
    from vluchtelingen_in_beeld.render.sender import Sender

TABLE_FORMATS = (".csv", ".xlsx", ".parquet", ".gpkg")


#: The companion tables each writer puts beside a ``.csv`` or ``.parquet`` (``x_<name>``).
COMPANIONS = {
    "estimate": ("nederland", "gevoeligheid"),
    "ranking": ("prijzen", "samenvatting", "trajecten", "gevoeligheid", "vergelijking_2009"),
    "regions": (),
    "trend": (),
}


def check_table_path(path: str | Path, kind: str = "estimate", *, force: bool = False) -> Path:
    """Raise early (before any work) if ``path`` is not a table we can write.

    The table, its companions (:data:`COMPANIONS` of ``kind``) and its manifest may replace
    only files that vib wrote there and that did not change since (``force``: changed ones
    too); never a file of the user's of the same name (:func:`check_replace`).
    """
    path = Path(path)
    if path.suffix.lower() not in TABLE_FORMATS:
        raise ConfigError(
            f"Cannot write {path}: the extension decides the format; use one of "
            f"{', '.join(TABLE_FORMATS)} (e.g. `out` maps/schatting_2025.csv)."
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
    targets = [path, sidecar(path)]
    if path.suffix.lower() in (".csv", ".parquet"):
        targets += [companion_path(path, name) for name in COMPANIONS.get(kind, ())]
    check_replace(targets, force=force, what=f"table {path}")
    return path


def check_writable(path: str | Path, what: str = "output") -> Path:
    """Raise early if ``path`` cannot be created: a parent is a file, or not writable."""
    path = Path(path)
    for anc in [path, *path.parents]:
        if anc.exists():
            if anc != path and not anc.is_dir():
                raise ConfigError(f"Cannot write the {what} {path}: {anc} is a file, not a folder.")
            if anc != path and not os.access(anc, os.W_OK | os.X_OK):
                raise ConfigError(f"Cannot write the {what} {path}: {anc} is not writable.")
            if anc != path:
                _probe(anc, path, what)
            break
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"Cannot write the {what} {path}: it is not writable.")
    return path


def _probe(folder: Path, path: Path, what: str) -> None:
    """Make and remove an empty folder in ``folder``: whether it can be written.

    The permission bits do not tell: root passes ``os.access`` everywhere, while /proc, a
    read-only mount or a full disk refuse.
    """
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".vib-probe-", dir=folder))
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the {what} {path}: nothing can be created in {folder} "
            f"({exc.strerror or exc})."
        ) from None


def check_file_path(path: str | Path, *, force: bool = False, manifest: bool = True) -> Path:
    """An output file (HTML, PNG), checked before any work.

    Not a folder, its folder writable, and replacing only what vib wrote there (with its
    ``manifest`` beside it, :func:`check_replace`).
    """
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name, e.g. {path / 'kaart.html'}.")
    check_writable(path, "output file")
    check_replace([path, *([sidecar(path)] if manifest else [])], force=force,
                  what=f"file {path}")  # fmt: skip
    return path


#: Folders of the system: never an output, nor anything inside them.
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/snap", "/sys", "/usr", "/var", "/System", "/Library", "/Applications",
    "/private",
)  # fmt: skip
#: Inside these a user may write (temporary folders), though they lie in a system tree.
WRITABLE_INSIDE = ("/var/tmp", "/private/tmp", "/private/var/folders", "/var/folders")
#: Folders that hold everyone's files: never an output themselves (what is inside may be).
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/home", "/Users", "/mnt", "/media", "/opt", "/srv",
                  "/root", "/private/tmp")  # fmt: skip


def _case_insensitive(path: Path) -> bool:
    """Whether the file system of ``path`` ignores case.

    It does when its nearest existing ancestor with letters in its name is found under that
    name in the other case too.
    """
    for anc in [path, *path.parents]:
        if anc.exists() and anc.name and anc.name != anc.name.swapcase():
            other = anc.with_name(anc.name.swapcase())
            try:
                return other.exists() and os.path.samefile(anc, other)
            except OSError:
                return False
    return False


def _within(inner: Path, outer: Path, fold: bool) -> bool:
    """Whether ``inner`` is ``outer`` or lies inside it (paths resolved; case-folded)."""
    a, b = (str(inner), str(outer))
    if fold:
        a, b = a.casefold(), b.casefold()
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep)


def _protected(out: Path, settings: Settings, inputs: Sequence[Path] = ()) -> str | None:
    """Why ``out`` may never be replaced, not even with ``force``, or ``None``.

    Never: a folder that holds, or lies inside, an input of the run, the store, the snapshot
    or its boundaries; the working folder or one that holds it; the home folder or one that
    holds it; the root; a system folder or anything in one. Paths are compared resolved
    (symlinks followed), and case-insensitively where the file system ignores case.
    """
    target = out.resolve()
    plain = Path(os.path.abspath(out))  # as given: a symlink inside a tree is still inside it
    fold = _case_insensitive(target)

    def overlaps(other: Path) -> bool:
        pairs = ((target, other.resolve()), (plain, Path(os.path.abspath(other))))
        return any(_within(t, o, fold) or _within(o, t, fold) for t, o in pairs)

    for given in inputs:
        if overlaps(Path(given)):
            return f"it holds, or lies inside, an input of this run ({given})"
    cwd = Path.cwd().resolve()
    if _within(cwd, target, fold):
        return "it is the folder you are working in (or holds it)"
    home = Path.home().resolve()
    if _within(home, target, fold):
        return "it is your home folder or holds it"
    if target == Path(target.anchor):
        return "it is the root of the file system"
    if any(_within(target, Path(t), fold) for t in SYSTEM_TREES) and not any(
        _within(target, Path(w), fold) and target != Path(w) for w in WRITABLE_INSIDE
    ):
        return "it is a system folder or lies in one"
    if any(_within(target, Path(f), fold) and _within(Path(f), target, fold)
           for f in SHARED_FOLDERS):  # fmt: skip
        return "it is a folder that holds everyone's files"
    if overlaps(settings.data_dir):
        return f"it holds, or lies inside, the local store ({settings.data_dir})"
    if settings.snapshot_dir is not None and overlaps(settings.snapshot_dir):
        return "it holds, or lies inside, the snapshot being read"
    if settings.geo_dir is not None and overlaps(settings.geo_dir):
        return "it holds, or lies inside, the boundary files being read"
    return None


def _is_ours(manifest: Path) -> dict[str, str] | None:
    """The outputs (relative path -> sha256) a manifest of this tool lists, or ``None``."""
    try:
        record = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or (record.get("tool") or {}).get("name") != TOOL_NAME:
        return None
    outputs = record.get("outputs") or {}
    return {str(k): str(v) for k, v in outputs.items()} if isinstance(outputs, dict) else {}


def owned(folder: Path) -> dict[str, str]:
    """Every file this tool's manifests in ``folder`` list: relative path -> sha256 written."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for manifest in [folder / "manifest.json", *sorted(folder.glob("*.manifest.json"))]:
        listed = _is_ours(manifest) if manifest.is_file() else None
        if listed:
            found.update(listed)
    return found


def _shown(paths: Sequence[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def check_replace(targets: Sequence[Path], *, force: bool = False, what: str = "output") -> None:
    """Refuse, before any work, to replace a file this tool did not write, or one changed.

    A target that exists must be listed by a manifest of this tool in its folder with the
    checksum it still has (or be such a manifest). One that changed since needs ``force``;
    one that no manifest lists (a user's own file of that name) is never replaced.
    """
    lists: dict[Path, dict[str, str]] = {}
    foreign: list[str] = []
    changed: list[str] = []
    for t in targets:
        if not t.exists() and not t.is_symlink():
            continue
        if t.is_dir():
            raise ConfigError(f"Cannot write {t}: a folder of that name is in the way.")
        if t.is_symlink() or not t.is_file():
            foreign.append(str(t))
            continue
        if t.parent not in lists:
            lists[t.parent] = owned(t.parent)
        digest = lists[t.parent].get(t.name)
        if digest is None:
            if not (t.name.endswith(".manifest.json") or t.name == "manifest.json") or (
                _is_ours(t) is None
            ):
                foreign.append(str(t))
        elif sha256_file(t) != digest:
            changed.append(str(t))
    if foreign:
        raise ConfigError(
            f"Cannot write the {what}: it would replace {_shown(foreign)}, which vib did not "
            "write (no manifest of vib lists it). vib never replaces a file of yours: move it, "
            "or choose another `out`."
        )
    if changed and not force:
        raise ConfigError(
            f"Cannot write the {what}: {_shown(changed)} changed since vib wrote it. Move it "
            "to keep your changes, or give `force` to replace it."
        )


@contextlib.contextmanager
def writing_to(out: Path) -> Iterator[None]:
    """One writer at a time for ``out``: a second one is refused, naming the first."""
    lockfile = out.parent / f".{out.name}.vib-lock"
    try:
        with holding(lockfile):
            yield
    except Locked as exc:
        raise ConfigError(
            f"Another vib (process {exc.pid}, since {exc.since}) is writing to {out}. Wait "
            "until it is done, or choose another `out`. (A lock of a process that no longer "
            f"runs is taken over: {lockfile.name}.)"
        ) from None


def check_output_folder(
    out: str | Path,
    settings: Settings,
    *,
    force: bool = False,
    inputs: Sequence[str | Path] = (),
) -> None:
    """Refuse, before any work, an output folder that ``vib run`` may not replace.

    ``vib run`` replaces its output folder as a whole. That is only allowed for a folder
    that does not exist, is empty, or holds exactly what an earlier run wrote (its
    ``manifest.json`` from this tool lists every file, each with the checksum it still
    has). A file the run wrote and the user changed since needs ``force``; a file no run
    wrote is never replaced. The folders of :func:`_protected` (the working folder, home,
    system folders, the store, the snapshot and the run's other ``inputs``) are never a
    target, not even with ``force``.
    """
    out = Path(out)
    why = _protected(out, settings, [Path(p) for p in inputs])
    if why:
        raise ConfigError(
            f"Refusing to use {out} as the output folder: {why}. Give `out` (a new folder)."
        )
    if not out.exists():
        check_writable(out, "output folder")
        return
    if not out.is_dir():
        raise ConfigError(f"{out} is a file; `out` must be a folder.")
    check_writable(out, "output folder")
    present = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.is_dir())
    if not present:
        return
    listed = None
    manifest = out / "manifest.json"
    if manifest.is_file():
        try:
            record = json.loads(manifest.read_text("utf-8"))
            if (record.get("tool") or {}).get("name") == TOOL_NAME and record.get("kind") == "run":
                listed = {str(k): str(v) for k, v in (record.get("outputs") or {}).items()}
        except (OSError, ValueError, AttributeError):
            listed = None
    if listed is None:
        foreign = present
    else:
        foreign = [p for p in present if p not in listed and p != "manifest.json"]
    if foreign:
        raise ConfigError(
            f"{out} holds files that vib run did not write ({_shown(foreign)}); a run replaces "
            "its folder as a whole, and vib never deletes a file of yours. Move them, or give "
            "a new folder with `out`."
        )
    assert listed is not None
    changed = [p for p in present if p in listed and sha256_file(out / p) != listed[p]]
    if changed and not force:
        raise ConfigError(
            f"{out}: {_shown(changed)} changed since vib run wrote it. Copy your changes "
            "elsewhere first, or give `force` to replace them with a new run."
        )


#: Columns that count people, placements, euros: written as whole numbers.
COUNT_PREFIXES = (
    "werkzoekend",
    "doelgroep",
    "niet_zelfstandig",
    "route_a",
    "route_b",
    "contacten",
    "intakes",
    "gesprekken",
    "plaatsingen",
    "trajecten",
    "bereik",
    "inwoners",
    "verlies_als",
    "kosten_eur",
    "prijs",
    "groei",
    "doel",
    "bevolking",
)
NOT_COUNTS = (
    "per_1000",
    "_se",
    "_sd",
    "aandeel",
    "pct",
    "kans",
    "eens",
    "beter",
    "factor",
    "jaren",
    "_bron",
)
#: Whole numbers that are labels, not amounts: no thousands separator, never a fraction.
WHOLE_LABELS = (
    "jaar",
    "rang",
    "periode_jaren",
    "doel_jaren",
    "selectie_wissels_laag",
    "selectie_wissels_hoog",
)
#: Significant digits of the other numbers (rates, shares, parameters): no float artefacts.
DIGITS = 6


def is_count(column: str) -> bool:
    """Whether a table column counts something (written as a whole number)."""
    name = column.lower()
    return name.startswith(COUNT_PREFIXES) and not any(x in name for x in NOT_COUNTS)


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame rounded to what the data supports.

    Counts whole, other numbers to :data:`DIGITS` significant digits
    (``633.5999999999999`` -> ``633.6``).
    """
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        values = out[col].to_numpy(dtype=float, na_value=np.nan)
        if is_count(str(col)) or str(col).lower() in WHOLE_LABELS:
            out[col] = pd.array(
                [None if np.isnan(v) else int(whole(v)) for v in values], dtype="Int64"
            )
        else:
            out[col] = [float(f"{v:.{DIGITS}g}") if np.isfinite(v) else v for v in values]
    return out


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?")


def no_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, made inert with a leading ``'``.

    A gemeente name, a reason or a note starting with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return is written as ``'=…``, as OWASP recommends; a number written as text
    (``-5``) is left as it is.
    """
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            continue

        def inert(v: object) -> object:
            if isinstance(v, str) and v.startswith(FORMULA_START) and not _NUMBER.fullmatch(v):
                return "'" + v
            return v

        out[col] = out[col].map(inert)
    return out


#: CSV dialects: ``en`` (``,`` between cells, a decimal point: what most software reads)
#: and ``nl`` (``;`` and a decimal comma: what Excel with Dutch settings opens as columns).
CSV_DIALECTS: dict[str, tuple[str, str]] = {"en": (",", "."), "nl": (";", ",")}


def check_dialect(dialect: str) -> str:
    """``dialect`` if it is one of :data:`CSV_DIALECTS`, else a clear error."""
    if dialect not in CSV_DIALECTS:
        raise ConfigError(
            f"Unknown CSV dialect {dialect!r}: choose 'en' (',' and a decimal point) or 'nl' "
            "(';' and a decimal comma, for Excel with Dutch settings)."
        )
    return dialect


def table_bytes(
    frame: pd.DataFrame,
    suffix: str,
    sheets: Mapping[str, pd.DataFrame] = {},
    *,
    top_line: str = "",
    dialect: str = "en",
) -> bytes:
    """Serialise a frame (and extra Excel sheets) to bytes in the format of ``suffix``.

    CSV: UTF-8 with a byte-order mark (so Excel reads "Súdwest-Fryslân" right), numbers
    rounded (:func:`for_people`), cells and decimals as ``dialect`` says
    (:data:`CSV_DIALECTS`). Excel: see :func:`_excel`, with ``top_line`` (the snapshot's
    warning, or the sources) above each data sheet's header. Parquet keeps every digit, for
    analysis.
    """
    buf = io.BytesIO()
    suffix = suffix.lower()
    if suffix == ".csv":
        sep, decimal = CSV_DIALECTS[check_dialect(dialect)]
        text = no_formulas(for_people(frame)).to_csv(
            index=False, lineterminator="\r\n", sep=sep, decimal=decimal
        )
        buf.write(text.encode("utf-8-sig"))  # CRLF (RFC 4180): a CR in a cell is quoted
    elif suffix == ".parquet":
        frame.to_parquet(buf, index=False)
    elif suffix == ".xlsx":
        _excel(buf, {"gemeenten": frame, **sheets}, top_line)
    else:  # pragma: no cover - guarded by check_table_path
        raise ConfigError(f"Unknown table format {suffix}")
    return buf.getvalue()


def _number_format(column: str, values: pd.Series) -> str | None:
    """The Excel number format of a column (Dutch Excel shows its own separators)."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    name = column.lower()
    if name in WHOLE_LABELS or name.endswith("_jaren"):
        return "0"  # a year or a rank: no thousands separator
    if "kans" in name:  # a chance is never shown as certain (fmt.nl_prob)
        return '[<0.01]"minder dan 1%";[>0.99]"meer dan 99%";0%'
    if any(x in name for x in ("aandeel", "pct", "eens", "beter")):  # fmt.nl_share
        return '[=0]0%;[<0.005]"minder dan 1%";0%'

    if is_count(column) or pd.api.types.is_integer_dtype(values):
        return "#,##0"
    if "per_1000" in name:
        return "0.0"
    return "0.000"


def _excel(buf: io.BytesIO, sheets: Mapping[str, pd.DataFrame], top_line: str) -> None:
    """A workbook people can open and filter: on every sheet the ``top_line`` in row 1.

    the header in row 2 (frozen, with an autofilter), number formats and column widths.
    The ``bronnen`` sheet (one row per source and parameter) gets the same, its text
    wrapped. Text is always text: a cell that starts with ``=`` stays the characters it
    holds, never a live formula (nor a link). A missing value is an empty cell.

    Written by XlsxWriter, column by column: formats and widths go on the columns, not on
    each cell (a run's 36,000 cells: 0.55 s; through pandas' ``to_excel`` 1.2 s, and with
    openpyxl setting a format on every cell 1.7 s).
    """
    # lazy: xlsxwriter: only workbooks need it
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    book = xlsxwriter.Workbook(buf, options)
    warning = book.add_format(
        {"bold": True, "font_color": "#8A1C1C", "text_wrap": True, "valign": "top"}
    )
    heading = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "top"})
    formats: dict[tuple[str | None, bool], Format | None] = {}

    def column_format(number: str | None, wrap: bool) -> Format | None:
        if (number, wrap) not in formats:
            spec: dict[str, str | bool] = {"num_format": number} if number else {}
            if wrap:
                spec.update(text_wrap=True, valign="top")
            formats[(number, wrap)] = book.add_format(spec) if spec else None
        return formats[(number, wrap)]

    for name, frame in sheets.items():
        data = name != "bronnen"
        start = 1 if top_line else 0
        frame = for_people(frame)
        sheet = book.add_worksheet(name[:31])
        columns = max(frame.shape[1], 1)
        if start:
            span = min(columns, 12)
            if span > 1:
                sheet.merge_range(0, 0, 0, span - 1, top_line, warning)
            else:
                sheet.write_string(0, 0, top_line, warning)
            sheet.set_row(0, min(15 * (1 + len(top_line) // 120), 150))
        header = start  # 0-based row of the header
        sheet.write_row(header, 0, [str(c) for c in frame.columns], heading)
        sheet.freeze_panes(header + 1, 0)
        sheet.autofilter(header, 0, header + len(frame), columns - 1)
        for i, col in enumerate(frame.columns):
            values = frame[col]
            _write_column(sheet, header + 1, i, values)
            lengths = values.astype(str).str.len()
            typical = int(lengths.quantile(0.9)) if len(lengths) else 0
            width = min(max(max(len(str(col)), typical) + 2, 8), 60)
            sheet.set_column(i, i, width, column_format(_number_format(str(col), values), not data))
    book.close()


def _write_column(sheet: Worksheet, first: int, col: int, values: pd.Series) -> None:
    """One column's cells from row ``first`` down: numbers, true/false or text; none if missing."""
    kind = values.dtype
    if pd.api.types.is_bool_dtype(kind):
        for row, v in enumerate(values.tolist(), start=first):
            if v is not None and v is not pd.NA:
                sheet.write_boolean(row, col, bool(v))
    elif pd.api.types.is_numeric_dtype(kind):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        for row in np.flatnonzero(np.isfinite(numbers)).tolist():
            sheet.write_number(first + row, col, float(numbers[row]))
    else:
        for row, v in enumerate(values.tolist(), start=first):
            if v is None or v is pd.NA or (isinstance(v, float) and not np.isfinite(v)):
                continue
            if isinstance(v, bool):
                sheet.write_boolean(row, col, v)
            elif isinstance(v, (int, float, np.integer, np.floating)):
                sheet.write_number(row, col, float(v))
            else:
                sheet.write_string(row, col, str(v))


def write_bundle(
    files: Mapping[Path, bytes],
    manifest_path: Path,
    record: Record,
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
    write_files(all_files)


def earlier_outputs(manifest_path: Path) -> dict[str, str]:
    """Earlier outputs still there unchanged, as this tool's manifest lists them.

    Name -> sha256 from the manifest at ``manifest_path``; empty if there is none, or it is
    not this tool's.
    """
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


def companion_path(path: Path, name: str) -> Path:
    """``maps/x.csv``, ``name`` -> ``maps/x_<name>.csv`` (a companion table beside it)."""
    return path.with_name(f"{path.stem}_{name}{path.suffix}")


def national_path(path: Path) -> Path:
    """``maps/x.csv`` -> ``maps/x_nederland.csv``."""
    return companion_path(path, "nederland")


# --- one writer per kind of output ------------------------------------------------------------


def _table_files(
    path: Path,
    frame: pd.DataFrame,
    companions: Mapping[str, pd.DataFrame],
    rec: Record,
    geometry: gpd.GeoSeries | None = None,
    dialect: str = "en",
) -> dict[Path, bytes]:
    """The bytes of a table and its companions in the format of ``path``'s extension."""
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        if geometry is None:
            raise ConfigError(f"{path}: a GeoPackage needs the gemeente boundaries.")
        return {path: gpkg_bytes(frame, geometry, path.stem, rec)}
    if suffix == ".xlsx":
        sheets = {**companions, "bronnen": source_rows(rec)}
        return {path: table_bytes(frame, ".xlsx", sheets, top_line=top_line(rec))}
    files = {path: table_bytes(frame, suffix, dialect=dialect)}
    for name, comp in companions.items():
        files[companion_path(path, name)] = table_bytes(comp, suffix, dialect=dialect)
    return files


def _part(value: JsonValue | None) -> Mapping[str, JsonValue]:
    """A part of a record that is an object (anything else: empty)."""
    return value if isinstance(value, Mapping) else {}


def _sources(rec: Mapping[str, JsonValue]) -> list[SourceRecord]:
    """The CBS sources a record lists."""
    found = rec.get("sources")
    items = found if isinstance(found, Sequence) and not isinstance(found, str) else []
    return [cast(SourceRecord, s) for s in items if isinstance(s, Mapping)]


def top_line(rec: Mapping[str, JsonValue]) -> str:
    """The line above a data sheet: the snapshot's warning, or where the numbers come from."""
    warnings = _part(_part(rec.get("snapshot")).get("warnings"))
    if warnings:
        return "LET OP: " + " ".join(dict.fromkeys(str(w) for w in warnings.values()))
    return " ".join(source_lines(_sources(rec))[:1])


def source_rows(rec: Mapping[str, JsonValue]) -> pd.DataFrame:
    """The ``bronnen`` sheet: one row per source, card, parameter, warning and note."""
    rows: list[dict[str, object]] = []

    def add(
        soort: str, naam: object, waarde: object = "", bron: object = "", toelichting: object = ""
    ) -> None:
        rows.append({"soort": soort, "naam": str(naam), "waarde": waarde, "bron": str(bron),
                     "toelichting": str(toelichting)})  # fmt: skip

    for name, text in _part(_part(rec.get("snapshot")).get("warnings")).items():
        add("waarschuwing", name, "", "snapshot", text)
    for line in source_lines(_sources(rec)):
        add("bron", "CBS StatLine", "", "CBS (CC BY 4.0)", line)
    for src in _sources(rec):
        add("tabel", src.get("table"), src.get("rows", ""), src.get("title", ""),
            src.get("filter", ""))  # fmt: skip
    card = _part(rec.get("method_card"))
    if card:
        add("methodekaart", card.get("name"), card.get("version"), card.get("origin"),
            f"sha256 {card.get('sha256')}")  # fmt: skip
    for key, p in _part(rec.get("parameters")).items():
        if not isinstance(p, Mapping) or "value" not in p:
            continue
        span = f"{p.get('low')}–{p.get('high')}" if p.get("low") != p.get("high") else ""
        add(
            "parameter",
            f"{parameter_label(key)} ({key})",
            p.get("value"),
            p.get("source"),
            ("aanname; " if p.get("assumption") else "") + (f"bereik {span}" if span else ""),
        )
    for term, text in _part(rec.get("definitions")).items():
        add("definitie", term, "", "methodekaart", text)
    notes = rec.get("notes")
    for note in notes if isinstance(notes, list) else []:
        add("noot", "", "", "", note)
    tool = _part(rec.get("tool"))
    add("programma", tool.get("name"), tool.get("version"), "", rec.get("created_at", ""))
    return pd.DataFrame(rows, columns=["soort", "naam", "waarde", "bron", "toelichting"])


def gpkg_bytes(
    frame: pd.DataFrame, geometry: gpd.GeoSeries, layer: str, rec: Mapping[str, JsonValue]
) -> bytes:
    """One GeoPackage layer: ``frame`` with ``geometry`` (aligned on its index), EPSG:28992.

    The provenance goes into the layer's metadata (``vib_provenance``, JSON), where QGIS
    shows it under the layer's properties.
    """
    # lazy: geopandas: +0.3 s at start-up, only boundaries need it
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        for_people(frame).reset_index(drop=True), geometry=list(geometry), crs=geometry.crs
    )
    gdf = gdf.to_crs(28992)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.gpkg"
        gdf.to_file(
            target,
            driver="GPKG",
            layer=layer,
            engine="pyogrio",
            layer_metadata={
                "vib_provenance": json.dumps(rec, ensure_ascii=False, default=str),
                "DESCRIPTION": " ".join(
                    ([top_line(rec)] if rec.get("snapshot") else []) + source_lines(_sources(rec))
                ),
            },
        )
        return target.read_bytes()


def _shapes_for(result: YearResult | None, codes: pd.Series, path: Path) -> gpd.GeoSeries | None:
    if path.suffix.lower() != ".gpkg":
        return None
    if result is None or result.shapes is None:
        raise ConfigError(f"{path}: a GeoPackage needs the gemeente boundaries of the year.")
    return result.shapes.boundaries.frame.geometry.reindex(codes.to_numpy())


def write_estimate(
    est: Estimate,
    origin: Origin,
    path: str | Path,
    *,
    result: YearResult | None = None,
    force: bool = False,
    dialect: str = "en",
) -> list[Path]:
    """The gemeente table, the national row and the manifest of an estimate.

    ``.xlsx`` gets the national row and the sources as extra sheets; ``.csv`` and
    ``.parquet`` get a ``<name>_nederland`` file beside them; ``.gpkg`` one layer with the
    gemeente geometry of the year (needs ``result`` with shapes). Files of the same name
    are replaced only if vib wrote them (``force``: also when changed since).
    """
    path = check_table_path(Path(path), force=force)
    rec = record(
        origin,
        sources=est.provenance,
        card=est.card,
        notes=est.notes,
        extra={
            "kind": "estimate",
            "year": est.year,
            "periods": [f"{est.year}JJ00"],
            "rows": len(est.table),
            "year_choice": est.year_note or "given by the caller",
            "bijstand_table": est.bijstand_table,
            "local_variation": est.variation_record(),
            "sensitivity": [
                {str(k): v for k, v in row.items()}
                for row in est.sensitivity.table.to_dict("records")
            ]
            if est.sensitivity is not None
            else None,
            "national_checks": est.checks,
            "columns_note": "werkzoekend = centrale parameters; p10/p50/p90 uit de Monte Carlo; "
            "de aanname 'job_seeking' (s) is niet uit een publieke bron en moet lokaal worden "
            "gekalibreerd.",
        },
    )
    geometry = _shapes_for(result, est.table["gemeentecode"], path)
    companions: dict[str, pd.DataFrame] = {}
    if path.suffix.lower() != ".gpkg":
        companions["nederland"] = est.national
        if est.sensitivity is not None:
            companions["gevoeligheid"] = est.sensitivity.table
    files = _table_files(path, est.table, companions, rec, geometry, check_dialect(dialect))
    write_bundle(files, sidecar(path), rec)
    return [*files, sidecar(path)]


def year_record(result: YearResult, kind: str, rows: int, extra: Mapping[str, JsonValue]) -> Record:
    """The manifest record of an output made from ``result`` (``kind``, ``rows``, ``extra``)."""
    return record(
        result.origin,
        sources=result.sources(),
        card=result.card,
        notes=result.notes,
        extra={
            "kind": kind,
            "year": result.year,
            "periods": [f"{result.year}JJ00"],
            "rows": rows,
            "year_choice": result.year_note or "given by the caller",
            "regions_table": result.regions.table,
            **extra,
        },
    )


def write_ranking(
    result: YearResult,
    path: str | Path,
    *,
    compare: bool = False,
    force: bool = False,
    dialect: str = "en",
) -> list[Path]:
    """The ranking (and with ``compare`` the 2009 reference today) with its manifest."""
    path = check_table_path(Path(path), "ranking", force=force)
    ranking = result.ranking
    rec = year_record(
        result,
        "ranking",
        len(ranking.table),
        {
            **ranking.record(),
            "local_variation": result.estimate.variation_record(),
            "growth_basis": result.growth.basis,
        },
    )
    companions = {"prijzen": ranking.prices}
    if ranking.summary is not None:
        companions["samenvatting"] = ranking.summary
    if ranking.funnel is not None:
        companions["trajecten"] = ranking.funnel
    if ranking.sensitivity is not None:
        companions["gevoeligheid"] = ranking.sensitivity
    if compare:
        companions["vergelijking_2009"] = result.comparison_2009()
    geometry = _shapes_for(result, ranking.table["gemeentecode"], path)
    files = _table_files(path, ranking.table, companions, rec, geometry, check_dialect(dialect))
    write_bundle(files, sidecar(path), rec)
    return [*files, sidecar(path)]


def write_trend(
    result: YearResult, path: str | Path, *, force: bool = False, dialect: str = "en"
) -> list[Path]:
    """The trend (:mod:`.trend`) with its manifest: every year's sources and periods."""
    path = check_table_path(Path(path), "trend", force=force)
    trend = result.trend
    if trend is None:
        raise ConfigError("One year only: there is no trend to write (give an earlier `first`).")
    rec = year_record(
        result,
        "trend",
        len(trend.table),
        {"periods": [f"{y}JJ00" for y in trend.years], "trend_notes": list(trend.notes)},
    )
    if path.suffix.lower() == ".gpkg":
        raise ConfigError(f"{path}: a trend has a row per gemeente and year; use .csv or .xlsx.")
    files = _table_files(path, trend.table, {}, rec, None, check_dialect(dialect))
    write_bundle(files, sidecar(path), rec)
    return [*files, sidecar(path)]


def write_regions(
    result: YearResult, level: str, path: str | Path, *, force: bool = False, dialect: str = "en"
) -> list[Path]:
    """The estimate per region of ``level`` with its manifest (``.gpkg``: dissolved areas)."""
    path = check_table_path(Path(path), "regions", force=force)
    frame = result.totals(level)
    rec = year_record(result, f"regions:{level}", len(frame), {"level": level})
    geometry = None
    if path.suffix.lower() == ".gpkg":
        if result.shapes is None:
            raise ConfigError(f"{path}: a GeoPackage needs the gemeente boundaries of the year.")
        # the cleaned coverage (shared borders shared) dissolves without slivers
        areas = dissolve(result.shapes.frame, result.regions.membership(level))
        geometry = areas.geometry.reindex(frame["code"].to_numpy())
    files = _table_files(path, frame, {}, rec, geometry, check_dialect(dialect))
    write_bundle(files, sidecar(path), rec)
    return [*files, sidecar(path)]


def write_map(
    result: YearResult,
    path: str | Path,
    *,
    png: str | Path | None = None,
    tiles: bool = False,
    metric: str = "werkzoekend",
    level: str = "gemeente",
    scheme: str = "fisher_jenks",
    k: int = 5,
    highlight_top: int | None = None,
    force: bool = False,
) -> MapResult:
    """One choropleth as offline HTML (and PNG), with its manifest.

    ``metric``, ``level``, ``scheme``, ``k`` and ``highlight_top`` are those of
    :func:`~.maps.map_for`; ``tiles`` puts an OpenStreetMap background under the map (the
    only thing that needs a network when the page is opened).
    """
    path = check_file_path(Path(path), force=force)
    if png is not None:
        png = check_file_path(Path(png), force=force, manifest=False)
    m = map_for(result, metric=metric, level=level, scheme=scheme, k=k, highlight_top=highlight_top)
    files = {path: m.html(tiles=tiles).encode("utf-8")}
    if png is not None:
        files[png] = m.png()
    rec = record(
        result.origin,
        sources=result.sources(),
        card=result.card,
        notes=result.notes,
        extra=m.record,
    )
    write_bundle(files, sidecar(path), rec)
    return m


def check_page_path(path: str | Path, *, force: bool = False) -> Path:
    """A writable path for an HTML page (``.html``), checked before any work."""
    path = check_file_path(Path(path), force=force)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"A page is HTML: give a path ending in .html, not {path}.")
    return path


def write_verkenner(result: YearResult, path: str | Path, *, force: bool = False) -> Path:
    """The selectieverkenner (:mod:`.verkenner`) as one offline HTML file, with its manifest."""
    path = check_page_path(path, force=force)
    page = render_verkenner(result)
    solver = vendored()
    rec = record(
        result.origin,
        sources=result.sources(),
        card=result.card,
        notes=result.notes,
        extra={
            "kind": "verkenner",
            "year": result.year,
            "constraints": result.ranking.constraints.record(),
            "objective": result.ranking.objective,
            "solver": {"package": solver["name"], "version": solver["version"]},
        },
    )
    write_bundle({path: page.encode("utf-8")}, sidecar(path), rec)
    return path


def write_pitch(
    result: YearResult,
    codes: Sequence[str],
    folder: str | Path,
    *,
    sender: Sender | None = None,
    force: bool = False,
) -> list[Path]:
    """One page per gemeente in ``folder``, an ``index.html`` of them, and the manifest.

    Pages of an earlier call in the same folder stay, listed in the manifest and in the
    index. ``sender``: who hands the pages out (the ask block). A page or index of the same
    name is replaced only if vib wrote it (``force``: also when changed since).
    """
    folder = Path(folder)
    codes = list(codes)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file; give a folder for the pitch pages.")
    check_writable(folder, "pitch folder")
    names = {c: page_name(c, result.gemeente_name(c)) for c in codes}
    manifest = folder / f"pitch_{result.year}.manifest.json"
    check_replace(
        [*(folder / n for n in names.values()), folder / "index.html", manifest],
        force=force,
        what=f"pitch pages in {folder}",
    )
    files = {
        folder / names[c]: render_page(result, c, sender=sender).encode("utf-8") for c in codes
    }
    keep = earlier_outputs(manifest)
    known = set(result.ranking.table["gemeentecode"])
    listed = {m[1]: name for name in keep if (m := re.match(r"(GM\d{4})-.*\.html$", name))}
    listed = {code: name for code, name in listed.items() if code in known}
    files[folder / "index.html"] = pitch_index(result, {**listed, **names}).encode("utf-8")
    rec = year_record(result, "pitch", len(codes), {"gemeenten": codes})
    write_bundle(files, manifest, rec, keep=keep)
    return [*files, manifest]


def write_boundaries(session: Session, years: Sequence[int], folder: str | Path, *,
                     force: bool = False) -> list[Path]:  # fmt: skip
    """Boundaries of ``years`` as ``folder/gemeente_gegeneraliseerd_<year>.geojson``.

    A snapshot's ``geo/`` folder: ``--snapshot`` serves it at PDOK's paths. Each file is
    checked as a PDOK answer is (:func:`~.geo.snapshot_boundaries`) and listed, with its
    checksum, in ``grenzen.manifest.json``; a file of that name that vib did not write is
    never replaced (``force``: one vib wrote and that changed since is).
    """
    folder = Path(folder)
    if not years:
        return []
    manifest = folder / "grenzen.manifest.json"
    targets = [folder / f"gemeente_gegeneraliseerd_{y}.geojson" for y in years]
    check_writable(folder, "boundary folder")
    check_replace([*targets, manifest], force=force, what=f"boundaries in {folder}")
    got = snapshot_boundaries(session, years)
    files = {folder / f"gemeente_gegeneraliseerd_{y}.geojson": data for y, data in got.items()}
    rec = record(Origin.of(session.settings), sources=[],
                 extra={"kind": "boundaries", "years": list(got)})  # fmt: skip
    write_bundle(files, manifest, rec, keep=earlier_outputs(manifest))
    return list(files)
