"""The registry of CBS tables: the only module that names CBS tables, keys and measures.

CBS renumbers measure keys between editions (``Code_28`` one year, ``Code_30`` the next), so
measures are named here by their *titles* in ``DataProperties`` (a path of titles from a
topic group down to the topic) and resolved against each table's metadata at run time.
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
GEBOORTELAND_TOTAAL = "T001638"
GEBOORTELAND_NEDERLAND = "A051735"
GEBOORTELAND_BUITENLAND = "A051736"
GENERATIE_TOTAAL = "T001040"
GEMEENTE_PREFIX = "GM"
NATIONAL_PREFIX = "NL"

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
        raise KeyError(role)


POPULATION = TableSpec(
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

POPULATION_OLD = TableSpec(
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

#: CBS "Gebieden in Nederland", one table per year.
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
        Measure("gemeente_code", ("Gemeenten", "Code")),
        Measure("gemeente_naam", ("Gemeenten", "Naam")),
        Measure("corop_code", ("COROP-gebieden", "Code")),
        Measure("corop_naam", ("COROP-gebieden", "Naam")),
        Measure("provincie_code", ("Provincies", "Code")),
        Measure("provincie_naam", ("Provincies", "Naam")),
        Measure("arbeidsmarktregio_code", ("Arbeidsmarktregio's", "Code")),
        Measure("arbeidsmarktregio_naam", ("Arbeidsmarktregio's", "Naam")),
    ),
    age_dim=None,
    sex_dim=None,
)

#: CBS "Kerncijfers wijken en buurten", one table per year (gemeente layer used).
KEY_FIGURES = TableSpec(
    name="kerncijfers",
    title="Kerncijfers wijken en buurten",
    ids={
        2021: "85039NED",
        2022: "85318NED",
        2023: "85618NED",
        2024: "85984NED",
    },
    region_dim="WijkenEnBuurten",
    measures=(
        Measure("inwoners", ("Aantal inwoners",)),
        Measure("bijstand", ("Personen per soort uitkering", "Bijstand")),
    ),
    age_dim=None,
    sex_dim=None,
)

REGISTRY: dict[str, TableSpec] = {
    spec.name: spec for spec in (POPULATION, POPULATION_OLD, REGIONS, KEY_FIGURES)
}


def population_table_for(year: int) -> TableSpec:
    """The population table that holds origin groups for 1 January of ``year``."""
    if year >= 2022:
        return POPULATION
    if year >= 2010:
        return POPULATION_OLD
    raise ConfigError(f"No population table by origin for {year}; the series starts in 2010.")


def nearest_year_id(spec: TableSpec, year: int) -> tuple[int, str]:
    """The registered table of ``spec`` for ``year``, or the latest earlier one."""
    earlier = [y for y in spec.ids if y is not None and y <= year]
    if not earlier:
        first = min(y for y in spec.ids if y is not None)
        raise ConfigError(f"{spec.title}: nothing registered for {year} or before (from {first}).")
    chosen = max(earlier)
    return chosen, spec.ids[chosen]


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


def resolve_measure(data_properties: Sequence[Mapping[str, Any]], path: Sequence[str]) -> str:
    """Find the key of the topic whose title path is ``path`` in ``DataProperties``.

    ``path`` is a list of titles from an outer topic group down to the topic, e.g.
    ``("Arbeidsmarktregio's", "Code")``. Titles compare case- and whitespace-insensitively.
    """
    by_id = {p.get("ID"): p for p in data_properties}

    def title_path(p: Mapping[str, Any]) -> list[str]:
        titles = [p.get("Title") or ""]
        parent = p.get("ParentID")
        while parent is not None and parent in by_id:
            titles.append(by_id[parent].get("Title") or "")
            parent = by_id[parent].get("ParentID")
        return [_norm(t) for t in reversed(titles)]

    want = [_norm(t) for t in path]
    topics = [p for p in data_properties if p.get("Type") == "Topic"]
    hits = [p for p in topics if title_path(p)[-len(want) :] == want]
    if len(hits) == 1:
        return str(hits[0]["Key"])
    readable = [" / ".join(title_path(p)) for p in topics]
    if not hits:
        raise MetadataError(
            f"No measure titled {' / '.join(path)!r} in this table."
            f"{did_you_mean(' / '.join(want), readable)} Measures: {', '.join(readable)}."
        )
    raise MetadataError(
        f"Measure title {' / '.join(path)!r} is ambiguous: "
        + ", ".join(str(p["Key"]) for p in hits)
        + "."
    )
