"""Method cards: every parameter of the estimate, with its range and source, in a TOML file.

A card may say ``extends = "<card>"``: it then holds only what differs from that card (a
shipped card name, or a path relative to the card). Shipped cards live in ``cards/``:
``standaard`` (the default) and the presets ``cbs6``, ``cbs6+ethiopie``, ``scp2011``,
``legacy2005`` and ``lokaal``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from vluchtelingen_in_beeld.errors import MethodCardError, did_you_mean
from vluchtelingen_in_beeld.tables import BIRTHPLACES

DEFAULT_CARD = "standaard"
#: Monte Carlo draws allowed: fewer than 100 give no meaningful p10–p90 (a point estimate
#: can then fall outside its own interval); more than 200,000 do not fit in memory for 342
#: gemeenten and every rate. Cards, ``--draws`` and the library check against this.
DRAWS_RANGE = (100, 200_000)
MAX_AGE = 120
_KEY_PATTERN = re.compile(r"^(H\d{6}|\d{7}|T\d{6})$")

#: Allowed keys per section; anything else is a typo the user should hear about.
_SCHEMA: dict[str, set[str]] = {
    "": {"extends", "card", "population", "groups", "rates", "local", "outreach", "uncertainty"},
    "card": {"name", "version", "description", "warning"},
    "population": {"groups", "birthplace", "age_min", "age_max", "source"},
    "group": {"key", "label", "ei"},
    "rates": {"job_seeking", "route_a"},
    "local": {"beta"},
    "outreach": {"scenario", "contact_share", "cost_per_placement", "scenarios"},
    "scenario": {"label", "placement_rate"},
    "uncertainty": {"draws", "seed", "distribution"},
    "rate": {"value", "low", "high", "source", "assumption"},
}


@dataclass(frozen=True)
class Rate:
    """A parameter: central value, range, and where it comes from."""

    value: float
    low: float
    high: float
    source: str = ""
    assumption: bool = False

    @property
    def has_range(self) -> bool:
        """Whether the Monte Carlo samples this parameter."""
        return self.high > self.low

    def describe(self) -> str:
        """``0.55 (0.40–0.70)`` or ``0.15``."""
        if self.has_range:
            return f"{self.value:g} ({self.low:g}–{self.high:g})"
        return f"{self.value:g}"


@dataclass(frozen=True)
class Group:
    """An origin group: name, CBS key, label and its economic-independence share."""

    name: str
    key: str
    label: str
    ei: Rate


@dataclass(frozen=True)
class Scenario:
    """An outreach scenario."""

    name: str
    label: str
    placement_rate: Rate


@dataclass(frozen=True)
class MethodCard:
    """A validated method card."""

    name: str
    version: str
    description: str
    warning: str
    groups: tuple[Group, ...]
    birthplace: str
    age_min: float
    age_max: float
    population_source: str
    job_seeking: Rate
    route_a: Rate
    beta: Rate
    scenario: str
    scenarios: dict[str, Scenario]
    contact_share: Rate
    cost_per_placement: Rate
    draws: int
    seed: int
    distribution: str
    origin: str = ""
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def checksum(self) -> str:
        """sha256 of the card's resolved content (stable across formatting)."""
        blob = json.dumps(self.data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def all_ages(self) -> bool:
        """Whether the card covers every age (then CBS's age total is used)."""
        return self.age_min <= 0 and self.age_max >= MAX_AGE

    def rates(self) -> dict[str, Rate]:
        """Every parameter by a readable name (for ``vib method show`` and provenance)."""
        out = {f"ei.{g.name}": g.ei for g in self.groups}
        out.update(
            {
                "job_seeking": self.job_seeking,
                "route_a": self.route_a,
                "beta": self.beta,
                "contact_share": self.contact_share,
                "cost_per_placement": self.cost_per_placement,
            }
        )
        out.update({f"placement_rate.{s.name}": s.placement_rate for s in self.scenarios.values()})
        return out

    def summary(self) -> dict[str, Any]:
        """What an output's provenance records of the card."""
        return {
            "name": self.name,
            "version": self.version,
            "origin": self.origin,
            "sha256": self.checksum,
            "groups": [g.name for g in self.groups],
            "birthplace": self.birthplace,
            "ages": [self.age_min, self.age_max],
            "warning": self.warning,
        }


def shipped_cards() -> list[str]:
    """Names of the cards that ship with the package."""
    folder = resources.files("vluchtelingen_in_beeld") / "cards"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _shipped_text(name: str) -> str:
    return (resources.files("vluchtelingen_in_beeld") / "cards" / f"{name}.toml").read_text(
        encoding="utf-8"
    )


def card_text(ref: str | Path) -> tuple[str, str]:
    """(text, origin) of a card given by shipped name or path."""
    path = Path(ref)
    if str(ref) in shipped_cards():
        return _shipped_text(str(ref)), f"shipped:{ref}"
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise MethodCardError(
                f"Method card {ref} does not exist. Make one with `vib method init {ref}`, or "
                f"use a shipped card: {', '.join(shipped_cards())}."
            )
        return path.read_text(encoding="utf-8"), str(path.resolve())
    raise MethodCardError(
        f"Unknown method card {str(ref)!r}.{did_you_mean(str(ref), shipped_cards())} Shipped "
        f"cards: {', '.join(shipped_cards())}; or give the path of a .toml file."
    )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and "value" not in v:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _resolve(ref: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    text, origin = card_text(ref)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MethodCardError(f"{origin}: not valid TOML ({exc}).") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data, origin
    if not isinstance(parent, str) or not parent.strip():
        raise MethodCardError(
            f"{origin}: 'extends' must name a card (a shipped name such as \"standaard\", or a "
            f".toml path), got {parent!r}."
        )
    if origin in seen:
        raise MethodCardError(f"{origin}: 'extends' loops back on itself.")
    parent_ref: str | Path = parent
    if origin not in ("",) and not origin.startswith("shipped:") and str(parent).endswith(".toml"):
        parent_ref = Path(origin).parent / parent
    base, _ = _resolve(parent_ref, (*seen, origin))
    return _merge(base, data), origin


def load_card(ref: str | Path | None = None) -> MethodCard:
    """Load and validate a card (shipped name or path; default: ``standaard``)."""
    data, origin = _resolve(ref or DEFAULT_CARD)
    return parse_card(data, origin)


class _Problems:
    def __init__(self, origin: str):
        self.origin = origin
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def raise_if_any(self) -> None:
        if self.items:
            lines = "\n  - ".join(self.items)
            raise MethodCardError(
                f"Method card {self.origin} has {len(self.items)} problem(s):\n  - {lines}\n"
                "Fix them and check again with `vib method validate PATH`."
            )


def _table(p: _Problems, where: str, value: Any) -> dict[str, Any]:
    """``value`` if it is a TOML table; else report it and carry on with an empty one."""
    if isinstance(value, dict):
        return value
    p.add(where, f"should be a table, got {type(value).__name__} {value!r:.40}")
    return {}


def _check_keys(p: _Problems, where: str, table: Any, schema: str) -> None:
    if not isinstance(table, dict):
        p.add(where, f"should be a table, got {type(table).__name__}")
        return
    allowed = _SCHEMA[schema]
    for key in table:
        if key not in allowed:
            p.add(
                f"{where}.{key}" if where else key,
                f"unknown key.{did_you_mean(key, allowed)} "
                f"Allowed here: {', '.join(sorted(allowed))}",
            )


def _rate(
    p: _Problems, where: str, raw: Any, *, unit: bool = True, upper: float | None = None
) -> Rate:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = {"value": raw}
    if not isinstance(raw, dict) or "value" not in raw:
        p.add(where, 'needs a value, e.g. { value = 0.5, low = 0.4, high = 0.6, source = "…" }')
        return Rate(0.0, 0.0, 0.0)
    _check_keys(p, where, raw, "rate")
    nums = {}
    for k in ("value", "low", "high"):
        v = raw.get(k, raw.get("value"))
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            p.add(f"{where}.{k}", f"must be a number, got {v!r}")
            v = 0.0
        if not math.isfinite(float(v)):
            p.add(f"{where}.{k}", f"must be a finite number, got {v!r}")
            v = 0.0
        nums[k] = float(v)
    hi_bound = 1.0 if unit else upper
    for k, v in nums.items():
        if k != "value" and k not in raw:
            continue  # defaulted to the value: reported there
        if v < 0 or (hi_bound is not None and v > hi_bound):
            rng = f"[0, {hi_bound:g}]" if hi_bound is not None else ">= 0"
            p.add(
                f"{where}.{k}",
                f"{v:g} is outside {rng}" + (" (a share: 0.55 means 55%)" if unit else ""),
            )
    if nums["low"] > nums["high"]:
        p.add(where, f"low ({nums['low']:g}) is greater than high ({nums['high']:g})")
    elif not nums["low"] <= nums["value"] <= nums["high"]:
        p.add(
            where,
            f"value {nums['value']:g} is not within low–high ({nums['low']:g}–{nums['high']:g})",
        )
    return Rate(
        nums["value"],
        nums["low"],
        nums["high"],
        str(raw.get("source", "")),
        bool(raw.get("assumption", False)),
    )


def parse_card(data: dict[str, Any], origin: str = "<card>") -> MethodCard:
    """Validate a resolved card dict and build a :class:`MethodCard` (all problems at once)."""
    p = _Problems(origin)
    data = _table(p, "card file", data)
    _check_keys(p, "", data, "")
    card = _table(p, "card", data.get("card", {}))
    _check_keys(p, "card", card, "card")
    pop = _table(p, "population", data.get("population", {}))
    _check_keys(p, "population", pop, "population")
    catalog = data.get("groups", {})
    if not isinstance(catalog, dict):
        p.add("groups", "should be a table of origin groups")
        catalog = {}
    birthplace = pop.get("birthplace", "buitenland")
    bp_ok = isinstance(birthplace, str) and birthplace in BIRTHPLACES
    if not bp_ok:
        p.add(
            "population.birthplace",
            f"{birthplace!r} is not one of {', '.join(BIRTHPLACES)}."
            f"{did_you_mean(str(birthplace), BIRTHPLACES)}",
        )
    names = pop.get("groups", [])
    if not isinstance(names, list) or not names:
        p.add("population.groups", "needs a non-empty list of group names")
        names = []
    groups = []
    for name in names:
        if not isinstance(name, str):
            p.add("population.groups", f"group names are strings, got {name!r:.40}")
            continue
        if name not in catalog:
            p.add(
                "population.groups",
                f"unknown group {name!r}.{did_you_mean(str(name), catalog)} "
                f"Known groups: {', '.join(catalog)}",
            )
            continue
        where = f"groups.{name}"
        g = _table(p, where, catalog[name])
        _check_keys(p, where, g, "group")
        key = str(g.get("key", ""))
        if not _KEY_PATTERN.match(key):
            p.add(
                f"{where}.key",
                f"{key!r} is not a CBS herkomstland key (like H008533 for Afghanistan)",
            )
        eis = _table(p, f"{where}.ei", g.get("ei", {}))
        if not bp_ok:
            ei = Rate(0.0, 0.0, 0.0)  # the birthplace itself is reported above
        elif birthplace not in eis:
            p.add(
                f"{where}.ei",
                f"no economic-independence share for birthplace {birthplace!r}; add "
                f'ei.{birthplace} = {{ value = …, low = …, high = …, source = "…" }}',
            )
            ei = Rate(0.0, 0.0, 0.0)
        else:
            ei = _rate(p, f"{where}.ei.{birthplace}", eis.get(birthplace))
        groups.append(Group(name, key, str(g.get("label", name)), ei))
    if len({g.key for g in groups}) != len(groups):
        p.add("population.groups", "two groups share a CBS key; each group must be counted once")

    ages = {}
    for k, default in (("age_min", 15), ("age_max", 65)):
        v = pop.get(k, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            p.add(f"population.{k}", f"must be a number of years, got {v!r}")
            v = default
        ages[k] = float(v)
    if ages["age_min"] < 0 or ages["age_max"] > 999 or ages["age_min"] >= ages["age_max"]:
        p.add(
            "population",
            f"ages {ages['age_min']:g}–{ages['age_max']:g} are not a valid band: need "
            "0 <= age_min < age_max (age_max is exclusive: 65 means up to and including 64)",
        )
    elif ages["age_min"] >= MAX_AGE:
        p.add(
            "population.age_min", f"{ages['age_min']:g} is beyond the data (CBS's last band is 95+)"
        )

    rates = _table(p, "rates", data.get("rates", {}))
    _check_keys(p, "rates", rates, "rates")
    local = _table(p, "local", data.get("local", {}))
    _check_keys(p, "local", local, "local")
    out = _table(p, "outreach", data.get("outreach", {}))
    _check_keys(p, "outreach", out, "outreach")
    raw_scen = _table(p, "outreach.scenarios", out.get("scenarios", {}))
    scenarios = {}
    for sname, s in raw_scen.items():
        s = _table(p, f"outreach.scenarios.{sname}", s)
        _check_keys(p, f"outreach.scenarios.{sname}", s, "scenario")
        scenarios[sname] = Scenario(
            sname,
            str(s.get("label", sname)),
            _rate(p, f"outreach.scenarios.{sname}.placement_rate", s.get("placement_rate")),
        )
    scenario = str(out.get("scenario", "plan2005"))
    if scenario not in scenarios:
        p.add(
            "outreach.scenario",
            f"{scenario!r} is not a scenario of this card.{did_you_mean(scenario, scenarios)} "
            f"Scenarios: {', '.join(scenarios) or '(none)'}",
        )
    unc = _table(p, "uncertainty", data.get("uncertainty", {}))
    _check_keys(p, "uncertainty", unc, "uncertainty")
    draws = unc.get("draws", 2000)
    lo, hi = DRAWS_RANGE
    if not isinstance(draws, int) or isinstance(draws, bool) or not lo <= draws <= hi:
        p.add("uncertainty.draws", f"must be a whole number from {lo} to {hi}, got {draws!r}")
        draws = lo
    seed = unc.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        p.add("uncertainty.seed", f"must be a whole number >= 0, got {seed!r}")
        seed = 0
    dist = unc.get("distribution", "triangular")
    if not isinstance(dist, str) or dist not in ("triangular", "uniform"):
        p.add("uncertainty.distribution", f"{dist!r} is not 'triangular' or 'uniform'")

    result = MethodCard(
        name=str(card.get("name", Path(origin).stem)),
        version=str(card.get("version", "")),
        description=str(card.get("description", "")),
        warning=str(card.get("warning", "")),
        groups=tuple(groups),
        birthplace=str(birthplace),
        age_min=ages["age_min"],
        age_max=ages["age_max"],
        population_source=str(pop.get("source", "")),
        job_seeking=_rate(p, "rates.job_seeking", rates.get("job_seeking")),
        route_a=_rate(p, "rates.route_a", rates.get("route_a")),
        beta=_rate(p, "local.beta", local.get("beta", 0.0), unit=False, upper=5.0),
        scenario=scenario,
        scenarios=scenarios,
        contact_share=_rate(p, "outreach.contact_share", out.get("contact_share")),
        cost_per_placement=_rate(
            p, "outreach.cost_per_placement", out.get("cost_per_placement"), unit=False
        ),
        draws=int(draws),
        seed=int(seed),
        distribution=str(dist),
        origin=origin,
        data=data,
    )
    p.raise_if_any()
    return result


def describe(c: MethodCard) -> list[str]:
    """``vib method show``: a card's parameters with ranges and sources, line by line."""
    lines = [
        f"{c.name} {c.version}: {c.description}",
        f"  origin: {c.origin}   sha256: {c.checksum[:16]}",
    ]
    if c.warning:
        lines.append(f"  LET OP: {c.warning}")
    lines.append(f"  groups: {', '.join(f'{g.name} ({g.key})' for g in c.groups)}")
    lines.append(f"  birthplace: {c.birthplace}; ages {c.age_min:g} to {c.age_max:g} (exclusive)")
    for name, r in c.rates().items():
        flag = "  [assumption]" if r.assumption else ""
        lines.append(f"  {name:30} {r.describe():22} {r.source}{flag}")
    lines.append(f"  scenario: {c.scenario}; draws {c.draws}, seed {c.seed}, {c.distribution}")
    lines.append(f"Shipped cards: {', '.join(shipped_cards())}")
    return lines


def check_against_metadata(card: MethodCard, keys: dict[str, str], table: str) -> None:
    """Raise if a group key is not in the table's origin dimension (``keys``: key -> title)."""
    problems = []
    for g in card.groups:
        if g.key not in keys:
            problems.append(
                f"groups.{g.name}.key: {g.key!r} is not an origin key of {table}."
                f"{did_you_mean(g.key, keys)}"
            )
    if problems:
        raise MethodCardError(
            f"Method card {card.origin} does not fit {table}:\n  - " + "\n  - ".join(problems)
        )


def init_card(path: Path, base: str = DEFAULT_CARD, force: bool = False) -> Path:
    """Write a full, editable copy of a shipped card to ``path``."""
    if path.exists() and not force:
        raise MethodCardError(f"{path} already exists; choose another path or pass --force.")
    text, _ = card_text(base)
    if "extends" in tomllib.loads(text):
        # A standalone copy: write the base card, then the preset's own lines as overrides.
        data, _ = _resolve(base)
        load_card(base)
        text = (
            f"# Copy of the shipped card '{base}', resolved (it extended another card).\n"
            + _dump_toml(data)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Minimal TOML writer for card dicts (tables of scalars and inline rate tables)."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not (isinstance(v, dict) and "value" not in v)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and "value" not in v}
    if prefix and scalars:
        lines.append(f"\n[{prefix}]")
    for k, v in scalars.items():
        if isinstance(v, dict) and prefix.startswith("groups.") and k == "ei":
            continue
        lines.append(f"{_quote_key(k)} = {_toml_value(v)}")
    for k, v in tables.items():
        name = f"{prefix}.{_quote_key(k)}" if prefix else _quote_key(k)
        if k == "ei" and prefix.startswith("groups."):
            for bp, rate in v.items():
                lines.append(f"ei.{bp} = {_toml_value(rate)}")
            continue
        lines.append(_dump_toml(v, name))
    return "\n".join(lines) + "\n"


def _quote_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)
