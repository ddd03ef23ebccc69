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
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from vluchtelingen_in_beeld.access.tables import BIRTHPLACES
from vluchtelingen_in_beeld.catalogue import BY_FIELD, LIMITS
from vluchtelingen_in_beeld.defaults import PILOTS
from vluchtelingen_in_beeld.errors import ConfigError, MethodCardError, did_you_mean
from vluchtelingen_in_beeld.files import MAX_TOML_BYTES, parse_toml, read_regular

DEFAULT_CARD = "standaard"
#: Monte Carlo draws allowed: fewer than 100 give no meaningful p10–p90 (a point estimate
#: can then fall outside its own interval); more than 200,000 do not fit in memory for 342
#: gemeenten and every rate. Cards, ``--draws`` and the library check against this.
DRAWS_RANGE = (100, 200_000)
MAX_AGE = 120
_KEY_PATTERN = re.compile(r"^(H\d{6}|\d{7}|T\d{6})$")


#: Keys of earlier card versions that mean something else now: key -> what to do instead.
_RETIRED = {
    "selection.capacity": (
        "removed in card 3.0: a constant capacity per pilot made every mid-sized gemeente "
        "worth the same. The selection now maximises the job-seekers the pilots reach "
        "(selection.region_reach); delete the key"
    ),
    "outreach.cost_per_placement": (
        "replaced in card 3.1 by programme_cost and programme_conversations: the cost per "
        "placement follows from the placement rate (EUR 5.8 m over the placements of the 4,000 "
        "conversations, in every draw), it is not a rate of its own; replace the key by "
        'programme_cost = { value = 5800000, source = "…" } and programme_conversations = '
        '{ value = 4000, source = "…" }'
    ),
    "scenario.intake_rate": (
        "renamed reach_factor in card 3.0: the report's 4,000 conversations against "
        "10,000-12,500 planned contacts are a shortfall in reach (it multiplies the contact "
        "share), not a rate per contact; rename the key"
    ),
}


#: Allowed keys per section; anything else is a typo the user should hear about.
_SCHEMA: dict[str, set[str]] = {
    "": {
        "extends",
        "card",
        "definitions",
        "population",
        "groups",
        "rates",
        "local",
        "outreach",
        "selection",
        "uncertainty",
    },
    "card": {"name", "version", "description", "warning"},
    "definitions": set(),  # free: term -> Dutch definition
    "population": {"groups", "birthplace", "age_min", "age_max", "age_source", "aow_age", "source"},
    "group": {"key", "label", "ei"},
    "rates": {"job_seeking", "route_a"},
    "local": {"beta", "target_bijstand_share"},
    "outreach": {
        "scenario",
        "contact_share",
        "programme_cost",
        "programme_conversations",
        "cost_scenario",
        "price_basis",
        "period_years",
        "scenarios",
    },
    "scenario": {"label", "placement_rate", "reach_factor", "route_a_share"},
    "uncertainty": {"draws", "seed", "distribution", "local_sd", "local_from_data", "binomial"},
    "selection": {
        "n",
        "region_reach",
        "resolve_draws",
        "near_draws",
        "near_loss",
        *LIMITS,
        "pilot_cost_eur",
        "target_trajectories",
        "target_years",
        "include",
        "exclude",
    },
    "limit": {"value", "reason", "below", "above"},
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
    """An outreach scenario: the funnel contacts → (intakes →) placements, over the period.

    With ``reach_factor`` the planned contacts fall short of the plan by that factor (the
    realised contacts, "gesprekken", are ``contacts · reach_factor``) and ``placement_rate``
    is placements per conversation; without it, every planned contact is a conversation and
    ``placement_rate`` is placements per contact. ``route_a_share``
    splits the placements into route A (paid work) and route B (internship, work experience).
    """

    name: str
    label: str
    placement_rate: Rate
    reach_factor: Rate | None = None
    route_a_share: Rate | None = None

    def rates(self) -> dict[str, Rate]:
        """The scenario's own parameters by name."""
        out = {"placement_rate": self.placement_rate}
        if self.reach_factor is not None:
            out["reach_factor"] = self.reach_factor
        if self.route_a_share is not None:
            out["route_a_share"] = self.route_a_share
        return out


@dataclass(frozen=True)
class Limit:
    """A selection constraint from the card: its number (``None``: off), why, a threshold."""

    value: int | None
    reason: str = ""
    #: inhabitants: the ``below`` of ``min_klein`` or the ``above`` of ``max_groot``
    threshold: float | None = None


@dataclass(frozen=True)
class SelectionCard:
    """How voortrekkersgemeenten are chosen (see :mod:`.rank`)."""

    n: Limit = Limit(PILOTS)
    #: ρ: share of the rest of the arbeidsmarktregio a pilot reaches
    region_reach: Rate = Rate(0.0, 0.0, 0.0)
    resolve_draws: int = 500
    #: a pair is interchangeable when the other is the better choice in at least this
    #: share of the re-solved draws ...
    near_draws: float = 0.25
    #: ... or the loss is below this share of what the selection reaches
    near_loss: float = 0.01
    limits: dict[str, Limit] = field(default_factory=dict)
    pilot_cost_eur: Rate = Rate(0.0, 0.0, 0.0)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: the programme's target in trajectories (a check on the selection, not its objective)
    target_trajectories: Rate = Rate(0.0, 0.0, 0.0)
    #: the years the target covers
    target_years: float = 2.0


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
    #: exclusive upper age; ``None`` means the AOW age of the reference year (``aow_age``)
    age_max: float | None
    population_source: str
    job_seeking: Rate
    route_a: Rate
    beta: Rate
    scenario: str
    scenarios: dict[str, Scenario]
    contact_share: Rate
    #: what the programme cost (euro) and how many conversations it held (2006-2008)
    programme_cost: Rate
    programme_conversations: Rate
    #: the scenario whose placement rate turns the cost into a cost per placement
    cost_scenario: str
    draws: int
    seed: int
    distribution: str
    origin: str = ""
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    #: reference year -> AOW age in years (for ``age_max = "aow"``)
    aow_age: dict[int, float] = field(default_factory=dict)
    age_source: str = ""
    #: term -> Dutch definition (what W, EI, s, the local factor and a placement cover)
    definitions: dict[str, str] = field(default_factory=dict)
    #: share of the target group's not economically independent people on bijstand
    target_bijstand_share: Rate = Rate(0.0, 0.0, 0.0)
    period_years: float = 3.0
    price_basis: str = ""
    selection: SelectionCard = SelectionCard()
    #: log-scale spread of J between gemeenten when the data cannot give it
    local_sd: Rate = Rate(0.0, 0.0, 0.0)
    #: estimate the local spread from the residual spread of bijstand (KWB, 85458NED)
    local_from_data: bool = True
    #: binomial noise on small counts in the Monte Carlo
    binomial: bool = True

    @property
    def checksum(self) -> str:
        """sha256 of the card's resolved content (stable across formatting)."""
        blob = json.dumps(self.data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def cost_per_placement(self) -> Rate:
        """Euro per placement: the programme's cost over its conversations' placements.

        ``programme_cost / (programme_conversations · p)`` with ``p`` the placement rate per
        conversation of :attr:`cost_scenario`; its range follows from ``p``'s (a higher rate,
        a lower cost). Derived, never sampled on its own (see :func:`~.estimate.funnel_draws`).
        """
        p = self.scenarios[self.cost_scenario].placement_rate
        cost, conv = self.programme_cost.value, self.programme_conversations.value

        def at(rate: float) -> float:
            return cost / (conv * rate) if rate > 0 and conv > 0 else float("nan")

        return Rate(
            at(p.value),
            at(p.high),
            at(p.low),
            f"{self.programme_cost.source}; {self.programme_conversations.source}; gedeeld door "
            f"de plaatsingen per gesprek ({p.source})",
        )

    @property
    def uses_local_factor(self) -> bool:
        """Whether the local factor ``(R[m]/R[NL])^β`` is on (β, or its range, not 0)."""
        return self.beta.value != 0 or self.beta.has_range

    @property
    def all_ages(self) -> bool:
        """Whether the card covers every age (then CBS's age total is used)."""
        return self.age_max is not None and self.age_min <= 0 and self.age_max >= MAX_AGE

    def ages(self, year: int) -> tuple[float, float]:
        """``[age_min, age_max)`` for the reference date 1 January ``year``.

        With ``age_max = "aow"`` the upper bound is the AOW age of that year, from the card's
        ``aow_age`` table (67 for 2024–2027).
        """
        if self.age_max is not None:
            return self.age_min, self.age_max
        if year not in self.aow_age:
            known = ", ".join(str(y) for y in sorted(self.aow_age)) or "(none)"
            raise MethodCardError(
                f'Method card {self.origin}: age_max = "aow" but population.aow_age has no '
                f"AOW age for {year} (it has {known}). Add it (the SVB publishes it five years "
                "ahead), or set age_max to a number."
            )
        return self.age_min, self.aow_age[year]

    def ages_label(self, year: int) -> str:
        """``van 18 jaar tot 67 jaar (de AOW-leeftijd van 2025)`` for what users read."""
        lo, hi = self.ages(year)
        aow = f" (de AOW-leeftijd van {year})" if self.age_max is None else ""
        return f"van {fmt_age(lo)} tot {fmt_age(hi)}{aow}"

    def rates(self) -> dict[str, Rate]:
        """Every parameter by a readable name (for ``vib method show`` and provenance)."""
        out = {f"ei.{g.name}": g.ei for g in self.groups}
        out.update(
            {
                "job_seeking": self.job_seeking,
                "route_a": self.route_a,
                "beta": self.beta,
                "target_bijstand_share": self.target_bijstand_share,
                "contact_share": self.contact_share,
                "local_sd": self.local_sd,
                "region_reach": self.selection.region_reach,
            }
        )
        for sc in self.scenarios.values():
            out.update({f"{k}.{sc.name}": r for k, r in sc.rates().items()})
        return out

    def with_value(self, name: str, value: float) -> MethodCard:
        """The card with the central value of parameter ``name`` (a :meth:`rates` key) moved.

        The range stays; used to recompute the estimate at a parameter's bound.
        """

        def moved(r: Rate) -> Rate:
            return replace(r, value=value, low=min(r.low, value), high=max(r.high, value))

        head, _, tail = name.partition(".")
        if head == "ei":
            groups = tuple(replace(g, ei=moved(g.ei)) if g.name == tail else g for g in self.groups)
            return replace(self, groups=groups)
        if tail and tail in self.scenarios:
            sc = self.scenarios[tail]
            one: dict[str, Any] = {head: moved(getattr(sc, head))}
            return replace(self, scenarios={**self.scenarios, tail: replace(sc, **one)})
        if name == "region_reach":
            part: dict[str, Any] = {name: moved(getattr(self.selection, name))}
            return replace(self, selection=replace(self.selection, **part))
        if name in self.rates():
            changes: dict[str, Any] = {name: moved(getattr(self, name))}
            return replace(self, **changes)
        raise KeyError(name)

    def summary(self) -> dict[str, Any]:
        """What an output's provenance records of the card."""
        return {
            "name": self.name,
            "version": self.version,
            "origin": self.origin
            if self.origin.startswith("shipped:")
            else f"file:{Path(self.origin).name}",  # never a local path
            "sha256": self.checksum,
            "groups": [g.name for g in self.groups],
            "birthplace": self.birthplace,
            "ages": [self.age_min, "aow" if self.age_max is None else self.age_max],
            "age_source": self.age_source,
            "definitions": dict(self.definitions),
            "outreach_period_years": self.period_years,
            "price_basis": self.price_basis,
            "warning": self.warning,
        }


def with_region_reach(card: MethodCard, rho: float) -> MethodCard:
    """The card with ρ fixed at ``rho`` in every draw (no range): a selection setting."""
    if not (math.isfinite(rho) and 0 <= rho <= 1):
        raise ConfigError(
            f"`region_reach` is a share between 0 and 1 (0.25 = 25% of the rest of the "
            f"arbeidsmarktregio), got {rho}."
        )
    fixed = Rate(rho, rho, rho, "opgegeven bij het aanroepen, niet uit de methodekaart")
    return replace(card, selection=replace(card.selection, region_reach=fixed))


def fmt_age(x: float) -> str:
    """``67`` -> ``"67 jaar"``; ``66.8333`` -> ``"66 jaar en 10 maanden"``."""
    whole = int(x)
    months = round((x - whole) * 12)
    if months == 12:
        whole, months = whole + 1, 0
    return f"{whole} jaar" + (f" en {months} maanden" if months else "")


def shipped_cards() -> list[str]:
    """Names of the cards that ship with the package."""
    folder = resources.files("vluchtelingen_in_beeld.clean") / "cards"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _shipped_text(name: str) -> str:
    return (resources.files("vluchtelingen_in_beeld.clean") / "cards" / f"{name}.toml").read_text(
        encoding="utf-8"
    )


def card_text(ref: str | Path) -> tuple[str, str]:
    """(text, origin) of a card given by shipped name or path."""
    path = Path(ref)
    if str(ref) in shipped_cards():
        return _shipped_text(str(ref)), f"shipped:{ref}"
    if path.suffix.lower() == ".toml" or path.exists():
        if not path.exists():
            raise MethodCardError(
                f"Method card {ref} does not exist. Make one with `vib method init {ref}`, or "
                f"use a shipped card: {', '.join(shipped_cards())}."
            )
        data = read_regular(path, "method card", MAX_TOML_BYTES)
        try:
            return data.decode("utf-8"), str(path.resolve())
        except UnicodeDecodeError as exc:
            raise MethodCardError(f"Method card {ref} is not UTF-8 text ({exc}).") from None
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
    data = parse_toml(text, origin, MethodCardError)
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
    """Load and validate a card (shipped name or path; default: ``standaard``).

    A card file that carries a shipped card's name must hold that card's values: an
    edited copy that still says "standaard" would pass for the standard card on every page.
    """
    data, origin = _resolve(ref or DEFAULT_CARD)
    card = parse_card(data, origin)
    if not origin.startswith("shipped:") and card.name in shipped_cards():
        shipped, _ = _resolve(card.name)
        if data != shipped:
            changed = sorted(_changed_keys(shipped, data))
            shown = ", ".join(changed[:6]) + (" …" if len(changed) > 6 else "")
            raise MethodCardError(
                f"{origin}: this card is named {card.name!r}, like the shipped card, but its "
                f"values differ ({shown}). Give it its own name ([card] name = "
                f'"{Path(origin).stem}"), so that every output says which card it used.'
            )
    return card


def _changed_keys(a: Any, b: Any, where: str = "") -> list[str]:
    """The dotted keys where two parsed cards differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += _changed_keys(a.get(k), b.get(k), f"{where}.{k}" if where else str(k))
        return out
    return [] if a == b else [where]


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
        retired = _RETIRED.get(f"{schema}.{key}")
        if retired is not None:
            p.add(f"{where}.{key}" if where else key, retired)
        elif key not in allowed:
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

    ages: dict[str, float | None] = {}
    aow_age: dict[int, float] = {}
    raw_aow = _table(p, "population.aow_age", pop.get("aow_age", {}))
    for y, v in raw_aow.items():
        ok_year = str(y).isdigit() and 1900 < int(y) < 2200
        if (
            isinstance(v, list)
            and len(v) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            and 0 <= v[1] < 12
        ):
            v = v[0] + v[1] / 12  # [years, months]
        ok_age = isinstance(v, (int, float)) and not isinstance(v, bool) and 60 <= v <= 75
        if not (ok_year and ok_age):
            p.add(
                f"population.aow_age.{y}",
                f"needs a year and an age, in years or [years, months], got {v!r}",
            )
            continue
        aow_age[int(y)] = float(v)
    for k, default in (("age_min", 18), ("age_max", "aow")):
        v = pop.get(k, default)
        if k == "age_max" and v == "aow":
            ages[k] = None
            if not aow_age:
                p.add(
                    "population.age_max",
                    '"aow" needs the AOW age per year in population.aow_age '
                    "(e.g. aow_age = { 2025 = 67 })",
                )
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            hint = ' or "aow"' if k == "age_max" else ""
            p.add(f"population.{k}", f"must be a number of years{hint}, got {v!r}")
            v = 18 if k == "age_min" else 67
        ages[k] = float(v)
    age_min = float(ages["age_min"] or 0.0)
    age_max = ages["age_max"]
    upper = age_max if age_max is not None else min(aow_age.values(), default=MAX_AGE)
    if age_min < 0 or upper > 999 or age_min >= upper:
        p.add(
            "population",
            f"ages {age_min:g}–{upper:g} are not a valid band: need "
            "0 <= age_min < age_max (age_max is exclusive: 65 means up to and including 64)",
        )
    elif age_min >= MAX_AGE:
        p.add("population.age_min", f"{age_min:g} is beyond the data (CBS's last band is 95+)")
    definitions = _table(p, "definitions", data.get("definitions", {}))
    for term, text in definitions.items():
        if not isinstance(text, str) or not text.strip():
            p.add(f"definitions.{term}", f"must be a non-empty text, got {text!r:.40}")

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
        where = f"outreach.scenarios.{sname}"
        scenarios[sname] = Scenario(
            sname,
            str(s.get("label", sname)),
            _rate(p, f"{where}.placement_rate", s.get("placement_rate")),
            _rate(p, f"{where}.reach_factor", s["reach_factor"]) if "reach_factor" in s else None,
            _rate(p, f"{where}.route_a_share", s["route_a_share"])
            if "route_a_share" in s
            else None,
        )
    scenario = str(out.get("scenario", "plan2005"))
    if scenario not in scenarios:
        p.add(
            "outreach.scenario",
            f"{scenario!r} is not a scenario of this card.{did_you_mean(scenario, scenarios)} "
            f"Scenarios: {', '.join(scenarios) or '(none)'}",
        )
    cost_scenario = str(out.get("cost_scenario", "resultaat2005"))
    if cost_scenario not in scenarios:
        p.add(
            "outreach.cost_scenario",
            f"{cost_scenario!r} is not a scenario of this card; it names the scenario whose "
            "placement rate per conversation turns the programme's cost into a cost per "
            f"placement. Scenarios: {', '.join(scenarios) or '(none)'}",
        )
        cost_scenario = next(iter(scenarios), "")
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
    period = out.get("period_years", 3)
    if not isinstance(period, (int, float)) or isinstance(period, bool) or not 0 < period <= 20:
        p.add("outreach.period_years", f"must be a number of years from 0 to 20, got {period!r}")
        period = 3
    dist = unc.get("distribution", "triangular")
    if not isinstance(dist, str) or dist not in ("triangular", "uniform"):
        p.add("uncertainty.distribution", f"{dist!r} is not 'triangular' or 'uniform'")

    local_from_data = unc.get("local_from_data", True)
    binomial = unc.get("binomial", True)
    for k, v in (("local_from_data", local_from_data), ("binomial", binomial)):
        if not isinstance(v, bool):
            p.add(f"uncertainty.{k}", f"must be true or false, got {v!r}")
    selection = _selection(p, data.get("selection", {}))

    result = MethodCard(
        name=str(card.get("name", Path(origin).stem)),
        version=str(card.get("version", "")),
        description=str(card.get("description", "")),
        warning=str(card.get("warning", "")),
        groups=tuple(groups),
        birthplace=str(birthplace),
        age_min=age_min,
        age_max=age_max,
        aow_age=aow_age,
        age_source=str(pop.get("age_source", "")),
        definitions={str(k): str(v) for k, v in definitions.items()},
        population_source=str(pop.get("source", "")),
        job_seeking=_rate(p, "rates.job_seeking", rates.get("job_seeking")),
        route_a=_rate(p, "rates.route_a", rates.get("route_a")),
        beta=_rate(p, "local.beta", local.get("beta", 0.0), unit=False, upper=5.0),
        target_bijstand_share=_rate(
            p, "local.target_bijstand_share", local.get("target_bijstand_share", 0.0)
        ),
        period_years=float(period),
        price_basis=str(out.get("price_basis", "")),
        scenario=scenario,
        scenarios=scenarios,
        contact_share=_rate(p, "outreach.contact_share", out.get("contact_share")),
        programme_cost=_rate(
            p,
            "outreach.programme_cost",
            out.get("programme_cost"),
            unit=False,
            upper=1e10,  # euro: the 2006-2008 programme spent 5.8 million
        ),
        programme_conversations=_rate(
            p,
            "outreach.programme_conversations",
            out.get("programme_conversations"),
            unit=False,
            upper=1e7,
        ),
        cost_scenario=cost_scenario,
        draws=int(draws),
        seed=int(seed),
        distribution=str(dist),
        selection=selection,
        local_sd=_rate(p, "uncertainty.local_sd", unc.get("local_sd", 0.0), unit=False, upper=3.0),
        local_from_data=bool(local_from_data),
        binomial=bool(binomial),
        origin=origin,
        data=data,
    )
    p.raise_if_any()
    return result


def _whole(p: _Problems, where: str, v: Any, lo: int, hi: int) -> int | None:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        p.add(where, f"must be a whole number from {lo} to {hi}, got {v!r}")
        return None
    return v


def _limit(p: _Problems, where: str, raw: Any, *, upper: int) -> Limit:
    """``{ value = 2, reason = "…" }``; ``value = false`` (or 0 for a maximum) is off."""
    if not isinstance(raw, dict):
        raw = {"value": raw}
    _check_keys(p, where, raw, "limit")
    v = raw.get("value")
    threshold = raw.get("below", raw.get("above"))
    if threshold is not None and (
        not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or threshold <= 0
    ):
        p.add(where, f"below/above must be a number of inhabitants above 0, got {threshold!r}")
        threshold = None
    if v is False or v is None:
        return Limit(None, str(raw.get("reason", "")), threshold)
    value = _whole(p, f"{where}.value", v, 0, upper)
    return Limit(value, str(raw.get("reason", "")), None if threshold is None else float(threshold))


def _selection(p: _Problems, raw: Any) -> SelectionCard:
    sel = _table(p, "selection", raw)
    _check_keys(p, "selection", sel, "selection")
    n = _limit(p, "selection.n", sel.get("n", PILOTS), upper=int(BY_FIELD["n"].maximum))
    if n.value is None or n.value < 1:
        p.add("selection.n", "needs at least 1 pilot gemeente")
        n = Limit(PILOTS, n.reason)
    limits = {}
    for name in LIMITS:
        upper = int(BY_FIELD[name].maximum)  # the catalogue's bounds, as everywhere
        lim = _limit(p, f"selection.{name}", sel.get(name, False), upper=upper)
        if name in ("min_klein", "max_groot") and lim.value is not None and lim.threshold is None:
            key = "below" if name == "min_klein" else "above"
            p.add(f"selection.{name}", f"needs '{key}', a number of inhabitants")
        limits[name] = lim
    target_years = sel.get("target_years", 2)
    if (
        not isinstance(target_years, (int, float))
        or isinstance(target_years, bool)
        or not 0 < target_years <= 20
    ):
        p.add(
            "selection.target_years",
            f"must be a number of years from 0 to 20, got {target_years!r}",
        )
        target_years = 2
    draws = sel.get("resolve_draws", 500)
    resolve = _whole(p, "selection.resolve_draws", draws, 200, 5000) or 500
    near: dict[str, float] = {}
    for key, default in (("near_draws", 0.25), ("near_loss", 0.01)):
        v = sel.get(key, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 0.5:
            p.add(f"selection.{key}", f"must be a share from 0 to 0.5, got {v!r}")
            v = default
        near[key] = float(v)
    codes: dict[str, tuple[str, ...]] = {}
    for key in ("include", "exclude"):
        v = sel.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            p.add(f"selection.{key}", f"must be a list of gemeente names or codes, got {v!r:.40}")
            v = []
        codes[key] = tuple(v)
    return SelectionCard(
        n=n,
        region_reach=_rate(p, "selection.region_reach", sel.get("region_reach", 0.0)),
        resolve_draws=resolve,
        near_draws=near["near_draws"],
        near_loss=near["near_loss"],
        limits=limits,
        pilot_cost_eur=_rate(
            p,
            "selection.pilot_cost_eur",
            sel.get("pilot_cost_eur", 0.0),
            unit=False,
            upper=1e9,
        ),
        include=codes["include"],
        exclude=codes["exclude"],
        target_trajectories=_rate(
            p,
            "selection.target_trajectories",
            sel.get("target_trajectories", 0.0),
            unit=False,
            upper=1e6,
        ),
        target_years=float(target_years),
    )


def describe(c: MethodCard) -> list[str]:
    """``vib method show``: a card's parameters with ranges and sources, line by line."""
    lines = [
        f"{c.name} {c.version}: {c.description}",
        f"  origin: {c.origin}   sha256: {c.checksum[:16]}",
    ]
    if c.warning:
        lines.append(f"  LET OP: {c.warning}")
    lines.append(f"  groups: {', '.join(f'{g.name} ({g.key})' for g in c.groups)}")
    upper = "the AOW age of the year" if c.age_max is None else f"{c.age_max:g}"
    lines.append(f"  birthplace: {c.birthplace}; ages {c.age_min:g} to {upper} (exclusive)")
    if c.age_max is None:
        lines.append(
            "  AOW age: " + ", ".join(f"{y}: {fmt_age(a)}" for y, a in sorted(c.aow_age.items()))
        )
    for term, text in c.definitions.items():
        lines.append(f"  {term}: {text}")
    for name, r in c.rates().items():
        flag = "  [assumption]" if r.assumption else ""
        lines.append(f"  {name:30} {r.describe():22} {r.source}{flag}")
    lines.append(
        f"  scenario: {c.scenario}, over {c.period_years:g} years, "
        f"costs in {c.price_basis or '?'}; "
        f"draws {c.draws}, seed {c.seed}, {c.distribution}"
    )
    sel = c.selection
    lines.append(
        f"  selection: {sel.n.value} pilots ({sel.n.reason}); re-solved over "
        f"{sel.resolve_draws} draws"
    )
    for name, lim in sel.limits.items():
        if lim.value is not None:
            at = f" (threshold {lim.threshold:,.0f} inhabitants)" if lim.threshold else ""
            lines.append(f"    {name} = {lim.value}{at}: {lim.reason}")
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
        raise MethodCardError(f"{path} already exists; choose another path or pass `force`.")
    text, _ = card_text(base)
    if "extends" in parse_toml(text, f"shipped card {base}", MethodCardError):
        # A standalone copy: write the base card, then the preset's own lines as overrides.
        data, _ = _resolve(base)
        load_card(base)
        text = (
            f"# Copy of the shipped card '{base}', resolved (it extended another card).\n"
            + _dump_toml(data)
        )
    text = _renamed(text, path.stem, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _renamed(text: str, name: str, base: str) -> str:
    """The card text with ``[card] name`` set to ``name`` (a copy is a card of its own)."""
    lines = text.splitlines(keepends=True)
    section = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == "[card]" and re.match(r"name\s*=", stripped):
            lines[i] = f"name = {_toml_value(name)}  # a copy of the shipped card '{base}'\n"
            return "".join(lines)
    return f"[card]\nname = {_toml_value(name)}\n" + text if "[card]" not in text else text


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
