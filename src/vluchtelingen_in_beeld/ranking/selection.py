"""The selection programme: which ``n`` gemeenten, as pilots, reach the most job-seekers.

**Objective.** A pilot reaches its own job-seekers and, as the approach it anchors spreads,
a share ρ of the rest of its arbeidsmarktregio: ``R[m] = J[m] + ρ · (J[r(m)] − J[m])``. With
one pilot per region the programme maximises ``Σ R`` over the pilots. It is written so that
nobody is counted twice when a region has more than one pilot::

    max  Σ_m a[m] · x[m] + Σ_r b[r] · y[r]      a[m] = (1 − ρ) · J[m],  b[r] = ρ · J[r]
    s.t. y[r] ≤ Σ_{m in r} x[m],  0 ≤ y[r] ≤ 1,  x[m] ∈ {0, 1}

(so a region's rest is reached once, whoever the pilots there are; with one pilot it is
``Σ R`` exactly, and with at most one per region ``b`` is folded into ``a`` and the ``y``
columns are left out). ``a`` and ``b`` are averages over the Monte Carlo draws, or one draw's
values when the programme is re-solved per draw (:func:`selection_chance`). Ties, which
occur when ρ = 1 (every member of a region is then worth the region), are broken by own
job-seekers: ``a`` gets ``TIE · J[m]``, a weight far below any real difference, and the
objective reported is computed from the chosen set without it.

**Constraints** (:class:`Constraints`, each from the method card with its reason): the
number of pilots; at most k per provincie and per arbeidsmarktregio; at least k per
landsdeel; at least k small gemeenten; optionally at most k large gemeenten, a minimum
pool of expected conversations per pilot and a budget (a fixed cost per pilot plus its
expected trajectories at the cost per placement); gemeenten forced in or out.

**Solving.** HiGHS (through ``highspy``, :mod:`.highs`): the LP relaxation in a model
kept between solves; when its ``x`` is integral (almost always with one pilot per region)
that is the integer optimum; otherwise branch and bound over the candidates that can be in
an optimum (a gemeente is dropped when enough others of exactly the same provincie,
arbeidsmarktregio, landsdeel, size class and pool have a higher ``a``: swapping keeps every
constraint and ``y``, and does not lower the objective).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.catalogue import BY_FIELD, LIMITS, check_value
from vluchtelingen_in_beeld.clean.method import MethodCard
from vluchtelingen_in_beeld.defaults import LARGE_ABOVE, PILOTS, SMALL_BELOW
from vluchtelingen_in_beeld.errors import ConfigError, InfeasibleError, VibError
from vluchtelingen_in_beeld.ranking.highs import Programme
from vluchtelingen_in_beeld.records import Fact, Record

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

#: Weight of own job-seekers that breaks exact ties (see the module docstring).
TIE = 1e-9

#: Branch-and-bound nodes HiGHS may use before the selection gives up: a limit in work,
#: never in seconds, so that the same command gives the same answer on a busy machine.
NODE_LIMIT = 200_000
#: With a budget, branch and bound stops within this share of the optimum. A pilot's cost
#: grows with its reach (its expected placements), so the budget caps the reach itself and
#: countless selections come within a few people of each other: proving the exact optimum
#: is a subset-sum search of seconds per solve. The share is the card's default
#: ``near_loss``: selections that close count as interchangeable anyway.
BUDGET_GAP = 0.01

#: Steps of the local search that gives branch and bound its first incumbent under a
#: budget (:meth:`Problem.neighbour`): a count, never a time.
NEIGHBOUR_STEPS = 8


#: A value a caller may give a constraint: a number, gemeenten (include/exclude), or ``None``
#: (off).
SelectionValue: TypeAlias = int | float | tuple[str, ...] | None


@dataclass(frozen=True)
class Constraints:
    """What the selection must respect (``None``: that constraint is off)."""

    n: int = PILOTS
    max_per_provincie: int | None = 2
    max_per_regio: int | None = 1
    min_per_landsdeel: int | None = 1
    min_klein: int | None = 2
    klein_onder: float = SMALL_BELOW
    max_groot: int | None = None
    groot_boven: float = LARGE_ABOVE
    #: expected conversations per pilot in its first year (the card's scenario)
    min_pool: float | None = None
    budget_eur: float | None = None
    pilot_cost_eur: float = 0.0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: constraint name -> why (from the card)
    reasons: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_card(cls, card: MethodCard, **overrides: SelectionValue) -> Constraints:
        """The card's constraints, with ``overrides`` (a value of ``None`` switches off)."""
        sel = card.selection
        lim = sel.limits
        base: Fact = {
            "n": sel.n.value,
            "max_per_provincie": lim["max_per_provincie"].value,
            "max_per_regio": lim["max_per_regio"].value,
            "min_per_landsdeel": lim["min_per_landsdeel"].value,
            "min_klein": lim["min_klein"].value,
            "klein_onder": lim["min_klein"].threshold or cls.klein_onder,
            "max_groot": lim["max_groot"].value,
            "groot_boven": lim["max_groot"].threshold or cls.groot_boven,
            "min_pool": lim["min_pool"].value or None,
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
        """Reject nonsensical numbers before any work (the catalogue's bounds)."""
        for f in fields(self):
            setting = BY_FIELD.get(f.name)
            if setting is None:
                continue
            problem = check_value(setting, getattr(self, f.name))
            if problem:
                off = " (or 'none' to switch it off)" if setting.optional else ""
                raise ConfigError(f"`{f.name}` {problem}{off}.")
        if self.min_klein and self.max_groot is not None and self.klein_onder > self.groot_boven:
            raise ConfigError(
                f"`klein_onder` {self.klein_onder:g} is above `groot_boven` "
                f"{self.groot_boven:g}: a gemeente would be small and large at once."
            )
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise InfeasibleError(f"{', '.join(both)} is both included and excluded; choose one.")

    def active(self) -> list[str]:
        """The names of the constraints that are on (``n`` is always on).

        A floor of 0 asks for nothing and is off; a cap of 0 (``max_groot``: no large
        gemeente at all) binds and is on.
        """
        out = [
            k
            for k in LIMITS
            if (getattr(self, k) is not None if k == "max_groot" else getattr(self, k))
        ]
        out += [k for k in ("include", "exclude") if getattr(self, k)]
        return out

    def without(self, name: str) -> Constraints:
        """These constraints with ``name`` switched off."""
        off: Fact = {name: () if name in ("include", "exclude") else None}
        return replace(self, **off)

    def forcing(self, *, include: str | None = None, exclude: str | None = None) -> Constraints:
        """These constraints with one more gemeente forced in or out."""
        out = self
        if include is not None and include not in self.include:
            out = replace(out, include=(*out.include, include))
        if exclude is not None and exclude not in self.exclude:
            out = replace(out, exclude=(*out.exclude, exclude))
        return out

    def without_limits(self) -> Constraints:
        """Only the number and the forcing: every switchable constraint off.

        The card's ``LIMITS`` all switched off; a gemeente that comes in only then is out by
        the constraints together.
        """
        off: dict[str, Any] = {k: None for k in LIMITS}
        return replace(self, **off)

    def fact(self, name: str, names: Mapping[str, str] | None = None) -> Fact:
        """A constraint as a fact for the one renderer (``eis`` in ``phrases.j2``).

        ``{"eis": name, "waarde": …, "drempel": inhabitants or None, "namen": [...]}``;
        forced gemeenten by name (``names``: code -> name).
        """
        value = getattr(self, name)
        setting = BY_FIELD[name]
        threshold = getattr(self, setting.threshold) if setting.threshold else None
        listed: list[str] = []
        if name in ("include", "exclude"):
            listed = [str((names or {}).get(code, code)) for code in value]
            value = len(listed)
        return {
            "eis": name,
            "waarde": value,
            "drempel": threshold,
            "namen": listed,
            "reden": self.reasons.get(name, ""),
        }

    def english(self, name: str) -> str:
        """A constraint in English for the command line's errors: ``at most 2 per provincie``."""
        setting = BY_FIELD[name]
        value = getattr(self, name)
        if name in ("include", "exclude"):
            value = ", ".join(value)
        elif isinstance(value, float) and value == int(value):
            value = f"{value:,.0f}"
        threshold = getattr(self, setting.threshold) if setting.threshold else None
        return setting.english.format(v=value, t=f"{threshold:,.0f}" if threshold else "")

    def record(self) -> Record:
        """For the manifest."""
        out: Record = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "reasons"}
        out["reasons"] = dict(self.reasons)
        return out


def region_index(frame: pd.DataFrame) -> tuple[pd.Index, np.ndarray]:
    """The arbeidsmarktregio's of ``frame`` and, per gemeente, the position of its region.

    The regions are in the order of the ``b`` values of :class:`Problem`.
    """
    cats = pd.Categorical(frame["arbeidsmarktregio_code"])
    return pd.Index(cats.categories), cats.codes.astype(int)


def pool_ok(pool: np.ndarray | None, min_pool: float | None) -> np.ndarray | None:
    """1 where a gemeente has the minimum pool, else 0; ``None`` when there is no minimum."""
    if not min_pool:
        return None
    if pool is None:
        raise VibError("A minimum pool needs the expected conversations per gemeente.")
    return (np.asarray(pool, dtype=float) >= min_pool).astype(float)


@dataclass
class Problem:
    """The candidates and constraint rows of one selection, built once and solved often.

    ``frame``: index gemeentecode; ``REGION_COLUMNS``, ``gemeentenaam``, ``inwoners``.
    ``pool``: expected conversations per gemeente in a pilot's first year (for
    ``min_pool``); ``cost``: the cost of a pilot per gemeente in euro (for a budget);
    ``tie``: own job-seekers per gemeente, which break exact ties.
    Values passed to :meth:`solve` are ``[a (one per gemeente), b (one per region)]``, the
    regions in the order of :attr:`regions`.
    """

    frame: pd.DataFrame
    c: Constraints
    pool: np.ndarray | None = None
    cost: np.ndarray | None = None
    #: own job-seekers per gemeente, to break exact ties (default: ``a`` itself)
    tie: np.ndarray | None = None
    #: arbeidsmarktregio codes, in the order of the ``b`` values
    regions: pd.Index = field(init=False, repr=False)
    #: per gemeente, the index of its region in :attr:`regions`
    region_of: np.ndarray = field(init=False, repr=False)
    rows: np.ndarray = field(init=False, repr=False)
    lo: np.ndarray = field(init=False, repr=False)
    hi: np.ndarray = field(init=False, repr=False)
    lb: np.ndarray = field(init=False, repr=False)
    ub: np.ndarray = field(init=False, repr=False)
    classes: np.ndarray = field(init=False, repr=False)
    keep_per_class: int = field(init=False)
    #: whether b is folded into a (one pilot per region: no y columns)
    fold: bool = field(init=False)
    _relaxation: Any = field(init=False, default=None, repr=False)  # kept in HiGHS

    def __post_init__(self) -> None:
        f, c = self.frame, self.c
        m = len(f)
        self.regions, self.region_of = region_index(f)
        k = len(self.regions)
        rows: list[np.ndarray] = [np.ones(m)]  # on x; the y columns are added below
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
        if c.budget_eur is not None:
            if self.cost is None:
                raise VibError("A budget needs the cost of a pilot per gemeente.")
            rows.append(np.asarray(self.cost, dtype=float))
            lo.append(0.0)
            hi.append(c.budget_eur)
        self.rows, self.lo, self.hi = np.vstack(rows), np.array(lo), np.array(hi)
        eligible = pool_ok(self.pool, c.min_pool)
        self.lb = f.index.isin(c.include).astype(float)
        self.ub = (~f.index.isin(c.exclude)).astype(float) * (1.0 if eligible is None else eligible)
        # With one pilot per region y[r] = Σ x[m in r]: b folds into a and y is not needed.
        self.fold = c.max_per_regio == 1
        if not self.fold:  # y[r] <= Σ x[m in r]: a region's rest is reached once
            member = (self.region_of[None, :] == np.arange(k)[:, None]).astype(float)
            self.rows = np.block([[self.rows, np.zeros((len(self.rows), k))], [-member, np.eye(k)]])
            self.lo = np.r_[self.lo, np.full(k, -float(m))]
            self.hi = np.r_[self.hi, np.zeros(k)]
            self.lb, self.ub = np.r_[self.lb, np.zeros(k)], np.r_[self.ub, np.ones(k)]
        pool_class = eligible if eligible is not None else np.ones(m)
        key = pd.Series(
            list(
                zip(
                    f["provincie_code"].astype(str),
                    self.region_of,
                    f["landsdeel_code"].astype(str),
                    small.astype(int) - large.astype(int),
                    pool_class,
                    strict=True,
                )
            ),
            index=f.index,
        ).astype(str)
        self.classes = pd.Categorical(key).codes.astype(int)
        caps = [c.n, c.max_per_provincie, c.max_per_regio]
        self.keep_per_class = min(v for v in caps if v is not None)

    @property
    def m(self) -> int:
        """The number of candidate gemeenten."""
        return len(self.frame)

    def under(self, c: Constraints) -> Problem:
        """The same candidates, pool, costs and tie-break under other constraints."""
        return Problem(self.frame, c, self.pool, self.cost, self.tie)

    def objective_of(self, idx: np.ndarray, values: np.ndarray) -> np.ndarray | float:
        """The objective of the set ``idx`` for ``values`` (one vector, or draws × values).

        Own reach of every member plus each covered region's rest once; no tie weight.
        """
        idx = np.asarray(idx, dtype=int)
        covered = np.unique(self.region_of[idx]) + self.m
        out = values[..., idx].sum(axis=-1) + values[..., covered].sum(axis=-1)
        return float(out) if np.ndim(out) == 0 else np.asarray(out)

    def _cost(self, values: np.ndarray) -> np.ndarray:
        """The objective HiGHS maximises for ``values`` ``[a, b]``: with the tie-break."""
        m = self.m
        if values.shape != (m + len(self.regions),):
            raise ValueError(f"expected {m + len(self.regions)} values, got {values.shape}")
        tie = np.abs(values[:m]) if self.tie is None else np.asarray(self.tie, dtype=float)
        cost = values[:m] + TIE * tie
        if self.fold:
            folded: np.ndarray = cost + values[m:][self.region_of]
            return folded
        both: np.ndarray = np.r_[cost, values[m:]]
        return both

    def _model(self) -> Programme:
        if self._relaxation is None:
            self._relaxation = Programme(self.rows, self.lo, self.hi, self.lb, self.ub)
        kept: Programme = self._relaxation
        return kept

    def _bounds(
        self, include: int | None, exclude: int | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Column bounds with one more gemeente forced in or out (``None``: unchanged)."""
        lb = ub = None
        if include is not None:
            lb = self.lb.copy()
            lb[include] = 1.0
        if exclude is not None:
            ub = self.ub.copy()
            ub[exclude] = 0.0
        return lb, ub

    def solve(
        self,
        values: np.ndarray,
        *,
        include: int | None = None,
        exclude: int | None = None,
        near: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """(indices selected, objective) for ``values`` ``[a, b]``; raises if infeasible.

        ``include``/``exclude``: the index of one more gemeente forced in or out, for this
        solve only (the model is kept). The LP relaxation is solved first, by HiGHS, in a
        model kept between calls (a re-solve with other values starts from the last optimal
        basis). When its ``x`` is integral it is the integer optimum; otherwise the integer
        programme over the pruned candidates is solved by branch and bound. ``near``: a
        selection this one is a variant of (the explained selection); with a budget, the
        best selection within one exchange of it (:meth:`neighbour`) is branch and bound's
        first incumbent, so a search that may stop within :data:`BUDGET_GAP` stops at once
        when that exchange is already that good.
        """
        values = np.asarray(values, dtype=float)
        cost = self._cost(values)
        lb, ub = self._bounds(include, exclude)
        if lb is not None and ub is not None and (lb > ub).any():
            raise InfeasibleError("no selection meets the constraints")
        lp = self._model().solve(cost, lb, ub)
        if lp.status == "infeasible":
            raise InfeasibleError("no selection meets the constraints")
        m = self.m
        x = lp.x[:m] if lp.status == "optimal" and lp.x is not None else None
        if x is not None and np.abs(x - np.round(x)).max() <= 1e-7:
            chosen = np.flatnonzero(x > 0.5)
        else:
            chosen = self._branch_and_bound(
                cost, self.lb if lb is None else lb, self.ub if ub is None else ub, near
            )
        return chosen, self.objective_of(chosen, values)  # type: ignore[return-value]

    def relax(self, values: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The LP relaxation's optimum and, per gemeente, a lower bound on the loss if forced in.

        For a gemeente at 0 in the relaxation's optimum, forcing it in lowers the
        relaxation's optimum by at least its reduced cost; the integer optimum lies below
        the relaxation's. So the loss of forcing it in, measured from the integer optimum
        ``z``, is at least ``reduced cost − (relaxation optimum − z)``. ``None`` when the
        relaxation gives no duals.
        """
        lp = self._model().solve(self._cost(np.asarray(values, dtype=float)))
        if lp.status != "optimal" or lp.dual is None or lp.x is None:
            return None
        # |reduced cost|: the sign convention for a maximum differs between HiGHS builds
        bound = np.abs(lp.dual[: self.m])
        bound[lp.x[: self.m] > 0.5] = 0.0
        return lp.objective, bound

    def _pruned(self, own: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
        """Indices of the candidates that can be in an optimum (see the module docstring).

        Within a class (same provincie, region, landsdeel, size and pool) at most
        ``keep_per_class`` members can be selected. A candidate with that many eligible
        class members at least as good is never needed: one of them is left out of any
        selection holding the candidate, and swapping them keeps every constraint and
        does not lower the objective. "At least as good" is a higher objective value
        (ties: the lower index), and with a budget also a cost no higher.
        """
        m = self.m
        eligible = ub[:m] > 0
        forced = lb[:m] > 0
        keep = forced.copy()
        cost = None if self.c.budget_eur is None else np.asarray(self.cost, dtype=float)
        for cls in np.unique(self.classes[eligible]):
            members = np.flatnonzero((self.classes == cls) & eligible)
            if len(members) <= self.keep_per_class:
                keep[members] = True
                continue
            o = own[members]
            # better[i, j]: j is at least as good as i (a strict order on ties)
            better = (o[None, :] > o[:, None]) | (
                (o[None, :] == o[:, None]) & (members[None, :] < members[:, None])
            )
            if cost is not None:
                c = cost[members]
                better = (
                    (o[None, :] >= o[:, None])
                    & (c[None, :] <= c[:, None])
                    & (
                        (o[None, :] > o[:, None])
                        | (c[None, :] < c[:, None])
                        | (members[None, :] < members[:, None])
                    )
                )
            keep[members[better.sum(axis=1) < self.keep_per_class]] = True
        keep &= eligible
        return np.flatnonzero(keep)

    def neighbour(
        self, near: np.ndarray, cost: np.ndarray, lb: np.ndarray, ub: np.ndarray
    ) -> np.ndarray | None:
        """A good selection close to ``near`` that meets every constraint, or ``None``.

        A local search in steps (one member out, one gemeente in, or one out and one in):
        while a constraint or bound is broken, the step that breaks them least (each row by
        how far it is off, relative to its bound; each bound as 1), then the best value;
        once none is, the step that gains the most, until none gains; at most
        :data:`NEIGHBOUR_STEPS` steps. Its value is ``cost`` (:meth:`_cost`: own reach with
        the tie weight, and each covered region's rest once). Columns: gemeenten, then the
        regions' ``y`` (covered or not) when ``b`` is not folded. The selectieverkenner
        searches the same way (``neighbour`` in ``programme.js``).
        """
        m, k = self.m, len(self.regions)
        x_rows = len(self.rows) - (0 if self.fold else k)
        a = np.c_[self.rows[:x_rows, :m], np.zeros(x_rows)]  # a last column: "nobody"
        lo, hi = self.lo[:x_rows, None, None] - 1e-9, self.hi[:x_rows, None, None] + 1e-9
        scale_lo = np.maximum(np.abs(self.lo[:x_rows]), 1.0)[:, None, None]
        scale_hi = np.maximum(np.abs(self.hi[:x_rows]), 1.0)[:, None, None]
        own = np.r_[cost[:m], 0.0]
        rest = np.r_[np.zeros(k) if self.fold else cost[m:], 0.0]  # a region's rest, once
        region = np.r_[self.region_of, k]
        low, high = np.r_[lb[:m], 0.0], np.r_[ub[:m], 1.0]
        inside = np.zeros(m + 1, dtype=bool)
        inside[np.asarray(near, dtype=int)] = True
        broken = -1.0
        for _ in range(NEIGHBOUR_STEPS):
            members = np.r_[np.flatnonzero(inside[:m]), m]  # who goes out (m: nobody)
            others = np.r_[np.flatnonzero(~inside[:m]), m]  # who comes in (m: nobody)
            count = np.bincount(region[:m][inside[:m]], minlength=k + 1)
            count[k] = 0
            ro, ri = region[members][:, None], region[others][None, :]
            lost = np.where((count[ro] == 1) & (ri != ro), rest[ro], 0.0)
            won = np.where((count[ri] == 0) & (ri != ro), rest[ri], 0.0)
            value = own[others][None, :] - own[members][:, None] - lost + won
            activity = a[:, inside].sum(axis=1)
            moved = activity[:, None, None] - a[:, members][:, :, None] + a[:, others][:, None, :]
            # how far each step leaves the rows outside their bounds, each relative to its
            # bound (a budget over by 1% weighs 0.01, a missing pilot in a floor of 2 0.5)
            bad = (
                np.maximum(lo - moved, 0.0) / scale_lo + np.maximum(moved - hi, 0.0) / scale_hi
            ).sum(axis=0)
            stays = int((inside[:m] & (ub[:m] <= 0)).sum())  # members that may not stay
            missing = int((~inside[:m] & (lb[:m] > 0)).sum())  # forced in, not yet in
            bad += stays - ((high[members] <= 0) & (members < m)).astype(float)[:, None]
            bad += missing - ((low[others] > 0) & (others < m)).astype(float)[None, :]
            allowed = (low[members] <= 0)[:, None] & (high[others] > 0)[None, :]
            broken = float(bad[-1, -1])  # as it is
            if broken > 0:
                allowed &= bad < broken
            else:
                allowed &= (bad <= 0) & (value > 1e-9)
            if not allowed.any():
                break
            fewest = bad[allowed].min()
            pick = (allowed & (bad == fewest)).ravel()
            best = np.flatnonzero(pick)[np.argmax(value.ravel()[pick])]
            out_k, in_j = members[best // len(others)], others[best % len(others)]
            inside[out_k] = inside[in_j] = False
            inside[in_j] = in_j < m
            inside[m] = False
            broken = float(fewest)
        if broken > 0:
            return None
        chosen = inside[:m]
        x = chosen.astype(float)
        if self.fold:
            return x
        covered = np.bincount(self.region_of[chosen], minlength=k) > 0
        out: np.ndarray = np.r_[x, covered.astype(float)]
        return out

    def _branch_and_bound(
        self, cost: np.ndarray, lb: np.ndarray, ub: np.ndarray, near: np.ndarray | None = None
    ) -> np.ndarray:
        m = self.m
        idx = self._pruned(cost[:m], lb, ub)
        extra = 0 if self.fold else len(self.regions)
        cols = np.r_[idx, m + np.arange(extra)].astype(int)
        integer = np.r_[np.ones(len(idx), dtype=bool), np.zeros(extra, dtype=bool)]
        start = None
        if near is not None and self.c.budget_eur is not None:
            start = self.neighbour(near, cost, lb, ub)
            if start is not None and not start[:m][~np.isin(np.arange(m), idx)].any():
                start = start[cols]
            else:
                start = None  # a start outside the pruned candidates is no start
        mip = Programme(
            self.rows[:, cols],
            self.lo,
            self.hi,
            lb[cols],
            ub[cols],
            integer=integer,
            node_limit=NODE_LIMIT,
            gap=BUDGET_GAP if self.c.budget_eur is not None else 0.0,
        ).solve(cost[cols], start=start)
        if mip.status == "node_limit":
            raise VibError(
                f"The selection did not finish within {NODE_LIMIT:,} branch-and-bound nodes "
                "(HiGHS); loosen a constraint or lower `n`."
            )
        if mip.status != "optimal" or mip.x is None:
            raise InfeasibleError("no selection meets the constraints")
        result: np.ndarray = idx[np.flatnonzero(mip.x[: len(idx)] > 0.5)]
        return result


def selection_chance(problem: Problem, draw_values: np.ndarray) -> np.ndarray:
    """Share of draws in which each gemeente is selected when the programme is re-solved.

    ``draw_values``: draws × ``[a, b]``. The draws are solved in turn in the problem's kept
    model: each re-solve starts from the previous optimum (500 take about half a second).
    """
    counts = np.zeros(problem.m)
    for v in draw_values:
        chosen, _ = problem.solve(v)
        counts[chosen] += 1
    out: np.ndarray = counts / len(draw_values)
    return out


def try_solve(
    problem: Problem,
    values: np.ndarray,
    *,
    include: int | None = None,
    exclude: int | None = None,
    near: np.ndarray | None = None,
) -> tuple[np.ndarray, float] | None:
    """:meth:`Problem.solve`, or ``None`` when no selection meets the constraints."""
    try:
        return problem.solve(values, include=include, exclude=exclude, near=near)
    except InfeasibleError:
        return None


@dataclass(frozen=True)
class Infeasibility:
    """Why no selection meets the constraints: a fact, said in English or Dutch.

    ``kind``: ``vast`` (more forced in than ``n``), ``over`` (fewer eligible than ``n``),
    ``pool_vast`` (forced in below the minimum pool), ``pool`` (too few with the pool),
    ``kap`` (a cap over its groups allows fewer than ``n``), ``vloer`` (floors ask for more
    than ``n``), ``zonder`` (without any one of ``constraints`` a selection exists; checked
    by re-solving), ``paar`` (without both of two), ``samen`` (only loosening several
    helps). ``constraints``: the settings involved (the page marks them). ``numbers``: the
    counts the message states. Feasibility is checked with a constant objective: only
    whether a selection exists matters, never which is best.
    """

    kind: str
    constraints: tuple[str, ...]
    numbers: Mapping[str, Any]
    c: Constraints

    def fact(self, names: Mapping[str, str] | None = None) -> Fact:
        """For the one renderer (``onhaalbaar`` in ``phrases.j2``)."""
        shown = [n for n in self.constraints if n != "n"]
        return {
            "soort": self.kind,
            "n": self.c.n,
            "eisen": [self.c.fact(k, names) for k in shown],
            "beperkingen": list(self.constraints),
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in self.numbers.items()},
        }

    def english(self) -> str:
        """The command line's message (English, as every error there)."""
        c, x = self.c, self.numbers
        said = {k: f"`{k}` ({c.english(k)})" for k in self.constraints if k != "n"}
        n = f"`n` {c.n}"
        if self.kind == "vast":
            return f"{x['vast']} gemeenten are forced in with `include` but {n}."
        if self.kind == "over":
            return f"only {x['over']} gemeenten are left, fewer than {n}."
        if self.kind == "pool_vast":
            return (
                f"{said['min_pool']}: {', '.join(x['codes'])} is forced in but has fewer "
                "expected conversations in the first year. Lower it, or drop the gemeente "
                "from `include`."
            )
        if self.kind == "pool":
            return (
                f"{said['min_pool']}: only {x['aantal']} "
                f"{'gemeente has' if x['aantal'] == 1 else 'gemeenten have'} that many expected "
                f"conversations, fewer than {n}. Lower it or `n`."
            )
        if self.kind == "kap":
            (k,) = [k for k in self.constraints if k != "n"]
            return (
                f"{said[k]} over {x['groepen']} {x['groep']}s allows at most {x['hoogstens']} "
                f"gemeenten, fewer than {n}. Raise the cap or lower `n`."
            )
        if self.kind == "vloer":
            asks = "; ".join(f"{said[k]} needs {x['vraagt'][k]}" for k in x["vraagt"])
            return (
                f"{n} is fewer pilots than the constraints ask for: {asks}. Raise `n`, or "
                "switch those off ('none')."
            )
        if self.kind == "zonder":
            whys = "; ".join(
                f"{said[k]}: {c.reasons.get(k, '')}".rstrip(": ") for k in self.constraints
            )
            return (
                f"without {' or '.join(said[k] for k in self.constraints)} a selection "
                f"exists ({whys}). Loosen {'it' if len(self.constraints) == 1 else 'one of them'}."
            )
        if self.kind == "paar":
            a, b = self.constraints
            return (
                f"{said[a]} and {said[b]} together leave no possible selection; without both, "
                "one exists. Loosen one of them."
            )
        named = "; ".join(said.values()) or "none"
        return f"the constraints together leave no possible selection ({named}); loosen one."


def why_infeasible(
    frame: pd.DataFrame,
    c: Constraints,
    *,
    pool: np.ndarray | None = None,
    cost: np.ndarray | None = None,
) -> Infeasibility:
    """Which constraint makes the selection impossible (see :class:`Infeasibility`).

    ``pool`` and ``cost`` as for :class:`Problem`. Every re-solve here asks only whether a
    selection exists (all values 1), so it costs what the check costs, not what the best
    selection would.
    """
    k = frame["arbeidsmarktregio_code"].nunique()
    ones = np.ones(len(frame) + k)
    eligible = frame.drop(index=[x for x in c.exclude if x in frame.index])

    def fact(kind: str, constraints: tuple[str, ...], **numbers: object) -> Infeasibility:
        return Infeasibility(kind, constraints, numbers, c)

    if len(c.include) > c.n:
        return fact("vast", ("include", "n"), vast=len(c.include))
    if len(eligible) < c.n:
        return fact("over", ("exclude", "n"), over=len(eligible))
    has_pool = pool_ok(pool, c.min_pool) if pool is not None else None
    if has_pool is not None:
        big = pd.Series(has_pool > 0, index=frame.index)
        small_forced = [x for x in c.include if not big.get(x, True)]
        if small_forced:
            return fact(
                "pool_vast",
                ("min_pool", "include"),
                codes=tuple(small_forced),
                namen=tuple(frame.loc[small_forced, "gemeentenaam"].astype(str)),
            )
        count = int(big.loc[eligible.index].sum())
        if count < c.n:
            return fact("pool", ("min_pool", "n"), aantal=count)
    for name, col, label in CAPS:
        cap = getattr(c, name)
        if cap is None:
            continue
        counts = eligible.groupby(col).size()
        most = int(np.minimum(counts, cap).sum())
        if most < c.n:
            return fact("kap", (name, "n"), groepen=len(counts), groep=label, hoogstens=most)

    asks: dict[str, int] = {}  # constraints that ask for more gemeenten than `n` gives
    if c.min_per_landsdeel:
        parts = eligible["landsdeel_code"].nunique()
        if c.min_per_landsdeel * parts > c.n:
            asks["min_per_landsdeel"] = c.min_per_landsdeel * parts
    if c.min_klein and c.min_klein > c.n:
        asks["min_klein"] = c.min_klein
    if asks:
        parts = eligible["landsdeel_code"].nunique()
        return fact("vloer", ("n", *asks), vraagt=asks, landsdelen=parts)

    def feasible(cc: Constraints) -> bool:
        return try_solve(Problem(frame, cc, pool, cost), ones) is not None

    culprits = tuple(name for name in c.active() if feasible(c.without(name)))
    if culprits:
        return fact("zonder", culprits)
    active = [k for k in c.active() if k not in ("include", "exclude")]
    for i, a in enumerate(active):
        for b in active[i + 1 :]:
            if feasible(c.without(a).without(b)):
                return fact("paar", (a, b))
    return fact("samen", tuple(c.active()))
