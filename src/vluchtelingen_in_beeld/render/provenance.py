"""What every output says about where its numbers come from.

:func:`record` is the provenance every manifest carries (CBS tables and periods, the method
card and its parameters, the snapshot's own warning, the tool version); :func:`source_lines`
is the same in Dutch lines for maps and pages. Both take a result's :class:`~.result.Origin`,
never a session or a path on disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.errors import plain
from vluchtelingen_in_beeld.fmt import nl_rate
from vluchtelingen_in_beeld.geography.result import Origin, YearResult
from vluchtelingen_in_beeld.records import JsonValue, Record, SourceRecord
from vluchtelingen_in_beeld.settings import public_source

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.clean.method import MethodCard

TOOL_NAME = "vluchtelingen-in-beeld"


def record(
    origin: Origin,
    *,
    sources: Sequence[SourceRecord],
    card: MethodCard | None = None,
    notes: Sequence[str] = (),
    extra: Mapping[str, JsonValue] | None = None,
) -> Record:
    """The provenance record of one output."""
    out: Record = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": origin.source,
        "sources": [cast("dict[str, JsonValue]", dict(s)) for s in sources],  # JSON by type
        "notes": list(notes),
        "licence": "CBS open data, CC BY 4.0 (Bron: CBS)",
    }
    if card is not None:
        out["method_card"] = card.summary()
        out["definitions"] = dict(card.definitions)
        out["parameters"] = {
            k: {
                "value": r.value,
                "low": r.low,
                "high": r.high,
                "source": r.source,
                "assumption": r.assumption,
            }
            for k, r in card.rates().items()
        }
        out["uncertainty"] = {
            "draws": card.draws,
            "seed": card.seed,
            "distribution": card.distribution,
        }
    if origin.is_snapshot:
        out["snapshot"] = {
            "name": origin.snapshot_label,
            "warnings": dict(origin.snapshot_warnings),
        }
    out.update(extra or {})
    return out


#: What each card parameter is, in the words of the pages (keys as :meth:`MethodCard.rates`).
PARAMETER_LABELS = {
    "job_seeking": "aandeel werkzoekend (s) van wie niet economisch zelfstandig is",
    "route_a": "aandeel direct bemiddelbaar (route A)",
    "beta": "gewicht van de lokale bijstand (β)",
    "target_bijstand_share": "aandeel van de doelgroep in de bijstand (q)",
    "contact_share": "aandeel werkzoekenden met wie contact wordt gelegd",
    "cost_per_placement": "kosten per plaatsing (euro)",
    "local_sd": "lokale spreiding (terugval)",
    "region_reach": "bereik in de rest van de arbeidsmarktregio (ρ)",
    "placement_rate": "plaatsingen per contact of gesprek",
    "route_a_share": "aandeel route A onder de plaatsingen",
    "reach_factor": "gesprekken per contact",
}


def parameter_label(key: str, card: MethodCard | None = None) -> str:
    """A parameter key of the card (``ei.syrie``, ``placement_rate.plan2005``) in words."""
    head, _, tail = key.partition(".")
    if head == "ei" and tail:
        label = tail
        if card is not None:
            label = next((g.label for g in card.groups if g.name == tail), tail)
        return f"aandeel economisch zelfstandig, {label}"
    text = PARAMETER_LABELS.get(head, head.replace("_", " "))
    if tail:
        scenario = tail
        if card is not None and tail in card.scenarios:
            scenario = card.scenarios[tail].label.split(":")[0]
        text = f"{text} ({scenario})"
    return text


def period_text(key: str) -> str:
    """A CBS period key as a reader says it: ``2025JJ00`` -> ``"2025"``."""
    m = re.fullmatch(r"(\d{4})JJ00", key)
    return m.group(1) if m else key


def boundary_source_text(source: object) -> str:
    """Where the boundaries came from, in words: PDOK's service, or a saved copy of it."""
    text = str(source or "")
    if text.startswith("files:"):
        name, _, digest = text[len("files:") :].partition("@")
        return f"opgeslagen kopie '{name}', controlegetal {digest[:8]}"
    if text.startswith("file:"):
        return f"bestand {text[len('file:') :]}"
    if text.startswith("pdok:"):
        return f"PDOK ({public_source(text)[len('pdok:') :]})"
    return text


def definition_lines(card: MethodCard, year: int | None, *, full: bool = False) -> list[str]:
    """What the numbers count, in Dutch: one line (maps), or each definition (pages).

    From the card's ``[definitions]``, with the ages of the reference year.
    """
    ages = card.ages_label(year) if year is not None else ""
    s = card.job_seeking
    short = (
        f"Geteld: doelgroep {ages}, {card.birthplace} geboren, herkomst "
        f"{', '.join(g.label for g in card.groups)}; min wie economisch zelfstandig is "
        f"(CBS 86136NED, gemeten zonder scholieren en studenten); daarvan werkzoekend: "
        f"aandeel s = {nl_rate(s)}"
        + (" (aanname)" if s.assumption else "")
        + ". Plaatsing = baan, stage of werkervaringsplaats."
    )
    if not full:
        return [short]
    labels = {
        "doelgroep": "Doelgroep",
        "economisch_zelfstandig": "Economisch zelfstandig",
        "werkzoekend": "Werkzoekend",
        "lokaal": "Lokale factor",
        "plaatsing": "Plaatsing",
    }
    lines = []
    for term, text in card.definitions.items():
        if term == "lokaal" and not card.uses_local_factor:
            continue  # the card does not use the local factor
        label = labels.get(term, term)
        # the card's text may start with its symbol ("W: …") or repeat the label
        if m := re.match(r"([A-Za-z]{1,3}):\s*", text):
            label, text = f"{label} ({m.group(1)})", text[m.end() :]
        elif text.lower().startswith(label.lower() + ":"):
            text = text[len(label) + 1 :].lstrip()
        lines.append(f"{label}: {text}")
    if card.age_source:
        lines.append(f"Leeftijdsgrenzen: {card.age_source}")
    return lines


def source_lines(
    sources: Sequence[SourceRecord],
    card: MethodCard | None = None,
    *,
    year: int | None = None,
    boundaries: Mapping[str, JsonValue] | None = None,
    notes: Sequence[str] = (),
    full: bool = False,
) -> list[str]:
    """Dutch lines saying where the numbers come from and what they count.

    ``full``: every definition of the card on its own line (pages); else one line (maps).
    """
    tables: dict[str, set[str]] = {}
    titles: dict[str, str] = {}
    own = [s for s in sources if s.get("kind") == "eigen bestand"]
    for s in sources:
        if s.get("kind") == "eigen bestand":
            continue
        t = str(s.get("table"))
        titles[t] = str(s.get("title") or "")
        periods = set(re.findall(r"\d{4}JJ00", str(s.get("filter") or "")))
        tables.setdefault(t, set()).update(periods)
    parts = []
    for t, periods in tables.items():
        per = f", {', '.join(period_text(p) for p in sorted(periods))}" if periods else ""
        parts.append(f"{t} {titles[t]}{per}".strip())
    lines = [f"Bron: CBS StatLine (CC BY 4.0): {'; '.join(parts)}."]
    for s in own:  # the user's own files: never credited to CBS
        lines.append(
            f"Eigen bestand: {s.get('table')} ({s.get('title')}), peildatum {s.get('period')}, "
            f"bron {s.get('source')}."
        )
    if boundaries:
        lines.append(
            f"Grenzen: CBS/PDOK Gebiedsindelingen {boundaries.get('year')}, gegeneraliseerde "
            f"gemeentegrenzen ({boundary_source_text(boundaries.get('source'))})."
        )
    if card is not None:
        lines.append(
            f"Methode: methodekaart {card.name} versie {card.version} "
            f"(sha256 {card.checksum[:12]}), "
            f"{card.draws} trekkingen, seed {card.seed}; vluchtelingen-in-beeld {__version__}, "
            f"gemaakt {datetime.now(UTC).date().isoformat()}."
        )
        lines.extend(definition_lines(card, year, full=full))
    lines.extend(plain(n) for n in notes)  # no parameter names in backquotes on a page
    return lines


def page_sources(result: YearResult) -> list[str]:
    """The Dutch source lines of a year's pages (index, pitch pages)."""
    return source_lines(
        result.sources(),
        result.card,
        year=result.year,
        boundaries=result.shapes.boundaries.provenance if result.shapes else None,
        notes=result.notes,
        full=True,
    )
