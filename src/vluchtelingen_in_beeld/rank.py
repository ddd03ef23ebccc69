"""Choosing voortrekkersgemeenten: an exact selection that maximises what pilots can fill.

**Value.** A pilot gemeente fills trajectories from its reachable pool of job-seekers, up to
its capacity: ``V[m] = K · (1 − exp(−c · P[m] / K))`` with ``P[m] = J[m] + ρ · (J of the
rest of m's arbeidsmarktregio)`` (reach into the region, "verankering in de regio"; each
neighbour counted up to m's own number, see :func:`reach`), ``K`` the capacity per pilot
and ``c`` the contact share. ``V`` is computed in every Monte Carlo
draw (that draw's ``J``, ``c``, ``K`` and ``ρ``) and averaged. Every parameter is in the
method card (``[selection]``) with its source and range.

**Selection.** An integer programme (HiGHS, through ``highspy``) picks ``n`` gemeenten
with the largest total expected value under the card's constraints: at most k per provincie
and per arbeidsmarktregio, at least one per landsdeel, a size mix, gemeenten forced in or
out, optionally a budget. Before solving, a gemeente is dropped when ``n`` (or its caps')
gemeenten of exactly the same provincie, arbeidsmarktregio, landsdeel and size class have a
higher value: swapping it for one of them keeps every constraint and raises the objective, so
this never changes the optimum (it is not done with a budget, whose costs differ).

**Price, rank, reasons, chance.** The price of a constraint is the objective the selection
loses because of it (re-solved without it). The selected gemeenten rank first, by value;
the rest follow by the value they would add. Each gemeente gets one Dutch reason, naming
the constraint that keeps a strong gemeente out or brings a weaker one in.
``kans_geselecteerd`` is the share of draws in which the gemeente is selected when the
programme is solved again with that draw's values (at least 200 draws).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.errors import (
    ConfigError,
    InfeasibleError,
    VibError,
)
from vluchtelingen_in_beeld.estimate import sample_rate
from vluchtelingen_in_beeld.fmt import nl_about, nl_int, nl_prob
from vluchtelingen_in_beeld.method import LIMITS, MethodCard

#: The caps per region: (constraint, code column, name column).
CAPS = (
    ("max_per_provincie", "provincie_code", "provincie"),
    ("max_per_regio", "arbeidsmarktregio_code", "arbeidsmarktregio"),
)

#: The region columns a candidate frame needs.
REGION_COLUMNS = (
    "provincie_code",
    "provincie",
    "arbeidsmarktregio_code",
    "arbeidsmarktregio",
    "landsdeel_code",
    "landsdeel",
)


@dataclass(frozen=True)
class Constraints:
    """What the selection must respect (``None``: that constraint is off)."""

    n: int = 11
    max_per_provincie: int | None = 2
    max_per_regio: int | None = 1
    min_per_landsdeel: int | None = 1
    min_klein: int | None = 2
    klein_onder: float = 100_000
    max_groot: int | None = 4
    groot_boven: float = 200_000
    budget_eur: float | None = None
    pilot_cost_eur: float = 0.0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: constraint name -> why (from the card)
    reasons: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_card(cls, card: MethodCard, **overrides: Any) -> Constraints:
        """The card's constraints, with ``overrides`` (a value of ``None`` switches off)."""
        sel = card.selection
        lim = sel.limits
        base: dict[str, Any] = {
            "n": sel.n.value or 11,
            "max_per_provincie": lim["max_per_provincie"].value,
            "max_per_regio": lim["max_per_regio"].value,
            "min_per_landsdeel": lim["min_per_landsdeel"].value,
            "min_klein": lim["min_klein"].value,
            "klein_onder": lim["min_klein"].threshold or 100_000,
            "max_groot": lim["max_groot"].value,
            "groot_boven": lim["max_groot"].threshold or 200_000,
            "budget_eur": lim["budget_eur"].value or None,
            "pilot_cost_eur": sel.pilot_cost_eur.value,
            "include": sel.include,
            "exclude": sel.exclude,
        }
        reasons = {k: v.reason for k, v in lim.items()}
        reasons["n"] = sel.n.reason
        reasons.update(include="vastgezet", exclude="uitgesloten")
        known = {f.name for f in fields(cls)} - {"reasons"}
        for k in overrides:
            if k not in known:
                raise ConfigError(f"Unknown selection setting {k!r}; known: {sorted(known)}.")
        base.update(overrides)
        for k in overrides:
            if k in LIMITS or k == "n":
                reasons[k] = "opgegeven bij het aanroepen, niet uit de methodekaart"
        return cls(**base, reasons=reasons)

    def check(self) -> None:
        """Reject nonsensical numbers before any work."""
        if self.n < 1:
            raise ConfigError(f"--n must be at least 1, got {self.n}.")
        for name in ("max_per_provincie", "max_per_regio", "max_groot"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ConfigError(f"{name} must be 0 or more (or off), got {v}.")
        for name in ("max_per_provincie", "max_per_regio"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {v}.")
        for name in ("min_per_landsdeel", "min_klein"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ConfigError(f"{name} must be 0 or more, got {v}.")
        if self.klein_onder <= 0 or self.groot_boven <= 0:
            raise ConfigError("The size thresholds must be above 0 inhabitants.")
        if self.budget_eur is not None and self.budget_eur <= 0:
            raise ConfigError(f"The budget must be above 0 euro (or off), got {self.budget_eur}.")
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise InfeasibleError(f"{', '.join(both)} is both included and excluded; choose one.")

    def active(self) -> list[str]:
        """The names of the constraints that are on (``n`` is always on)."""
        out = [k for k in LIMITS if getattr(self, k) not in (None, 0)]
        out += [k for k in ("include", "exclude") if getattr(self, k)]
        return out

    def without(self, name: str) -> Constraints:
        """These constraints with ``name`` switched off."""
        off: dict[str, Any] = {name: () if name in ("include", "exclude") else None}
        return replace(self, **off)

    def describe(self, name: str) -> str:
        """A constraint in Dutch words: ``hoogstens 2 per provincie``."""
        v = getattr(self, name) if name != "n" else self.n
        return {
            "n": f"{v} voortrekkersgemeenten",
            "max_per_provincie": f"hoogstens {v} per provincie",
            "max_per_regio": f"hoogstens {v} per arbeidsmarktregio",
            "min_per_landsdeel": f"minstens {v} per landsdeel",
            "min_klein": f"minstens {v} onder {nl_int(self.klein_onder)} inwoners",
            "max_groot": f"hoogstens {v} boven {nl_int(self.groot_boven)} inwoners",
            "budget_eur": f"budget € {nl_int(v)}",
            "include": f"vastgezet: {', '.join(self.include)}",
            "exclude": f"uitgesloten: {', '.join(self.exclude)}",
        }[name]

    def record(self) -> dict[str, Any]:
        """For the manifest."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "reasons"}
        out["reasons"] = dict(self.reasons)
        return out


# --- values ----------------------------------------------------------------------------------


def pilot_value(p: np.ndarray, capacity: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """``V = K · (1 − exp(−c · P / K))``: grows with the pool ``P``, saturates at ``K``."""
    out: np.ndarray = capacity * -np.expm1(-contact * p / capacity)
    return out


def reach(j: np.ndarray, amr: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``P[m] = J[m] + ρ · Σ_k min(J[k], J[m])`` over the other gemeenten k of m's region.

    A pilot reaches a share ρ of the job-seekers of the rest of its arbeidsmarktregio, but
    of each neighbour no more than its own number: the larger pool carries the region, a
    small gemeente does not carry its city. This keeps the selection monotone: raising one
    gemeente's job-seekers raises its own reach at least as much as any neighbour's, so
    (with at most one pilot per arbeidsmarktregio) it never lowers its chance.
    ``j``: draws × gemeenten; ``amr``: region index per gemeente; ``rho``: per draw.
    """
    out = j.astype(float).copy()
    for region in np.unique(amr):
        cols = np.flatnonzero(amr == region)
        if len(cols) < 2:
            continue
        sub = j[:, cols]  # draws × members
        pair = np.minimum(sub[:, :, None], sub[:, None, :]).sum(axis=1) - sub
        out[:, cols] += rho[:, None] * pair
    return out


def value_draws(est: Any, frame: pd.DataFrame, card: MethodCard) -> np.ndarray:
    """``V[d, m]`` for every Monte Carlo draw of the estimate (draws × ``frame``'s rows)."""
    j = est.draws.j[:, est.draws.codes.get_indexer(frame.index)]
    n = j.shape[0]
    rng = np.random.default_rng([card.seed, 21])
    k = sample_rate(card.selection.capacity, n, rng, card.distribution)
    rho = sample_rate(card.selection.region_reach, n, rng, card.distribution)
    contact = sample_rate(card.contact_share, n, rng, card.distribution)
    amr = pd.Categorical(frame["arbeidsmarktregio_code"]).codes.astype(int)
    return pilot_value(reach(j, amr, rho), k[:, None], contact[:, None])


# --- the integer programme --------------------------------------------------------------------


@dataclass
class Problem:
    """The candidates and constraint rows of one selection, built once and solved often."""

    frame: pd.DataFrame  # index gemeentecode; REGION_COLUMNS, gemeentenaam, inwoners
    c: Constraints
    #: with a budget: a pilot costs ``c.pilot_cost_eur`` plus this per trajectory it fills
    cost_per_value: float = 0.0
    rows: np.ndarray = field(init=False, repr=False)
    lo: np.ndarray = field(init=False, repr=False)
    hi: np.ndarray = field(init=False, repr=False)
    classes: np.ndarray = field(init=False, repr=False)
    keep_per_class: int = field(init=False)
    lb: np.ndarray = field(init=False, repr=False)
    ub: np.ndarray = field(init=False, repr=False)
    _relaxation: Any = field(init=False, default=None, repr=False)  # kept in HiGHS

    def __post_init__(self) -> None:
        f, c = self.frame, self.c
        m = len(f)
        rows: list[np.ndarray] = [np.ones(m)]
        lo: list[float] = [c.n]
        hi: list[float] = [c.n]

        def per_group(code: str, low: float, high: float) -> None:
            groups = pd.Categorical(f[code]).codes
            for g in np.unique(groups[groups >= 0]):
                rows.append((groups == g).astype(float))
                lo.append(low)
                hi.append(high)

        for name, code, _ in CAPS:
            if getattr(c, name) is not None:
                per_group(code, 0, getattr(c, name))
        if c.min_per_landsdeel:
            per_group("landsdeel_code", c.min_per_landsdeel, m)
        small = (f["inwoners"] < c.klein_onder).to_numpy()
        large = (f["inwoners"] > c.groot_boven).to_numpy()
        if c.min_klein:
            rows.append(small.astype(float))
            lo.append(c.min_klein)
            hi.append(m)
        if c.max_groot is not None:
            rows.append(large.astype(float))
            lo.append(0)
            hi.append(c.max_groot)
        self.rows, self.lo, self.hi = np.vstack(rows), np.array(lo), np.array(hi)
        self.lb = f.index.isin(c.include).astype(float)
        self.ub = (~f.index.isin(c.exclude)).astype(float)
        key = (
            f["provincie_code"].astype(str)
            + "|"
            + f["arbeidsmarktregio_code"].astype(str)
            + "|"
            + f["landsdeel_code"].astype(str)
            + "|"
            + pd.Series(small.astype(int) - large.astype(int), index=f.index).astype(str)
        )
        self.classes = pd.Categorical(key).codes.astype(int)
        caps = [c.n, c.max_per_provincie, c.max_per_regio]
        self.keep_per_class = min(v for v in caps if v is not None)

    def _pruned(self, values: np.ndarray) -> np.ndarray:
        """Indices of the candidates that can be in an optimum (see the module docstring)."""
        if self.c.budget_eur is not None:
            return np.arange(len(values))
        order = np.lexsort((-values, self.classes))
        cls = self.classes[order]
        start = np.r_[0, np.flatnonzero(np.diff(cls)) + 1]
        rank_in_class = np.arange(len(cls)) - np.repeat(start, np.diff(np.r_[start, len(cls)]))
        keep = np.zeros(len(values), dtype=bool)
        keep[order[rank_in_class < self.keep_per_class]] = True
        keep |= self.lb > 0
        keep &= self.ub > 0
        return np.flatnonzero(keep)

    def solve(
        self, values: np.ndarray, cost_per_value: float | None = None
    ) -> tuple[np.ndarray, float]:
        """(indices selected, objective) for per-gemeente ``values``; raises if infeasible.

        The LP relaxation is solved first, by HiGHS, in a model kept between calls (a
        re-solve with other values starts from the last optimal basis). When its optimum is
        integral (almost always with these group constraints) it is the integer optimum;
        otherwise the integer programme over the pruned candidates is solved by branch and
        bound. With a budget the cost row depends on the values, so the model is new.
        """
        from vluchtelingen_in_beeld._impl.highs import Programme

        rows, lo, hi = self.rows, self.lo, self.hi
        if self.c.budget_eur is not None:
            per = self.cost_per_value if cost_per_value is None else cost_per_value
            rows = np.vstack([rows, self.c.pilot_cost_eur + per * values])
            lo, hi = np.r_[lo, 0.0], np.r_[hi, self.c.budget_eur]
            relaxation = Programme(rows, lo, hi, self.lb, self.ub)
        else:
            if self._relaxation is None:
                self._relaxation = Programme(rows, lo, hi, self.lb, self.ub)
            relaxation = self._relaxation
        lp = relaxation.solve(values)
        if lp.status == "infeasible":
            raise InfeasibleError("no selection meets the constraints")
        x = lp.x if lp.status == "optimal" else None
        if x is not None and np.abs(x - np.round(x)).max() <= 1e-7:
            chosen = np.flatnonzero(x > 0.5)
        else:
            idx = self._pruned(values)
            mip = Programme(
                rows[:, idx], lo, hi, self.lb[idx], self.ub[idx], integer=True, time_limit=30
            ).solve(values[idx])
            if mip.status == "time_limit":
                raise VibError(
                    "The selection did not finish within 30 s (HiGHS branch and bound); "
                    "loosen a constraint or lower --n."
                )
            if mip.status != "optimal" or mip.x is None:
                raise InfeasibleError("no selection meets the constraints")
            chosen = idx[np.flatnonzero(mip.x > 0.5)]
        return chosen, float(values[chosen].sum())


def _feasible(
    frame: pd.DataFrame, c: Constraints, values: np.ndarray, cost_per_value: float
) -> bool:
    try:
        Problem(frame, c, cost_per_value).solve(values)
    except InfeasibleError:
        return False
    return True


def why_infeasible(
    frame: pd.DataFrame,
    c: Constraints,
    values: np.ndarray | None = None,
    cost_per_value: float = 0.0,
) -> str:
    """Which constraint makes the selection impossible, in words (an English message).

    ``values`` (default all 1) and ``cost_per_value`` matter only for a budget.
    """
    if values is None:
        values = np.ones(len(frame))
    eligible = frame.drop(index=[x for x in c.exclude if x in frame.index])
    if len(c.include) > c.n:
        return f"{len(c.include)} gemeenten are forced in with --include but --n is {c.n}."
    if len(eligible) < c.n:
        return f"only {len(eligible)} gemeenten are left, fewer than --n {c.n}."
    for name, col, label in CAPS:
        cap = getattr(c, name)
        if cap is None:
            continue
        counts = eligible.groupby(col).size()
        most = int(np.minimum(counts, cap).sum())
        if most < c.n:
            return (
                f"{name} = {cap}: at most {cap} per {label} over {len(counts)} {label}s allows "
                f"at most {most} gemeenten, fewer than --n {c.n}. Raise the cap or lower --n."
            )
    culprits = [k for k in c.active() if _feasible(frame, c.without(k), values, cost_per_value)]
    if culprits:
        said = "; ".join(f"{k} ({c.describe(k)}: {c.reasons.get(k, '')})" for k in culprits)
        return (
            f"without {' or '.join(culprits)} a selection exists: {said}. Loosen "
            f"{'it' if len(culprits) == 1 else 'one of them'} in the card or on the command "
            "line."
        )
    return "the constraints together leave no possible selection; loosen one of them."


# --- the ranking ---------------------------------------------------------------------------


@dataclass
class Ranking:
    """The selection, a rank and value for every gemeente, prices and how they were made."""

    year: int
    table: pd.DataFrame
    constraints: Constraints
    objective: float
    prices: pd.DataFrame
    params: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    #: the candidates in rank order (regions, inhabitants) and their expected values
    frame: pd.DataFrame | None = field(default=None, repr=False)
    values: np.ndarray | None = field(default=None, repr=False)

    @property
    def selected(self) -> pd.DataFrame:
        """The selected gemeenten, in order of rank."""
        return self.table[self.table["geselecteerd"]]

    def record(self) -> dict[str, Any]:
        """How the selection was made, for the manifest."""
        return {
            "constraints": self.constraints.record(),
            "objective": self.objective,
            "selection": self.params,
        }


CONTRACT = [
    "rang",
    "gemeentecode",
    "gemeentenaam",
    "provincie",
    "arbeidsmarktregio",
    "landsdeel",
    "geselecteerd",
    "waarde",
    "kans_geselecteerd",
    "reden",
]
EXTRA = [
    "waarde_p10",
    "waarde_p90",
    "bereik",
    "werkzoekend",
    "werkzoekend_p10",
    "werkzoekend_p90",
    "werkzoekend_per_1000",
    "groei",
    "inwoners",
    "provincie_code",
    "arbeidsmarktregio_code",
    "landsdeel_code",
    "dankzij",
    "buiten_door",
]


def selection_chance(problem: Problem, draw_values: np.ndarray) -> np.ndarray:
    """Share of draws in which each gemeente is selected when the programme is re-solved.

    The draws are solved in turn in the problem's kept model: each re-solve starts from the
    previous optimum, so 500 take about a quarter of a second.
    """
    counts = np.zeros(draw_values.shape[1])
    for v in draw_values:
        chosen, _ = problem.solve(v)
        counts[chosen] += 1
    out: np.ndarray = counts / len(draw_values)
    return out


def _prices(
    problem: Problem, values: np.ndarray, objective: float, chosen: set[str]
) -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, set[str]]]:
    """Objective lost to each active constraint (re-solved without it); who moves in, out."""
    frame, c = problem.frame, problem.c
    rows = []
    moved_in: dict[str, set[str]] = {}
    moved_out: dict[str, set[str]] = {}
    codes = frame.index

    def row(name: str, price: float, binding: bool, came: set[str], went: set[str]) -> None:
        rows.append(
            {
                "beperking": name,
                "omschrijving": c.describe(name),
                "reden": c.reasons.get(name, ""),
                "prijs": price,
                "prijs_pct": price / objective if objective else np.nan,
                "bindend": binding,
                "erin_zonder": ", ".join(frame.loc[sorted(came), "gemeentenaam"]),
                "eruit_zonder": ", ".join(frame.loc[sorted(went), "gemeentenaam"]),
            }
        )

    for name in c.active():
        try:
            idx, obj = Problem(frame, c.without(name), problem.cost_per_value).solve(values)
        except InfeasibleError:  # pragma: no cover - dropping a constraint cannot hurt
            continue
        now = set(codes[idx])
        moved_in[name] = now - chosen
        moved_out[name] = chosen - now
        binding = obj - objective > 1e-6 * max(objective, 1.0)
        price = max(obj - objective, 0.0)  # never below 0 but for solver tolerance
        row(name, price, binding, now - chosen, chosen - now)
    try:
        _, more = Problem(frame, replace(c, n=c.n + 1), problem.cost_per_value).solve(values)
        row("n", more - objective, True, set(), set())
    except InfeasibleError:
        pass
    return pd.DataFrame(rows), moved_in, moved_out


def _full_group(r: pd.Series, sel: pd.DataFrame, c: Constraints) -> tuple[str, str] | None:
    """The cap that is full for ``r``'s region or size in the selection ``sel``, in words."""
    for name, code, label in reversed(CAPS):  # the smaller region first
        cap = getattr(c, name)
        same = sel[sel[code] == r[code]]
        if cap is not None and len(same) >= cap:
            names = ", ".join(same["gemeentenaam"])
            return (
                name,
                f"{label} {r[label]} heeft al {len(same)} gekozen ({names}; {c.describe(name)})",
            )
    if c.max_groot is not None and r["inwoners"] > c.groot_boven:
        large = sel[sel["inwoners"] > c.groot_boven]
        if len(large) >= c.max_groot:
            names = ", ".join(large["gemeentenaam"])
            return "max_groot", f"er zijn al {len(large)} grote gemeenten gekozen ({names})"
    return None


def _reasons(
    t: pd.DataFrame,
    c: Constraints,
    moved: tuple[dict[str, set[str]], dict[str, set[str]]],
    chosen: list[str],
    capacity: float,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """One Dutch line per gemeente, and which constraint brought it in or kept it out.

    A selected gemeente that leaves the selection when a constraint is dropped is in
    because of that constraint; one left out that enters is kept out by it.
    """
    moved_in, moved_out = moved
    chosen_set = set(chosen)
    on_merit = [x for x in chosen if x not in c.include]
    weakest = t.loc[on_merit].sort_values("waarde").iloc[0] if on_merit else None
    reasons: dict[str, str] = {}
    thanks: dict[str, str] = {}
    out_by: dict[str, str] = {}
    brought_in: dict[str, str] = {}
    for name, outs in moved_out.items():
        for code in sorted(outs):
            brought_in.setdefault(code, name)
    sel = t.loc[chosen]
    for code, r in t.iterrows():
        kans = nl_prob(r["kans_geselecteerd"])
        if code in chosen_set:
            text = (
                f"Gekozen: naar schatting {nl_about(r['werkzoekend'])} werkzoekenden, met de "
                f"regio erbij {nl_about(r['bereik'])} binnen bereik; een pilot vult naar "
                f"verwachting {nl_about(r['waarde'])} van de {nl_about(capacity)} trajecten "
                f"(kans gekozen {kans})"
            )
            if code in c.include:
                text += "; vastgezet"
            elif code in brought_in:
                name = brought_in[code]
                text += f"; dankzij de eis {c.describe(name)}"
                thanks[code] = name
            reasons[code] = text + "."
            continue
        if code in c.exclude:
            reasons[code] = "Niet gekozen: uitgesloten."
            out_by[code] = "exclude"
            continue
        single = next((k for k, ins in moved_in.items() if code in ins), None)
        better = weakest is not None and r["waarde"] > weakest["waarde"] + 1e-9
        full = _full_group(r, sel, c) if better or single is not None else None
        if full is not None or single is not None or better:
            if full is not None:
                name, why = full
            elif single is not None:
                name, why = single, f"de eis {c.describe(single)}"
            else:
                name, why = (
                    "combinatie",
                    "de eisen samen (zonder een ervan alleen komt ze er niet in)",
                )
            reasons[code] = (
                f"Niet gekozen, ondanks waarde {nl_about(r['waarde'])} trajecten: {why}; "
                f"kans gekozen {kans}."
            )
            out_by[code] = name
        elif weakest is not None:
            reasons[code] = (
                f"Niet gekozen: waarde {nl_about(r['waarde'])} trajecten tegen "
                f"{nl_about(weakest['waarde'])} voor {weakest['gemeentenaam']}, de laagste "
                f"gekozen gemeente; kans gekozen {kans}."
            )
        else:  # pragma: no cover - a selection always has members
            reasons[code] = "Niet gekozen."
    return pd.Series(reasons), pd.Series(thanks, dtype=object), pd.Series(out_by, dtype=object)


def rank(
    est: Any,
    regions_frame: pd.DataFrame,
    growth: pd.Series | None,
    *,
    constraints: Constraints | None = None,
) -> Ranking:
    """Select, rank and explain. ``est`` is an :class:`~.estimate.Estimate`."""
    card: MethodCard = est.card
    c = constraints or Constraints.from_card(card)
    c.check()
    t = est.table.set_index("gemeentecode")
    t = t.join(regions_frame.drop(columns=["gemeentenaam"], errors="ignore"), how="left")
    lost = t.index[t[list(REGION_COLUMNS)].isna().any(axis=1)]
    if len(lost):
        raise VibError(f"{len(lost)} gemeenten have no region: {', '.join(lost[:10])}.")
    unknown = [x for x in (*c.include, *c.exclude) if x not in t.index]
    if unknown:
        raise ConfigError(f"Not among the gemeenten of {est.year}: {', '.join(unknown)}.")
    t["groei"] = growth.reindex(t.index) if growth is not None else np.nan
    draws = value_draws(est, t, card)
    values = draws.mean(axis=0)
    problem = Problem(t, c, card.cost_per_placement.value)
    try:
        idx, objective = problem.solve(values)
    except InfeasibleError:
        raise InfeasibleError(
            f"No selection of {c.n} gemeenten is possible: "
            f"{why_infeasible(t, c, values, problem.cost_per_value)}"
        ) from None
    chosen = list(t.index[idx])
    resolve = min(card.selection.resolve_draws, len(draws))
    t["kans_geselecteerd"] = selection_chance(problem, draws[:resolve])
    t["waarde"] = values
    t["waarde_p10"], t["waarde_p90"] = np.percentile(draws, (10, 90), axis=0)
    amr = pd.Categorical(t["arbeidsmarktregio_code"]).codes.astype(int)
    rho = np.array([card.selection.region_reach.value])
    t["bereik"] = reach(t["werkzoekend"].to_numpy(dtype=float)[None, :], amr, rho)[0]
    prices, moved_in, moved_out = _prices(problem, values, objective, set(chosen))

    t["geselecteerd"] = t.index.isin(chosen)
    t = t.sort_values(["geselecteerd", "waarde", "inwoners"], ascending=[False, False, False])
    t["rang"] = np.arange(1, len(t) + 1)
    reasons, thanks, out_by = _reasons(
        t, c, (moved_in, moved_out), chosen, card.selection.capacity.value
    )
    t["reden"] = reasons
    t["dankzij"] = thanks.reindex(t.index)
    t["buiten_door"] = out_by.reindex(t.index)
    t.index.name = "gemeentecode"
    table = t.reset_index()[CONTRACT + EXTRA].reset_index(drop=True)
    notes = [
        f"Selectie: {c.n} gemeenten met de hoogste verwachte waarde "
        f"V = K(1 − e^(−cP/K)) over {len(draws)} doorrekeningen (K = "
        f"{card.selection.capacity.describe()}, ρ = {card.selection.region_reach.describe()}, "
        f"c = {card.contact_share.describe()}); kans_geselecteerd over {resolve} opnieuw "
        "opgeloste doorrekeningen."
    ]
    params = {
        "capacity": card.selection.capacity.describe(),
        "region_reach": card.selection.region_reach.describe(),
        "contact_share": card.contact_share.describe(),
        "draws": len(draws),
        "resolve_draws": resolve,
    }
    return Ranking(est.year, table, c, objective, prices, params, notes, t, t["waarde"].to_numpy())


# --- the 2009 reference --------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One voortrekkersgemeente of 2009 and what it is today."""

    name_2009: str
    codes_now: tuple[str, ...]
    note: str = ""


#: The 11 voortrekkersgemeenten chosen in 2009 (method.md, "Historical reference"),
#: mapped to today's gemeenten (CBS codes; mergers from CBS "Gemeentelijke indeling").
REFERENCE_2009: tuple[Reference, ...] = (
    Reference(
        "Groningen",
        ("GM0014",),
        "Sinds 2019 samen met Haren en Ten Boer in de gemeente Groningen.",
    ),
    Reference("Emmen", ("GM0114",)),
    Reference("Zwolle", ("GM0193",)),
    Reference("Utrecht", ("GM0344",)),
    Reference("Amsterdam", ("GM0363",)),
    Reference("Haarlem", ("GM0392",)),
    Reference(
        "Schagen (intergemeentelijk)",
        ("GM0441",),
        "In 2009 een samenwerking van Schagen, Zijpe en Harenkarspel; sinds 2013 één gemeente "
        "Schagen.",
    ),
    Reference("Hilversum", ("GM0402",)),
    Reference("Nijmegen", ("GM0268",)),
    Reference("Winterswijk", ("GM0294",)),
    Reference("Hardenberg", ("GM0160",)),
)


def reference_breaks(frame: pd.DataFrame, codes: Sequence[str], c: Constraints) -> list[str]:
    """Which of the constraints ``c`` a list of gemeenten breaks, in Dutch, one per item."""
    sel = frame.loc[list(codes)]
    out = []
    if len(sel) != c.n:
        out.append(f"{len(sel)} gemeenten in plaats van {c.n}")
    for name, code, label in CAPS:
        cap = getattr(c, name)
        if cap is None:
            continue
        counts = sel.groupby(code).size()
        names = sel.groupby(code)[label].first()
        for region, k in counts[counts > cap].items():
            out.append(f"{k} in {label} {names[region]} ({c.describe(name)})")
    if c.min_per_landsdeel:
        counts = sel.groupby("landsdeel").size().reindex(frame["landsdeel"].unique(), fill_value=0)
        for region, k in counts[counts < c.min_per_landsdeel].sort_index().items():
            out.append(f"{k} in landsdeel {region} ({c.describe('min_per_landsdeel')})")
    small = int((sel["inwoners"] < c.klein_onder).sum())
    if c.min_klein and small < c.min_klein:
        out.append(f"{small} kleine gemeenten ({c.describe('min_klein')})")
    large = int((sel["inwoners"] > c.groot_boven).sum())
    if c.max_groot is not None and large > c.max_groot:
        out.append(f"{large} grote gemeenten ({c.describe('max_groot')})")
    return out


def satisfied_by(frame: pd.DataFrame, codes: Sequence[str], c: Constraints) -> Constraints:
    """``c`` loosened just enough for the list ``codes`` to meet it (same size, no forcing)."""
    sel = frame.loc[list(codes)]

    def most(col: str) -> int:
        return int(sel.groupby(col).size().max())

    landsdelen = (
        sel.groupby("landsdeel_code").size().reindex(frame["landsdeel_code"].unique(), fill_value=0)
    )
    small = int((sel["inwoners"] < c.klein_onder).sum())
    large = int((sel["inwoners"] > c.groot_boven).sum())
    return replace(
        c,
        n=len(sel),
        max_per_provincie=None
        if c.max_per_provincie is None
        else max(c.max_per_provincie, most("provincie_code")),
        max_per_regio=None
        if c.max_per_regio is None
        else max(c.max_per_regio, most("arbeidsmarktregio_code")),
        min_per_landsdeel=None
        if not c.min_per_landsdeel
        else min(c.min_per_landsdeel, int(landsdelen.min())) or None,
        min_klein=None if not c.min_klein else min(c.min_klein, small) or None,
        max_groot=None if c.max_groot is None else max(c.max_groot, large),
        budget_eur=None,
        include=(),
        exclude=(),
    )


COMPARISON_COLUMNS = [
    "soort",
    "gemeente_2009",
    "gemeentecode",
    "gemeentenaam",
    "rang",
    "waarde",
    "kans_geselecteerd",
    "geselecteerd",
    "werkzoekend",
    "provincie",
    "arbeidsmarktregio",
    "landsdeel",
    "toelichting",
]


def compare_reference(
    ranking: Ranking, reference: Sequence[Reference] = REFERENCE_2009
) -> pd.DataFrame:
    """The 2009 list under today's data: its members, value, regret and broken defaults.

    Rows of ``soort`` "lid": each member's rank, value and ``kans_geselecteerd`` today.
    Then "lijst 2009" (its objective, and which default constraints it breaks), "optimum"
    (the best selection under the constraints the 2009 list itself satisfies), "spijt" (the
    difference, never negative) and "selectie" (today's selection under the defaults).
    """
    t = ranking.table.set_index("gemeentecode")
    frame = ranking.frame
    assert frame is not None and ranking.values is not None
    rows = []
    codes: list[str] = []
    for ref in reference:
        missing = [c for c in ref.codes_now if c not in t.index]
        if missing:
            raise VibError(
                f"Reference gemeente {ref.name_2009}: {', '.join(missing)} is not among the "
                f"gemeenten of {ranking.year}; the reference list needs updating for a herindeling."
            )
        for code in ref.codes_now:
            r = t.loc[code]
            codes.append(code)
            rows.append(
                {
                    "soort": "lid",
                    "gemeente_2009": ref.name_2009,
                    "gemeentecode": code,
                    "gemeentenaam": r["gemeentenaam"],
                    "rang": int(r["rang"]),
                    "waarde": r["waarde"],
                    "kans_geselecteerd": r["kans_geselecteerd"],
                    "geselecteerd": bool(r["geselecteerd"]),
                    "werkzoekend": r["werkzoekend"],
                    "provincie": r["provincie"],
                    "arbeidsmarktregio": r["arbeidsmarktregio"],
                    "landsdeel": r["landsdeel"],
                    "toelichting": ref.note,
                }
            )
    c = ranking.constraints
    values = pd.Series(ranking.values, index=frame.index)
    own = float(values.loc[codes].sum())
    breaks = reference_breaks(frame, codes, c)
    loose = satisfied_by(frame, codes, c)
    idx, best = Problem(frame, loose).solve(values.to_numpy())
    best_names = ", ".join(frame.iloc[sorted(idx)]["gemeentenaam"])
    kept = [
        k for k in ("max_per_provincie", "max_per_regio", "min_per_landsdeel") if getattr(loose, k)
    ]
    kept += [k for k in ("min_klein", "max_groot") if getattr(loose, k) is not None]
    summary = [
        (
            "lijst 2009",
            "Waarde van de lijst van 2009",
            own,
            "Breekt de standaardeisen: " + "; ".join(breaks) + "."
            if breaks
            else "Breekt geen standaardeis.",
        ),
        (
            "optimum",
            "Optimum onder de eisen die de lijst van 2009 zelf haalt",
            best,
            f"Eisen: {', '.join(loose.describe(k) for k in kept) or 'geen'}; "
            f"gekozen: {best_names}.",
        ),
        (
            "spijt",
            "Spijt: optimum min lijst 2009",
            max(best - own, 0.0),
            f"{nl_about(max(best - own, 0.0))} trajecten minder dan mogelijk onder dezelfde eisen.",
        ),
        (
            "selectie",
            "Selectie met de standaardeisen",
            ranking.objective,
            f"Eisen: {', '.join(c.describe(k) for k in ['n', *c.active()])}.",
        ),
    ]
    for soort, label, value, text in summary:
        rows.append({"soort": soort, "gemeente_2009": label, "waarde": value, "toelichting": text})
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
