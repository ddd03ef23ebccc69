"""The registry of CBS tables: the only module that names CBS tables, keys and measures.

CBS renumbers measure keys between editions (``Code_28`` one year, ``Code_30`` the next), so
measures are named here by their *titles* in ``DataProperties``: a path of titles from the
outer topic group down to the topic, e.g. ``("Lokaliseringen van gemeenten",
"Arbeidsmarktregio's", "Code")``. They are resolved against each table's metadata at run
time (:func:`resolve_measure`), whatever the keys and however deep CBS nests the groups.

``vib check`` reads the metadata of every table registered here and reports whether every
path, dimension key and period still resolves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vluchtelingen_in_beeld.errors import ConfigError, MetadataError, did_you_mean

# --- dimension keys shared by the population tables -------------------------------------

GESLACHT_TOTAAL = "T001038"
LEEFTIJD_TOTAAL = "10000"
HERKOMST_TOTAAL = "T001040"
#: 85458NED Herkomstland "Buiten Europa" (all origins outside Europe)
HERKOMST_BUITEN_EUROPA = "H008859"
GEBOORTELAND_TOTAAL = "T001638"
GEBOORTELAND_NEDERLAND = "A051735"
GEBOORTELAND_BUITENLAND = "A051736"
GENERATIE_TOTAAL = "T001040"
GEMEENTE_PREFIX = "GM"
NATIONAL_PREFIX = "NL"
PROVINCIE_PREFIX = "PV"

#: Codes CBS puts in numeric cells instead of a value (suppressed, not applicable, not yet
#: available); reported by users of the v3 API for Kerncijfers wijken en buurten. They are
#: never numbers: :func:`vluchtelingen_in_beeld.access.cbs.rows_to_frame` turns them into missing.
SENTINELS = (-99995, -99996, -99997, -99998, -99999)

#: Birthplace choices of the method card, as (85458NED Geboorteland key, 84910NED Generatie
#: title). 84910NED splits by generation: born abroad is the first generation.
BIRTHPLACES: dict[str, tuple[str, str]] = {
    "buitenland": (GEBOORTELAND_BUITENLAND, "Eerste generatie"),
    "nederland": (GEBOORTELAND_NEDERLAND, "Tweede generatie"),
    "totaal": (GEBOORTELAND_TOTAAL, "Totaal"),
}


@dataclass(frozen=True)
class Measure:
    """A measure found by its title path in ``DataProperties``."""

    role: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    """What we know about one CBS table (or one yearly family of tables)."""

    name: str
    title: str
    #: Table id per data year; ``None`` as key means "any year" (one table, many periods).
    ids: Mapping[int | None, str]
    region_dim: str
    measures: tuple[Measure, ...] = ()
    #: Dimension that carries the origin group (population tables only).
    origin_dim: str | None = None
    birth_dim: str | None = None
    age_dim: str | None = "Leeftijd"
    sex_dim: str | None = "Geslacht"
    years: tuple[int, int] | None = None
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def table_id(self, year: int | None = None) -> str:
        """The table id for ``year`` (or the single id of a multi-period table)."""
        if None in self.ids:
            return self.ids[None]
        if year is None:
            raise ConfigError(f"{self.title}: a year is needed to choose the table.")
        if year not in self.ids:
            known = ", ".join(str(y) for y in sorted(k for k in self.ids if k is not None))
            raise ConfigError(
                f"{self.title}: no table registered for {year}. Registered years: {known}."
            )
        return self.ids[year]

    def measure(self, role: str) -> Measure:
        """The measure with the given role."""
        for m in self.measures:
            if m.role == role:
                return m
        raise ConfigError(
            f"{self.title}: no measure with role {role!r} in the registry; roles: "
            + ", ".join(m.role for m in self.measures)
            + "."
        )


@dataclass(frozen=True)
class PopulationSpec(TableSpec):
    """A population table by origin: its origin, birthplace, age and sex dimensions known."""

    origin_dim: str = ""
    birth_dim: str = ""
    age_dim: str = "Leeftijd"
    sex_dim: str = "Geslacht"

    def __post_init__(self) -> None:
        if not (self.origin_dim and self.birth_dim and self.age_dim and self.sex_dim):
            raise ValueError(f"{self.name}: a population table needs all four dimensions.")


POPULATION = PopulationSpec(
    name="bevolking",
    title="Bevolking; herkomstland, geboorteland, leeftijd, regio, 1 januari",
    ids={None: "85458NED"},
    region_dim="RegioS",
    measures=(Measure("bevolking", ("Bevolking",)),),
    origin_dim="Herkomstland",
    birth_dim="Geboorteland",
    years=(2022, 9999),
    note="Herkomstland classification of 2022 onward.",
)

POPULATION_OLD = PopulationSpec(
    name="bevolking_migratieachtergrond",
    title="Bevolking; geslacht, leeftijd, migratieachtergrond, generatie, regio, 1 januari",
    ids={None: "84910NED"},
    region_dim="RegioS",
    measures=(Measure("bevolking", ("Bevolking op 1 januari",)),),
    origin_dim="Migratieachtergrond",
    birth_dim="Generatie",
    years=(2010, 2021),
    note="Migratieachtergrond classification; CBS replaced it in 2022 (series break).",
)

_GEMEENTEN = "Codes en namen van gemeenten"
_LOCATIES = "Lokaliseringen van gemeenten"

#: CBS "Gebieden in Nederland", one table per year (ids checked against public use of
#: each edition). Gemeente code and name sit under "Codes en namen van gemeenten"; each
#: classification has its own group inside "Lokaliseringen van gemeenten".
REGIONS = TableSpec(
    name="gebieden",
    title="Gebieden in Nederland",
    ids={
        2019: "84378NED",
        2020: "84721NED",
        2021: "84929NED",
        2022: "85067NED",
        2023: "85385NED",
        2024: "85755NED",
        2025: "86059NED",
        2026: "86247NED",
    },
    region_dim="RegioS",
    measures=(
        Measure("gemeente_code", (_GEMEENTEN, "Code")),
        Measure("gemeente_naam", (_GEMEENTEN, "Naam")),
        Measure("arbeidsmarktregio_code", (_LOCATIES, "Arbeidsmarktregio's", "Code")),
        Measure("arbeidsmarktregio_naam", (_LOCATIES, "Arbeidsmarktregio's", "Naam")),
        Measure("corop_code", (_LOCATIES, "COROP-gebieden", "Code")),
        Measure("corop_naam", (_LOCATIES, "COROP-gebieden", "Naam")),
        Measure("landsdeel_code", (_LOCATIES, "Landsdelen", "Code")),
        Measure("landsdeel_naam", (_LOCATIES, "Landsdelen", "Naam")),
        Measure("provincie_code", (_LOCATIES, "Provincies", "Code")),
        Measure("provincie_naam", (_LOCATIES, "Provincies", "Naam")),
    ),
    age_dim=None,
    sex_dim=None,
)

#: CBS "Kerncijfers wijken en buurten", one table per year (gemeente layer used). A new
#: edition is published before its income and benefit columns are filled: the bijstand
#: column of 2025 and 2026 may still be empty; :mod:`.inputs` then takes an older one.
KEY_FIGURES = TableSpec(
    name="kerncijfers",
    title="Kerncijfers wijken en buurten",
    ids={
        2021: "85039NED",
        2022: "85318NED",
        2023: "85618NED",
        2024: "85984NED",
        2025: "86165NED",
        2026: "86358NED",
    },
    region_dim="WijkenEnBuurten",
    measures=(
        Measure("inwoners", ("Bevolking", "Aantal inwoners")),
        Measure("bijstand", ("Sociale zekerheid", "Personen per soort uitkering; Bijstand")),
    ),
    age_dim=None,
    sex_dim=None,
)

REGISTRY: dict[str, TableSpec] = {
    spec.name: spec for spec in (POPULATION, POPULATION_OLD, REGIONS, KEY_FIGURES)
}


def population_table_for(year: int) -> PopulationSpec:
    """The population table that holds origin groups for 1 January of ``year``."""
    if year >= 2022:
        return POPULATION
    if year >= 2010:
        return POPULATION_OLD
    raise ConfigError(f"No population table by origin for {year}; the series starts in 2010.")


def editions_up_to(spec: TableSpec, year: int) -> list[tuple[int, str]]:
    """(year, id) of every registered edition of ``spec`` up to ``year``, newest first."""
    return sorted(
        ((y, tid) for y, tid in spec.ids.items() if y is not None and y <= year), reverse=True
    )


def all_table_ids() -> list[tuple[TableSpec, int | None, str]]:
    """Every (spec, year, id) the registry knows, for ``vib tables``."""
    out: list[tuple[TableSpec, int | None, str]] = []
    for spec in REGISTRY.values():
        for year, tid in sorted(spec.ids.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0)):
            out.append((spec, year, tid))
    return out


def period_key(year: int) -> str:
    """CBS period key of a whole year, e.g. ``2025JJ00``."""
    return f"{year}JJ00"


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def title_path(data_properties: Sequence[Mapping[str, Any]], prop: Mapping[str, Any]) -> list[str]:
    """Titles from the outermost group down to ``prop`` (as CBS writes them)."""
    by_id = {p.get("ID"): p for p in data_properties}
    titles = [str(prop.get("Title") or "")]
    parent = prop.get("ParentID")
    seen = set()
    while parent is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        titles.append(str(by_id[parent].get("Title") or ""))
        parent = by_id[parent].get("ParentID")
    return [t.strip() for t in reversed(titles)]


def _matches(path: Sequence[str], want: Sequence[str]) -> bool:
    """``want`` ends at the topic and its groups appear, in order, among the topic's groups.

    So ``("Provincies", "Code")`` and ``("Lokaliseringen van gemeenten", "Provincies",
    "Code")`` both find a Code under Provincies, also if CBS adds a level in between.
    """
    if not want or not path or path[-1] != want[-1]:
        return False
    groups = iter(path[:-1])
    return all(any(g == w for g in groups) for w in want[:-1])


def resolve_measure(data_properties: Sequence[Mapping[str, Any]], path: Sequence[str]) -> str:
    """Find the key of the topic whose title path is ``path`` in ``DataProperties``.

    ``path`` is a list of titles from an outer topic group down to the topic, e.g.
    ``("Lokaliseringen van gemeenten", "Arbeidsmarktregio's", "Code")``. Titles compare
    case- and whitespace-insensitively; groups may be left out or nested deeper (see
    :func:`_matches`), never reordered.
    """
    want = [_norm(t) for t in path]
    topics = [p for p in data_properties if p.get("Type") == "Topic"]
    paths = {id(p): title_path(data_properties, p) for p in topics}
    hits = [p for p in topics if _matches([_norm(t) for t in paths[id(p)]], want)]
    if len(hits) == 1:
        return str(hits[0]["Key"])
    readable = [" / ".join(paths[id(p)]) for p in topics]
    shown = " / ".join(path)
    if not hits:
        raise MetadataError(
            f"No measure titled {shown!r} in this table."
            f"{did_you_mean(shown, readable)} Measures: {'; '.join(readable)}."
        )
    raise MetadataError(
        f"Measure title {shown!r} is ambiguous: "
        + ", ".join(f"{p['Key']} ({' / '.join(paths[id(p)])})" for p in hits)
        + ". Give more of its title path."
    )
