"""Provincie, arbeidsmarktregio, COROP-gebied and landsdeel of each gemeente.

Memberships come from CBS "Gebieden in Nederland" of the data's year, the columns found
through their ``DataProperties`` titles (CBS renumbers ``Code_28`` and friends between
editions). When that year's table cannot be had, the nearest year whose gemeenten are the
same is used, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from vluchtelingen_in_beeld.access import tables as T
from vluchtelingen_in_beeld.access.cbs import (
    Expected,
    Extract,
    Query,
    Session,
    TableMeta,
    fetch,
    get_metadata,
)
from vluchtelingen_in_beeld.errors import (
    ConfigError,
    DataCoverageError,
    OfflineMissError,
    UnknownTableError,
)
from vluchtelingen_in_beeld.records import SourceRecord

#: level -> (code column, name column, Dutch label)
LEVELS: dict[str, tuple[str, str, str]] = {
    "provincie": ("provincie_code", "provincie", "provincie"),
    "arbeidsmarktregio": ("arbeidsmarktregio_code", "arbeidsmarktregio", "arbeidsmarktregio"),
    "corop": ("corop_code", "corop", "COROP-gebied"),
    "landsdeel": ("landsdeel_code", "landsdeel", "landsdeel"),
}

#: registry role -> column of :attr:`Regions.frame`
_ROLES = {
    "gemeente_code": "gemeentecode_gebieden",
    "gemeente_naam": "gemeentenaam",
    "corop_code": "corop_code",
    "corop_naam": "corop",
    "provincie_code": "provincie_code",
    "provincie_naam": "provincie",
    "arbeidsmarktregio_code": "arbeidsmarktregio_code",
    "arbeidsmarktregio_naam": "arbeidsmarktregio",
    "landsdeel_code": "landsdeel_code",
    "landsdeel_naam": "landsdeel",
}


@dataclass
class Regions:
    """Gemeente -> region memberships for one year (one row per gemeente)."""

    year: int
    table: str
    #: index gemeentecode; columns gemeentenaam, corop_code, corop, provincie_code,
    #: provincie, arbeidsmarktregio_code, arbeidsmarktregio, landsdeel_code, landsdeel
    frame: pd.DataFrame
    extract: Extract | None = None
    notes: list[str] = field(default_factory=list)

    def membership(self, level: str) -> pd.Series:
        """Gemeentecode -> region code at ``level``."""
        return self.frame[level_columns(level)[0]]

    def provenance(self) -> list[SourceRecord]:
        """Where the memberships came from."""
        return [self.extract.provenance()] if self.extract is not None else []


def level_columns(level: str) -> tuple[str, str, str]:
    """(code column, name column, label) of a region level, or a clear error."""
    if level not in LEVELS:
        raise ConfigError(f"Unknown level {level!r}; choose one of: {', '.join(LEVELS)}.")
    return LEVELS[level]


def _candidate_years(year: int) -> list[int]:
    years = [y for y in T.REGIONS.ids if y is not None]
    return sorted(years, key=lambda y: (abs(y - year), -y))


def _gebieden(session: Session, table: str, meta: TableMeta) -> tuple[Extract, dict[str, str]]:
    """The Gebieden rows of ``table``: every gemeente its metadata lists, or refused."""
    spec = T.REGIONS
    measures = {
        role: T.resolve_measure(meta.properties, spec.measure(role).path) for role in _ROLES
    }
    listed = tuple(k for k in meta.keys(spec.region_dim) if k.startswith(T.GEMEENTE_PREFIX))
    titles = meta.titles(spec.region_dim)
    expect = Expected(
        spec.region_dim,
        listed,
        f"{table} (Gebieden in Nederland: its own list of gemeenten)",
        {k: titles.get(k, k) for k in listed},
    )
    x = fetch(
        session,
        Query.make(
            table,
            prefixes={spec.region_dim: [T.GEMEENTE_PREFIX]},
            measures=list(measures.values()),
        ),
        expect,
    )
    return x, measures


def year_gemeenten(session: Session, year: int) -> Expected | None:
    """The gemeenten of ``year`` (Gebieden in Nederland of that year), as the reference.

    Every table of the year is checked against this list before it is stored (see
    :class:`~.cbs.Expected`). ``None`` when no Gebieden table of exactly that year is
    registered or published yet (then a table is checked against its own metadata).
    """
    table = T.REGIONS.ids.get(year)
    if table is None:
        return None
    try:
        meta = get_metadata(session, table)
    except (UnknownTableError, OfflineMissError):
        return None
    x, measures = _gebieden(session, table, meta)
    codes = sorted(k for k in _codes(x) if k.startswith(T.GEMEENTE_PREFIX))
    names = x.frame.set_index(T.REGIONS.region_dim)[measures["gemeente_naam"]]
    named = {str(k): str(v).strip() for k, v in names.items() if str(k) in set(codes)}
    source = f"{year} (Gebieden in Nederland {year}, {table})"
    return Expected("RegioS", tuple(codes), source, named)


def _codes(x: Extract) -> list[str]:
    return [str(k) for k in x.frame[T.REGIONS.region_dim].dropna()]


def load_regions(session: Session, year: int, codes: pd.Index | list[str]) -> Regions:
    """Memberships of ``codes`` (the data's gemeenten) from Gebieden in Nederland.

    Tries the table of ``year`` first; if CBS (or the snapshot) does not have it, the
    nearest registered year that has every one of ``codes``.
    """
    wanted = set(map(str, codes))
    tried: list[str] = []
    for y in _candidate_years(year):
        table = T.REGIONS.ids[y]
        try:
            meta = get_metadata(session, table)
        except UnknownTableError:
            tried.append(f"{table} ({y}): not available")
            continue
        except OfflineMissError:
            tried.append(f"{table} ({y}): not in the local store")
            continue
        spec = T.REGIONS
        x, measures = _gebieden(session, table, meta)
        f = x.frame.set_index(spec.region_dim)
        frame = pd.DataFrame(
            {col: f[measures[role]].astype("string").str.strip() for role, col in _ROLES.items()},
            index=f.index,
        )
        frame.index.name = "gemeentecode"
        frame = frame[frame.index.str.startswith(T.GEMEENTE_PREFIX)]
        odd = frame.index[frame["gemeentecode_gebieden"] != frame.index]
        if len(odd):
            raise DataCoverageError(
                f"{table}: the gemeente code column disagrees with the region key for "
                f"{', '.join(odd[:10])}; the table's columns may have moved. Run `vib check`."
            )
        frame = frame.drop(columns="gemeentecode_gebieden")
        missing = sorted(wanted - set(frame.index))
        if missing:
            if y == year:
                raise DataCoverageError(
                    f"{table} (Gebieden in Nederland {y}) lacks {len(missing)} gemeente(n) of the "
                    f"data: {', '.join(missing[:15])}. Data and regions must be of the same year."
                )
            tried.append(f"{table} ({y}): lacks {len(missing)} gemeenten")
            continue
        frame = frame.loc[sorted(wanted)]
        _check_complete(frame, table)
        notes = []
        if y != year:
            notes.append(
                f"Regio-indeling uit Gebieden in Nederland {y} ({table}): de tabel van {year} was "
                f"niet beschikbaar; de gemeenten van {y} zijn dezelfde als die in de data."
            )
        return Regions(year=y, table=table, frame=frame, extract=x, notes=notes)
    if session.settings.offline:
        raise OfflineMissError(
            f"The local store holds no Gebieden in Nederland table for the gemeenten of {year} "
            f"({'; '.join(tried)}). Run once without `offline`."
        )
    raise DataCoverageError(
        f"No Gebieden in Nederland table covers the {len(wanted)} gemeenten of {year}. Tried: "
        + "; ".join(tried)
        + "."
    )


def _check_complete(frame: pd.DataFrame, table: str) -> None:
    """Every gemeente has exactly one provincie, arbeidsmarktregio and COROP-gebied."""
    for code_col, _, label in LEVELS.values():
        empty = frame.index[frame[code_col].isna() | (frame[code_col] == "")]
        if len(empty):
            raise DataCoverageError(
                f"{table}: {len(empty)} gemeente(n) without a {label}: {', '.join(empty[:10])}."
            )
    if frame.index.duplicated().any():
        dup = frame.index[frame.index.duplicated()].unique()
        raise DataCoverageError(f"{table}: gemeenten listed twice: {', '.join(dup[:10])}.")
