"""The estimate: job-seeking refugees per gemeente, with uncertainty and outreach scenarios.

Each step of ``method.md`` is one pure function below, with its formula and source in the
docstring. :func:`estimate` chains them on :class:`~.inputs.Inputs` and a method card, and
:func:`simulate` runs the seeded Monte Carlo over every parameter that has a range.

Notation: ``m`` gemeente, ``g`` origin group, ``a`` age band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld import streams
from vluchtelingen_in_beeld.clean.localfiles import LocalFigure, LocalFile, ReceptionRow
from vluchtelingen_in_beeld.clean.method import MethodCard, Rate
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.fmt import SMALL_COUNT, nl_dec, nl_int
from vluchtelingen_in_beeld.records import Record, SourceRecord
from vluchtelingen_in_beeld.streams import Stream

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.clean.inputs import Inputs

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
    "gesprekken",
    "plaatsingen",
    "plaatsingen_per_jaar",
    "plaatsingen_route_a",
    "plaatsingen_route_b",
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


def rest_bijstand_rate(
    bijstand_per_1000: pd.Series,
    inwoners: pd.Series,
    w: pd.Series,
    n: pd.Series,
    q: float,
    names: pd.Series | None = None,
) -> tuple[pd.Series, float, list[str]]:
    """Step 4a. Bijstand per inhabitant of the *rest* of the population, per gemeente and NL.

    ``R[m] = (B[m] − q · N[m]) / (inwoners[m] − W[m])`` with ``B[m]`` the bijstand count
    (KWB's rate per 1,000 times the inhabitants), ``W`` the target group, ``N`` its not
    economically independent part and ``q`` the share of those on bijstand (card:
    ``local.target_bijstand_share``). The target group's own bijstand is taken out, so a
    gemeente with more refugees does not get a higher factor for that reason alone (their
    concentration is already in ``W``). ``R[NL]`` is the same over the sum of the gemeenten.
    Where ``q · N`` would take out more than 90% of a gemeente's bijstand, ``R`` is floored
    at 10% of its overall rate. A bijstand count below :data:`~.fmt.SMALL_COUNT` (KWB
    rounds small counts, so 8 may be 5 or 12) is missing: ``R`` is ``NaN`` there and the
    gemeente keeps the national rates. The notes name both kinds (``names``: code -> name).
    """
    inw = inwoners.astype(float)
    b = bijstand_per_1000.astype(float) / 1000.0 * inw
    small = b.index[(b < SMALL_COUNT) & (b > 0)]
    b = b.where(~b.index.isin(small))
    own = q * n.astype(float)
    values, rest_nl = rest_rates(b.to_numpy(), own.to_numpy(), inw.to_numpy(), w.to_numpy(float))
    rest = pd.Series(values, index=b.index)
    floored = sorted(b.index[(b - own) < 0.1 * b])
    label = names if names is not None else pd.Series(b.index, index=b.index)

    def named(codes: list[str]) -> str:
        shown = [str(label.get(c, c)) for c in codes[:8]]
        return ", ".join(shown) + (" …" if len(codes) > 8 else "")

    notes = []
    if floored:
        notes.append(
            f"Lokale factor: in {_gemeenten(len(floored))} zou de geschatte bijstand van de "
            f"doelgroep meer dan 90% van alle bijstand zijn ({named(floored)}); daar telt 10% "
            "van de bijstand als die van de rest van de bevolking."
        )
    if len(small):
        notes.append(
            f"Lokale factor: {_gemeenten(len(small))} met minder dan {SMALL_COUNT} mensen in de "
            f"bijstand ({named(sorted(small))}): CBS rondt zulke kleine aantallen af, dus daar "
            "geen factor (de landelijke aandelen)."
        )
    return rest, float(rest_nl), notes


def _gemeenten(n: int) -> str:
    """``1 gemeente``, ``3 gemeenten``."""
    return f"{n} gemeente" if n == 1 else f"{n} gemeenten"


def rest_rates(
    b: np.ndarray, own: np.ndarray, inwoners: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, float | np.ndarray]:
    """The arithmetic of :func:`rest_bijstand_rate` on arrays: ``(R[m], R[NL])``.

    ``b``, ``inwoners`` and ``w`` per gemeente; ``own`` (= q · N) per gemeente, or draws ×
    gemeenten in the Monte Carlo (then ``R[NL]`` is one per draw).
    """
    rest = np.maximum(b - own, 0.1 * b) / (inwoners - w)
    ok = np.isfinite(b)
    rest_nl = (b[ok].sum() - (own * ok).sum(axis=-1)) / (inwoners[ok].sum() - w[ok].sum())
    return rest, rest_nl


def local_factor(rest: pd.Series, rest_nl: float, beta: float) -> pd.Series:
    """Step 4b. ``(R[m] / R[NL]) ** β``, R from :func:`rest_bijstand_rate` (85984NED etc.).

    ``β = 0`` gives 1 everywhere (off). A gemeente without a usable rate (no bijstand, or
    none left once the target group's own is taken out: ``R <= 0`` or missing) gets 1: its
    labour market is unknown, not perfect, so it keeps the national rates (the caller notes
    it) instead of being set to 0 job-seekers.
    """
    if beta == 0:
        return pd.Series(1.0, index=rest.index)
    return pd.Series(local_factors(rest.to_numpy(dtype=float), rest_nl, beta), index=rest.index)


def local_factors(
    rest: np.ndarray, rest_nl: float | np.ndarray, beta: float | np.ndarray
) -> np.ndarray:
    """:func:`local_factor` on arrays (no usable rate: 1).

    ``rest`` per gemeente or draws × gemeenten, with ``rest_nl`` and ``beta`` scalars or one
    per draw (``[:, None]``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.power(rest / rest_nl, beta)
    out: np.ndarray = np.where(rest > 0, f, 1.0)
    return out


def scale_to_total(j: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """The local factor scaled so that ``Σ_m J[m] · f[m]`` equals ``Σ_m J[m]``.

    The factor moves job-seekers between gemeenten; the national rates set their number.
    ``j`` and ``factor``: gemeenten, or draws × gemeenten (then one scale per draw).
    """
    weighted = (j * factor).sum(axis=-1, keepdims=True)
    scale = np.divide(
        j.sum(axis=-1, keepdims=True), weighted, where=weighted > 0, out=np.ones_like(weighted)
    )
    out: np.ndarray = factor * scale
    return out


def group_factors(j_groups: np.ndarray, factor: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Step 4c. ``J[m, g] · f[m] · k[g]`` with ``k[g]`` keeping each group's national total.

    ``j_groups``: gemeenten × groups; ``factor``: per gemeente; ``known``: where the factor
    rests on a bijstand figure. Gemeenten without one keep their job-seekers exactly (factor
    1); over the others, ``k[g] = Σ J[m, g] / Σ J[m, g] · f[m]``, so every origin group's
    national total is the same as without the factor: the factor moves job-seekers between
    gemeenten, never between groups and never in number.
    """
    f = np.where(known, factor, 1.0)[:, None]
    inside = np.where(known[:, None], j_groups, 0.0)
    weighted = (inside * f).sum(axis=0)
    scale = np.divide(inside.sum(axis=0), weighted, where=weighted > 0, out=np.ones_like(weighted))
    out: np.ndarray = np.where(known[:, None], j_groups * f * scale[None, :], j_groups)
    return out


def routes(j: pd.Series, share_a: float) -> tuple[pd.Series, pd.Series]:
    """Step 5. Route A = ``J · a``, route B = ``J · (1 − a)``; a = 0.15 (CWI register 2005)."""
    return j * share_a, j * (1.0 - share_a)


def outreach(
    j: pd.Series,
    contact_share: float,
    placement_rate: float,
    cost_per_placement: float,
    *,
    reach_factor: float | None = None,
    route_a_share: float | None = None,
    period_years: float = 3.0,
) -> pd.DataFrame:
    """Step 6. The programme's funnel over a period of ``period_years``.

    contacts = ``J · c`` (planned); conversations ("gesprekken", the contacts realised) =
    contacts · r when the scenario has a reach shortfall ``r``, else every planned contact;
    placements = conversations · p; route A / B = placements · a / (1 − a); per year =
    placements / period; cost = placements · € (in the source's prices).
    Banenoffensief 2006–2008 (eindrapport, schema 1 and 2): r = 4,000 / 10,000–12,500
    (0.32–0.40, a shortfall in reach, not a rate per contact), p = 1,659–2,327 / 4,000
    per conversation (0.41–0.58), a = 1,139 / 1,659 – 1,807 / 2,327; the 2005 plan:
    p = 0.20 per contact. Cost per placement € 5.8 m / (4,000 · p), 2006–2008 prices.
    """
    contacts = j * contact_share
    conversations = contacts * (reach_factor if reach_factor is not None else 1.0)
    placements = conversations * placement_rate
    share_a = route_a_share if route_a_share is not None else np.nan
    return pd.DataFrame(
        {
            "contacten": contacts,
            "gesprekken": conversations,
            "plaatsingen": placements,
            "plaatsingen_per_jaar": placements / period_years,
            "plaatsingen_route_a": placements * share_a,
            "plaatsingen_route_b": placements * (1.0 - share_a),
            "kosten_eur": placements * cost_per_placement,
        }
    )


def scenario_outreach(j: pd.Series, card: MethodCard, name: str) -> pd.DataFrame:
    """:func:`outreach` with the card's central values for scenario ``name``."""
    sc = card.scenarios[name]
    return outreach(
        j,
        card.contact_share.value,
        sc.placement_rate.value,
        card.cost_per_placement.value,
        reach_factor=sc.reach_factor.value if sc.reach_factor else None,
        route_a_share=sc.route_a_share.value if sc.route_a_share else None,
        period_years=card.period_years,
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
    #: per gemeente, the share of the spread of log J from each source (:func:`spread_shares`)
    spread: pd.DataFrame | None = None

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


@dataclass(frozen=True)
class LocalData:
    """What the local factor reads: bijstand per 1,000 and inhabitants per gemeente."""

    bijstand_per_1000: pd.Series
    inwoners: pd.Series
    #: gemeentecode -> name, for the notes
    names: pd.Series | None = None

    @classmethod
    def of(cls, inputs: Inputs, card: MethodCard) -> LocalData | None:
        """From gathered inputs; ``None`` when the card does not use the factor (β = 0)."""
        if inputs.bijstand_per_1000 is None or not card.uses_local_factor:
            return None
        return cls(
            inputs.bijstand_per_1000.astype(float), inputs.inwoners.astype(float), inputs.names
        )


@dataclass(frozen=True)
class Variation:
    """Local variation of ``J`` around the national rates: a log-normal gemeente factor.

    ``log factor[m] = σ_amr · η[region of m] + σ_gm · ξ[m] − σ²/2`` (mean 1), with ``η`` and
    ``ξ`` standard normal per draw. ``source`` says where the sizes come from.
    """

    sd_amr: float
    sd_gemeente: float
    source: str
    #: gemeentecode -> arbeidsmarktregio code (None: no regional component)
    amr: pd.Series | None = None
    n: int = 0

    @property
    def sd(self) -> float:
        """The total spread on the log scale."""
        return float(np.hypot(self.sd_amr, self.sd_gemeente))

    def record(self) -> Record:
        """What the manifest reports."""
        return {
            "sd_log": round(self.sd, 4),
            "sd_arbeidsmarktregio": round(self.sd_amr, 4),
            "sd_gemeente": round(self.sd_gemeente, 4),
            "gemeenten": self.n,
            "source": self.source,
        }


def residual_spread(
    bijstand_per_1000: pd.Series,
    non_european_share: pd.Series,
    inwoners: pd.Series,
    amr: pd.Series | None,
) -> tuple[float, float, int]:
    """Spread of log bijstand per 1,000 that composition and size do not explain.

    OLS of ``log B[m]`` on the share of non-European-born residents and ``log inwoners``;
    the residuals are split into an arbeidsmarktregio and a gemeente component by the
    one-way random-effects method of moments (between and within mean squares). Returns
    ``(σ_amr, σ_gemeente, gemeenten used)``; gemeenten with no bijstand are left out.
    """
    frame = pd.concat(
        {
            "b": bijstand_per_1000.astype(float),
            "x": non_european_share.astype(float),
            "n": inwoners.astype(float),
        },
        axis=1,
    ).dropna()
    frame = frame[(frame["b"] > 0) & (frame["n"] > 0)]
    if len(frame) < 10:
        raise ValueError(f"only {len(frame)} gemeenten with bijstand and composition")
    y = np.log(frame["b"].to_numpy())
    x = np.column_stack([np.ones(len(frame)), frame["x"], np.log(frame["n"])])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    e = pd.Series(y - x @ coef, index=frame.index)
    total = float(np.sqrt((e**2).sum() / (len(e) - x.shape[1])))
    if amr is None:
        return 0.0, total, len(e)
    groups = amr.reindex(e.index)
    e, groups = e[groups.notna()], groups[groups.notna()]
    sizes = groups.value_counts()
    k, n = len(sizes), len(e)
    if k < 2 or n <= k:
        return 0.0, total, len(e)
    means = e.groupby(groups).mean()
    msb = float((sizes * (means - e.mean()) ** 2).sum() / (k - 1))
    msw = float(((e - groups.map(means)) ** 2).sum() / (n - k))
    n0 = (n - float((sizes**2).sum()) / n) / (k - 1)
    var_amr = max(0.0, (msb - msw) / n0)
    return float(np.sqrt(var_amr)), float(np.sqrt(msw)), n


def variation_for(inputs: Inputs, card: MethodCard, amr: pd.Series | None) -> Variation | None:
    """The local variation of a year: from the data where it can be, else the card's."""
    fallback = card.local_sd.value
    b = getattr(inputs, "bijstand_per_1000", None)
    x = getattr(inputs, "non_european_share", None)
    if card.local_from_data and b is not None and x is not None:
        try:
            sd_amr, sd_gm, n = residual_spread(b, x, inputs.inwoners, amr)
        except ValueError as exc:
            reason = str(exc)
        else:
            return Variation(
                sd_amr,
                sd_gm,
                f"restspreiding van log bijstand per 1.000 na aandeel buiten Europa geborenen "
                f"en omvang ({inputs.bijstand_table}, {inputs.table.table}), {n} gemeenten",
                amr,
                n,
            )
    else:
        reason = "geen bijstand of herkomst buiten Europa in de gegevens"
    if fallback <= 0:
        return None
    return Variation(0.0, fallback, f"methodekaart (local_sd): {reason}", None, 0)


def simulate(
    w: pd.DataFrame,
    card: MethodCard,
    local: LocalData | None = None,
    variation: Variation | None = None,
) -> tuple[Draws, dict[str, Funnel]]:
    """Seeded Monte Carlo of ``J`` over every card parameter that has a range.

    ``J[d,m] = s[d] · N[d,m] · L[d,m]`` with ``N[d,m] = Σ_g W[m,g] · (1 − EI[d,g])`` and
    ``L`` the log-normal local variation (:class:`Variation`); then binomial noise
    (``card.binomial``): ``J`` of the ``W`` people, by its normal approximation with a fixed
    standard normal per cell, never below 0 (so more people never gives fewer job-seekers in
    a draw). With the local factor (β ≠ 0) that draw's ``f[d,m] = (R[d,m] / R[d,NL]) **
    β[d]`` (:func:`rest_bijstand_rate` with that draw's ``N`` and ``q``), kept per origin
    group (:func:`group_factors`), moves the draw's job-seekers between gemeenten last, and
    the draw's national total is put back exactly: every draw has the same national total
    as without the factor. Same seed, same numbers. Also returns, per outreach scenario, the
    draws of its funnel (:func:`funnel_draws`).
    """
    rng = streams.rng(card.seed, Stream.RATES)
    n = card.draws
    groups = list(w.columns)
    by_name = {g.name: g for g in card.groups}
    dist = card.distribution
    ei = np.column_stack([sample_rate(by_name[g].ei, n, rng, dist) for g in groups])
    s = sample_rate(card.job_seeking, n, rng, dist)
    beta = sample_rate(card.beta, n, rng, dist)
    q = sample_rate(card.target_bijstand_share, n, rng, dist)
    wm = np.nan_to_num(w.to_numpy(dtype=float))  # gemeenten × groups
    n_draws = (1.0 - ei) @ wm.T  # draws × gemeenten
    j = n_draws * s[:, None]
    moved = np.ones_like(j)  # the local factor's move per draw and gemeente (1: none)
    if local is not None:
        inw = local.inwoners.reindex(w.index).to_numpy(dtype=float)
        b = local.bijstand_per_1000.reindex(w.index).to_numpy(dtype=float) / 1000.0 * inw
        b = np.where((b > 0) & (b < SMALL_COUNT), np.nan, b)  # rounded by KWB: missing
        rest, rest_nl = rest_rates(b, q[:, None] * n_draws, inw, wm.sum(axis=1))
        per_draw = np.asarray(rest_nl)[:, None]  # one national rate per draw
        f = local_factors(rest, per_draw, beta[:, None])
        known = (rest > 0).astype(float)  # draws × gemeenten
        # per group: k[d, g] = Σ_known W[m, g] / Σ_known W[m, g] · f[d, m] (s and EI cancel)
        weighted = (known * np.nan_to_num(f)) @ wm  # draws × groups
        k = np.divide(known @ wm, weighted, where=weighted > 0, out=np.ones_like(weighted))
        # a gemeente moves by f times its groups' k, weighted by its own N per group
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (((1.0 - ei) * k) @ wm.T) / n_draws
        moved = np.where(known > 0, f * np.nan_to_num(share, nan=1.0), 1.0)
    params = {"ei": ei, "s": s, "beta": beta, "q": q}
    var_rates = np.var(np.log(np.maximum(j * moved, 1e-300)) - np.log(s)[:, None], axis=0)
    var_local = np.zeros(j.shape[1])
    if variation is not None and variation.sd > 0:
        lrng = streams.rng(card.seed, Stream.LOCAL)
        log_f = variation.sd_gemeente * lrng.standard_normal(j.shape)
        if variation.amr is not None and variation.sd_amr > 0:
            cats = pd.Categorical(variation.amr.reindex(w.index).fillna("?"))
            eta = lrng.standard_normal((n, len(cats.categories)))
            log_f += variation.sd_amr * eta[:, cats.codes]
        j *= np.exp(log_f - variation.sd**2 / 2)
        var_local = np.var(log_f, axis=0)
    if card.binomial:
        mean = np.maximum(j.mean(axis=0), 1e-9)
        share_w = np.clip(mean / np.maximum(wm.sum(axis=1), 1e-9), 0.0, 1.0)
        var_local = var_local + (1.0 - share_w) / mean  # delta method: Var log J ≈ (1 − p)/J
        brng = streams.rng(card.seed, Stream.BINOMIAL)
        z = brng.standard_normal(j.shape)
        people = np.maximum(wm.sum(axis=1), 1e-9)[None, :]
        p = np.clip(j / people, 0.0, 1.0)
        j = np.maximum(j + z * np.sqrt(j * (1.0 - p)), 0.0)
    if local is not None:  # last, and the draw's national total put back exactly
        total = j.sum(axis=1, keepdims=True)
        j = j * moved
        now = j.sum(axis=1, keepdims=True)
        j *= np.divide(total, now, where=now > 0, out=np.ones_like(now))
    spread = spread_shares(float(np.var(np.log(s))), var_rates, var_local, w.index)
    draws = Draws(w.index, j, params, card.seed, spread)
    return draws, funnel_draws(card, n)


def spread_shares(
    var_s: float, var_rates: np.ndarray, var_local: np.ndarray, codes: pd.Index
) -> pd.DataFrame:
    """Per gemeente, the share of the variance of log J from each source of uncertainty.

    ``J = s · N · f · L`` is a product of independent factors, so the variance of its log
    is the sum of theirs: the assumption ``s`` (the same everywhere), the national rates
    (economic independence per group, and the local factor's β and q), and the local
    variation ``L`` with the chance of small numbers (binomial, by the delta method).
    """
    total = var_s + var_rates + var_local
    total = np.where(total > 0, total, 1.0)
    return pd.DataFrame(
        {
            "aandeel_s": var_s / total,
            "aandeel_landelijk": var_rates / total,
            "aandeel_lokaal": var_local / total,
        },
        index=codes,
    )


@dataclass(frozen=True)
class Funnel:
    """Draws of one scenario's funnel per job-seeker over the period (one per draw)."""

    #: planned contacts per job-seeker: the contact share
    contacts: np.ndarray
    #: conversations ("gesprekken") per job-seeker: contact share × reach shortfall
    conversations: np.ndarray
    #: placements per job-seeker: conversations × placements per conversation
    placements: np.ndarray
    #: euro per placement in that draw: the programme's cost over its placements
    cost: np.ndarray

    @property
    def cost_per_seeker(self) -> np.ndarray:
        """Euro per job-seeker over the period: placements × cost per placement."""
        out: np.ndarray = self.placements * self.cost
        return out


def funnel_draws(card: MethodCard, n: int) -> dict[str, Funnel]:
    """Per outreach scenario, ``n`` draws of its funnel, from a random stream of their own.

    The cost per placement is one fact with the placement rate (method.md, step 6): in each
    draw it is the programme's cost over the placements its conversations give at that
    draw's placement rate of the card's ``cost_scenario``, never drawn on its own.
    """
    rng = streams.rng(card.seed, Stream.FUNNEL)
    dist = card.distribution
    c = sample_rate(card.contact_share, n, rng, dist)
    drawn = {}
    for name, sc in card.scenarios.items():
        p = sample_rate(sc.placement_rate, n, rng, dist)
        conv = c * sample_rate(sc.reach_factor, n, rng, dist) if sc.reach_factor else c
        drawn[name] = (conv, p)
    rate = drawn[card.cost_scenario][1]
    conversations = sample_rate(card.programme_conversations, n, rng, dist)
    programme = sample_rate(card.programme_cost, n, rng, dist)
    cost = programme / (conversations * np.maximum(rate, 1e-12))
    return {name: Funnel(c, conv, conv * p, cost) for name, (conv, p) in drawn.items()}


# --- the whole estimate -----------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """What the local figures did (:func:`calibrate`).

    Per gemeente its figure as ``J`` and the ratio figure / estimate; the factor on ``s``
    for the others, with its spread.
    """

    #: gemeentecode -> the figure as job-seekers (``werkzoekend``, or ``bijstand`` × s / q)
    target: dict[str, float]
    #: gemeentecode -> figure / estimate before calibration
    ratio: dict[str, float]
    #: the factor on ``s`` for the gemeenten without a figure (geometric mean of the ratios)
    factor: float
    #: the spread (sd of log) of the ratios; 0 with one figure (the card's range is kept)
    spread: float
    #: gemeentecode -> "gekalibreerd op lokale cijfers (bron, peildatum)"
    label: dict[str, str]

    def record(self) -> Record:
        """For the manifest: the rule, the factor on s and its spread, the figures."""
        return {
            "regel": CALIBRATION_RULE,
            "factor_s": self.factor,
            "spreiding_log": self.spread,
            "gemeenten": {
                c: {"doel": self.target[c], "verhouding": self.ratio[c]} for c in self.target
            },
        }


#: How local figures move the estimate (method.md, "Local figures").
CALIBRATION_RULE = (
    "Een gemeente met een eigen cijfer krijgt dat cijfer als schatting (werkzoekenden; een "
    "bijstandscijfer omgerekend met s / q van de methodekaart), met de marge van het cijfer als "
    "onzekerheid. Voor de andere gemeenten wordt s vermenigvuldigd met het meetkundig gemiddelde "
    "van de verhoudingen cijfer / schatting; met twee of meer cijfers bepaalt de spreiding van "
    "die verhoudingen ook de spreiding van s."
)


def calibrate(
    j: pd.Series,
    j_groups: pd.DataFrame,
    draws_j: np.ndarray,
    s_draws: np.ndarray,
    card: MethodCard,
    figures: dict[str, LocalFigure],
    seed: int,
) -> tuple[pd.Series, pd.DataFrame, np.ndarray, Calibration]:
    """Calibrate the estimate to local figures (:data:`CALIBRATION_RULE`).

    A gemeente with a figure: ``J`` = its figure as job-seekers (``werkzoekend`` as it is,
    ``bijstand`` × s / q at the card's central values), its groups scaled alike, and in each
    draw its figure times a log-normal with the figure's margin as standard deviation (mean
    1; its own stream, so the other draws do not move). The others: ``s`` times ``k``, the
    geometric mean of figure / estimate over the calibrated gemeenten; with two or more
    figures, in each draw ``s`` is ``s₀ · k · exp(σ · z[d])``, σ the spread of the log ratios
    and ``z[d]`` that draw's own standardised ``log s`` (the draws keep their order); with
    one, ``s[d] · k``. Returns the new central ``J``, groups, draws and what was done.
    """
    codes = j.index
    target: dict[str, float] = {}
    ratio: dict[str, float] = {}
    label: dict[str, str] = {}
    s0, q0 = card.job_seeking.value, card.target_bijstand_share.value
    for code, f in figures.items():
        t = f.waarde if f.wat == "werkzoekend" else f.waarde * s0 / q0
        target[code] = float(t)
        ratio[code] = float(t / j[code]) if j[code] > 0 else float("nan")
        label[code] = f"gekalibreerd op lokale cijfers ({f.bron}, {f.peildatum})"
    logs = np.log([r for r in ratio.values() if np.isfinite(r) and r > 0])
    k = float(np.exp(logs.mean())) if len(logs) else 1.0
    spread = float(np.std(logs, ddof=1)) if len(logs) > 1 else 0.0
    if s0 * k > 1.0:  # more job-seekers than people not independent: the figures disagree
        shown = ", ".join(f"{c} {nl_dec(r, 2)}" for c, r in list(ratio.items())[:5])
        raise ConfigError(
            f"De eigen cijfers geven voor de andere gemeenten s = {nl_dec(s0 * k, 2)}: meer "
            "werkzoekenden dan niet-zelfstandigen, wat niet kan. Verhouding cijfer / schatting: "
            f"{shown}. Kijk of het cijfer telt wat 'wat' zegt (werkzoekenden uit de "
            "doelgroepen, of statushouders met bijstand), en van dezelfde leeftijden."
        )
    mine = codes.isin(list(figures))
    j_new = j.copy()
    j_new[~mine] = j[~mine] * k
    groups = j_groups.copy()
    groups.loc[~mine] = j_groups.loc[~mine] * k
    out = draws_j.copy()
    log_s = np.log(s_draws)
    if spread > 0 and np.std(log_s) > 0:
        z = (log_s - log_s.mean()) / np.std(log_s)
        s_new = s0 * k * np.exp(spread * z - spread**2 / 2)
    else:
        s_new = s_draws * k
    s_new = np.minimum(s_new, 1.0)  # a share: never more job-seekers than not independent
    out[:, ~mine] *= (s_new / s_draws)[:, None]
    rng = streams.rng(seed, Stream.LOCAL_FIGURES)
    eps = rng.standard_normal((draws_j.shape[0], len(figures)))
    for i, (code, f) in enumerate(figures.items()):
        at = codes.get_loc(code)
        j_new[code] = target[code]
        total = j_groups.loc[code].sum()
        share = j_groups.loc[code] / total if total > 0 else 1.0 / j_groups.shape[1]
        groups.loc[code] = share * target[code]
        out[:, at] = target[code] * np.exp(f.marge * eps[:, i] - f.marge**2 / 2)
    if not float(np.nansum(j_new)) > 0:
        raise ConfigError(
            "Met deze eigen cijfers zijn er nergens werkzoekenden: elke gemeente kreeg 0. "
            "Geef alleen cijfers die de gemeente echt telde."
        )
    return j_new, groups, out, Calibration(target, ratio, k, spread, label)


@dataclass
class Estimate:
    """Result of :func:`estimate`: the gemeente table, the national row, the draws."""

    year: int
    card: MethodCard
    table: pd.DataFrame
    national: pd.DataFrame
    draws: Draws
    checks: Record
    notes: list[str]
    provenance: list[SourceRecord]
    #: provincie code -> inhabitants from the population table's own provincie rows
    provincie_inwoners: pd.Series | None = None
    #: the Kerncijfers table of the local factor's bijstand rates (None: not used)
    bijstand_table: str | None = None
    #: why this year, when the tool chose it (latest with the card's inputs); else empty
    year_note: str = ""
    #: scenario name -> the funnel per gemeente over the period (index gemeentecode)
    scenarios: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: scenario name -> draws of its funnel per job-seeker over the period
    funnels: dict[str, Funnel] = field(default_factory=dict)
    #: the local factor per gemeente (1 everywhere when β = 0)
    local: pd.Series | None = None
    #: :func:`sensitivity`: every parameter with a range at its bounds
    sensitivity: Sensitivity | None = None
    #: the local variation in the draws (None: national rates only)
    variation: Variation | None = None
    #: gemeentecode -> residents in reception taken out of the target population (--opvang)
    reception: dict[str, ReceptionRow] = field(default_factory=dict)
    #: what a gemeente's own figures did (--lokale-cijfers); None: none given
    calibration: Calibration | None = None
    #: gemeentecode -> the figure it was calibrated to
    figures: dict[str, LocalFigure] = field(default_factory=dict)

    def variation_record(self) -> Record | None:
        """The local variation for the manifest (``None``: national rates only)."""
        return self.variation.record() if self.variation is not None else None

    def placements_interval(self, scenario: str, code: str | None = None) -> tuple[float, ...]:
        """p10, p50, p90 of placements over the period, for one gemeente or the Netherlands.

        Within each draw: that draw's ``J`` times that draw's funnel.
        """
        if code is None:
            j = self.draws.j.sum(axis=1)
        else:
            j = self.draws.j[:, self.draws.codes.get_loc(code)]
        p = np.percentile(j * self.funnels[scenario].placements, (10, 50, 90))
        return float(p[0]), float(p[1]), float(p[2])

    def cost_interval(self, scenario: str, code: str | None = None) -> tuple[float, ...]:
        """p10, p50, p90 of the cost over the period (euro), one joint draw each.

        Within each draw: that draw's ``J`` × placements per job-seeker × cost per placement,
        the cost per placement following from that draw's placement rate.
        """
        if code is None:
            j = self.draws.j.sum(axis=1)
        else:
            j = self.draws.j[:, self.draws.codes.get_loc(code)]
        p = np.percentile(j * self.funnels[scenario].cost_per_seeker, (10, 50, 90))
        return float(p[0]), float(p[1]), float(p[2])


@dataclass
class Central:
    """Steps 2–4 at the card's central values: N and J per gemeente and group, the factor."""

    n: pd.DataFrame
    j_groups: pd.DataFrame
    factor: pd.Series
    notes: list[str]
    #: gemeentecode -> why a figure is missing there (Dutch, for the ``geen_gegevens`` column)
    gaps: dict[str, str] = field(default_factory=dict)

    @property
    def j(self) -> pd.Series:
        """J per gemeente (missing where a group is missing)."""
        return self.j_groups.sum(axis=1, min_count=self.j_groups.shape[1])


def central(w: pd.DataFrame, card: MethodCard, local: LocalData | None) -> Central:
    """Steps 2–4 on the target population ``w`` (gemeenten × groups) at central values."""
    ei = pd.Series({g.name: g.ei.value for g in card.groups})
    n = not_independent(w, ei)
    j_groups = job_seeking(n, card.job_seeking.value)
    notes: list[str] = []
    if local is None:
        return Central(n, j_groups, pd.Series(1.0, index=w.index), notes)
    rest, rest_nl, notes = rest_bijstand_rate(
        local.bijstand_per_1000.reindex(w.index),
        local.inwoners.reindex(w.index),
        w.sum(axis=1),
        n.sum(axis=1),
        card.target_bijstand_share.value,
        local.names,
    )
    raw = local_factor(rest, rest_nl, card.beta.value).to_numpy(dtype=float)
    known = (rest.to_numpy(dtype=float) > 0) & np.isfinite(j_groups.to_numpy(float)).all(axis=1)
    values = j_groups.to_numpy(dtype=float)
    moved = group_factors(np.nan_to_num(values), raw, known)
    moved[~np.isfinite(values)] = np.nan
    j_local = pd.DataFrame(moved, index=j_groups.index, columns=j_groups.columns)
    total = j_groups.sum(axis=1)
    factor = (j_local.sum(axis=1) / total).where(total > 0, 1.0)
    unknown = sorted(rest.index[~(rest.astype(float) > 0)])
    gaps = _bijstand_gaps(local.bijstand_per_1000.reindex(w.index), local.inwoners, unknown)
    if unknown:
        label = local.names if local.names is not None else pd.Series(unknown, index=unknown)
        shown = ", ".join(str(label.get(c, c)) for c in unknown[:8])
        notes.append(
            f"Lokale factor: {_gemeenten(len(unknown))} zonder bruikbaar bijstandscijfer "
            f"({shown}{' …' if len(unknown) > 8 else ''}) houden de landelijke aandelen "
            "(factor precies 1): geen gegevens, geen 0 werkzoekenden."
        )
    notes.append(
        "Lokale factor per herkomstgroep herschaald over de gemeenten met een bijstandscijfer, "
        "zodat het landelijke totaal van elke groep gelijk blijft, ook in elke doorrekening: "
        "de factor verschuift werkzoekenden tussen gemeenten, de landelijke aandelen bepalen "
        "hun aantal."
    )
    return Central(n, j_local, factor, notes, gaps)


def _spread_gaps(inputs: Inputs, variation: Variation | None) -> dict[str, str]:
    """Gemeenten without a bijstand figure when only the local spread reads it (β = 0)."""
    b = getattr(inputs, "bijstand_per_1000", None)
    if b is None or variation is None or variation.n == 0:
        return {}
    missing = b.reindex(inputs.inwoners.index).isna()
    return {
        str(code): "bijstandscijfer: CBS geeft het niet; telt niet mee in de lokale spreiding"
        for code in missing.index[missing]
    }


def _bijstand_gaps(per_1000: pd.Series, inwoners: pd.Series, unknown: list[str]) -> dict[str, str]:
    """Why each gemeente in ``unknown`` has no local factor, in the words of the tables."""
    count = per_1000.astype(float) / 1000.0 * inwoners.reindex(per_1000.index).astype(float)
    why = {}
    for code in unknown:
        b = count.get(code)
        if b is None or not np.isfinite(b):
            why[code] = (
                "bijstandscijfer: CBS geeft het niet; landelijke aandelen, geen lokale factor"
            )
        elif 0 < b < SMALL_COUNT:
            why[code] = (
                f"bijstandscijfer: minder dan {SMALL_COUNT}, door CBS afgerond; landelijke "
                "aandelen, geen lokale factor"
            )
        else:
            why[code] = "bijstandscijfer: niet bruikbaar; landelijke aandelen, geen lokale factor"
    return why


#: Columns of the sensitivity table (the ranking adds the selection picks that change).
SENSITIVITY_COLUMNS = (
    "parameter",
    "werkt_op",
    "scenario",
    "bron",
    "aanname",
    "laag",
    "centraal",
    "hoog",
    "werkzoekend_laag",
    "werkzoekend_centraal",
    "werkzoekend_hoog",
    "plaatsingen_laag",
    "plaatsingen_centraal",
    "plaatsingen_hoog",
)


def _acts_on(name: str) -> str:
    """What a parameter moves, in Dutch (the sensitivity table's ``werkt_op``)."""
    if name in ("beta", "target_bijstand_share"):
        return "lokale factor"
    if name == "local_sd":
        return "onzekerheid (spreiding tussen gemeenten in de doorrekeningen)"
    if name == "region_reach":
        return "selectie van voortrekkersgemeenten (bereik in de regio)"
    if name == "cost_per_placement":
        return "kosten"
    if name == "contact_share" or "." in name and not name.startswith("ei."):
        return "scenario (contacten, plaatsingen)"
    return "schatting"


def _unused(name: str, card: MethodCard, variation: Variation | None) -> bool:
    """Whether the card does not use parameter ``name`` (then it has no sensitivity row)."""
    if name in ("beta", "target_bijstand_share"):
        return not card.uses_local_factor
    if name == "local_sd":  # only the fallback when the data cannot give the spread
        return variation is None or not variation.source.startswith("methodekaart")
    return False


@dataclass(frozen=True)
class Sensitivity:
    """Each parameter at its bounds: the table, and central J per gemeente at each bound.

    ``j[(parameter, "laag" | "hoog")]`` is J per gemeente (the estimate's order) with that
    parameter at that bound and every other at its central value (the estimate's own
    ``werkzoekend`` is all central). The ranking re-solves the selection on these to count
    the picks that change.
    """

    table: pd.DataFrame
    j: dict[tuple[str, str], np.ndarray]


def sensitivity(
    w: pd.DataFrame,
    card: MethodCard,
    local: LocalData | None,
    variation: Variation | None = None,
) -> Sensitivity:
    """One parameter at a time at its low and high bound, everything else central.

    For every card parameter with a range that the card uses (not the local factor's with
    β = 0, not ``local_sd`` when the spread comes from the data): the national J and the
    national placements over the period (in the parameter's own scenario, else the card's).
    """

    def run(c: MethodCard, scenario: str) -> tuple[np.ndarray, float]:
        j = central(w, c, local).j
        placed = scenario_outreach(j, c, scenario)["plaatsingen"].sum()
        return j.to_numpy(dtype=float), float(placed)

    rows = []
    bounds: dict[tuple[str, str], np.ndarray] = {}
    bases: dict[str, tuple[np.ndarray, float]] = {}  # the central run per scenario
    for name, rate in card.rates().items():
        if not rate.has_range or _unused(name, card, variation):
            continue
        scen = name.partition(".")[2]
        scenario = scen if scen in card.scenarios else card.scenario
        if scenario not in bases:
            bases[scenario] = run(card, scenario)
        base_j, base_placed = bases[scenario]
        lo = run(card.with_value(name, rate.low), scenario)
        hi = run(card.with_value(name, rate.high), scenario)
        bounds[(name, "laag")], bounds[(name, "hoog")] = lo[0], hi[0]
        rows.append(
            {
                "parameter": name,
                "werkt_op": _acts_on(name),
                "scenario": scenario,
                "bron": rate.source,
                "aanname": rate.assumption,
                "laag": rate.low,
                "centraal": rate.value,
                "hoog": rate.high,
                "werkzoekend_laag": float(np.nansum(lo[0])),
                "werkzoekend_centraal": float(np.nansum(base_j)),
                "werkzoekend_hoog": float(np.nansum(hi[0])),
                "plaatsingen_laag": lo[1],
                "plaatsingen_centraal": base_placed,
                "plaatsingen_hoog": hi[1],
            }
        )
    out = pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))
    spread = (out["werkzoekend_hoog"] - out["werkzoekend_laag"]).abs()
    placed = (out["plaatsingen_hoog"] - out["plaatsingen_laag"]).abs()
    order = np.lexsort((-placed.to_numpy(), -spread.to_numpy()))
    return Sensitivity(out.iloc[order].reset_index(drop=True), bounds)


def estimate(
    inputs: Inputs,
    card: MethodCard,
    *,
    amr: pd.Series | None = None,
    reception: LocalFile | None = None,
    figures: LocalFile | None = None,
    variation: Variation | None = None,
    with_sensitivity: bool = True,
) -> Estimate:
    """Run the method on gathered inputs; one row per gemeente with data that year.

    ``amr``: gemeentecode -> arbeidsmarktregio, for the regional component of the local
    variation. ``reception``: residents in reception per gemeente (``--opvang``), taken
    out of the target population first, spread over the groups as the gemeente's own
    target population is. ``figures``: a gemeente's own figures (``--lokale-cijfers``), to
    which the estimate is calibrated last (:func:`calibrate`). Rows that do not fit the
    year are refused together, naming each line. ``variation``: the local variation to
    draw with instead of this year's own (a trend draws every year with the last year's,
    so that its draws stay common). ``with_sensitivity=False`` leaves out the table of each
    parameter at its bounds (a trend's earlier years show none).
    """
    codes = inputs.inwoners.index
    w = target_population(inputs.population, inputs.weights)
    w = w.reindex(index=codes, columns=[g.name for g in card.groups])
    taken = _take_out(w, reception, inputs.year) if reception is not None else {}
    own = _checked_figures(w, figures, inputs.year) if figures is not None else {}
    local = LocalData.of(inputs, card)
    mid = central(w, card, local)
    n, j_groups, factor, j = mid.n, mid.j_groups, mid.factor, mid.j
    notes = [*inputs.notes, *mid.notes]
    if variation is None:
        variation = variation_for(inputs, card, amr)
    draws, funnels = simulate(w, card, local, variation)
    calibration = None
    if own:
        j, j_groups, draws.j, calibration = calibrate(
            j, j_groups, draws.j, draws.params["s"], card, own, card.seed
        )
        notes.append(
            f"Gekalibreerd op lokale cijfers van {_gemeenten(len(own))}: voor de andere "
            f"gemeenten is s vermenigvuldigd met {nl_dec(calibration.factor, 2)}."
        )
    if taken:
        total = sum(r.bewoners for r in taken.values())
        notes.append(
            f"Opvang: {nl_int(total)} bewoners van opvanglocaties in {_gemeenten(len(taken))} "
            "buiten de doelgroep gehouden (eigen bestand, zie de bronnen)."
        )
    route_a, route_b = routes(j, card.route_a.value)
    scenarios = {name: scenario_outreach(j, card, name) for name in card.scenarios}
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
    table = table.join(scenarios[card.scenario])
    table["bron_schatting"] = (
        pd.Series(calibration.label if calibration is not None else {}, dtype="string")
        .reindex(codes)
        .fillna("geschat")
    )
    # a figure CBS does not give (a real gap) is said where the gemeente's row is
    gaps = mid.gaps if local is not None else _spread_gaps(inputs, variation)
    table["geen_gegevens"] = pd.Series(gaps, dtype="string").reindex(codes).fillna("")
    table.index.name = "gemeentecode"
    table = table.reset_index()

    sums = table.drop(
        columns=["gemeentecode", "gemeentenaam", "jaar", "geen_gegevens", "bron_schatting"]
    ).sum(min_count=1)
    nat = {"gemeentecode": "NL01", "gemeentenaam": "Nederland", "jaar": inputs.year}
    nat["bron_schatting"] = (
        f"geschat; {_gemeenten(len(own))} gekalibreerd op lokale cijfers" if own else "geschat"
    )
    nat["geen_gegevens"] = (
        f"{_gemeenten(len(gaps))} zonder bijstandscijfer (zie die rijen)" if gaps else ""
    )
    nat.update({str(k): float(v) for k, v in sums.items()})
    nat.update(draws.national())
    nat["werkzoekend_per_1000"] = float(
        per_1000(pd.Series([nat["werkzoekend"]]), pd.Series([nat["inwoners"]]))[0]
    )
    national = pd.DataFrame([nat], columns=table.columns)

    checks = _national_checks(inputs, card)
    provenance = inputs.provenance()
    for f in (reception, figures):
        if f is not None:
            provenance.append(cast(SourceRecord, f.source()))
    return Estimate(
        year=inputs.year,
        card=card,
        table=table,
        national=national,
        draws=draws,
        checks=checks,
        notes=notes,
        provenance=provenance,
        provincie_inwoners=inputs.provincie_inwoners,
        bijstand_table=inputs.bijstand_table,
        scenarios=scenarios,
        funnels=funnels,
        local=factor.rename("lokale_factor"),
        sensitivity=sensitivity(w, card, local, variation) if with_sensitivity else None,
        variation=variation,
        reception=taken,
        calibration=calibration,
        figures=own,
    )


def _fit_year(w: pd.DataFrame, file: LocalFile, year: int) -> None:
    """Refuse (every bad row named) a local file's rows that do not fit the year.

    A row fits when its gemeente is one of the year's and its number (residents in
    reception, or a figure) is not above that gemeente's target population.
    """
    problems: list[str] = []
    for code, row in file.rows.items():
        if code not in w.index:
            problems.append(f"regel {row.line}: {code} is geen gemeente van {year}")
            continue
        total = float(np.nansum(w.loc[code].to_numpy(dtype=float)))
        amount = row.bewoners if isinstance(row, ReceptionRow) else row.waarde
        word = "bewoners" if isinstance(row, ReceptionRow) else WHAT_WORD[row.wat]
        if amount > total:
            problems.append(
                f"regel {row.line}: {nl_int(amount)} {word} is meer dan de doelgroep van "
                f"{code} ({nl_int(total)})"
            )
    file.refuse(problems)


def _take_out(w: pd.DataFrame, reception: LocalFile, year: int) -> dict[str, ReceptionRow]:
    """Lower ``w`` (in place) by the residents in reception, spread over the groups."""
    _fit_year(w, reception, year)
    rows = cast("dict[str, ReceptionRow]", reception.rows)
    for code, row in rows.items():
        total = float(np.nansum(w.loc[code].to_numpy(dtype=float)))
        if total > 0:
            w.loc[code] = w.loc[code] * ((total - row.bewoners) / total)
    return dict(rows)


def _checked_figures(w: pd.DataFrame, figures: LocalFile, year: int) -> dict[str, LocalFigure]:
    """The local figures, if each fits the year (:func:`_fit_year`)."""
    _fit_year(w, figures, year)
    return dict(cast("dict[str, LocalFigure]", figures.rows))


#: A local figure's kind in a message.
WHAT_WORD = {"werkzoekend": "werkzoekenden", "bijstand": "statushouders met bijstand"}


def _national_checks(inputs: Inputs, card: MethodCard) -> Record:
    """Compare sums over gemeenten with CBS's national row, where CBS publishes one."""
    checks: Record = {}
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
