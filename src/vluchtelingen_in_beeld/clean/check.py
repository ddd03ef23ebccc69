"""Does the registry still fit CBS? ``vib check`` reads the metadata of every registered table.

For each table and year in :mod:`.tables`, the metadata is read fresh from the current source
(live CBS, or a snapshot) and every title path, dimension, key and period the tool relies on
is resolved. A path that no longer resolves is reported with the closest titles, so that the
registry can be fixed before a user's run fails on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vluchtelingen_in_beeld.access import tables as T
from vluchtelingen_in_beeld.access.cbs import Session, TableMeta, get_metadata
from vluchtelingen_in_beeld.access.store import Store
from vluchtelingen_in_beeld.clean.inputs import age_bands
from vluchtelingen_in_beeld.clean.method import load_card, shipped_cards
from vluchtelingen_in_beeld.errors import (
    ConfigError,
    MetadataError,
    UnknownTableError,
    did_you_mean,
)

#: Status of one table: every check passed, something failed, or not at this source.
OK, FAIL, ABSENT = "ok", "FAIL", "absent"


@dataclass
class TableCheck:
    """What ``vib check`` found for one registered table."""

    table: str
    title: str
    year: int | None
    status: str = OK
    resolved: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: what only some cards need (the estimate names it when such a card is used)
    warnings: list[str] = field(default_factory=list)
    detail: str = ""

    def fail(self, problem: str) -> None:
        """Record one problem (the table fails)."""
        self.status = FAIL
        self.problems.append(problem)


def _card_group_keys() -> dict[str, set[str]]:
    """Origin keys per shipped card (the population table must have every one)."""
    return {name: {g.key for g in load_card(name).groups} for name in shipped_cards()}


def _check_dims(chk: TableCheck, spec: T.TableSpec, meta: TableMeta) -> bool:
    dims = [spec.region_dim, spec.origin_dim, spec.birth_dim, spec.age_dim, spec.sex_dim]
    ok = True
    for dim in [d for d in dims if d]:
        if dim not in meta.dimensions:
            chk.fail(
                f"dimension {dim!r} is gone.{did_you_mean(dim, meta.dimensions)} "
                f"Dimensions: {', '.join(meta.dimensions) or 'none'}."
            )
            ok = False
    return ok


def _check_keys(chk: TableCheck, meta: TableMeta, dim: str, keys: set[str], why: str) -> None:
    have = set(meta.keys(dim))
    for key in sorted(keys - have):
        chk.fail(f"{dim} has no key {key!r} ({why}).{did_you_mean(key, have)}")


def _check_population(chk: TableCheck, spec: T.PopulationSpec, meta: TableMeta) -> None:
    _check_keys(chk, meta, spec.sex_dim, {T.GESLACHT_TOTAAL}, "both sexes")
    _check_keys(chk, meta, spec.age_dim, {T.LEEFTIJD_TOTAAL}, "all ages")
    _check_keys(chk, meta, spec.origin_dim, {T.HERKOMST_TOTAAL}, "all origins")
    if spec is T.POPULATION:
        _check_keys(
            chk,
            meta,
            spec.birth_dim,
            {T.GEBOORTELAND_TOTAAL, T.GEBOORTELAND_NEDERLAND, T.GEBOORTELAND_BUITENLAND},
            "birthplace",
        )
        for card, keys in _card_group_keys().items():
            _check_keys(chk, meta, spec.origin_dim, keys, f"card {card}")
    else:
        titles = {t.casefold() for t in meta.titles(spec.birth_dim).values()}
        for choice, (_, title) in T.BIRTHPLACES.items():
            if title.casefold() in titles:
                continue
            if choice == "totaal":
                chk.fail(f"{spec.birth_dim} has no category titled {title!r}.")
            else:
                chk.warnings.append(
                    f"{spec.birth_dim} has no category titled {title!r}: cards with "
                    f"birthplace = {choice!r} cannot use this table here."
                )
    bands = age_bands(meta.titles(spec.age_dim))
    if not bands:
        chk.fail(f"{spec.age_dim} has no categories titled like '15 tot 20 jaar'.")
    lo, hi = spec.years or (0, 9999)
    periods = [p for p in meta.periods() if p.endswith("JJ00") and lo <= int(p[:4]) <= hi]
    if not periods:
        chk.fail(f"no yearly periods between {lo} and {hi} (has: {', '.join(meta.periods())}).")
    chk.detail = (
        f"periods {periods[0][:4]}–{periods[-1][:4]}, {len(bands)} age bands"
        if periods
        else f"{len(bands)} age bands"
    )


def check_table(session: Session, spec: T.TableSpec, year: int | None, table: str) -> TableCheck:
    """Resolve everything the tool needs from ``table`` against its current metadata."""
    chk = TableCheck(table=table, title=spec.title, year=year)
    try:
        meta = get_metadata(session, table)
    except UnknownTableError as exc:
        if session.settings.snapshot_dir is not None:
            chk.status = ABSENT
            chk.detail = "not in this snapshot"
        else:
            chk.fail(f"the table does not exist at {session.settings.cbs_url} ({exc}).")
        return chk
    chk.title = meta.title or spec.title
    if not _check_dims(chk, spec, meta):
        return chk
    for m in spec.measures:
        try:
            chk.resolved[m.role] = T.resolve_measure(meta.properties, m.path)
        except MetadataError as exc:
            chk.fail(f"{' / '.join(m.path)}: {exc}")
    region_keys = meta.keys(spec.region_dim)
    gemeenten = [k for k in region_keys if k.startswith(T.GEMEENTE_PREFIX)]
    if not gemeenten:
        chk.fail(f"{spec.region_dim} has no gemeente keys (GM…).")
    if isinstance(spec, T.PopulationSpec):
        _check_population(chk, spec, meta)
    else:
        chk.detail = f"{len(gemeenten)} gemeenten"
    return chk


def check_registry(session: Session) -> list[TableCheck]:
    """:func:`check_table` for every table and year the registry knows, metadata read fresh."""
    if session.settings.offline:
        raise ConfigError(
            "vib check reads the tables' metadata from CBS (or a `snapshot` folder); it cannot "
            "check anything with `offline`."
        )
    fresh = Session(session.settings.with_(refresh=True))
    return [check_table(fresh, spec, year, tid) for spec, year, tid in T.all_table_ids()]


def report(results: list[TableCheck]) -> list[str]:
    """``vib check``'s lines: one per table, then what resolved, what failed, the notes."""
    lines = []
    for r in results:
        lines.append(f"{r.status:6} {r.table:9} {r.title[:58]:58} {r.detail}")
        lines += [f"         {role} -> {key}" for role, key in sorted(r.resolved.items())]
        lines += [f"         {problem}" for problem in r.problems]
        lines += [f"         note: {warning}" for warning in r.warnings]
    checked = [r for r in results if r.status != ABSENT]
    failed = [r for r in results if r.status == FAIL]
    lines.append(
        f"{len(checked)} table(s) checked, {len(failed)} with problems, "
        f"{len(results) - len(checked)} not at this source."
    )
    return lines


def store_listing(data_dir: Path) -> list[str]:
    """``vib tables``: every registered table and what the local store holds of it."""
    held: dict[str, list[dict[str, object]]] = {}
    for entry in Store(data_dir).entries():
        held.setdefault(str(entry.manifest["table"]), []).append(entry.manifest)
    lines = []
    for spec, year, tid in T.all_table_ids():
        entries = held.get(tid, [])
        extracts = [m for m in entries if m.get("kind") == "extract"]
        rows = sum(int(str(m.get("rows", 0))) for m in extracts)
        stored = f"{len(extracts)} extract(s), {rows:,} rows" if entries else "not in store"
        label = f"{spec.title}" + (f" {year}" if year else "")
        lines.append(f"{tid:10} {label[:70]:70} {stored}")
    return lines
