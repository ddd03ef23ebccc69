"""The estimate: job-seeking refugees per gemeente, with uncertainty and outreach scenarios.

Each step of ``method.md`` is one pure function below, with its formula and source in the
docstring. :func:`estimate` chains them on :class:`~.inputs.Inputs` and a method card, and
:func:`simulate` runs the seeded Monte Carlo over every parameter that has a range.

Notation: ``m`` gemeente, ``g`` origin group, ``a`` age band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.method import MethodCard, Rate

GROUP_COLUMNS = ("doelgroep_", "werkzoekend_")
CENTRAL_COLUMNS = (
    "inwoners",
    "doelgroep",
    "niet_zelfstandig",
    "werkzoekend",
    "werkzoekend_p10",
    "werkzoekend_p50",
    "werkzoekend_p90",
    "route_a",
    "route_b",
    "werkzoekend_per_1000",
    "contacten",
    "plaatsingen",
    "kosten_eur",
)


# --- the steps (pure) ----------------------------------------------------------------------


def target_population(population: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Step 1. ``W[m,g] = Σ_a w[a] · P[m,g,a]`` over the age bands of the card.

    ``w[a]`` is 1 for a band inside the card's ages and the overlapping fraction for a band
    partly inside (pro-rating). ``population`` is long: gemeentecode, groep, leeftijd,
    bevolking. Returns a wide frame: one row per gemeente, one column per group.
    Source: CBS 85458NED ``Bevolking_1`` (84910NED up to 2021).
    """
    w = population["leeftijd"].map(weights)
    weighted = population.assign(_w=population["bevolking"].astype(float) * w.astype(float))
    weighted = weighted[w.notna()]
    wide = weighted.pivot_table(
        index="gemeentecode", columns="groep", values="_w", aggfunc="sum", dropna=False
    )
    wide.columns.name = None
    return wide


def not_independent(w: pd.DataFrame, ei: pd.Series) -> pd.DataFrame:
    """Step 2. ``N[m,g] = W[m,g] · (1 − EI[g])``.

    ``EI[g]``: share economically independent, CBS 86136NED (income 2024, provisional).
    """
    return w * (1.0 - ei.reindex(w.columns).astype(float))


def job_seeking(n: pd.DataFrame, s: float) -> pd.DataFrame:
    """Step 3. ``J[m,g] = N[m,g] · s``; ``s`` is an assumption (calibrate locally)."""
    return n * s


def local_factor(b: pd.Series, b_nl: float, beta: float) -> pd.Series:
    """Step 4. ``(B[m] / B[NL]) ** β``; B = bijstand per 1,000 inhabitants (85984NED).

    ``β = 0`` gives 1 everywhere (off).
    """
    if beta == 0:
        return pd.Series(1.0, index=b.index)
    return (b.astype(float) / b_nl) ** beta


def routes(j: pd.Series, share_a: float) -> tuple[pd.Series, pd.Series]:
    """Step 5. Route A = ``J · a``, route B = ``J · (1 − a)``; a = 0.15 (CWI register 2005)."""
    return j * share_a, j * (1.0 - share_a)


def outreach(
    j: pd.Series, contact_share: float, placement_rate: float, cost_per_placement: float
) -> pd.DataFrame:
    """Step 6. contacts = ``J · c``; placements = contacts · p; cost = placements · €.

    ``p`` = 0.20 (plan2005) or 0.58 (resultaat2005), € = 2,500 per placement (Banenoffensief).
    """
    contacts = j * contact_share
    placements = contacts * placement_rate
    return pd.DataFrame(
        {
            "contacten": contacts,
            "plaatsingen": placements,
            "kosten_eur": placements * cost_per_placement,
        }
    )


def per_1000(value: pd.Series, inhabitants: pd.Series) -> pd.Series:
    """``value / inhabitants · 1000``."""
    return value / inhabitants.astype(float) * 1000.0


# --- uncertainty -----------------------------------------------------------------------------


def sample_rate(rate: Rate, n: int, rng: np.random.Generator, distribution: str) -> np.ndarray:
    """``n`` draws of a rate: its range if it has one, else its value."""
    if not rate.has_range:
        return np.full(n, rate.value)
    if distribution == "uniform":
        return rng.uniform(rate.low, rate.high, n)
    return rng.triangular(rate.low, rate.value, rate.high, n)


@dataclass
class Draws:
    """Monte Carlo draws of ``J`` per gemeente (draws × gemeenten), and what drove them."""

    codes: pd.Index
    j: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)
    seed: int = 0

    def percentiles(self, qs: tuple[float, ...] = (10, 50, 90)) -> pd.DataFrame:
        """Per-gemeente percentiles of J."""
        p = np.percentile(self.j, qs, axis=0)
        return pd.DataFrame(
            {f"werkzoekend_p{int(q)}": p[i] for i, q in enumerate(qs)}, index=self.codes
        )

    def region_sums(self, membership: pd.Series) -> pd.DataFrame:
        """Sums per region *within each draw*, then percentiles (never sums of percentiles).

        ``membership``: gemeentecode -> region code.
        """
        regions = membership.reindex(self.codes)
        cats = pd.Categorical(regions)
        onehot = np.zeros((len(self.codes), len(cats.categories)))
        onehot[np.arange(len(self.codes)), cats.codes] = 1.0
        onehot[cats.codes < 0] = 0.0
        sums = self.j @ onehot
        p = np.percentile(sums, (10, 50, 90), axis=0)
        return pd.DataFrame(
            {"werkzoekend_p10": p[0], "werkzoekend_p50": p[1], "werkzoekend_p90": p[2]},
            index=pd.Index(cats.categories, name=membership.name),
        )

    def national(self) -> dict[str, float]:
        """Percentiles of the national sum (within draws)."""
        tot = self.j.sum(axis=1)
        p10, p50, p90 = np.percentile(tot, (10, 50, 90))
        return {"werkzoekend_p10": p10, "werkzoekend_p50": p50, "werkzoekend_p90": p90}

    def top_n_probability(self, score_draws: np.ndarray, n: int) -> pd.Series:
        """P(gemeente among the top ``n``) for per-draw scores (draws × gemeenten)."""
        order = np.argsort(-score_draws, axis=1, kind="stable")[:, :n]
        counts = np.bincount(order.ravel(), minlength=len(self.codes))
        return pd.Series(counts / score_draws.shape[0], index=self.codes, name="kans_top_n")


def simulate(
    w: pd.DataFrame,
    card: MethodCard,
    factor: pd.Series,
    b: pd.Series | None = None,
    b_nl: float | None = None,
) -> Draws:
    """Seeded Monte Carlo of ``J`` over every card parameter that has a range.

    ``J[d,m] = s[d] · f[d,m] · Σ_g W[m,g] · (1 − EI[d,g])``; same seed, same numbers.
    """
    rng = np.random.default_rng(card.seed)
    n = card.draws
    groups = list(w.columns)
    by_name = {g.name: g for g in card.groups}
    ei = np.column_stack([sample_rate(by_name[g].ei, n, rng, card.distribution) for g in groups])
    s = sample_rate(card.job_seeking, n, rng, card.distribution)
    beta = sample_rate(card.beta, n, rng, card.distribution)
    wm = w.to_numpy(dtype=float)  # gemeenten × groups
    j = (1.0 - ei) @ wm.T  # draws × gemeenten
    j *= s[:, None]
    if b is not None and b_nl is not None and (card.beta.has_range or card.beta.value != 0):
        ratio = b.reindex(w.index).to_numpy(dtype=float) / b_nl
        j *= np.power(ratio[None, :], beta[:, None])
    else:
        j *= factor.reindex(w.index).to_numpy(dtype=float)[None, :]
    return Draws(w.index, j, {"ei": ei, "s": s, "beta": beta}, card.seed)


# --- the whole estimate -----------------------------------------------------------------------


@dataclass
class Estimate:
    """Result of :func:`estimate`: the gemeente table, the national row, the draws."""

    year: int
    card: MethodCard
    table: pd.DataFrame
    national: pd.DataFrame
    draws: Draws
    checks: dict[str, Any]
    notes: list[str]
    provenance: list[dict[str, Any]]
    #: provincie code -> inhabitants from the population table's own provincie rows
    provincie_inwoners: pd.Series | None = None
    #: the Kerncijfers table of the local factor's bijstand rates (None: not used)
    bijstand_table: str | None = None
    #: why this year, when the tool chose it (latest with the card's inputs); else empty
    year_note: str = ""
    #: scenario name -> contacten, plaatsingen, kosten_eur per gemeente (index gemeentecode)
    scenarios: dict[str, pd.DataFrame] = field(default_factory=dict)


def estimate(inputs: Any, card: MethodCard) -> Estimate:
    """Run the method on gathered inputs; one row per gemeente with data that year."""
    codes = inputs.inwoners.index
    w = target_population(inputs.population, inputs.weights)
    w = w.reindex(index=codes, columns=[g.name for g in card.groups])
    ei = pd.Series({g.name: g.ei.value for g in card.groups})
    n = not_independent(w, ei)
    j_groups = job_seeking(n, card.job_seeking.value)
    if inputs.bijstand_per_1000 is not None:
        factor = local_factor(
            inputs.bijstand_per_1000, inputs.bijstand_nl_per_1000, card.beta.value
        )
    else:
        factor = pd.Series(1.0, index=codes)
    j_groups = j_groups.mul(factor, axis=0)
    j = j_groups.sum(axis=1, min_count=len(card.groups))
    route_a, route_b = routes(j, card.route_a.value)
    scen = card.scenarios[card.scenario]
    out = outreach(
        j, card.contact_share.value, scen.placement_rate.value, card.cost_per_placement.value
    )
    draws = simulate(w, card, factor, inputs.bijstand_per_1000, inputs.bijstand_nl_per_1000)
    pct = draws.percentiles()

    table = pd.DataFrame(index=codes)
    table["gemeentenaam"] = inputs.names.reindex(codes)
    table["jaar"] = inputs.year
    table["inwoners"] = inputs.inwoners.astype(float)
    table["doelgroep"] = w.sum(axis=1, min_count=len(card.groups))
    table["niet_zelfstandig"] = n.sum(axis=1, min_count=len(card.groups))
    table["werkzoekend"] = j
    table = table.join(pct)
    table["route_a"] = route_a
    table["route_b"] = route_b
    table["werkzoekend_per_1000"] = per_1000(j, table["inwoners"])
    for g in card.groups:
        table[f"doelgroep_{g.name}"] = w[g.name]
        table[f"werkzoekend_{g.name}"] = j_groups[g.name]
    table = table.join(out)
    table.index.name = "gemeentecode"
    table = table.reset_index()

    sums = table.drop(columns=["gemeentecode", "gemeentenaam", "jaar"]).sum(min_count=1)
    nat = {"gemeentecode": "NL01", "gemeentenaam": "Nederland", "jaar": inputs.year}
    nat.update({k: float(v) for k, v in sums.items()})
    nat.update(draws.national())
    nat["werkzoekend_per_1000"] = float(
        per_1000(pd.Series([nat["werkzoekend"]]), pd.Series([nat["inwoners"]]))[0]
    )
    national = pd.DataFrame([nat], columns=table.columns)

    checks = _national_checks(inputs, card)
    scenarios = {
        name: outreach(
            j, card.contact_share.value, sc.placement_rate.value, card.cost_per_placement.value
        )
        for name, sc in card.scenarios.items()
    }
    return Estimate(
        year=inputs.year,
        card=card,
        table=table,
        national=national,
        draws=draws,
        checks=checks,
        notes=list(inputs.notes),
        provenance=inputs.provenance(),
        provincie_inwoners=getattr(inputs, "provincie_inwoners", None),
        bijstand_table=getattr(inputs, "bijstand_table", None),
        scenarios=scenarios,
    )


def _national_checks(inputs: Any, card: MethodCard) -> dict[str, Any]:
    """Compare sums over gemeenten with CBS's national row, where CBS publishes one."""
    checks: dict[str, Any] = {}
    if inputs.national_inwoners is not None:
        checks["inwoners"] = {
            "som_gemeenten": float(inputs.inwoners.sum()),
            "nederland_cbs": inputs.national_inwoners,
        }
    for g in card.groups:
        if g.name in inputs.national_groups:
            checks[f"bevolking_{g.name}_alle_leeftijden"] = {
                "som_gemeenten": inputs.gemeente_groups.get(g.name),
                "nederland_cbs": inputs.national_groups[g.name],
            }
    return checks
