"""Choosing voortrekkersgemeenten: the reach of each pilot, the selection, and its defence.

**Reach.** A pilot reaches its own job-seekers and a share ρ of the rest of its
arbeidsmarktregio: ``R[m] = J[m] + ρ · (J[r(m)] − J[m])``, in every Monte Carlo draw (that
draw's ``J`` and ``ρ``) and averaged (:func:`reach_draws`). The selection maximises the
reach of the pilots (:mod:`.selection`); the placements the programme's own funnel gives
are a check against its target, never the objective.

**Defence** (:mod:`.explain`, every claim re-solved): the price of every constraint, of the
constraints together and of one pilot more or fewer; for every pick the reach lost when it
is left out and who comes in; for the real alternatives (the smallest loss when forced in)
that loss and who goes out; interchangeable pairs from both sides; a reason per gemeente
as facts, said in Dutch by :mod:`.words`. ``kans_geselecteerd`` is the share of re-solved
draws in which a gemeente is chosen, with its standard error; it is computed twice more,
with ρ fixed and with the job-seekers fixed, and the one that moves it less is what it
mostly reflects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld import streams
from vluchtelingen_in_beeld.cells import num
from vluchtelingen_in_beeld.clean.method import MethodCard
from vluchtelingen_in_beeld.errors import ConfigError, InfeasibleError, VibError
from vluchtelingen_in_beeld.estimation.estimate import Estimate, sample_rate
from vluchtelingen_in_beeld.fmt import nl_list
from vluchtelingen_in_beeld.ranking.explain import (
    Explanation,
    explain,
    price_facts,
    reason_facts,
    swap_columns,
)
from vluchtelingen_in_beeld.ranking.selection import (
    REGION_COLUMNS,
    Constraints,
    Problem,
    region_index,
    selection_chance,
    try_solve,
    why_infeasible,
)
from vluchtelingen_in_beeld.records import Fact, Record
from vluchtelingen_in_beeld.streams import Stream
from vluchtelingen_in_beeld.words import say

#: How many of the real alternatives (the smallest loss when forced in) are shown at least.
NEAR = 20
#: Re-solved draws with a budget (each is a branch and bound); the card's minimum.
MIN_RESOLVE = 200
#: A chance this close to 0 or 1 is "vrijwel altijd hetzelfde": no driver is named.
SETTLED = 0.01


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
    placements over the card's period; ``spend``: their expected cost (each draw's
    placements at that draw's cost per placement, for a budget); ``own``: own job-seekers
    averaged over the draws (the tie-break). :func:`rank` and the selectieverkenner both
    use these.
    """

    draws: ReachDraws
    pool: np.ndarray
    placements: np.ndarray
    own: np.ndarray
    spend: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """``[a, b]`` averaged over the draws."""
        return self.draws.mean

    def cost(self, c: Constraints) -> np.ndarray:
        """The cost of a pilot per gemeente under ``c``: fixed plus its placements' cost."""
        out: np.ndarray = c.pilot_cost_eur + self.spend
        return out

    def problem(self, frame: pd.DataFrame, c: Constraints) -> Problem:
        """The programme of ``frame``'s gemeenten under ``c``."""
        return Problem(frame, c, pool=self.pool, cost=self.cost(c), tie=self.own)

    def resolved(self, card: MethodCard) -> int:
        """How many draws the selection is re-solved in: the card's, at most every draw."""
        return min(card.selection.resolve_draws, int(self.draws.a.shape[0]))

    def explain(
        self, problem: Problem, chosen: np.ndarray, objective: float, card: MethodCard
    ) -> Explanation:
        """:func:`~.explain.explain` of a selection solved on these numbers.

        With the card's near-tie rules: shares over the re-solved draws, spreads over every
        draw.
        """
        rd = self.draws
        return explain(
            problem,
            self.values,
            chosen,
            objective,
            share_draws=rd.values[: self.resolved(card)],
            all_draws=rd.values,
            near=NEAR,
            near_loss=card.selection.near_loss,
            near_draws=card.selection.near_draws,
        )


def programme_numbers(est: Estimate, frame: pd.DataFrame) -> ProgrammeNumbers:
    """The programme's numbers for ``frame``'s gemeenten (see :class:`ProgrammeNumbers`).

    Reach per draw times that draw's funnel of the card's scenario: the pool is the mean of
    ``R · conversations`` per year, the placements the mean of ``R · placements``, their
    cost the mean of ``R · placements · cost per placement`` (one joint draw).
    """
    card = est.card
    rd = reach_draws(est, frame)
    funnel = est.funnels[card.scenario]
    reach_d = rd.reach
    conv = (reach_d * funnel.conversations[:, None]).mean(axis=0)
    placements = (reach_d * funnel.placements[:, None]).mean(axis=0)
    spend = (reach_d * funnel.cost_per_seeker[:, None]).mean(axis=0)
    return ProgrammeNumbers(rd, conv / card.period_years, placements, rd.j.mean(axis=0), spend)


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
    #: what the selection holds and gives: shares, reach, placements against the target
    summary: pd.DataFrame | None = None
    #: the programme's funnel for the selection, per scenario, against the target
    funnel: pd.DataFrame | None = None
    #: the estimate's sensitivity table with the selection picks that change at each bound
    sensitivity: pd.DataFrame | None = None
    #: what the programme was solved on (the selectieverkenner re-solves it)
    numbers: ProgrammeNumbers | None = field(default=None, repr=False)
    #: what :func:`~.explain.explain` measured (the re-solves behind every reason)
    explanation: Explanation | None = field(default=None, repr=False)
    #: gemeentecode -> the facts of its reason (``reden`` in ``phrases.j2``)
    facts: dict[str, Fact] = field(default_factory=dict, repr=False)
    #: the facts of the prices (``prijs`` in ``phrases.j2``), in the order of :attr:`prices`
    price_facts: list[Fact] = field(default_factory=list, repr=False)
    #: gemeentecode -> the facts of its chance (``kans_zin`` in ``phrases.j2``)
    chance_facts: dict[str, Fact] = field(default_factory=dict, repr=False)
    #: the facts of the headline: reach with its range, ρ as used, shares with their base
    headline: Fact = field(default_factory=dict, repr=False)
    #: what drives the selection (``drijvers`` in ``phrases.j2``): head count, ρ, regions
    drivers: Fact = field(default_factory=dict, repr=False)

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
        """The selected gemeenten that no alternative can replace at a small loss."""
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
#: The columns of the near-tie measurement (:func:`~.explain.swap_columns`).
SWAP_COLUMNS = [
    "verlies_als_eruit",
    "vervanger",
    "ook_eruit",
    "verlies_als_erin",
    "valt_af",
    "uitwisselbaar",
    "uitwisselbaar_met",
    "verschil_sd",
    "verschil_se",
    "doorrekeningen_eens",
    "doorrekeningen_ander_beter",
]
EXTRA = [
    "bereik_p10",
    "bereik_p90",
    "kans_geselecteerd_se",
    "kans_rho_vast",
    "kans_aantallen_vast",
    "kans_drijver",
    *SWAP_COLUMNS,
    "werkzoekend",
    "werkzoekend_p10",
    "werkzoekend_p90",
    "bereik_regio",
    "aandeel_nl",
    "aandeel_regio_nl",
    "gesprekken_per_jaar",
    "plaatsingen_pilot",
    "werkzoekend_per_1000",
    "groei",
    "inwoners",
    "provincie_code",
    "arbeidsmarktregio_code",
    "landsdeel_code",
    "dankzij",
    "buiten_door",
    "dankzij_code",
    "buiten_door_code",
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


def chance_driver(kans: float, rho_fixed: float, counts_fixed: float) -> str:
    """What a chance mostly reflects: ``vast``, ``aantallen``, ``rho`` or ``""`` (unknown).

    Holding one source of uncertainty fixed and re-solving: the one whose fixing moves the
    chance *less* is not what drives it. With ρ fixed (only the counts vary) the chance
    barely moves when the counts drive it; with the counts fixed it moves far. A chance
    within :data:`SETTLED` of 0 or 1 is settled.
    """
    if not (np.isfinite(kans) and np.isfinite(rho_fixed) and np.isfinite(counts_fixed)):
        return ""
    if kans < SETTLED or kans > 1 - SETTLED:
        return "vast"
    return "aantallen" if abs(rho_fixed - kans) <= abs(counts_fixed - kans) else "rho"


#: ``kans_drijver`` in words for the tables.
DRIVER_WORDS = {
    "vast": "vrijwel altijd dezelfde keuze",
    "aantallen": "de aantallen per gemeente",
    "rho": "het bereik in de regio (ρ)",
    "": "",
}


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
    names = dict(zip(t.index, t["gemeentenaam"].astype(str), strict=True))

    # reach per draw, and the funnel of a pilot (card's scenario) for pool and cost
    nums = programme_numbers(est, t)
    rd, reach_d = nums.draws, nums.draws.reach
    t["bereik"] = reach_d.mean(axis=0)
    t["bereik_p10"], t["bereik_p90"] = np.percentile(reach_d, (10, 90), axis=0)
    t["bereik_regio"] = (rd.b[:, rd.region_of] - rd.rho[:, None] * rd.j).mean(axis=0)
    t["gesprekken_per_jaar"] = nums.pool
    t["plaatsingen_pilot"] = nums.placements
    own_j = nums.own
    problem = nums.problem(t, c)
    values = nums.values
    solved = try_solve(problem, values)
    if solved is None:
        why = why_infeasible(t, c, pool=nums.pool, cost=nums.cost(c))
        raise InfeasibleError(f"No selection of {c.n} gemeenten is possible: {why.english()}")
    idx, objective = solved

    # chance, re-solved per draw; and with rho or the numbers held at their centre. Not
    # with a budget: every re-solve is then a branch and bound that stops within 1% of the
    # optimum (selection.BUDGET_GAP), and which of the many selections that close it ends on
    # says more about the search than about the gemeenten.
    knapsack = c.budget_eur is not None
    resolve = nums.resolved(card)
    kans_draws = 0 if knapsack else resolve
    if knapsack:
        kans = np.full(len(t), np.nan)
    else:
        kans = selection_chance(problem, rd.values[:kans_draws])
    t["kans_geselecteerd"] = kans
    t["kans_geselecteerd_se"] = np.sqrt(kans * (1 - kans) / max(kans_draws, 1))
    t["kans_rho_vast"] = t["kans_aantallen_vast"] = np.nan
    if not knapsack:
        rho_c = np.full(kans_draws, card.selection.region_reach.value)
        a_r, b_r = region_values(rd.j[:kans_draws], rd.region_of, len(problem.regions), rho_c)
        t["kans_rho_vast"] = selection_chance(problem, np.hstack([a_r, b_r]))
        a_j, b_j = region_values(
            np.repeat(own_j[None, :], kans_draws, axis=0),
            rd.region_of,
            len(problem.regions),
            rd.rho[:kans_draws],
        )
        t["kans_aantallen_vast"] = selection_chance(problem, np.hstack([a_j, b_j]))
    drivers = [
        chance_driver(k, r, a)
        for k, r, a in zip(kans, t["kans_rho_vast"], t["kans_aantallen_vast"], strict=True)
    ]
    t["kans_drijver"] = [DRIVER_WORDS[d] for d in drivers]

    j_nl = float(np.nansum(t["werkzoekend"]))
    t["aandeel_nl"] = t["werkzoekend"] / j_nl
    region_j = t.groupby("arbeidsmarktregio_code")["werkzoekend"].transform("sum")
    t["aandeel_regio_nl"] = region_j / j_nl

    x = nums.explain(problem, idx, objective, card)
    swaps = swap_columns(x, problem)
    for col in SWAP_COLUMNS:
        t[col] = swaps[col].reindex(t.index) if col in swaps.columns else np.nan
    t["uitwisselbaar"] = t["uitwisselbaar"].astype(object).where(t["uitwisselbaar"].notna(), False)
    t["uitwisselbaar"] = t["uitwisselbaar"].astype(bool)
    t["geselecteerd"] = t.index.isin(list(t.index[idx]))
    facts = reason_facts(
        x,
        problem,
        values,
        werkzoekend=t["werkzoekend"].to_numpy(dtype=float),
        kans=None if knapsack else kans,
        near_loss=card.selection.near_loss,
    )
    by_code = {f["code"]: f for f in facts}
    t["reden"] = [say("reden", by_code[code]) for code in t.index]
    thanks, out_by = _claims(by_code, c, names)
    t = t.join(thanks).join(out_by)
    t = _order(t, x)
    t.index.name = "gemeentecode"
    table = t.reset_index()[CONTRACT + EXTRA].reset_index(drop=True)

    chances = {
        code: {
            "kans": None if knapsack else num(t.at[code, "kans_geselecteerd"]),
            "rho_vast": num(t.at[code, "kans_rho_vast"]),
            "aantallen_vast": num(t.at[code, "kans_aantallen_vast"]),
            "drijver": d,
            "doorrekeningen": kans_draws,
        }
        for code, d in zip(problem.frame.index, drivers, strict=True)
    }
    pfacts = price_facts(x, problem, names)
    prices = _price_table(pfacts, c)

    check = selection_funnel(est, problem, rd, idx)
    reached = np.asarray(problem.objective_of(idx, rd.values))
    rho = card.selection.region_reach
    headline = {
        "n": c.n,
        "gemeenten": len(t),
        "jaar": est.year,
        "bereik": objective,
        "bereik_laag": float(np.percentile(reached, 10)),
        "bereik_hoog": float(np.percentile(reached, 90)),
        "rho": {
            "onzeker": rho.has_range,
            "waarde": rho.value,
            "laag": rho.low,
            "hoog": rho.high,
            "gemiddeld": float(rd.rho.mean()),
        },
        "doorrekeningen": int(rd.a.shape[0]),
        "kans_doorrekeningen": kans_draws,
    }
    summary = _summary(card, headline, j_nl, t[t["geselecteerd"]], check)
    held = dict(zip(summary["onderwerp"], summary["waarde"], strict=True))
    headline.update(
        werkzoekend_nl=j_nl,
        aandeel_bereik=objective / j_nl,
        aandeel_nl=held["aandeel_nl"],
        aandeel_regios_nl=held["aandeel_regios_nl"],
    )
    notes = [say("selectie_noot", headline)]
    params: Record = {
        "region_reach": rho.describe(),
        "region_reach_mean": float(rd.rho.mean()),
        "draws": int(rd.a.shape[0]),
        "resolve_draws": int(resolve),
        "kans_draws": int(kans_draws),
        "near_draws": card.selection.near_draws,
        "near_loss": card.selection.near_loss,
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
    # with a budget every re-solve is a branch and bound within 1%: the sensitivity of the
    # picks and the drivers (a re-solve per bound and per ρ) would say more about the
    # search than about the data, and take a minute; they are left out and said so
    ranking.sensitivity = selection_sensitivity(est, problem, picks=not knapsack)
    ranking.drivers = {} if knapsack else selection_drivers(est, problem, nums, idx, t)
    ranking.numbers = nums
    ranking.explanation = x
    ranking.facts = by_code
    ranking.price_facts = pfacts
    ranking.chance_facts = chances
    ranking.headline = headline
    return ranking


#: ``buiten_door_code`` -> ``buiten_door`` in words (the constraints are said by ``eis``).
OUT_WORDS = {
    "uitgesloten": "uitgesloten",
    "eisen": "de eisen samen",
    "regio": "arbeidsmarktregio al bereikt",
    "bereik": "kleiner bereik",
    "ook_zonder": "ook zonder de eisen niet gekozen",
}


def _claims(
    facts: dict[str, Fact], c: Constraints, names: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``dankzij``/``buiten_door`` in words, with their codes beside them."""
    thanks: dict[str, dict[str, str]] = {}
    out_by: dict[str, dict[str, str]] = {}
    for code, f in facts.items():
        if f["gekozen"]:
            keys = [e["eis"] for e in f["dankzij"]]
            if f["dankzij_samen"]:
                keys = ["samen"]
            words = [say("eis", e) for e in f["dankzij"]] or (
                ["de eisen samen"] if f["dankzij_samen"] else []
            )
            if keys:
                thanks[code] = {
                    "dankzij": NAME_SEP.join(words),
                    "dankzij_code": NAME_SEP.join(keys),
                }
        else:
            kind = f["buiten"]
            if kind == "eis":
                keys = [e["eis"] for e in f["buiten_eisen"]]
                words = [say("eis", e) for e in f["buiten_eisen"]]
            else:
                keys, words = [str(kind)], [OUT_WORDS.get(str(kind), str(kind))]
            out_by[code] = {
                "buiten_door": NAME_SEP.join(words),
                "buiten_door_code": NAME_SEP.join(keys),
            }
    return (
        pd.DataFrame.from_dict(thanks, orient="index", columns=["dankzij", "dankzij_code"]),
        pd.DataFrame.from_dict(out_by, orient="index", columns=["buiten_door", "buiten_door_code"]),
    )


#: Columns of the prices table.
PRICE_COLUMNS = [
    "eis",
    "reden",
    "prijs",
    "prijs_pct",
    "bindend",
    "erin_zonder",
    "eruit_zonder",
    "uitleg",
    "eis_code",
]


def _price_table(pfacts: list[Fact], c: Constraints) -> pd.DataFrame:
    """The prices as a table: one row per constraint, the constraints together, one pilot."""
    rows = []
    for p in pfacts:
        key = p["eis"]["eis"]
        if key == "n":
            more = p["meer"]
            rows.append(
                {
                    "eis": "één pilot meer",
                    "reden": c.reasons.get("n", ""),
                    "prijs": more["prijs"] if more else np.nan,
                    "prijs_pct": more["aandeel"] if more else np.nan,
                    "bindend": True,
                    "erin_zonder": NAME_SEP.join(more["erin"]) if more else "",
                    "eruit_zonder": NAME_SEP.join(more["eruit"]) if more else "",
                    "uitleg": say("prijs", p),
                    "eis_code": "n",
                }
            )
            continue
        rows.append(
            {
                "eis": "alle eisen samen" if key == "samen" else say("eis", p["eis"]),
                "reden": p["eis"]["reden"],
                "prijs": p["prijs"],
                "prijs_pct": p["aandeel"],
                "bindend": p["bindend"],
                "erin_zonder": NAME_SEP.join(p["erin"]),
                "eruit_zonder": NAME_SEP.join(p["eruit"]),
                "uitleg": say("prijs", p),
                "eis_code": key,
            }
        )
    return pd.DataFrame(rows, columns=PRICE_COLUMNS)


def _order(t: pd.DataFrame, x: Explanation) -> pd.DataFrame:
    """Rank order: the selected, hardest to replace first; then the alternatives; the rest.

    Forced gemeenten come last in the selection; the alternatives by their loss when forced
    in (the smallest first), the rest by reach.
    """
    sel = t[t["geselecteerd"]].copy()
    sel["_k"] = sel["verlies_als_eruit"].fillna(-np.inf)
    sel = sel.sort_values(["_k", "bereik"], ascending=[False, False], kind="stable")
    rest = t[~t["geselecteerd"]].copy()
    rest["_m"] = rest["verlies_als_erin"].isna()
    rest["_k"] = rest["verlies_als_erin"].fillna(np.inf)
    rest = rest.sort_values(["_m", "_k", "bereik"], ascending=[True, True, False], kind="stable")
    out = pd.concat([sel, rest]).drop(columns=["_k", "_m"])
    out["rang"] = np.arange(1, len(out) + 1)
    return out


# --- checks on the selection -------------------------------------------------------------------


def selection_funnel(
    est: Estimate, problem: Problem, rd: ReachDraws, idx: np.ndarray
) -> pd.DataFrame:
    """The programme's funnel for the selection, per scenario, against the card's target.

    In every draw the selection's reach times that draw's funnel (contacts → conversations
    → placements over the card's period, and their cost at that draw's cost per placement);
    p10, p50 and p90 over the draws; per year; and over the target's years (per year ×
    years). The target counts trajectories ("trajecten"), which the programme counted as
    placements.
    """
    card = est.card
    reached = np.asarray(problem.objective_of(idx, rd.values))
    target = card.selection.target_trajectories
    years = card.selection.target_years
    rows = []
    for name, f in est.funnels.items():
        conv = reached * f.conversations
        placed = reached * f.placements
        cost = placed * f.cost
        p10, p50, p90 = np.percentile(placed, (10, 50, 90))
        c10, c90 = np.percentile(cost, (10, 90))
        per_year = placed / card.period_years
        q10, q90 = np.percentile(per_year * years, (10, 90))
        rows.append(
            {
                "scenario": name,
                "omschrijving": card.scenarios[name].label,
                "periode_jaren": card.period_years,
                "contacten": float((reached * f.contacts).mean()),
                "gesprekken": float(conv.mean()),
                "plaatsingen": float(placed.mean()),
                "plaatsingen_p10": float(p10),
                "plaatsingen_p50": float(p50),
                "plaatsingen_p90": float(p90),
                "plaatsingen_per_jaar": float(per_year.mean()),
                "kosten_eur": float(cost.mean()),
                "kosten_eur_p10": float(c10),
                "kosten_eur_p90": float(c90),
                "doel_jaren": years,
                "plaatsingen_in_doeljaren": float(per_year.mean() * years),
                "plaatsingen_in_doeljaren_p10": float(q10),
                "plaatsingen_in_doeljaren_p90": float(q90),
                "doel_trajecten": target.value if target.value else np.nan,
                "doel_bron": target.source,
            }
        )
    return pd.DataFrame(rows)


def _summary(
    card: MethodCard,
    head: Fact,
    j_nl: float,
    sel: pd.DataFrame,
    check: pd.DataFrame,
) -> pd.DataFrame:
    """What the selection holds, in rows of (onderwerp, waarde, toelichting).

    Every share says what it is of. The shares are the selected rows' own ``aandeel_nl``
    and, once per region, ``aandeel_regio_nl``.
    """
    own = check.set_index("scenario").loc[card.scenario]
    near = int(sel["uitwisselbaar"].sum())
    share_own = float(sel["aandeel_nl"].sum())
    share_regions = float(sel.drop_duplicates("arbeidsmarktregio_code")["aandeel_regio_nl"].sum())
    rho = head["rho"]
    rows = [
        (
            "bereik",
            head["bereik"],
            "werkzoekenden die de pilots bereiken (eigen plus een deel ρ van de rest van hun "
            "arbeidsmarktregio), gemiddeld over de doorrekeningen",
        ),
        ("bereik_p10", head["bereik_laag"], "bereik, 10e percentiel over de doorrekeningen"),
        ("bereik_p90", head["bereik_hoog"], "bereik, 90e percentiel over de doorrekeningen"),
        (
            "rho_gemiddeld",
            rho["gemiddeld"],
            "ρ zoals gebruikt: gemiddeld over de doorrekeningen"
            + (f" (onzeker van {rho['laag']:g} tot {rho['hoog']:g})" if rho["onzeker"] else ""),
        ),
        (
            "bereik_aandeel_nl",
            head["bereik"] / j_nl,
            "bereik als aandeel van de werkzoekenden in Nederland",
        ),
        (
            "werkzoekend_gekozen",
            float(sel["werkzoekend"].sum()),
            "werkzoekenden in de gekozen gemeenten",
        ),
        (
            "aandeel_nl",
            share_own,
            "aandeel van de werkzoekenden in Nederland dat in de gekozen gemeenten woont",
        ),
        (
            "aandeel_regios_nl",
            share_regions,
            "aandeel van de werkzoekenden in Nederland dat in hun arbeidsmarktregio's woont",
        ),
        ("werkzoekend_nl", j_nl, "werkzoekenden in Nederland (centrale schatting)"),
        (
            "kern",
            float(len(sel) - near),
            "gekozen gemeenten zonder uitwisselbare andere gemeente",
        ),
        ("uitwisselbaar", float(near), "gekozen gemeenten met een uitwisselbare andere gemeente"),
        (
            "plaatsingen",
            num(own["plaatsingen"]),
            f"verwachte plaatsingen van de pilots over {card.period_years:g} jaar "
            f"({card.scenarios[card.scenario].label})",
        ),
        (
            "plaatsingen_in_doeljaren",
            num(own["plaatsingen_in_doeljaren"]),
            f"verwachte plaatsingen van de pilots in {card.selection.target_years:g} jaar, tegen "
            "het doel in trajecten voor het hele project",
        ),
        ("doel_trajecten", num(own["doel_trajecten"]), str(own["doel_bron"])),
    ]
    return pd.DataFrame(rows, columns=["onderwerp", "waarde", "toelichting"])


def selection_drivers(
    est: Estimate, problem: Problem, nums: ProgrammeNumbers, idx: np.ndarray, t: pd.DataFrame
) -> Fact:
    """What drives the selection, computed (``drijvers`` in ``phrases.j2``).

    * **Head count**: job-seekers per resident of the target groups across gemeenten (its
      range), and the selection re-solved on the target groups' head count instead of the
      job-seekers (same ρ): how many picks differ.
    * **ρ**: the selection re-solved with ρ fixed at its low, central and high value (own
      job-seekers at their means): which picks hold at every ρ and which depend on it.
    * **Regions**: per pick, the share of its reach that comes from the rest of its region.
    """
    card = est.card
    frame = problem.frame
    codes = list(frame.index)
    names = frame["gemeentenaam"].astype(str).tolist()
    k = len(problem.regions)
    base = set(idx.tolist())
    rho = card.selection.region_reach

    def picks(j: np.ndarray, r: float) -> set[int] | None:
        a, b = region_values(np.nan_to_num(j)[None, :], problem.region_of, k, np.array([r]))
        solved = try_solve(problem, np.r_[a[0], b[0]])
        return None if solved is None else set(solved[0].tolist())

    own = nums.own
    w = t["doelgroep"].reindex(frame.index).to_numpy(dtype=float)
    per = np.divide(own, w, out=np.full_like(own, np.nan), where=w > 0)
    ok = np.isfinite(per) & (w >= 100)  # small groups: a ratio of small numbers
    scaled = np.nan_to_num(w) * (np.nansum(own) / max(np.nansum(w), 1.0))
    on_heads = picks(scaled, float(nums.draws.rho.mean()))
    levels = sorted({rho.low, rho.value, rho.high})
    at = {r: picks(own, r) for r in levels}
    solved_all = [v for v in at.values() if v is not None]
    steady = set.intersection(*solved_all) & base if solved_all else set()
    moving = sorted(base - steady, key=lambda i: codes[i])
    regional = t["bereik_regio"].reindex(frame.index).to_numpy(dtype=float)
    reach = t["bereik"].reindex(frame.index).to_numpy(dtype=float)
    chosen = sorted(base, key=lambda i: -reach[i])
    return {
        "per_doelgroep_laag": float(np.nanpercentile(per[ok], 5)) if ok.any() else None,
        "per_doelgroep_hoog": float(np.nanpercentile(per[ok], 95)) if ok.any() else None,
        "doelgroep_wissels": None if on_heads is None else len(base - on_heads),
        "rho_waarden": levels,
        "rho_vast": sorted((names[i] for i in steady), key=str),
        "rho_afhankelijk": [
            {
                "naam": names[i],
                "bij": [r for r in levels if at[r] is not None and i in at[r]],  # type: ignore[operator]
            }
            for i in moving
        ],
        "regio_aandeel": [
            {"naam": names[i], "aandeel": float(regional[i] / reach[i]) if reach[i] else 0.0}
            for i in chosen
        ],
    }


def selection_sensitivity(
    est: Estimate, problem: Problem, *, picks: bool = True
) -> pd.DataFrame | None:
    """The estimate's sensitivity table with the selection picks that change at each bound.

    At each bound the selection is re-solved on central job-seekers (and central ρ, except
    for ρ's own row) and compared with the selection on all-central values. Without
    ``picks`` the columns are there, empty (a budget: see :func:`rank`).
    """
    sens = est.sensitivity
    if sens is None:
        return None
    if not picks:
        table = sens.table.copy()
        table["selectie_wissels_laag"] = table["selectie_wissels_hoog"] = np.nan
        return table
    card = est.card
    k = len(problem.regions)
    order = est.draws.codes.get_indexer(problem.frame.index)
    rho_c = card.selection.region_reach.value

    def chosen(j: np.ndarray, rho: float) -> set[int] | None:
        a, b = region_values(
            np.nan_to_num(j[order])[None, :], problem.region_of, k, np.array([rho])
        )
        solved = try_solve(problem, np.r_[a[0], b[0]])
        return None if solved is None else set(solved[0].tolist())

    central = est.table["werkzoekend"].to_numpy(dtype=float)  # in the draws' order
    base = chosen(central, rho_c)
    table = sens.table.copy()
    for side in ("laag", "hoog"):
        changed = []
        for r in table.itertuples():
            if base is None:
                changed.append(np.nan)
                continue
            if r.parameter == "region_reach":
                now = chosen(central, getattr(r, side))
            else:
                now = chosen(sens.j[(str(r.parameter), side)], rho_c)
            changed.append(np.nan if now is None else len(base - now))
        table[f"selectie_wissels_{side}"] = changed
    return table
