"""What the method needs from CBS for one year, fetched through :mod:`.cbs`.

:func:`gather` turns a method card and a year into queries (only the keys the card needs),
fetches them (store first), checks that the data covers what the card asks for, and hands
the estimate tidy frames keyed by CBS codes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import cast

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
from vluchtelingen_in_beeld.cells import num
from vluchtelingen_in_beeld.clean.method import MAX_AGE, MethodCard, Rate, check_against_metadata
from vluchtelingen_in_beeld.clean.regions import year_gemeenten
from vluchtelingen_in_beeld.errors import (
    DataCoverageError,
    EmptyAnswerError,
    MetadataError,
    OfflineMissError,
    UnknownTableError,
    VibError,
)
from vluchtelingen_in_beeld.records import SourceRecord

log = logging.getLogger(__name__)

_BAND = re.compile(r"^\s*(\d+)\s*tot\s*(\d+)\s*jaar\s*$", re.IGNORECASE)
_OPEN = re.compile(r"^\s*(\d+)\s*jaar\s*of\s*ouder\s*$", re.IGNORECASE)
OPEN_BAND_END = 120.0


def age_bands(titles: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Age key -> [lower, upper) in years, parsed from CBS titles ("15 tot 20 jaar").

    Keys whose title is not a single band (totals, wider groups) are left out.
    """
    bands: dict[str, tuple[float, float]] = {}
    for key, title in titles.items():
        if m := _BAND.match(title):
            bands[key] = (float(m.group(1)), float(m.group(2)))
        elif m := _OPEN.match(title):
            bands[key] = (float(m.group(1)), OPEN_BAND_END)
    # keep only the finest partition: drop bands that contain another band
    fine = {
        k: (lo, hi)
        for k, (lo, hi) in bands.items()
        if not any(
            k2 != k and lo <= lo2 and hi2 <= hi and (lo2, hi2) != (lo, hi)
            for k2, (lo2, hi2) in bands.items()
        )
    }
    return fine


def age_weights(
    bands: dict[str, tuple[float, float]], age_min: float, age_max: float
) -> dict[str, float]:
    """Share of each band inside [age_min, age_max), assuming ages spread evenly in a band.

    A band wholly inside gets 1, one partly inside gets the overlapping fraction (the
    method's pro-rating), one outside is left out.
    """
    weights = {}
    for key, (lo, hi) in bands.items():
        overlap = min(hi, age_max) - max(lo, age_min)
        if overlap > 0:
            weights[key] = overlap / (hi - lo)
    return weights


@dataclass
class Inputs:
    """Everything the estimate reads, for one year, keyed by CBS codes."""

    year: int
    table: TableMeta
    #: long frame: gemeentecode, groep (card group name), leeftijd (age key), bevolking
    population: pd.DataFrame
    #: age key -> weight within the card's age band
    weights: dict[str, float]
    names: pd.Series
    inwoners: pd.Series
    #: group name -> all-ages national count from the national row (NL01), where published
    national_groups: dict[str, float]
    national_inwoners: float | None
    #: group name -> all-ages count summed over the gemeenten (to check against the above)
    gemeente_groups: dict[str, float] = field(default_factory=dict)
    bijstand_per_1000: pd.Series | None = None
    bijstand_nl_per_1000: float | None = None
    #: the Kerncijfers table the bijstand rates came from
    bijstand_table: str | None = None
    #: provincie code -> inhabitants from the population table's own provincie rows (PV..)
    provincie_inwoners: pd.Series | None = None
    #: gemeentecode -> share of inhabitants born abroad with an origin outside Europe
    non_european_share: pd.Series | None = None
    notes: list[str] = field(default_factory=list)
    extracts: list[Extract] = field(default_factory=list)

    def provenance(self) -> list[SourceRecord]:
        """One record per CBS extract used."""
        return [e.provenance() for e in self.extracts]


def _population_queries(
    spec: T.PopulationSpec, meta: TableMeta, card: MethodCard, year: int
) -> tuple[Query, Query, dict[str, float], list[str]]:
    notes: list[str] = []
    period = T.period_key(year)
    periods = meta.periods()
    if period not in periods:
        raise MetadataError(
            f"{meta.table} ({meta.title}) has no figures for 1 January {year}. Available "
            f"periods: {', '.join(periods)}. Choose one of those years with `year`."
        )
    bp_key, bp_title = T.BIRTHPLACES[card.birthplace]
    if spec is T.POPULATION_OLD:
        by_title = {v.casefold(): k for k, v in meta.titles(spec.birth_dim).items()}
        if bp_title.casefold() not in by_title:
            raise MetadataError(
                f"{meta.table} has no {spec.birth_dim} {bp_title!r} (needed for birthplace "
                f"{card.birthplace!r}); it has: {', '.join(meta.titles(spec.birth_dim).values())}. "
                'Use a card with birthplace = "totaal".'
            )
        birth = by_title[bp_title.casefold()]
        total_birth = T.GENERATIE_TOTAAL
    else:
        birth = bp_key
        total_birth = T.GEBOORTELAND_TOTAAL
    if card.all_ages:
        weights = {T.LEEFTIJD_TOTAAL: 1.0}
    else:
        band_titles = meta.titles(spec.age_dim)
        bands = age_bands(band_titles)
        if not bands:
            raise MetadataError(f"{meta.table} has no age bands in {spec.age_dim}.")
        age_min, age_max = card.ages(year)
        weights = age_weights(bands, age_min, age_max)
        partial = {k: w for k, w in weights.items() if w < 1}
        if partial:
            notes.append(
                f"Leeftijd {card.ages_label(year)}: "
                + ", ".join(
                    f"de klasse {band_titles[k]} telt voor {w:.0%}".replace(".", ",")
                    for k, w in sorted(partial.items(), key=lambda kw: bands[kw[0]])
                )
                + " (naar rato binnen de 5-jaarsklasse)."
            )
    common = {spec.sex_dim: [T.GESLACHT_TOTAAL], "Perioden": [period]}
    regions = {spec.region_dim: [T.GEMEENTE_PREFIX, T.NATIONAL_PREFIX]}
    pop = Query.make(
        meta.table,
        keys={
            **common,
            spec.origin_dim: [g.key for g in card.groups],
            spec.birth_dim: [birth],
            spec.age_dim: sorted(set(weights) | {T.LEEFTIJD_TOTAAL}),
        },
        prefixes=regions,
        measures=[T.resolve_measure(meta.properties, spec.measure("bevolking").path)],
    )
    total = Query.make(
        meta.table,
        keys={
            **common,
            spec.origin_dim: [T.HERKOMST_TOTAAL],
            spec.birth_dim: [total_birth],
            spec.age_dim: [T.LEEFTIJD_TOTAAL],
        },
        prefixes={spec.region_dim: [*regions[spec.region_dim], T.PROVINCIE_PREFIX]},
        measures=pop.measures,
    )
    return pop, total, weights, notes


def _coverage_problem(
    session: Session,
    spec: T.PopulationSpec,
    meta: TableMeta,
    card: MethodCard,
    year: int,
    missing: pd.DataFrame,
) -> DataCoverageError:
    """Name what is missing, and find the years where the card would work."""
    labels = {g.key: g.label for g in card.groups}
    what = sorted({labels.get(k, k) for k in missing["origin"]})
    ages = "age bands" if not card.all_ages else "the age total"
    works = []
    for period in reversed(meta.periods()[-6:]):
        y = int(period[:4])
        if y == year:
            continue
        try:
            pop, _, weights, _ = _population_queries(spec, meta, card, y)
            probe = Query.make(
                meta.table,
                keys={**dict(pop.keys), str(spec.age_dim): [sorted(weights)[0]]},
                prefixes=dict(pop.prefixes),
                measures=pop.measures,
            )
            frame = fetch(session, probe, probe=True).frame
            if not frame.empty and frame[pop.measures[0]].notna().all():
                works.append(str(y))
        except VibError:
            continue
    hint = f" Years where this card works: {', '.join(works)}." if works else ""
    return DataCoverageError(
        f"{meta.table} has no figures by {ages} ({card.ages_label(year)}) "
        f"for 1 January {year} for: {', '.join(what)} ({len(missing)} gemeente/group/age "
        f"combinations missing).{hint} Or use a method card covering all ages "
        "(age_min = 0, age_max = 120), which uses CBS's age total."
    )


def gather(session: Session, card: MethodCard, year: int, *, explain: bool = True) -> Inputs:
    """Fetch (or read from the store) everything the estimate needs for ``year``.

    When the data lacks what the card needs, the error names the years where the card
    works (``explain``), which costs a few small requests; :func:`latest_year` does not
    need that and passes ``explain=False``.
    """
    spec = T.population_table_for(year)
    meta = get_metadata(session, spec.table_id())
    origin_titles = meta.titles(spec.origin_dim)
    check_against_metadata(card, origin_titles, meta.table)
    pop_q, total_q, weights, notes = _population_queries(spec, meta, card, year)
    if spec is T.POPULATION_OLD:
        notes.append(
            f"{meta.table} gebruikt de indeling naar migratieachtergrond; CBS is in 2022 "
            "overgestapt op herkomstland (85458NED). Vergelijk jaren van voor en na 2022 niet "
            "zonder meer: dat is een trendbreuk."
        )
    # the gemeenten of the year are the reference: every answer holds each one, or is refused
    ref = year_gemeenten(session, year) if spec is not T.POPULATION_OLD else None
    pop_x = fetch(session, pop_q, ref)
    total_x = fetch(session, total_q, ref)
    measure = pop_q.measures[0]
    region = spec.region_dim

    totals = total_x.frame
    gm_tot = totals[totals[region].str.startswith(T.GEMEENTE_PREFIX)]
    inwoners = gm_tot.set_index(region)[measure].astype("Float64").rename("inwoners")
    # CBS keeps the keys of former gemeenten: no total that year means it did not exist then,
    # unless the same gemeente has figures by origin, which means the total is missing.
    absent = set(inwoners.index[inwoners.isna()])
    with_rows = pop_x.frame[pop_x.frame[measure].notna()][spec.region_dim]
    incomplete = sorted(absent & set(with_rows))
    if incomplete:
        raise DataCoverageError(
            f"{meta.table} has figures by origin but no total population for 1 January {year} "
            f"for {', '.join(incomplete[:10])}: the data is incomplete (this is not a "
            "herindeling). Fetch it again with `refresh`, or choose another year."
        )
    inwoners = inwoners[inwoners.notna()]
    inwoners.index.name = "gemeentecode"
    nl_tot = totals[totals[region].str.startswith(T.NATIONAL_PREFIX)][measure].dropna()
    # 85458NED has provincie rows (PV20..PV31) beside NL01 and the gemeenten: they are never
    # gemeenten, but they check the provincie sums of the regions step.
    pv_tot = totals[totals[region].str.startswith(T.PROVINCIE_PREFIX)].set_index(region)[measure]
    provincie_inwoners = pv_tot.dropna().astype(float).rename("inwoners_cbs")
    provincie_inwoners.index.name = "provincie_code"
    region_titles = meta.titles(region)
    names = pd.Series(
        {code: _clean_name(region_titles.get(code, code)) for code in inwoners.index},
        name="gemeentenaam",
    )
    names.index.name = "gemeentecode"

    frame = pop_x.frame
    by_key = {g.key: g.name for g in card.groups}
    long = pd.DataFrame(
        {
            "gemeentecode": frame[region],
            "origin": frame[spec.origin_dim],
            "groep": frame[spec.origin_dim].map(by_key),
            "leeftijd": frame[spec.age_dim],
            "bevolking": frame[measure].astype("Float64"),
        }
    )
    nl = long[long["gemeentecode"].str.startswith(T.NATIONAL_PREFIX)]
    national_groups = {
        str(r.groep): num(r.bevolking)
        for r in nl[(nl["leeftijd"] == T.LEEFTIJD_TOTAAL) & nl["bevolking"].notna()].itertuples()
    }
    long = long[long["gemeentecode"].isin(inwoners.index)]
    all_ages = long[long["leeftijd"] == T.LEEFTIJD_TOTAAL]
    gemeente_groups = {
        str(k): float(v)
        for k, v in all_ages.groupby("groep")["bevolking"].sum(min_count=1).items()
        if pd.notna(v)
    }
    used = long[long["leeftijd"].isin(weights)]
    # every (gemeente, group, band) must be there and not missing
    full = pd.MultiIndex.from_product(
        [inwoners.index, [g.key for g in card.groups], sorted(weights)],
        names=["gemeentecode", "origin", "leeftijd"],
    )
    have = used.dropna(subset=["bevolking"]).set_index(["gemeentecode", "origin", "leeftijd"])
    missing_idx = full.difference(cast(pd.MultiIndex, have.index))  # three columns set
    if len(missing_idx):
        missing = missing_idx.to_frame(index=False)
        if not explain:
            raise DataCoverageError(
                f"{meta.table} has no figures for {len(missing)} gemeente/group/age "
                f"combinations the card needs for 1 January {year}."
            )
        raise _coverage_problem(session, spec, meta, card, year, missing)

    inputs = Inputs(
        year=year,
        table=meta,
        population=used[["gemeentecode", "groep", "leeftijd", "bevolking"]].reset_index(drop=True),
        weights=weights,
        names=names,
        inwoners=inwoners,
        national_groups=national_groups,
        national_inwoners=float(nl_tot.iloc[0]) if len(nl_tot) else None,
        gemeente_groups=gemeente_groups,
        provincie_inwoners=provincie_inwoners if len(provincie_inwoners) else None,
        notes=notes,
        extracts=[pop_x, total_x],
    )
    if spec is not T.POPULATION_OLD and card.local_from_data:
        _add_non_european(session, inputs, spec, meta, year, ref)
    if card.uses_local_factor:
        _add_bijstand(session, inputs, year, ref)
    elif card.local_from_data and inputs.non_european_share is not None:
        try:
            _add_bijstand(session, inputs, year, ref)
        except (DataCoverageError, MetadataError) as exc:
            inputs.notes.append(
                f"Lokale spreiding uit de kaart (local_sd), niet uit de gegevens: {exc}"
            )
    return inputs


def _add_non_european(
    session: Session,
    inputs: Inputs,
    spec: T.PopulationSpec,
    meta: TableMeta,
    year: int,
    ref: Expected | None = None,
) -> None:
    """Share of inhabitants born abroad with an origin outside Europe, per gemeente.

    It explains part of the spread of bijstand between gemeenten; the rest (the residual)
    sets the size of the local variation in the Monte Carlo.
    """
    if T.HERKOMST_BUITEN_EUROPA not in meta.titles(spec.origin_dim):
        inputs.notes.append(
            f"{meta.table} heeft geen herkomst 'Buiten Europa': lokale spreiding uit de kaart."
        )
        return
    q = Query.make(
        meta.table,
        keys={
            spec.sex_dim: [T.GESLACHT_TOTAAL],
            "Perioden": [T.period_key(year)],
            spec.origin_dim: [T.HERKOMST_BUITEN_EUROPA],
            spec.birth_dim: [T.GEBOORTELAND_BUITENLAND],
            spec.age_dim: [T.LEEFTIJD_TOTAAL],
        },
        prefixes={spec.region_dim: [T.GEMEENTE_PREFIX]},
        measures=[T.resolve_measure(meta.properties, spec.measure("bevolking").path)],
    )
    x = fetch(session, q, ref)
    f = x.frame.set_index(spec.region_dim)[q.measures[0]].astype("Float64")
    share = (f.reindex(inputs.inwoners.index) / inputs.inwoners).astype(float)
    share.index.name = "gemeentecode"
    inputs.non_european_share = share.rename("aandeel_buiten_europa")
    inputs.extracts.append(x)


@dataclass(frozen=True)
class YearChoice:
    """The year a command works on, and why (``note`` is empty when the user chose it)."""

    year: int
    note: str = ""
    inputs: Inputs | None = None


def latest_year(session: Session, card: MethodCard) -> YearChoice:
    """The latest 1 January for which CBS publishes everything ``card`` needs.

    Walks the periods of 85458NED from the newest down and takes the first year whose
    inputs :func:`gather` can assemble (population by the card's groups and ages, and
    bijstand where the card uses it). The gathered inputs come along, so nothing is asked
    twice.
    """
    spec = T.POPULATION
    meta = get_metadata(session, spec.table_id())
    years = sorted(
        {int(p[:4]) for p in meta.periods() if p.endswith("JJ00") and p[:4].isdigit()},
        reverse=True,
    )
    skipped: list[str] = []
    for y in years:
        if y < (spec.years or (0, 0))[0]:
            break
        try:
            inputs = gather(session, card, y, explain=False)
        except (DataCoverageError, MetadataError) as exc:
            skipped.append(f"{y}: {exc}")
            continue
        note = (
            f"Jaar {y}: de laatste periode van {meta.table} waarvoor de gegevens van kaart "
            f"{card.name} er zijn"
            + (f" (overgeslagen: {'; '.join(skipped)})" if skipped else "")
            + "."
        )
        return YearChoice(y, note, inputs)
    raise DataCoverageError(
        f"No period of {meta.table} ({', '.join(map(str, years)) or 'none'}) has what card "
        f"{card.name} needs: " + "; ".join(skipped) + ". Give `year`, or another `card`."
    )


def _count(n: int) -> str:
    """``1 gemeente``, ``3 gemeenten``."""
    return f"{n} gemeente" if n == 1 else f"{n} gemeenten"


def _clean_name(title: str) -> str:
    """CBS region title without its kind suffix: 'Utrecht (gemeente)' -> 'Utrecht'."""
    return re.sub(r"\s*\((gemeente|gem\.)\)\s*$", "", title.strip(), flags=re.IGNORECASE)


def _add_bijstand(session: Session, inputs: Inputs, year: int, ref: Expected | None = None) -> None:
    """Bijstand per 1,000 inhabitants per gemeente, from Kerncijfers wijken en buurten.

    Takes the newest registered edition up to ``year`` whose bijstand column has values for
    the gemeenten: CBS publishes a new edition before its benefit columns are filled, and a
    table that is not (yet) published is skipped. Which edition was used goes into the notes
    and the provenance.
    """
    spec = T.KEY_FIGURES
    skipped: list[str] = []
    for kwb_year, table in T.editions_up_to(spec, year):
        try:
            meta = get_metadata(session, table)
        except UnknownTableError:
            skipped.append(f"{table} ({kwb_year}): niet gepubliceerd")
            continue
        except OfflineMissError:
            skipped.append(f"{table} ({kwb_year}): niet in de lokale opslag (offline gewerkt)")
            continue
        try:
            inw = T.resolve_measure(meta.properties, spec.measure("inwoners").path)
            bij = T.resolve_measure(meta.properties, spec.measure("bijstand").path)
        except MetadataError as exc:
            skipped.append(f"{table} ({kwb_year}): {exc}")
            continue
        q = Query.make(
            table,
            prefixes={spec.region_dim: [T.GEMEENTE_PREFIX, T.NATIONAL_PREFIX]},
            measures=[inw, bij],
        )
        # the edition's gemeenten may be of an earlier year (KWB 2024 for data of 2025): held
        # to the year's list when they are the same indeling, else to the edition's own list
        listed = tuple(k for k in meta.keys(spec.region_dim) if k.startswith(T.GEMEENTE_PREFIX))
        if ref is not None and set(ref.keys) == set(listed):
            kwb_ref = replace(ref, dim=spec.region_dim)
        else:
            titles = meta.titles(spec.region_dim)
            kwb_ref = Expected(
                spec.region_dim,
                listed,
                f"{table} (Kerncijfers wijken en buurten {kwb_year}: its own list of gemeenten)",
                {k: _clean_name(titles.get(k, k)) for k in listed},
            )
        x = fetch(session, q, kwb_ref)
        f = x.frame.set_index(spec.region_dim)
        gm_rows = f[f.index.str.startswith(T.GEMEENTE_PREFIX)]
        if gm_rows.empty or gm_rows[bij].isna().all():
            skipped.append(
                f"{table} ({kwb_year}): de bijstandskolom is (nog) leeg"
                + (
                    " in de lokale opslag; opnieuw ophalen (refresh) kan hem vullen"
                    if x.from_store
                    else ""
                )
            )
            continue
        rate = (f[bij].astype("Float64") / f[inw].astype("Float64") * 1000).astype("Float64")
        nl = rate[rate.index.str.startswith(T.NATIONAL_PREFIX)].dropna()
        gm = rate[rate.index.str.startswith(T.GEMEENTE_PREFIX)]
        missing = sorted(set(inputs.inwoners.index) - set(gm.dropna().index))
        if nl.empty:
            raise DataCoverageError(
                f"{table} (Kerncijfers wijken en buurten {kwb_year}) lacks its national row. "
                "Use a card with beta = 0 (no local adjustment); if the stored answer is "
                "incomplete, run again with `refresh`."
            )
        if missing:  # a figure CBS does not give (suppressed): that gemeente has none
            names = [str(inputs.names.get(c, c)) for c in missing]
            inputs.notes.append(
                f"Bijstand: {table} geeft geen bijstandscijfer voor {_count(len(missing))} "
                f"({', '.join(names[:8])}{' …' if len(names) > 8 else ''}); daar geen lokale "
                "factor (de landelijke aandelen) en geen bijdrage aan de lokale spreiding."
            )
        gm.index.name = "gemeentecode"
        inputs.bijstand_per_1000 = gm.reindex(inputs.inwoners.index).astype(float)
        inputs.bijstand_nl_per_1000 = float(nl.iloc[0])
        inputs.bijstand_table = table
        inputs.notes.append(
            f"Bijstand uit Kerncijfers wijken en buurten {kwb_year} ({table}), de nieuwste "
            f"editie tot en met {year} met bijstandscijfers"
            + (f"; overgeslagen: {'; '.join(skipped)}" if skipped else "")
            + "."
        )
        inputs.extracts.append(x)
        return
    raise DataCoverageError(
        f"No Kerncijfers wijken en buurten edition up to {year} has bijstand figures: "
        + "; ".join(skipped)
        + ". Use a card with beta = 0 (no local adjustment), or run `vib check`."
    )


@dataclass
class Growth:
    """Two-year growth of the target population per gemeente (``None`` when not available)."""

    year: int
    base_year: int
    #: gemeentecode -> W[t] − W[t-2], people (not percent: a relative growth favours small
    #: bases such as a new reception centre); missing where W[t-2] is missing
    values: pd.Series | None
    basis: str
    notes: list[str] = field(default_factory=list)
    extracts: list[Extract] = field(default_factory=list)
    #: W[t] by the gemeenten of ``year``, and W[t-2] by the gemeenten of ``base_year``
    now: pd.Series | None = field(default=None, repr=False)
    then: pd.Series | None = field(default=None, repr=False)
    #: the note on the gemeenten without growth (empty: none), which :meth:`across` replaces
    gap_note: str = ""

    @property
    def regrouped(self) -> bool:
        """Whether a herindeling lies between the two years: a gemeente of then has ended.

        A gemeente only missing from one year's data is not one (nothing ended).
        """
        if self.now is None or self.then is None:
            return False
        return bool(set(self.then.index) - set(self.now.index))

    def across(self, cw: pd.DataFrame, where: str) -> Growth:
        """The growth with W[t-2] moved onto the gemeenten of ``year`` by crosswalk ``cw``.

        ``cw``: (``oud``, ``nieuw``, ``share``) from the two years' boundaries (see
        :func:`apply_crosswalk`): a merged gemeente's W[t-2] is the sum of its
        predecessors', a gemeente that took over part of another gets that part by area.
        ``where``: the boundaries' source, for the note.
        """
        if self.now is None or self.then is None or self.values is None:
            return self
        cw = only_herindelingen(cw, set(self.now.index))
        then = apply_crosswalk(self.then, cw).reindex(self.now.index)
        moved = cw[cw["oud"] != cw["nieuw"]]
        if moved.empty:
            return self
        merged = sorted(set(moved["nieuw"]) - set(self.then.index))
        took = sorted(set(moved["nieuw"]) & set(self.then.index))
        parts = []
        if merged:
            parts.append(f"samengevoegde gemeenten ({', '.join(merged)}) tellen hun voorgangers op")
        if took:
            parts.append(f"gemeenten die (een deel van) een andere overnamen ({', '.join(took)}) "
                         "krijgen dat deel naar oppervlakte")  # fmt: skip
        notes = [n for n in self.notes if n != self.gap_note]
        notes.append(
            f"Groei {self.base_year}–{self.year} over de herindelingen heen: de doelgroep van "
            f"{self.base_year} is overgezet op de gemeenten van {self.year} met de grenzen van "
            f"beide jaren ({where}); " + "; ".join(parts) + "."
        )
        values = (self.now - then).astype(float).rename("groei")
        return replace(self, values=values, notes=notes, gap_note="")


def only_herindelingen(cw: pd.DataFrame, now: set[str]) -> pd.DataFrame:
    """An area crosswalk kept to the gemeenten a herindeling ended.

    Two years' generalised boundaries differ by slivers of a few percent, so an area
    crosswalk moves a little of every gemeente into its neighbours. A gemeente that still
    exists keeps all of its people (share 1 to itself); only a gemeente that ended is split
    over its successors by area.
    """
    ended = ~cw["oud"].isin(now)
    kept = pd.DataFrame({"oud": sorted(set(cw["oud"][~ended])), "share": 1.0})
    kept["nieuw"] = kept["oud"]
    return pd.concat([kept[["oud", "nieuw", "share"]], cw[ended]], ignore_index=True)


def apply_crosswalk(values: pd.Series, cw: pd.DataFrame) -> pd.Series:
    """Counts by old code -> counts by new code (split by area share; totals conserved).

    ``cw`` has one row per (``oud``, ``nieuw``) with ``share``, the part of the old
    gemeente in the new one; each old gemeente's shares sum to 1 (see
    :func:`~.geo.crosswalk`).
    """
    missing = sorted(set(values.index) - set(cw["oud"]))
    if missing:
        raise DataCoverageError(f"Codes not in the crosswalk: {', '.join(map(str, missing[:10]))}.")
    part = cw.assign(value=cw["oud"].map(values) * cw["share"])
    out: pd.Series = part.groupby("nieuw")["value"].sum(min_count=1)
    return out


def _group_sum(inputs: Inputs) -> pd.Series:
    wide = (
        inputs.population.assign(
            _w=inputs.population["bevolking"].astype(float)
            * inputs.population["leeftijd"].map(inputs.weights).astype(float)
        )
        .groupby("gemeentecode")["_w"]
        .sum(min_count=1)
    )
    return wide.reindex(inputs.inwoners.index)


def target_growth(
    session: Session, card: MethodCard, year: int, now: Inputs | None = None
) -> Growth:
    """Absolute growth of ``W`` (the card's target population), ``year - 2`` to ``year``.

    Uses the card's ages when both years have age bands; otherwise all ages of the card's
    groups in both years (and says so). Across the 2022 series break, or when the earlier
    year is not published, growth is not available and the ranking leaves it out.
    ``now``: the year's inputs the estimate already holds (nothing is gathered twice); the
    earlier year is gathered without the probe requests that explain a failure.
    """
    base = year - 2
    plain = replace(
        card, beta=Rate(0.0, 0.0, 0.0, "niet gebruikt voor groei"), local_from_data=False
    )
    try:
        spec_now, spec_base = T.population_table_for(year), T.population_table_for(base)
    except VibError as exc:
        return Growth(year, base, None, "", [f"Groei niet beschikbaar: {exc}"])
    if spec_now is not spec_base:
        return Growth(
            year,
            base,
            None,
            "",
            [
                f"Groei {base}–{year} niet gebruikt: {spec_base.table_id()} en "
                f"{spec_now.table_id()} delen herkomst anders in (trendbreuk 2022)."
            ],
        )
    notes: list[str] = []
    try:
        try:
            then = gather(session, plain, base, explain=False)
            now = now if now is not None else gather(session, plain, year)
            basis = f"doelgroep {card.ages_label(year)}"
        except DataCoverageError:
            every = replace(plain, age_min=0.0, age_max=float(MAX_AGE))
            now = gather(session, every, year, explain=False)
            then = gather(session, every, base, explain=False)
            basis = "herkomstgroepen van de kaart, alle leeftijden"
            notes.append(
                f"Groei {base}–{year} berekend over alle leeftijden van de herkomstgroepen: CBS "
                f"geeft voor {base} of {year} geen leeftijdsklassen voor deze groepen."
            )
    except (MetadataError, DataCoverageError, EmptyAnswerError) as exc:
        return Growth(year, base, None, "", [f"Groei {base}–{year} niet beschikbaar: {exc}"])
    w_now, w_before = _group_sum(now), _group_sum(then)
    w_then = w_before.reindex(now.inwoners.index)
    growth = (w_now - w_then).astype(float).rename("groei")
    new = sorted(set(now.inwoners.index) - set(then.inwoners.index))
    gone = set(then.inwoners.index) - set(now.inwoners.index)
    gap = ""
    if new:
        shown = f"{', '.join(new[:10])}{' …' if len(new) > 10 else ''}"
        gap = (
            f"Geen groei voor {len(new)} gemeente(n) die op 1 januari {base} nog niet bestonden "
            f"(herindeling): {shown}."
            if gone  # a herindeling ends gemeenten; without one, the data of base lacks them
            else f"Geen groei voor {len(new)} gemeente(n) zonder cijfers van 1 januari {base}: "
            f"{shown}."
        )
        notes.append(gap)
    return Growth(year, base, growth, basis, notes, [*then.extracts], w_now, w_before, gap)
