"""Choosing voortrekkersgemeenten: the reach of each pilot, the selection, and its defence.

**Reach.** A pilot reaches its own job-seekers and a share ρ of the rest of its
arbeidsmarktregio: ``R[m] = J[m] + ρ · (J[r(m)] − J[m])``, in every Monte Carlo draw (that
draw's ``J`` and ``ρ``) and averaged (:func:`reach_draws`). The selection maximises the
reach of the pilots (:mod:`.selection`); the trajectories the programme's own funnel gives
are a check against its target, never the objective.

**Defence.** For every selected gemeente the reach lost when it is left out (the programme
re-solved) and who comes in instead; for the best unselected ones the loss when forced in
and who goes out. A loss below the Monte Carlo standard error of the difference, or below 1%
of the objective, marks the pair as interchangeable. The price of a constraint is the reach
the selection gains without it. A reason names a constraint only when dropping that
constraint alone changes the gemeente's place (re-solved); otherwise it names the smaller
reach or the constraints together. ``kans_geselecteerd`` is the share of re-solved draws in
which a gemeente is chosen, with its standard error; it is computed twice more, with ρ fixed
and with the job-seekers fixed, to say which uncertainty it mostly reflects.

Stage: rank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld import streams
from vluchtelingen_in_beeld.errors import ConfigError, InfeasibleError, VibError
from vluchtelingen_in_beeld.estimate import Estimate, sample_rate
from vluchtelingen_in_beeld.fmt import (
    is_small,
    nl_about,
    nl_list,
    nl_pct,
    nl_prob,
    nl_rate,
    nl_share,
)
from vluchtelingen_in_beeld.method import MethodCard
from vluchtelingen_in_beeld.records import Record
from vluchtelingen_in_beeld.selection import (
    REGION_COLUMNS,
    Constraints,
    Problem,
    region_index,
    selection_chance,
    try_solve,
    why_infeasible,
)
from vluchtelingen_in_beeld.streams import Stream

#: How many of the best unselected gemeenten (by reach) are forced in to measure the swap.
NEAR = 20
#: A loss below this share of the objective makes a pair interchangeable.
NEAR_SHARE = 0.01
#: Re-solved draws with a budget (each is a branch and bound); the card's minimum.
MIN_RESOLVE = 200


# --- reach -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReachDraws:
    """The programme's values in every draw: ``a`` (draws × gemeenten), ``b`` (draws × regions).

    ``a[d, m] = (1 − ρ[d]) · J[d, m]`` and ``b[d, r] = ρ[d] · J[d, r]`` (see
    :mod:`.selection`); ``j`` the job-seekers, ``rho`` the draws of ρ.
    """

    j: np.ndarray
    rho: np.ndarray
    a: np.ndarray
    b: np.ndarray
    region_of: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """Draws × ``[a, b]``, as :meth:`.selection.Problem.solve` takes them."""
        return np.hstack([self.a, self.b])

    @property
    def mean(self) -> np.ndarray:
        """``[a, b]`` averaged over the draws: the values the selection is made on."""
        out: np.ndarray = np.r_[self.a.mean(axis=0), self.b.mean(axis=0)]
        return out

    @property
    def reach(self) -> np.ndarray:
        """``R[d, m]``: the reach of a pilot in m alone in its region, per draw."""
        out: np.ndarray = self.a + self.b[:, self.region_of]
        return out


def region_values(
    j: np.ndarray, region_of: np.ndarray, k: int, rho: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` for job-seekers ``j`` (draws × gemeenten) and ``ρ`` per draw."""
    j = np.atleast_2d(np.asarray(j, dtype=float))
    rho = np.asarray(rho, dtype=float).reshape(-1, 1)
    onehot = np.zeros((j.shape[1], k))
    onehot[np.arange(j.shape[1]), region_of] = 1.0
    j_region = np.nan_to_num(j) @ onehot
    return (1.0 - rho) * j, rho * j_region


def reach_draws(est: Estimate, frame: pd.DataFrame) -> ReachDraws:
    """The values of every Monte Carlo draw for ``frame``'s gemeenten (in its order)."""
    card = est.card
    j = est.draws.j[:, est.draws.codes.get_indexer(frame.index)]
    rng = streams.rng(card.seed, Stream.REGION_REACH)
    rho = sample_rate(card.selection.region_reach, j.shape[0], rng, card.distribution)
    regions, region_of = region_index(frame)
    a, b = region_values(j, region_of, len(regions), rho)
    return ReachDraws(j, rho, a, b, region_of)


@dataclass(frozen=True)
class ProgrammeNumbers:
    """What the selection programme is solved on, per gemeente of a frame (in its order).

    ``values``: ``[a, b]`` averaged over the draws; ``pool``: a pilot's expected
    conversations in its first year (for ``min_pool``); ``placements``: its expected
    trajectories over the card's period (for a budget); ``own``: own job-seekers averaged
    over the draws (the tie-break). :func:`rank` and the selectieverkenner both use these.
    """

    draws: ReachDraws
    pool: np.ndarray
    placements: np.ndarray
    own: np.ndarray
    cost_per_placement: float

    @property
    def values(self) -> np.ndarray:
        """``[a, b]`` averaged over the draws."""
        return self.draws.mean

    def cost(self, c: Constraints) -> np.ndarray:
        """The cost of a pilot per gemeente under ``c``: fixed plus its trajectories."""
        out: np.ndarray = c.pilot_cost_eur + self.cost_per_placement * self.placements
        return out

    def problem(self, frame: pd.DataFrame, c: Constraints) -> Problem:
        """The programme of ``frame``'s gemeenten under ``c``."""
        return Problem(frame, c, pool=self.pool, cost=self.cost(c), tie=self.own)


def programme_numbers(est: Estimate, frame: pd.DataFrame) -> ProgrammeNumbers:
    """The programme's numbers for ``frame``'s gemeenten (see :class:`ProgrammeNumbers`).

    Reach per draw times that draw's funnel of the card's scenario: the pool is the mean of
    ``R · conversations`` per year, the placements the mean of ``R · placements``.
    """
    card = est.card
    rd = reach_draws(est, frame)
    funnel = est.funnels[card.scenario]
    reach_d = rd.reach
    conv = (reach_d * funnel.conversations[:, None]).mean(axis=0)
    placements = (reach_d * funnel.placements[:, None]).mean(axis=0)
    return ProgrammeNumbers(
        rd, conv / card.period_years, placements, rd.j.mean(axis=0), card.cost_per_placement.value
    )


# --- the ranking -----------------------------------------------------------------------------


@dataclass
class Ranking:
    """The selection, a rank and reach for every gemeente, prices, swaps and checks."""

    year: int
    table: pd.DataFrame
    constraints: Constraints
    #: job-seekers the selection reaches (the programme's objective)
    objective: float
    prices: pd.DataFrame
    params: Record
    notes: list[str] = field(default_factory=list)
    #: ``[a, b]`` averaged over the draws (see :mod:`.selection`)
    values: np.ndarray | None = field(default=None, repr=False)
    #: the programme of the selection (its pool and cost per gemeente)
    problem: Problem | None = field(default=None, repr=False)
    #: what the selection holds and gives: shares, reach, trajectories against the target
    summary: pd.DataFrame | None = None
    #: the programme's funnel for the selection, per scenario, against the target
    funnel: pd.DataFrame | None = None
    #: the estimate's sensitivity table with the selection picks that change at each bound
    sensitivity: pd.DataFrame | None = None
    #: what the programme was solved on (the selectieverkenner re-solves it)
    numbers: ProgrammeNumbers | None = field(default=None, repr=False)

    @property
    def frame(self) -> pd.DataFrame | None:
        """The candidates (regions, inhabitants), in the programme's order."""
        return self.problem.frame if self.problem is not None else None

    @property
    def held(self) -> dict[str, float]:
        """What the selection holds (:attr:`summary`), by subject."""
        if self.summary is None:
            return {}
        return dict(zip(self.summary["onderwerp"], self.summary["waarde"], strict=True))

    @property
    def selected(self) -> pd.DataFrame:
        """The selected gemeenten, in order of rank."""
        return self.table[self.table["geselecteerd"]]

    @property
    def core(self) -> pd.DataFrame:
        """The selected gemeenten that no near candidate can replace at a small loss."""
        sel = self.selected
        return sel[~sel["uitwisselbaar"].astype(bool)]

    def record(self) -> Record:
        """How the selection was made, for the manifest."""
        out: Record = {
            "constraints": self.constraints.record(),
            "objective": self.objective,
            "selection": self.params,
        }
        if self.summary is not None:
            out["summary"] = self.held
        return out


CONTRACT = [
    "rang",
    "gemeentecode",
    "gemeentenaam",
    "provincie",
    "arbeidsmarktregio",
    "landsdeel",
    "geselecteerd",
    "bereik",
    "kans_geselecteerd",
    "reden",
]
#: The columns of the near-tie measurement (:func:`_swaps`).
SWAP_COLUMNS = [
    "verlies_als_eruit",
    "vervanger",
    "ook_eruit",
    "verlies_als_erin",
    "valt_af",
    "uitwisselbaar",
    "verschil_se",
    "doorrekeningen_eens",
]
EXTRA = [
    "bereik_p10",
    "bereik_p90",
    "kans_geselecteerd_se",
    "kans_rho_vast",
    "kans_aantallen_vast",
    *SWAP_COLUMNS,
    "werkzoekend",
    "werkzoekend_p10",
    "werkzoekend_p90",
    "bereik_regio",
    "aandeel_nl",
    "aandeel_regio_nl",
    "gesprekken_per_jaar",
    "trajecten",
    "werkzoekend_per_1000",
    "groei",
    "inwoners",
    "provincie_code",
    "arbeidsmarktregio_code",
    "landsdeel_code",
    "dankzij",
    "buiten_door",
]


def _names(frame: pd.DataFrame, codes: set[str] | list[str]) -> str:
    """Names for a table cell, ``; ``-separated; :func:`said` writes them as prose.

    A name may hold a comma or "en" ("Nuenen, Gerwen en Nederwetten").
    """
    return NAME_SEP.join(frame.loc[sorted(codes), "gemeentenaam"])


#: Between gemeente names in one table cell.
NAME_SEP = "; "


def said(names: str) -> str:
    """A cell of names (:func:`_names`) as Dutch prose: ``A; B; C`` -> ``A, B en C``."""
    return nl_list([n for n in str(names).split(NAME_SEP) if n])


def rank(
    est: Estimate,
    regions_frame: pd.DataFrame,
    growth: pd.Series | None,
    *,
    constraints: Constraints | None = None,
) -> Ranking:
    """Select, rank and explain (see the module docstring)."""
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

    # reach per draw, and the funnel of a pilot (card's scenario) for pool and cost
    nums = programme_numbers(est, t)
    rd, reach_d = nums.draws, nums.draws.reach
    t["bereik"] = reach_d.mean(axis=0)
    t["bereik_p10"], t["bereik_p90"] = np.percentile(reach_d, (10, 90), axis=0)
    t["bereik_regio"] = (rd.b[:, rd.region_of] - rd.rho[:, None] * rd.j).mean(axis=0)
    t["gesprekken_per_jaar"] = nums.pool
    t["trajecten"] = nums.placements
    own_j = nums.own
    problem = nums.problem(t, c)
    values = nums.values
    solved = try_solve(problem, values)
    if solved is None:
        raise InfeasibleError(
            f"No selection of {c.n} gemeenten is possible: "
            f"{why_infeasible(t, c, values, pool=nums.pool, cost=nums.cost(c))}"
        )
    idx, objective = solved
    chosen = set(t.index[idx])

    # chance, re-solved per draw; and with rho or the numbers held at their centre
    # A budget is a knapsack row: its LP relaxation is rarely integral, so every re-solve is
    # a branch and bound (about a second); it gets the minimum of draws and no diagnostics.
    knapsack = c.budget_eur is not None
    resolve = min(card.selection.resolve_draws, rd.a.shape[0])
    if knapsack:
        resolve = min(resolve, MIN_RESOLVE)
    kans = selection_chance(problem, rd.values[:resolve])
    t["kans_geselecteerd"] = kans
    t["kans_geselecteerd_se"] = np.sqrt(kans * (1 - kans) / resolve)
    t["kans_rho_vast"] = t["kans_aantallen_vast"] = np.nan
    if not knapsack:
        rho_c = np.full(resolve, card.selection.region_reach.value)
        a_r, b_r = region_values(rd.j[:resolve], rd.region_of, len(problem.regions), rho_c)
        t["kans_rho_vast"] = selection_chance(problem, np.hstack([a_r, b_r]))
        a_j, b_j = region_values(
            np.repeat(own_j[None, :], resolve, axis=0),
            rd.region_of,
            len(problem.regions),
            rd.rho[:resolve],
        )
        t["kans_aantallen_vast"] = selection_chance(problem, np.hstack([a_j, b_j]))

    j_nl = float(np.nansum(t["werkzoekend"]))
    t["aandeel_nl"] = t["werkzoekend"] / j_nl
    region_j = t.groupby("arbeidsmarktregio_code")["werkzoekend"].transform("sum")
    t["aandeel_regio_nl"] = region_j / j_nl

    prices, moved_in, moved_out = _prices(problem, values, objective, chosen)
    swaps = _swaps(problem, rd, values, objective, chosen)
    for col in swaps.columns:
        t[col] = swaps[col].reindex(t.index)
    t["uitwisselbaar"] = t["uitwisselbaar"].fillna(False).astype(bool)
    t["geselecteerd"] = t.index.isin(list(chosen))
    t = _order(t)
    reasons, thanks, out_by = _reasons(t, c, moved_in, moved_out, objective)
    t["reden"] = reasons
    t["dankzij"] = thanks.reindex(t.index)
    t["buiten_door"] = out_by.reindex(t.index)
    t.index.name = "gemeentecode"
    table = t.reset_index()[CONTRACT + EXTRA].reset_index(drop=True)

    check = selection_funnel(est, problem, rd, idx)
    summary = _summary(card, objective, j_nl, t[t["geselecteerd"]], check)
    held = dict(zip(summary["onderwerp"], summary["waarde"], strict=True))
    rho = card.selection.region_reach
    notes = [
        f"Selectie: {c.n} gemeenten met het grootste bereik (eigen werkzoekenden plus "
        f"ρ = {nl_rate(rho)} van de rest "
        f"van hun arbeidsmarktregio, gemiddeld over {rd.a.shape[0]} doorrekeningen); "
        f"kans gekozen over {resolve} opnieuw opgeloste doorrekeningen; de gekozen "
        f"gemeenten hebben {nl_pct(held['aandeel_nl'])} van de werkzoekenden, hun regio's "
        f"{nl_pct(held['aandeel_regios_nl'])}."
    ]
    params: Record = {
        "region_reach": rho.describe(),
        "draws": int(rd.a.shape[0]),
        "resolve_draws": int(resolve),
        "scenario": card.scenario,
    }
    ranking = Ranking(
        est.year,
        table,
        c,
        objective,
        prices,
        params,
        notes,
        values,
        problem,
        summary,
        check,
    )
    ranking.sensitivity = selection_sensitivity(est, problem)
    ranking.numbers = nums
    return ranking


def _order(t: pd.DataFrame) -> pd.DataFrame:
    """Rank order: the selected, hardest to replace first; then the swaps; then by reach.

    Forced gemeenten come last in the selection; the measured swaps by their loss.
    """
    sel = t[t["geselecteerd"]].copy()
    sel["_k"] = sel["verlies_als_eruit"].fillna(-np.inf)
    sel = sel.sort_values(["_k", "bereik"], ascending=[False, False])
    rest = t[~t["geselecteerd"]].copy()
    rest["_m"] = rest["verlies_als_erin"].isna()
    rest["_k"] = rest["verlies_als_erin"].fillna(np.inf)
    rest = rest.sort_values(["_m", "_k", "bereik"], ascending=[True, True, False])
    out = pd.concat([sel, rest]).drop(columns=["_k", "_m"])
    out["rang"] = np.arange(1, len(out) + 1)
    return out


def _prices(
    problem: Problem, values: np.ndarray, objective: float, chosen: set[str]
) -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, set[str]]]:
    """Reach gained without each active constraint (re-solved); who moves in and out."""
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
                "erin_zonder": _names(frame, came),
                "eruit_zonder": _names(frame, went),
            }
        )

    def again(cc: Constraints) -> tuple[np.ndarray, float] | None:
        return try_solve(problem.under(cc), values)

    for name in c.active():
        solved = again(c.without(name))
        if solved is None:  # pragma: no cover - dropping a constraint cannot hurt
            continue
        now = set(codes[solved[0]])
        moved_in[name] = now - chosen
        moved_out[name] = chosen - now
        gain = solved[1] - objective
        row(name, max(gain, 0.0), gain > 1e-9 * max(objective, 1.0), now - chosen, chosen - now)
    more = again(replace(c, n=c.n + 1))
    if more is not None:
        now = set(codes[more[0]])
        row("n", more[1] - objective, True, now - chosen, chosen - now)
    return pd.DataFrame(rows), moved_in, moved_out


def _swaps(
    problem: Problem, rd: ReachDraws, values: np.ndarray, objective: float, chosen: set[str]
) -> pd.DataFrame:
    """Loss and partner when a selected gemeente is left out, or a near one forced in.

    ``verschil_se``: the Monte Carlo standard error of the loss (the two selections' reach
    compared draw by draw); ``doorrekeningen_eens``: the share of draws in which the
    selection beats the alternative.
    """
    frame, c = problem.frame, problem.c
    codes = frame.index
    base_idx = np.flatnonzero(codes.isin(list(chosen)))
    all_values = rd.values
    base_draws = problem.objective_of(base_idx, all_values)

    def measure(
        cc: Constraints,
        loss: str,
        partner: str,
        moved: Callable[[set[str]], set[str]],
        fail: str,
        out_code: str = "",
    ) -> dict[str, object]:
        """The row of one swap: the ``loss`` column, and ``partner``, the names ``moved`` gives.

        ``moved`` takes the re-solved selection and returns who came in or went out; with
        ``out_code`` (the gemeente left out), ``ook_eruit`` names who else had to go.
        """
        solved = try_solve(problem.under(cc), values)
        if solved is None:
            return {partner: f"geen: {fail} is geen selectie mogelijk"}
        idx, obj = solved
        now = set(codes[idx])
        diff = np.asarray(base_draws - problem.objective_of(idx, all_values))
        lost = objective - obj
        se = float(np.std(diff, ddof=1) / np.sqrt(len(diff)))
        also = {"ook_eruit": _names(frame, chosen - now - {out_code})} if out_code else {}
        return {
            loss: lost,
            partner: _names(frame, moved(now)),
            **also,
            "uitwisselbaar": bool(lost < se or lost < NEAR_SHARE * objective),
            "verschil_se": se,
            "doorrekeningen_eens": float(np.mean(diff > 0)),
        }

    out: dict[str, dict[str, object]] = {}
    for code in sorted(set(chosen) - set(c.include)):
        out[code] = measure(
            c.forcing(exclude=code),
            "verlies_als_eruit",
            "vervanger",
            lambda now: now - chosen,
            "zonder deze gemeente",
            out_code=code,
        )
    reach = pd.Series(rd.reach.mean(axis=0), index=codes)
    eligible = reach.drop(index=[x for x in (*chosen, *c.exclude) if x in reach.index])
    for code in eligible.nlargest(NEAR).index:
        out[code] = measure(
            c.forcing(include=code),
            "verlies_als_erin",
            "valt_af",
            lambda now: chosen - now,
            "met deze gemeente",
        )
    result = pd.DataFrame.from_dict(out, orient="index").reindex(columns=SWAP_COLUMNS)
    return result.astype({"uitwisselbaar": object})


def _verb(names: str, one: str, many: str) -> str:
    """``komt X`` or ``komen X en Y``: the verb agreeing with a cell of names."""
    return f"{many if NAME_SEP in names else one} {said(names)}"


def _come(names: str) -> str:
    """``komt X`` or ``komen X en Y`` (who comes in instead)."""
    return _verb(names, "komt", "komen") if names else "komt niemand anders"


def leave_out_text(r: pd.Series, objective: float) -> str:
    """What leaving a selected gemeente out costs, in Dutch (re-solved; see :func:`_swaps`).

    ``Zonder Hoorn bereikt de selectie 7 mensen minder (0%); dan komt Dijk en Waard erin``.
    """
    loss = r["verlies_als_eruit"]
    share = nl_share(loss / objective) if objective else "–"
    also = r.get("ook_eruit")
    swap = f"dan {_come(r['vervanger'])} erin" + (
        f" en {_verb(also, 'gaat', 'gaan')} er ook uit" if isinstance(also, str) and also else ""
    )
    if is_small(loss):
        return f"Zonder {r['gemeentenaam']} bereikt de selectie vrijwel evenveel mensen; {swap}"
    return (
        f"Zonder {r['gemeentenaam']} bereikt de selectie {nl_about(loss)} mensen minder "
        f"({share}); {swap}"
    )


def why_near(loss: float, se: float) -> str:
    """Why a swap of ``loss`` (standard error ``se``) is a near-tie: which criterion holds.

    The two criteria of :func:`_swaps`. ``verschil is kleiner dan de onzekerheid …``;
    callers add the article.
    """
    if float(loss) < float(se):
        return "verschil is kleiner dan de onzekerheid van de schatting"
    return f"verschil is minder dan {nl_pct(NEAR_SHARE)} van wat de selectie bereikt"


def _reasons(
    t: pd.DataFrame,
    c: Constraints,
    moved_in: dict[str, set[str]],
    moved_out: dict[str, set[str]],
    objective: float,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """One Dutch line per gemeente, and which constraint brought it in or kept it out.

    A constraint is named only when a re-solve without it alone moves the gemeente.
    """
    reasons: dict[str, str] = {}
    thanks: dict[str, str] = {}
    out_by: dict[str, str] = {}
    sel = t[t["geselecteerd"]]
    on_merit = sel[~sel.index.isin(c.include)]
    weakest = on_merit.sort_values("bereik").iloc[0] if len(on_merit) else None

    def pct(x: float) -> str:
        return nl_share(x / objective) if objective else "–"

    for code, r in t.iterrows():
        kans = nl_prob(r["kans_geselecteerd"])
        base = (
            f"naar schatting {nl_about(r['werkzoekend'])} werkzoekenden, met de regio erbij "
            f"{nl_about(r['bereik'])} binnen bereik"
        )
        if r["geselecteerd"]:
            text = f"Gekozen: {base}"
            if code in c.include:
                text += "; vastgezet"
            elif pd.notna(r["verlies_als_eruit"]):
                text += f". {leave_out_text(r, objective)}"
                if r["uitwisselbaar"]:
                    near = why_near(r["verlies_als_eruit"], r["verschil_se"])
                    text += (
                        f" (uitwisselbaar: het {near}; "
                        f"in {nl_pct(r['doorrekeningen_eens'])} van de doorrekeningen is "
                        f"{r['gemeentenaam']} de betere keus)"
                    )
            else:
                text += f"; {r['vervanger']}"
            ins = [k for k, outs in moved_out.items() if code in outs]
            if ins:
                thanks[code] = ins[0]
            said_ins = [k for k in ins if not (k == "include" and code in c.include)]
            if said_ins:  # "vastgezet" is said already for what is forced in
                text += "; gekozen dankzij de eis " + " en de eis ".join(
                    c.describe(k) for k in said_ins
                )
            reasons[code] = f"{text}; kans gekozen {kans}."
            continue
        if code in c.exclude:
            reasons[code] = "Niet gekozen: uitgesloten."
            out_by[code] = "exclude"
            continue
        singles = [k for k, ins in moved_in.items() if code in ins]
        if singles:
            out_by[code] = singles[0]
            why = " of ".join(f"de eis {c.describe(k)}" for k in singles)
            reasons[code] = (
                f"Niet gekozen door {why}: zonder "
                f"{'die eis' if len(singles) == 1 else 'een van die eisen'} "
                f"komt ze erin; {base}; kans gekozen {kans}."
            )
            continue
        if pd.notna(r["verlies_als_erin"]):
            swap = (
                f"erin gedwongen bereikt de selectie {nl_about(r['verlies_als_erin'])} mensen "
                f"minder ({pct(r['verlies_als_erin'])}) en "
                f"{_verb(str(r['valt_af']), 'valt', 'vallen')} af"
            )
            if r["uitwisselbaar"]:
                swap += f" (uitwisselbaar: het {why_near(r['verlies_als_erin'], r['verschil_se'])})"
        else:
            swap = ""
        smaller = weakest is not None and r["bereik"] < weakest["bereik"]
        same = sel[sel["arbeidsmarktregio_code"] == r["arbeidsmarktregio_code"]]
        if len(same):
            out_by[code] = "regio"
            head = (
                f"Niet gekozen: arbeidsmarktregio {r['arbeidsmarktregio']} wordt al bereikt via "
                f"{', '.join(same['gemeentenaam'])}; als tweede pilot daar zou ze alleen haar "
                f"eigen {nl_about(r['werkzoekend'])} werkzoekenden toevoegen, niet de regio"
            )
        elif smaller:
            assert weakest is not None
            out_by[code] = "bereik"
            head = (
                f"Niet gekozen: bereik {nl_about(r['bereik'])} tegen {nl_about(weakest['bereik'])} "
                f"voor {weakest['gemeentenaam']}, de kleinste gekozen"
            )
        else:
            out_by[code] = "combinatie"
            head = (
                f"Niet gekozen, ondanks een bereik van {nl_about(r['bereik'])}: door de eisen "
                "samen (geen eis alleen houdt haar buiten)"
            )
        reasons[code] = f"{head}{'; ' + swap if swap else ''}; kans gekozen {kans}."
    return pd.Series(reasons), pd.Series(thanks, dtype=object), pd.Series(out_by, dtype=object)


# --- checks on the selection -------------------------------------------------------------------


def selection_funnel(
    est: Estimate, problem: Problem, rd: ReachDraws, idx: np.ndarray
) -> pd.DataFrame:
    """The programme's funnel for the selection, per scenario, against the card's target.

    In every draw the selection's reach times that draw's funnel (contacts → conversations
    → trajectories over the card's period); p10, p50 and p90 over the draws; per year; and
    over the target's years (per year × years).
    """
    card = est.card
    reached = np.asarray(problem.objective_of(idx, rd.values))
    target = card.selection.target_trajectories
    years = card.selection.target_years
    rows = []
    for name, f in est.funnels.items():
        conv = reached * f.conversations
        traj = reached * f.placements
        p10, p50, p90 = np.percentile(traj, (10, 50, 90))
        per_year = traj / card.period_years
        q10, q90 = np.percentile(per_year * years, (10, 90))
        rows.append(
            {
                "scenario": name,
                "omschrijving": card.scenarios[name].label,
                "periode_jaren": card.period_years,
                "gesprekken": float(conv.mean()),
                "trajecten": float(traj.mean()),
                "trajecten_p10": float(p10),
                "trajecten_p50": float(p50),
                "trajecten_p90": float(p90),
                "trajecten_per_jaar": float(per_year.mean()),
                "doel_jaren": years,
                "trajecten_in_doeljaren": float(per_year.mean() * years),
                "trajecten_in_doeljaren_p10": float(q10),
                "trajecten_in_doeljaren_p90": float(q90),
                "doel": target.value if target.value else np.nan,
                "doel_bron": target.source,
            }
        )
    return pd.DataFrame(rows)


def _summary(
    card: MethodCard, objective: float, j_nl: float, sel: pd.DataFrame, check: pd.DataFrame
) -> pd.DataFrame:
    """What the selection holds, in rows of (onderwerp, waarde, toelichting).

    The shares are the selected rows' own ``aandeel_nl`` and, once per region,
    ``aandeel_regio_nl``.
    """
    own = check.set_index("scenario").loc[card.scenario]
    near = int(sel["uitwisselbaar"].sum())
    share_own = float(sel["aandeel_nl"].sum())
    share_regions = float(sel.drop_duplicates("arbeidsmarktregio_code")["aandeel_regio_nl"].sum())
    rows = [
        ("bereik", objective, "werkzoekenden die de pilots bereiken (eigen plus regio)"),
        ("bereik_aandeel_nl", objective / j_nl, "bereik als aandeel van Nederland"),
        (
            "werkzoekend_gekozen",
            float(sel["werkzoekend"].sum()),
            "werkzoekenden in de gekozen gemeenten",
        ),
        (
            "aandeel_nl",
            share_own,
            "aandeel van de werkzoekenden in Nederland in de gekozen gemeenten",
        ),
        ("aandeel_regios_nl", share_regions, "aandeel in hun arbeidsmarktregio's samen"),
        ("werkzoekend_nl", j_nl, "werkzoekenden in Nederland (centrale schatting)"),
        (
            "kern",
            float(len(sel) - near),
            "gekozen gemeenten die geen nabije kandidaat met klein verlies vervangt",
        ),
        ("uitwisselbaar", float(near), "gekozen gemeenten met een bijna gelijkwaardige vervanger"),
        (
            "trajecten",
            float(own["trajecten"]),
            f"verwachte trajecten van de pilots over {card.period_years:g} jaar "
            f"({card.scenarios[card.scenario].label})",
        ),
        (
            "trajecten_in_doeljaren",
            float(own["trajecten_in_doeljaren"]),
            f"verwachte trajecten van de pilots in {card.selection.target_years:g} jaar, tegen "
            f"het doel van {nl_about(own['doel'])} voor het hele project",
        ),
    ]
    return pd.DataFrame(rows, columns=["onderwerp", "waarde", "toelichting"])


def selection_sensitivity(est: Estimate, problem: Problem) -> pd.DataFrame | None:
    """The estimate's sensitivity table with the selection picks that change at each bound.

    At each bound the selection is re-solved on central job-seekers (and central ρ, except
    for ρ's own row) and compared with the selection on all-central values.
    """
    sens = est.sensitivity
    if sens is None:
        return None
    card = est.card
    k = len(problem.regions)
    order = est.draws.codes.get_indexer(problem.frame.index)
    rho_c = card.selection.region_reach.value

    def picks(j: np.ndarray, rho: float) -> set[int] | None:
        a, b = region_values(
            np.nan_to_num(j[order])[None, :], problem.region_of, k, np.array([rho])
        )
        solved = try_solve(problem, np.r_[a[0], b[0]])
        return None if solved is None else set(solved[0].tolist())

    central = est.table["werkzoekend"].to_numpy(dtype=float)  # in the draws' order
    base = picks(central, rho_c)
    table = sens.table.copy()
    for side in ("laag", "hoog"):
        changed = []
        for r in table.itertuples():
            if base is None:
                changed.append(np.nan)
                continue
            if r.parameter == "region_reach":
                now = picks(central, getattr(r, side))
            else:
                now = picks(sens.j[(r.parameter, side)], rho_c)
            changed.append(np.nan if now is None else len(base - now))
        table[f"selectie_wissels_{side}"] = changed
    return table
