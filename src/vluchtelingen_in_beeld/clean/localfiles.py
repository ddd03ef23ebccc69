"""Figures a user knows better than CBS: residents in reception, and a gemeente's own counts.

Two optional CSV files (``,`` or ``;`` between cells, UTF-8, a header row):

* ``--opvang FILE`` (:func:`read_reception`): ``gemeentecode, bewoners, peildatum, bron``:
  residents of a reception centre (azc) who are in the population figures. They are taken
  out of the target population before the estimate (spread over the origin groups as the
  gemeente's own target population is), and the file is named as a source in every output.
* ``--lokale-cijfers FILE`` (:func:`read_local_figures`): ``gemeentecode, wat, waarde,
  peildatum, bron`` and optionally ``marge`` (the figure's own uncertainty, a share: 0.1 is
  ±10%; default :data:`DEFAULT_MARGIN`). ``wat`` is one of :data:`WHAT`. The estimate of a
  gemeente with a figure is calibrated to it; the others move with the calibrations (see
  :func:`~.estimate.calibrate`).

A file is read whole or not at all: every bad row (a code that is not a gemeente code, a
count that is negative or not a whole number, an empty source or date, a code twice) is
named with its line and the reason, and nothing of the file is used. Checks that need the
year (a gemeente of that year, a number above its target population) are made by the
estimate, in the same way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.files import read_regular
from vluchtelingen_in_beeld.fmt import nl_int

#: A local file is small: one row per gemeente.
MAX_LOCAL_BYTES = 2_000_000
#: What a local figure counts: key -> its Dutch description.
WHAT: dict[str, str] = {
    "werkzoekend": "werkzoekenden uit de doelgroepen (eigen telling van de gemeente)",
    "bijstand": "statushouders met bijstand (eigen telling van de gemeente)",
}
#: The uncertainty of a local figure when its row gives none (a share, ±10%).
DEFAULT_MARGIN = 0.10
#: A count in a local file is at most this (more people than the Netherlands has is a typo).
MAX_COUNT = 20_000_000
#: Errors shown at most (the rest counted).
SHOWN_ERRORS = 10

_CODE = re.compile(r"^GM\d{4}$")


@dataclass(frozen=True)
class ReceptionRow:
    """Residents in reception in one gemeente (a row of an ``--opvang`` file)."""

    code: str
    bewoners: int
    peildatum: str
    bron: str
    line: int


@dataclass(frozen=True)
class LocalFigure:
    """One figure a gemeente knows (a row of a ``--lokale-cijfers`` file)."""

    code: str
    wat: str
    waarde: float
    peildatum: str
    bron: str
    marge: float
    line: int


@dataclass(frozen=True)
class LocalFile:
    """A local file as read: its name (never its folder), checksum and rows by code."""

    kind: str
    name: str
    sha256: str
    rows: dict[str, ReceptionRow] | dict[str, LocalFigure]

    def source(self) -> dict[str, str | int | None]:
        """The file as a source of an output's numbers (a :class:`~.records.SourceRecord`)."""
        dates = sorted({r.peildatum for r in self.rows.values()})
        sources = sorted({r.bron for r in self.rows.values()})
        title = (
            "Bewoners van opvanglocaties (eigen bestand)"
            if self.kind == "opvang"
            else "Lokale cijfers van gemeenten (eigen bestand)"
        )
        return {
            "kind": "eigen bestand",
            "table": self.name,
            "title": title,
            "rows": len(self.rows),
            "period": ", ".join(dates),
            "source": "; ".join(sources),
            "checksum": self.sha256,
        }

    def refuse(self, problems: list[str]) -> None:
        """Raise with every problem found against the year (nothing of the file is used)."""
        if problems:
            raise ConfigError(_listed(self.name, problems))


def _listed(name: str, problems: list[str]) -> str:
    shown = problems[:SHOWN_ERRORS]
    more = len(problems) - len(shown)
    tail = f"\n  … en {more} meer" if more else ""
    return (
        f"{name}: {len(problems)} regel{'s' * (len(problems) != 1)} niet te gebruiken; er is "
        "niets van het bestand gebruikt. Verbeter of verwijder "
        f"{'deze regels' if len(problems) != 1 else 'deze regel'}:\n  " + "\n  ".join(shown) + tail
    )


def _rows(
    path: str | Path, what: str, required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], str]:
    data = read_regular(path, what, MAX_LOCAL_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"The {what} {path} is not UTF-8 text; save it as CSV (UTF-8).") from None
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=sep)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(
            f"The {what} {path} lacks the column{'s' * (len(missing) != 1)} "
            f"{', '.join(missing)}; its header must be: {', '.join(required)}."
        )
    rows = []
    line = reader.line_num  # the header's last line
    for raw in reader:
        start, line = line + 1, reader.line_num  # a quoted cell may span lines
        if None in raw:  # more cells than the header has columns: the columns would shift
            extra = raw.pop(None) or []
            rows.append((start, {"_extra": str(len(extra))}))
            continue
        row = {str(key).strip().lower(): (v or "").strip() for key, v in raw.items() if key}
        if any(row.values()):
            rows.append((start, row))
    if not rows:
        raise ConfigError(f"The {what} {path} has no rows under its header.")
    return rows, hashlib.sha256(data).hexdigest()


def _number(text: str) -> float:
    """A number as a person types it: 1234, 1.234 (thousands), 12,5 or 12.5."""
    t = text.replace(" ", "")
    if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", t):
        t = t.replace(".", "")
    elif re.fullmatch(r"[+-]?\d+(\.\d{3})*,\d+", t):
        t = t.replace(".", "").replace(",", ".")
    return float(t)


def _not_a_count(line: int, key: str, text: str, n: float, tail: str = "") -> str | None:
    """Why ``n`` (typed as ``text``) is not a count of people, or ``None`` if it is one."""
    if math.isfinite(n) and 0 <= n <= MAX_COUNT and n == int(n):
        return None
    return (
        f"regel {line}: {key} {text[:20]} is geen geheel aantal van 0 tot {nl_int(MAX_COUNT)}"
        + tail
    )


def _common(line: int, row: dict[str, str], seen: dict[str, int], problems: list[str]) -> str:
    if "_extra" in row:
        problems.append(
            f"regel {line}: {row['_extra']} cel(len) meer dan de kolommen van de kop; staat er "
            "een scheidingsteken (, of ;) in een getal of tekst zonder aanhalingstekens?"
        )
        return ""
    code = row.get("gemeentecode", "").upper()
    if not _CODE.match(code):
        problems.append(
            f"regel {line}: {row.get('gemeentecode')!r} is geen gemeentecode "
            "(GM en vier cijfers, zoals GM0363)"
        )
    elif code in seen:
        problems.append(f"regel {line}: {code} staat er al op regel {seen[code]}")
    else:
        seen[code] = line
    for key in ("peildatum", "bron"):
        if not row.get(key):
            problems.append(f"regel {line}: geen {key}")
    return code


def _whole(
    kind: str,
    path: str | Path,
    sha: str,
    rows: dict[str, ReceptionRow] | dict[str, LocalFigure],
    problems: list[str],
) -> LocalFile:
    """The file, if no row had a problem; else every problem at once (nothing used)."""
    if problems:
        raise ConfigError(_listed(Path(path).name, problems))
    return LocalFile(kind, Path(path).name, sha, rows)


def read_reception(path: str | Path) -> LocalFile:
    """An ``--opvang`` file (module docstring), checked row by row."""
    required = ("gemeentecode", "bewoners", "peildatum", "bron")
    rows, sha = _rows(path, "reception file (`opvang`)", required)
    problems: list[str] = []
    seen: dict[str, int] = {}
    out: dict[str, ReceptionRow] = {}
    for line, row in rows:
        code = _common(line, row, seen, problems)
        if not code:
            continue
        try:
            n = _number(row["bewoners"])
        except ValueError:
            problems.append(f"regel {line}: bewoners {row['bewoners']!r} is geen getal")
            continue
        if bad := _not_a_count(line, "bewoners", row["bewoners"], n):
            problems.append(bad)
            continue
        out[code] = ReceptionRow(code, int(n), row["peildatum"], row["bron"], line)
    return _whole("opvang", path, sha, out, problems)


def read_local_figures(path: str | Path) -> LocalFile:
    """A ``--lokale-cijfers`` file (module docstring), checked row by row."""
    required = ("gemeentecode", "wat", "waarde", "peildatum", "bron")
    rows, sha = _rows(path, "local figures file (`lokale_cijfers`)", required)
    problems: list[str] = []
    seen: dict[str, int] = {}
    out: dict[str, LocalFigure] = {}
    for line, row in rows:
        code = _common(line, row, seen, problems)
        if not code:
            continue
        wat = row["wat"].lower()
        if wat not in WHAT:
            problems.append(
                f"regel {line}: wat {row['wat']!r} is niet bekend; kies {' of '.join(WHAT)}"
            )
            continue
        try:
            value = _number(row["waarde"])
            margin = _number(row["marge"]) if row.get("marge") else DEFAULT_MARGIN
        except ValueError:
            problems.append(f"regel {line}: waarde of marge is geen getal")
            continue
        if bad := _not_a_count(line, "waarde", row["waarde"], value, " (een telling van mensen)"):
            problems.append(bad)
            continue
        if not (math.isfinite(margin) and 0 <= margin < 1):
            problems.append(
                f"regel {line}: marge {row.get('marge')} moet een aandeel van 0 tot 1 zijn "
                "(0,1 is 10%)"
            )
            continue
        out[code] = LocalFigure(code, wat, value, row["peildatum"], row["bron"], margin, line)
    return _whole("lokaal", path, sha, out, problems)


@dataclass(frozen=True)
class LocalFiles:
    """The optional local files of a run: reception (``--opvang``) and own figures."""

    reception: LocalFile | None = None
    figures: LocalFile | None = None

    @classmethod
    def read(cls, opvang: str | Path | None, figures: str | Path | None) -> LocalFiles | None:
        """Both files read and checked (``None`` when neither is given)."""
        if opvang is None and figures is None:
            return None
        return cls(
            read_reception(opvang) if opvang is not None else None,
            read_local_figures(figures) if figures is not None else None,
        )
