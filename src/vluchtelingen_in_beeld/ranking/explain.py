"""Why the selection is what it is: prices, swaps and reasons as facts, each re-solved.

:func:`explain` takes a solved selection and measures, by re-solving the programme:

* the **price** of every active constraint (the reach gained without it, who comes in and
  goes out), of the constraints together (only the number and the forcing kept), and of
  the number of pilots (one more, one fewer);
* for every pick the **loss if it is left out** and who replaces it;
* for the unselected gemeenten with the **smallest loss if forced in** (the real
  alternatives): the LP relaxation's reduced costs bound every such loss from below, so
  the gemeenten are measured in order of that bound until every one whose loss could be
  among the ``near`` smallest, or below ``near_loss`` of the objective, has been measured;
* **interchangeable pairs**: a pick and its alternative whose swap costs less than
  ``near_loss`` of the objective, or where the alternative is the better choice in at least
  ``near_draws`` of the re-solved draws (the real uncertainty; the Monte Carlo error of the
  loss is a computing margin, kept apart in the tables). Each pair is told from both sides.

:func:`reason_facts` turns that into one fact per gemeente (the claims of its reason, each
backed by one of these re-solves); :mod:`.words` says them in Dutch. The selectieverkenner's
``explain.js`` is this module's twin, and the golden cases keep them equal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.catalogue import LIMITS
from vluchtelingen_in_beeld.ranking.selection import TIE, Constraints, Problem, try_solve
from vluchtelingen_in_beeld.records import Fact

#: A share of draws below this distance from a tie counts as a tie (float noise).
TIE_TOLERANCE = 1e-9
#: Partners a reason names (the closest first); the table lists them all.
SHOWN_PARTNERS = 3


def steady(x: float | None) -> int:
    """A number of people as an ordering key: to a millionth, halves up.

    Orders that must be the same in Python and in the page (alternatives, partners) sort
    on this, so that two losses equal but for float noise (ρ = 1: every member of a region
    is worth the region) fall to the next key, not to the last bit of a sum.
    """
    return math.floor((x or 0.0) * 1e6 + 0.5)


@dataclass(frozen=True)
class Swap:
    """One re-solve with a gemeente left out (``kind`` "eruit") or forced in ("erin")."""

    kind: str
    #: reach lost against the selection; ``None`` when no selection is possible then
    loss: float | None
    #: gemeenten (indices) that come in, and that go out besides the one left out
    came: tuple[int, ...] = ()
    went: tuple[int, ...] = ()
    #: share of the share-draws in which the selection / the alternative reaches more
    base_better: float = float("nan")
    alt_better: float = float("nan")
    #: spread of the difference over all draws, and its Monte Carlo standard error
    sd: float = float("nan")
    se: float = float("nan")
    near: bool = False


@dataclass
class Explanation:
    """Everything :func:`explain` measured (indices are positions in the problem's frame)."""

    chosen: np.ndarray
    objective: float
    #: price rows: facts for the one renderer (see ``prijs`` in ``phrases.j2``)
    prices: list[Fact]
    #: constraint -> indices that come in / go out without it
    moved_in: dict[str, set[int]]
    moved_out: dict[str, set[int]]
    #: the selection with only the number and the forcing (every switchable constraint off)
    free: set[int] | None
    swaps: dict[int, Swap]
    #: the unselected gemeenten shown as alternatives, best first
    alternatives: list[int]
    #: index -> {partner index: the swap that shows the pair}
    pairs: dict[int, dict[int, Swap]] = field(default_factory=dict)
    #: how many draws the shares are over
    share_draws: int = 0


def _shares(
    problem: Problem, base: np.ndarray, alt: np.ndarray, draws: np.ndarray
) -> tuple[float, float]:
    """In what share of ``draws`` the selection ``base`` / ``alt`` reaches more."""
    a = np.asarray(problem.objective_of(base, draws))
    b = np.asarray(problem.objective_of(alt, draws))
    tol = TIE_TOLERANCE * np.maximum(np.abs(a), 1.0)
    diff = a - b
    return float(np.mean(diff > tol)), float(np.mean(diff < -tol))


def explain(
    problem: Problem,
    values: np.ndarray,
    chosen: np.ndarray,
    objective: float,
    *,
    share_draws: np.ndarray,
    all_draws: np.ndarray | None = None,
    near: int = 20,
    near_loss: float = 0.01,
    near_draws: float = 0.25,
) -> Explanation:
    """Prices, swaps, alternatives and pairs of a solved selection (module docstring).

    ``values``: ``[a, b]`` the selection was made on; ``share_draws``: draws × ``[a, b]``
    for the share of draws in which one of two selections reaches more (the re-solved
    draws, which the selectieverkenner carries too); ``all_draws``: every draw, for the
    spread of a difference and its Monte Carlo error (default ``share_draws``).
    """
    c = problem.c
    chosen = np.sort(np.asarray(chosen, dtype=int))
    base = set(chosen.tolist())
    every = share_draws if all_draws is None else all_draws
    base_every = np.asarray(problem.objective_of(chosen, every))

    def again(cc: Constraints) -> tuple[np.ndarray, float] | None:
        return try_solve(problem.under(cc), values, near=chosen)

    prices: list[Fact] = []
    moved_in: dict[str, set[int]] = {}
    moved_out: dict[str, set[int]] = {}
    for name in c.active():
        solved = again(c.without(name))
        if solved is None:  # pragma: no cover - dropping a constraint cannot hurt
            continue
        now = set(solved[0].tolist())
        moved_in[name], moved_out[name] = now - base, base - now
        gain = solved[1] - objective
        prices.append(_price(name, gain, objective, now - base, base - now))
    free: set[int] | None = None
    if any(getattr(c, k) is not None and k in c.active() for k in LIMITS):
        solved = again(c.without_limits())
        if solved is not None:
            free = set(solved[0].tolist())
            prices.append(
                _price("samen", solved[1] - objective, objective, free - base, base - free)
            )
    else:
        free = set(base)
    more = again(replace(c, n=c.n + 1))
    fewer = again(replace(c, n=c.n - 1)) if c.n > 1 else None
    prices.append(
        {
            "eis": {"eis": "n", "waarde": c.n, "drempel": None, "namen": [], "reden": ""},
            "meer": None if more is None else _step(more, objective, base),
            "minder": None if fewer is None else _step(fewer, objective, base, fewer=True),
        }
    )

    def measure(kind: str, i: int) -> Swap:
        forced = {"exclude": i} if kind == "eruit" else {"include": i}
        solved = try_solve(problem, values, **forced, near=chosen)
        if solved is None:
            return Swap(kind, None)
        idx, obj = solved
        now = set(idx.tolist())
        base_better, alt_better = _shares(problem, chosen, idx, share_draws)
        diff = base_every - np.asarray(problem.objective_of(idx, every))
        sd = float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0
        loss = objective - obj
        if kind == "eruit":
            came, went = now - base, base - now - {i}
        else:
            came, went = now - base - {i}, base - now
        return Swap(
            kind,
            loss,
            tuple(sorted(came)),
            tuple(sorted(went)),
            base_better,
            alt_better,
            sd,
            sd / np.sqrt(len(diff)) if len(diff) else float("nan"),
            bool(loss < near_loss * objective or alt_better >= near_draws),
        )

    swaps: dict[int, Swap] = {}
    for i in chosen:
        if problem.lb[i] > 0:  # forced in: it cannot be left out
            continue
        swaps[int(i)] = measure("eruit", int(i))
    alternatives = _alternatives(
        problem, values, chosen, objective, swaps, measure, near, near_loss
    )
    pairs = _pairs(swaps, alternatives)
    return Explanation(
        chosen,
        objective,
        prices,
        moved_in,
        moved_out,
        free,
        swaps,
        alternatives,
        pairs,
        len(share_draws),
    )


def _price(name: str, gain: float, objective: float, came: set[int], went: set[int]) -> Fact:
    return {
        "eis": name,
        "prijs": max(gain, 0.0),
        "aandeel": max(gain, 0.0) / objective if objective else float("nan"),
        "bindend": bool(gain > 1e-9 * max(objective, 1.0)),
        "erin": sorted(came),
        "eruit": sorted(went),
    }


def _step(
    solved: tuple[np.ndarray, float], objective: float, base: set[int], *, fewer: bool = False
) -> Fact:
    now = set(solved[0].tolist())
    change = objective - solved[1] if fewer else solved[1] - objective
    return {
        "prijs": change,
        "aandeel": change / objective if objective else float("nan"),
        "erin": sorted(now - base),
        "eruit": sorted(base - now),
    }


def _alternatives(
    problem: Problem,
    values: np.ndarray,
    chosen: np.ndarray,
    objective: float,
    swaps: dict[int, Swap],
    measure: Any,
    near: int,
    near_loss: float,
) -> list[int]:
    """Measure the unselected gemeenten with the smallest loss if forced in; the shown ones.

    Candidates (not chosen, not forced out, eligible) are measured in order of the lower
    bound on their loss (reduced costs, :meth:`~.selection.Problem.relax`) until the next
    bound exceeds both the ``near``-th smallest loss measured and ``near_loss`` of the
    objective; every gemeente whose loss is within those is then measured. Partners of
    interchangeable picks are always measured. Shown: the ``near`` smallest losses, every
    loss below ``near_loss`` of the objective, and those partners.

    With a budget every re-solve stops within 1% of its optimum (``BUDGET_GAP``), so a loss
    below that is not known, and the bound is weak: the ``near`` candidates with the
    smallest bound are measured and shown, with the partners, and no more.
    """
    m = problem.m
    complete = problem.c.budget_eur is None
    base = set(chosen.tolist())
    candidates = [i for i in range(m) if i not in base and problem.ub[i] > 0]
    reach = values[:m] + values[m:][problem.region_of]
    relaxed = problem.relax(values)
    if relaxed is None:
        bound = np.zeros(m)
        gap = 0.0
    else:
        lp_objective, bound = relaxed
        tie = np.abs(values[:m]) if problem.tie is None else np.asarray(problem.tie, dtype=float)
        gap = max(lp_objective - (objective + TIE * float(tie[chosen].sum())), 0.0)
    slack = gap + 1e-6 * max(objective, 1.0)
    order = sorted(candidates, key=lambda i: (steady(float(bound[i])), -steady(float(reach[i])), i))
    limit = near_loss * objective
    losses: list[float] = []
    for i in order:
        if len(losses) >= near and not complete:
            break
        if len(losses) >= near:
            kth = sorted(losses)[near - 1]
            if bound[i] - slack > max(kth, limit):
                break
        swap = measure("erin", i)
        swaps[i] = swap
        losses.append(np.inf if swap.loss is None else swap.loss)
    partners = {
        j for s in swaps.values() if s.kind == "eruit" and s.near for j in s.came if j not in base
    }
    if complete:  # with a budget the pairs are told from the picks' swaps only
        for j in sorted(partners - set(swaps)):
            swaps[j] = measure("erin", j)
    partners &= set(swaps)
    measured = [
        i for i, s in swaps.items() if s.kind == "erin" and s.loss is not None and i not in base
    ]
    measured.sort(key=lambda i: (steady(swaps[i].loss), -steady(reach[i]), i))
    cheap = {i for i in measured if (loss := swaps[i].loss) is not None and loss < limit}
    shown = set(measured[:near]) | cheap | partners
    return [i for i in measured if i in shown]


def _pairs(swaps: dict[int, Swap], alternatives: Sequence[int]) -> dict[int, dict[int, Swap]]:
    """Interchangeable pairs, each from both sides, with the swap that shows them.

    A pick whose leaving-out is near pairs with who comes in; a shown alternative whose
    forcing-in is near pairs with who goes out. A pair found from both sides keeps the
    swap with the smaller loss (the pick's on a tie).
    """
    found: dict[tuple[int, int], Swap] = {}
    for i, s in sorted(swaps.items(), key=lambda kv: (kv[1].kind != "eruit", kv[0])):
        if not s.near or s.loss is None:
            continue
        if s.kind == "eruit":
            links = [(i, j) for j in s.came]
        elif i in alternatives:
            links = [(j, i) for j in s.went]
        else:
            continue
        for key in links:
            old = found.get(key)
            if old is None or (old.loss is not None and steady(s.loss) < steady(old.loss)):
                found[key] = s
    out: dict[int, dict[int, Swap]] = {}
    for (pick, alt), s in found.items():
        out.setdefault(pick, {})[alt] = s
        out.setdefault(alt, {})[pick] = s
    return out


# --- the facts of each gemeente's reason ----------------------------------------------------


def reason_facts(
    x: Explanation,
    problem: Problem,
    values: np.ndarray,
    *,
    werkzoekend: np.ndarray,
    kans: np.ndarray | None = None,
    near_loss: float = 0.01,
) -> list[Fact]:
    """One fact per gemeente (the problem's order) for ``reden`` in ``phrases.j2``.

    Every claim is one of :func:`explain`'s re-solves: ``dankzij``/``buiten_eisen`` a
    constraint whose removal alone moves the gemeente; ``dankzij_samen``/``eisen`` the
    selection without every switchable constraint; ``regio``, ``bereik`` and ``ook_zonder``
    only for a gemeente that stays out even then.
    """
    frame, c = problem.frame, problem.c
    m = problem.m
    names = [str(n) for n in frame["gemeentenaam"]]
    codes = list(frame.index)
    name_of = dict(zip(codes, names, strict=True))
    base = set(x.chosen.tolist())
    reach = values[:m] + values[m:][problem.region_of]
    region_names = frame["arbeidsmarktregio"].astype(str).tolist()
    on_merit = [i for i in x.chosen if problem.lb[i] <= 0]
    weakest = min(on_merit, key=lambda i: (steady(reach[i]), i)) if on_merit else None

    def who(idx: Sequence[int]) -> list[str]:
        return [names[j] for j in sorted(idx, key=lambda j: codes[j])]

    def pair_facts(i: int) -> Fact | None:
        partners = x.pairs.get(i, {})
        if not partners:
            return None
        # closest first: the pair's swap with the smallest loss; that swap is the evidence
        order = sorted(partners, key=lambda k: (steady(partners[k].loss), codes[k]))
        s = partners[order[0]]
        return {
            "met": [names[j] for j in order[:SHOWN_PARTNERS]],
            "meer": max(len(order) - SHOWN_PARTNERS, 0),
            "zelf_beter": s.base_better if i in base else s.alt_better,
            "doorrekeningen": x.share_draws,
            "klein": bool(s.loss is not None and s.loss < near_loss * x.objective),
            "grens": near_loss,
        }

    out: list[Fact] = []
    for i in range(m):
        code = codes[i]
        s = x.swaps.get(i)
        fact: Fact = {
            "naam": names[i],
            "code": code,
            "gekozen": i in base,
            "werkzoekend": float(werkzoekend[i]),
            "bereik": float(reach[i]),
            "vast": code in c.include,
            "eruit": None,
            "erin": None,
            "geen_wissel": bool(i in base and s is not None and s.loss is None),
            "paar": pair_facts(i),
            "dankzij": [],
            "dankzij_samen": False,
            "buiten": "",
            "buiten_eisen": [],
            "regio": None,
            "kleinste": None,
            "kans": None if kans is None else float(kans[i]),
        }
        if i in base:
            if s is not None and s.loss is not None:
                fact["eruit"] = {
                    "verlies": s.loss,
                    "aandeel": s.loss / x.objective if x.objective else float("nan"),
                    "erin": who(s.came),
                    "ook_eruit": who(s.went),
                }
            ins = [k for k, outs in x.moved_out.items() if i in outs]
            ins = [k for k in ins if not (k == "include" and fact["vast"])]
            fact["dankzij"] = [c.fact(k, name_of) for k in ins]
            fact["dankzij_samen"] = bool(
                not ins and not fact["vast"] and x.free is not None and i not in x.free
            )
        else:
            if s is not None and s.loss is not None and i in x.alternatives:
                fact["erin"] = {
                    "verlies": s.loss,
                    "aandeel": s.loss / x.objective if x.objective else float("nan"),
                    "eruit": who(s.went),
                }
            singles = [k for k, ins in x.moved_in.items() if i in ins]
            same = [j for j in x.chosen if problem.region_of[j] == problem.region_of[i]]
            if code in c.exclude:
                fact["buiten"] = "uitgesloten"
            elif singles:
                fact["buiten"] = "eis"
                fact["buiten_eisen"] = [c.fact(k, name_of) for k in singles]
            elif x.free is not None and i in x.free:
                fact["buiten"] = "eisen"
            elif same:
                fact["buiten"] = "regio"
                fact["regio"] = {
                    "naam": region_names[i],
                    "via": who(same),
                    "toevoeging": float(values[i]),
                }
            elif weakest is not None and reach[i] < reach[weakest]:
                fact["buiten"] = "bereik"
                fact["kleinste"] = {"naam": names[weakest], "bereik": float(reach[weakest])}
            else:
                fact["buiten"] = "ook_zonder"
        out.append(fact)
    return out


def price_facts(x: Explanation, problem: Problem, names: Mapping[str, str]) -> list[Fact]:
    """The price rows with constraints and gemeenten as facts (for ``prijs``)."""
    frame, c = problem.frame, problem.c
    codes = list(frame.index)
    label = [str(n) for n in frame["gemeentenaam"]]

    def who(idx: Sequence[int]) -> list[str]:
        return [label[j] for j in sorted(idx, key=lambda j: codes[j])]

    out: list[Fact] = []
    for p in x.prices:
        if isinstance(p["eis"], dict):  # the number of pilots
            out.append(
                {
                    "eis": p["eis"],
                    "meer": None
                    if p["meer"] is None
                    else {**p["meer"], "erin": who(p["meer"]["erin"]),
                          "eruit": who(p["meer"]["eruit"])},
                    "minder": None
                    if p["minder"] is None
                    else {**p["minder"], "erin": who(p["minder"]["erin"]),
                          "eruit": who(p["minder"]["eruit"])},
                }
            )  # fmt: skip
            continue
        eis = (
            {"eis": "samen", "waarde": None, "drempel": None, "namen": [], "reden": ""}
            if p["eis"] == "samen"
            else c.fact(p["eis"], names)
        )
        out.append({**p, "eis": eis, "erin": who(p["erin"]), "eruit": who(p["eruit"])})
    return out


def swap_columns(x: Explanation, problem: Problem) -> pd.DataFrame:
    """The swap columns of the ranking table, by gemeentecode."""
    frame = problem.frame
    codes = list(frame.index)
    label = [str(n) for n in frame["gemeentenaam"]]
    sep = "; "

    def who(idx: Sequence[int], *, ordered: bool = False) -> str:
        keep = idx if ordered else sorted(idx, key=lambda j: codes[j])
        return sep.join(label[j] for j in keep)

    rows: dict[str, dict[str, object]] = {}
    shown = set(x.alternatives)
    base = set(x.chosen.tolist())
    for i, s in x.swaps.items():
        if i not in base and i not in shown:
            continue
        row: dict[str, object] = {}
        if s.kind == "eruit":
            if s.loss is None:
                row["vervanger"] = "geen: zonder deze gemeente is geen selectie mogelijk"
            else:
                row.update(verlies_als_eruit=s.loss, vervanger=who(s.came), ook_eruit=who(s.went))
        else:
            row.update(verlies_als_erin=s.loss, valt_af=who(s.went))
        if s.loss is not None:
            row.update(
                verschil_sd=s.sd,
                verschil_se=s.se,
                doorrekeningen_eens=s.base_better,
                doorrekeningen_ander_beter=s.alt_better,
            )
        rows[codes[i]] = row
    for i, mine in x.pairs.items():  # every pair from both sides, measured or not
        partners = sorted(mine, key=lambda j: (steady(mine[j].loss), codes[j]))
        row = rows.setdefault(codes[i], {})
        row["uitwisselbaar"] = True
        row["uitwisselbaar_met"] = who(partners, ordered=True)
    return pd.DataFrame.from_dict(rows, orient="index")
