"""Ranking candidate voortrekkersgemeenten: transparent scores, a constrained selection, reasons.

Score (``method.md``, "Ranking"): ``0.5 · pct(J) + 0.3 · pct(J per 1,000) + 0.2 · pct(growth
of W over two years)``, where ``pct`` is the percentile rank among the gemeenten (0–1].
Each criterion's contribution is a column of its own. When a criterion is missing for a
gemeente (growth of a gemeente that did not exist two years ago), the weights of the other
criteria are scaled up so that the score stays on the same 0–1 scale; the reason says so.

Selection is greedy by score, so that every decision can be explained: a gemeente is taken
unless a constraint forbids it, and before taking it an exact feasibility check (a small
integer programme) makes sure the remaining constraints (a minimum number of small
gemeenten) can still be met. An impossible set of constraints is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.errors import (
    ConfigError,
    InfeasibleError,  # noqa: F401
    VibError,
    did_you_mean,
)
from vluchtelingen_in_beeld.fmt import nl_dec, nl_int, nl_pct, nl_range

CRITERIA = ("volume", "concentratie", "groei")
CRITERION_LABELS = {
    "volume": "aantal werkzoekende vluchtelingen",
    "concentratie": "aantal per 1.000 inwoners",
    "groei": "groei van de doelgroep in twee jaar",
}
DEFAULT_WEIGHTS: dict[str, float] = {"volume": 0.5, "concentratie": 0.3, "groei": 0.2}


def parse_weights(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """``"volume=0.5,concentratie=0.3,groei=0.2"`` -> dict; unnamed criteria get 0."""
    if text is None:
        return dict(DEFAULT_WEIGHTS)
    items: list[tuple[str, float]] = []
    if isinstance(text, Mapping):
        items = [(str(k), float(v)) for k, v in text.items()]
    else:
        for part in str(text).split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ConfigError(
                    f"--weights: {part.strip()!r} is not name=value; e.g. "
                    "--weights volume=0.5,concentratie=0.3,groei=0.2"
                )
            key, raw = part.split("=", 1)
            try:
                items.append((key.strip(), float(raw)))
            except ValueError:
                raise ConfigError(f"--weights: {raw.strip()!r} is not a number.") from None
    weights = dict.fromkeys(CRITERIA, 0.0)
    for name, value in items:
        if name not in CRITERIA:
            raise ConfigError(
                f"--weights: unknown criterion {name!r}.{did_you_mean(name, CRITERIA)} "
                f"Criteria: {', '.join(CRITERIA)}."
            )
        if not np.isfinite(value) or value < 0:
            raise ConfigError(f"--weights: {name} must be 0 or more, got {value}.")
        weights[name] = float(value)
    if sum(weights.values()) <= 0:
        raise ConfigError("--weights: at least one weight must be above 0.")
    return weights


def percentile_rank(values: pd.Series) -> pd.Series:
    """Percentile rank among the non-missing values, in (0, 1]; missing stays missing.

    Ties share their average rank. The largest value gets 1.
    """
    return values.astype(float).rank(pct=True, method="average")


def contributions(values: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Per criterion ``weight · percentile rank``, and ``score`` their sum.

    ``values`` has one column per criterion. Where a criterion is missing, the others are
    scaled by ``Σ weights / Σ available weights`` (column ``herschaald`` is True there).
    """
    w = pd.Series({c: float(weights.get(c, 0.0)) for c in CRITERIA})
    pct = pd.DataFrame({c: percentile_rank(values[c]) for c in CRITERIA}, index=values.index)
    available = pct.notna().mul(w, axis=1).sum(axis=1)
    scale = (w.sum() / available).where(available > 0)
    out = pct.fillna(0.0).mul(w, axis=1).mul(scale, axis=0)
    out.columns = [f"bijdrage_{c}" for c in CRITERIA]
    out["score"] = out.sum(axis=1, min_count=1).where(available > 0)
    out["herschaald"] = pct[[c for c in CRITERIA if w[c] > 0]].isna().any(axis=1)
    return out


def _row_pct(x: np.ndarray) -> np.ndarray:
    """Percentile rank of each row's values across columns (draws × gemeenten)."""
    order = np.argsort(x, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(x.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, x.shape[1] + 1)[None, :]
    out: np.ndarray = ranks / x.shape[1]
    return out


def score_draws(
    j_draws: np.ndarray, inwoners: np.ndarray, growth: np.ndarray, weights: Mapping[str, float]
) -> np.ndarray:
    """Scores per Monte Carlo draw (draws × gemeenten), same formula as :func:`contributions`.

    Volume and concentration are ranked within each draw; growth is data, not drawn.
    """
    w = np.array([weights.get(c, 0.0) for c in CRITERIA], dtype=float)
    g_ok = np.isfinite(growth)
    g_pct = np.zeros_like(growth, dtype=float)
    if g_ok.any():
        g_pct[g_ok] = pd.Series(growth[g_ok]).rank(pct=True, method="average").to_numpy()
    vol = _row_pct(j_draws)
    conc = _row_pct(j_draws / inwoners[None, :])
    available = w[0] + w[1] + w[2] * g_ok
    scale = np.where(available > 0, w.sum() / np.where(available > 0, available, 1), 0)
    scores: np.ndarray = (w[0] * vol + w[1] * conc + (w[2] * g_pct)[None, :]) * scale[None, :]
    return scores


@dataclass(frozen=True)
class Constraints:
    """What the selection must respect."""

    n: int = 11
    max_per_provincie: int | None = 3
    max_per_regio: int | None = None
    min_klein: int = 0
    klein_onder: float = 50_000
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def check(self) -> None:
        """Reject nonsensical numbers before any work."""
        if self.n < 1:
            raise ConfigError(f"--n must be at least 1, got {self.n}.")
        for name, v in (
            ("--max-per-provincie", self.max_per_provincie),
            ("--max-per-regio", self.max_per_regio),
        ):
            if v is not None and v < 1:
                raise ConfigError(f"{name} must be at least 1 (or left out), got {v}.")
        if self.min_klein < 0:
            raise ConfigError(f"--min-klein must be 0 or more, got {self.min_klein}.")
        if self.klein_onder <= 0:
            raise ConfigError(f"--klein-onder must be above 0, got {self.klein_onder}.")
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise InfeasibleError(f"{', '.join(both)} is both included and excluded; choose one.")


@dataclass
class Selection:
    """The chosen gemeenten in order, and why every other one was passed over."""

    chosen: list[str]
    passed_over: dict[str, str] = field(default_factory=dict)


def _groups(frame: pd.DataFrame, c: Constraints) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    if c.max_per_provincie is not None:
        out.append(("provincie_code", "provincie", c.max_per_provincie))
    if c.max_per_regio is not None:
        out.append(("arbeidsmarktregio_code", "arbeidsmarktregio", c.max_per_regio))
    return out


def _feasible(frame: pd.DataFrame, c: Constraints, fixed_in: set[str], fixed_out: set[str]) -> bool:
    """Whether some selection of ``c.n`` gemeenten meets every constraint (exact, via HiGHS)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    codes = list(frame.index)
    m = len(codes)
    lb = np.array([1.0 if x in fixed_in else 0.0 for x in codes])
    ub = np.array([0.0 if x in fixed_out else 1.0 for x in codes])
    if (lb > ub).any():
        return False
    rows: list[np.ndarray] = [np.ones(m)]
    lo: list[float] = [c.n]
    hi: list[float] = [c.n]
    for col, _, cap in _groups(frame, c):
        for _, members in frame.groupby(col).groups.items():
            row = np.zeros(m)
            row[frame.index.get_indexer(members)] = 1.0
            rows.append(row)
            lo.append(0)
            hi.append(cap)
    if c.min_klein:
        rows.append((frame["inwoners"] < c.klein_onder).to_numpy(dtype=float))
        lo.append(c.min_klein)
        hi.append(np.inf)
    res = milp(
        np.zeros(m),
        integrality=np.ones(m),
        bounds=Bounds(lb, ub),
        constraints=LinearConstraint(np.vstack(rows), lo, hi),
        options={"time_limit": 20},
    )
    return bool(res.status == 0)


def _why_infeasible(frame: pd.DataFrame, c: Constraints) -> str:
    """A plain explanation of why no selection exists (first reason found)."""
    eligible = frame.drop(index=[x for x in c.exclude if x in frame.index])
    small = eligible["inwoners"] < c.klein_onder
    if len(c.include) > c.n:
        return f"{len(c.include)} gemeenten are forced in with --include but --n is {c.n}."
    if len(eligible) < c.n:
        if c.exclude:
            return f"only {len(eligible)} gemeenten are left after --exclude, fewer than --n {c.n}."
        return f"there are only {len(frame)} gemeenten, fewer than --n {c.n}."
    for col, label, cap in _groups(frame, c):
        counts = eligible.groupby(col).size()
        most = int(np.minimum(counts, cap).sum())
        if most < c.n:
            return (
                f"at most {cap} per {label} over {len(counts)} {label}s allows at most {most} "
                f"gemeenten, fewer than --n {c.n}. Raise the cap or lower --n."
            )
        forced = frame.loc[list(c.include)].groupby(col).size()
        over = forced[forced > cap]
        if len(over):
            name = frame.loc[frame[col] == over.index[0], label].iloc[0]
            return (
                f"--include forces {int(over.iloc[0])} gemeenten from {label} {name}, more than "
                f"the cap of {cap}."
            )
    if c.min_klein > c.n:
        return f"--min-klein {c.min_klein} is more than --n {c.n}."
    if int(small.sum()) < c.min_klein:
        return (
            f"only {int(small.sum())} eligible gemeenten have fewer than "
            f"{nl_int(c.klein_onder)} inwoners, fewer than --min-klein {c.min_klein}."
        )
    room = c.n - sum(1 for x in c.include if frame.at[x, "inwoners"] >= c.klein_onder)
    if room < c.min_klein:
        return (
            f"--include fills {c.n - room} of the {c.n} places with large gemeenten, leaving "
            f"{room} for the {c.min_klein} small ones --min-klein asks for."
        )
    return "the constraints together leave no possible selection; loosen one of them."


def select(frame: pd.DataFrame, c: Constraints) -> Selection:
    """Greedy selection by ``score`` under ``c``; ``frame`` is indexed by gemeentecode.

    Needs columns ``score``, ``inwoners``, ``provincie_code``, ``provincie``,
    ``arbeidsmarktregio_code``, ``arbeidsmarktregio``, ``gemeentenaam``.
    """
    c.check()
    unknown = [x for x in (*c.include, *c.exclude) if x not in frame.index]
    if unknown:
        raise ConfigError(f"Not among the ranked gemeenten: {', '.join(unknown)}.")
    fixed_in, fixed_out = set(c.include), set(c.exclude)
    if not _feasible(frame, c, fixed_in, fixed_out):
        raise InfeasibleError(
            f"No selection of {c.n} gemeenten is possible: {_why_infeasible(frame, c)}"
        )
    order = frame.sort_values(["score", "inwoners"], ascending=[False, False], na_position="last")
    chosen = [x for x in order.index if x in fixed_in]
    passed: dict[str, str] = {x: "Uitgesloten met --exclude." for x in c.exclude}
    groups = _groups(frame, c)
    for code in order.index:
        if len(chosen) >= c.n:
            break
        if code in fixed_in or code in fixed_out:
            continue
        row = frame.loc[code]
        full = None
        for col, label, cap in groups:
            same = [x for x in chosen if frame.at[x, col] == row[col]]
            if len(same) >= cap:
                names = ", ".join(str(frame.at[x, "gemeentenaam"]) for x in same)
                full = (
                    f"Niet gekozen: {label} {row[label]} heeft al {cap} gekozen "
                    f"gemeenten ({names})."
                )
                break
        if full:
            passed[code] = full
            fixed_out.add(code)
            continue
        if not _feasible(frame, c, set(chosen) | {code}, fixed_out):
            small_now = sum(1 for x in chosen if frame.at[x, "inwoners"] < c.klein_onder)
            if c.min_klein and row["inwoners"] >= c.klein_onder:
                passed[code] = (
                    f"Niet gekozen: de overige plaatsen zijn nodig voor kleine gemeenten (onder "
                    f"{nl_int(c.klein_onder)} inwoners; {c.min_klein} gevraagd, "
                    f"{small_now} gekozen)."
                )
            else:
                passed[code] = (
                    "Niet gekozen: met deze gemeente kunnen de beperkingen niet meer "
                    "allemaal kloppen."
                )
            fixed_out.add(code)
            continue
        chosen.append(code)
    if len(chosen) < c.n:  # pragma: no cover - the feasibility check rules this out
        raise InfeasibleError(f"Only {len(chosen)} of {c.n} gemeenten could be selected.")
    return Selection(chosen=chosen, passed_over=passed)


def _strongest(row: pd.Series, weights: Mapping[str, float]) -> tuple[str, float]:
    """The weighted criterion where the gemeente ranks highest, and its percentile rank."""
    pct = {
        c: row[f"bijdrage_{c}"] / weights[c]
        for c in CRITERIA
        if weights.get(c, 0) > 0 and not (c == "groei" and pd.isna(row.get("groei")))
    }
    best = max(pct, key=lambda k: (round(pct[k], 9), -CRITERIA.index(k)))
    return best, pct[best]


def _value_text(row: pd.Series, criterion: str) -> str:
    if criterion == "volume":
        return nl_int(row["werkzoekend"])
    if criterion == "concentratie":
        return nl_dec(row["werkzoekend_per_1000"]) + " per 1.000"
    return nl_pct(row.get("groei"), signed=True)


def reason_selected(
    row: pd.Series,
    place: int,
    c: Constraints,
    weights: Mapping[str, float],
    included: bool,
    runner_up: pd.Series | None,
) -> str:
    """One Dutch sentence: why this gemeente is in."""
    head = f"Gekozen als nummer {place} van {c.n} met score {nl_dec(row['score'], 3)}"
    if runner_up is not None:
        head += (
            f" (de hoogste niet gekozen gemeente, {runner_up['gemeentenaam']}, heeft "
            f"{nl_dec(runner_up['score'], 3)})"
        )
    text = (
        f"{head}: naar schatting {nl_int(row['werkzoekend'])} werkzoekende vluchtelingen "
        f"(p10–p90 {nl_range(row['werkzoekend_p10'], row['werkzoekend_p90'])}), "
        f"{nl_dec(row['werkzoekend_per_1000'])} per 1.000 inwoners"
    )
    if pd.notna(row.get("groei")):
        text += f", groei {nl_pct(row['groei'], signed=True)} in twee jaar"
    best, pct = _strongest(row, weights)
    text += f"; sterkste punt: {CRITERION_LABELS[best]} (hoger dan {nl_pct(pct)} van de gemeenten)"
    if included:
        text += "; vastgezet met --include"
    if c.min_klein and row["inwoners"] < c.klein_onder:
        text += f"; telt als kleine gemeente (onder {nl_int(c.klein_onder)} inwoners)"
    if row.get("herschaald"):
        text += "; groei onbekend, score op de andere criteria"
    return text + "."


def reason_not_selected(row: pd.Series, last: pd.Series) -> str:
    """One Dutch sentence for a gemeente below the cut: how far, and on which criterion."""
    gaps = {c: last[f"bijdrage_{c}"] - row[f"bijdrage_{c}"] for c in CRITERIA}
    worst = max(gaps, key=lambda k: gaps[k])
    return (
        f"Niet gekozen: score {nl_dec(row['score'], 3)} tegen {nl_dec(last['score'], 3)} voor "
        f"{last['gemeentenaam']}, de laatst gekozen gemeente; het verschil zit vooral in "
        f"{CRITERION_LABELS[worst]} ({_value_text(row, worst)} tegen {_value_text(last, worst)})."
    )


@dataclass
class Ranking:
    """The ranked table (contract columns first) and how it was made."""

    year: int
    table: pd.DataFrame
    weights: dict[str, float]
    constraints: Constraints
    notes: list[str] = field(default_factory=list)

    @property
    def selected(self) -> pd.DataFrame:
        """The selected gemeenten, in order of rank."""
        return self.table[self.table["geselecteerd"]]


CONTRACT = [
    "rang",
    "gemeentecode",
    "gemeentenaam",
    "provincie",
    "arbeidsmarktregio",
    "score",
    *[f"bijdrage_{c}" for c in CRITERIA],
    "kans_top_n",
    "geselecteerd",
    "reden",
]


def rank(
    est: Any,
    regions_frame: pd.DataFrame,
    growth: pd.Series | None,
    *,
    weights: Mapping[str, float] | None = None,
    constraints: Constraints = Constraints(),
) -> Ranking:
    """Score, select and explain. ``est`` is an :class:`~.estimate.Estimate`."""
    weights = parse_weights(weights)
    notes: list[str] = []
    t = est.table.set_index("gemeentecode")
    t = t.join(regions_frame.drop(columns=["gemeentenaam"], errors="ignore"), how="left")
    lost = t.index[t["provincie_code"].isna()]
    if len(lost):
        raise VibError(f"{len(lost)} gemeenten have no provincie: {', '.join(lost[:10])}.")
    t["groei"] = growth.reindex(t.index) if growth is not None else np.nan
    if growth is None and weights["groei"] > 0:
        notes.append("Groei niet beschikbaar: de score gebruikt alleen volume en concentratie.")
    values = pd.DataFrame(
        {
            "volume": t["werkzoekend"],
            "concentratie": t["werkzoekend_per_1000"],
            "groei": t["groei"].replace([np.inf, -np.inf], np.nan),
        }
    )
    t = t.join(contributions(values, weights))
    if t["score"].isna().any():
        bad = t.index[t["score"].isna()]
        raise VibError(f"No score for {len(bad)} gemeenten (no estimate): {', '.join(bad[:10])}.")

    sel = select(t, constraints)
    draws = est.draws
    sd = score_draws(
        draws.j,
        t["inwoners"].reindex(draws.codes).to_numpy(dtype=float),
        values["groei"].reindex(draws.codes).to_numpy(dtype=float),
        weights,
    )
    t["kans_top_n"] = draws.top_n_probability(sd, constraints.n).reindex(t.index)

    t = t.sort_values(["score", "inwoners"], ascending=[False, False])
    t["rang"] = np.arange(1, len(t) + 1)
    t["geselecteerd"] = t.index.isin(sel.chosen)
    place = {
        code: i + 1 for i, code in enumerate(sorted(sel.chosen, key=lambda x: t.at[x, "rang"]))
    }
    on_merit = [c for c in sel.chosen if c not in constraints.include]
    last = t.loc[on_merit].sort_values("rang").iloc[-1] if on_merit else None
    rest = t[~t["geselecteerd"] & ~t.index.isin(constraints.exclude)]
    runner_up = rest.iloc[0] if len(rest) else None
    reasons = {}
    for code, row in t.iterrows():
        if code in place:
            reasons[code] = reason_selected(
                row, place[code], constraints, weights, code in constraints.include, runner_up
            )
        elif code in sel.passed_over:
            reasons[code] = sel.passed_over[code]
        elif last is None:
            reasons[code] = "Niet gekozen: alle plaatsen zijn vastgezet met --include."
        else:
            reasons[code] = reason_not_selected(row, last)
    t["reden"] = pd.Series(reasons)
    t.index.name = "gemeentecode"
    t = t.reset_index()
    extra = [
        "werkzoekend",
        "werkzoekend_p10",
        "werkzoekend_p90",
        "werkzoekend_per_1000",
        "groei",
        "inwoners",
        "provincie_code",
        "arbeidsmarktregio_code",
        "herschaald",
    ]
    table = t[CONTRACT + extra].reset_index(drop=True)
    return Ranking(est.year, table, weights, constraints, notes)


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


def compare_reference(
    ranking: Ranking, reference: Sequence[Reference] = REFERENCE_2009
) -> pd.DataFrame:
    """Where each reference gemeente stands in ``ranking``."""
    t = ranking.table.set_index("gemeentecode")
    rows = []
    for ref in reference:
        missing = [c for c in ref.codes_now if c not in t.index]
        if missing:
            raise VibError(
                f"Reference gemeente {ref.name_2009}: {', '.join(missing)} is not among the "
                f"gemeenten of {ranking.year}; the reference list needs updating for a herindeling."
            )
        for code in ref.codes_now:
            r = t.loc[code]
            rows.append(
                {
                    "gemeente_2009": ref.name_2009,
                    "gemeentecode": code,
                    "gemeentenaam": r["gemeentenaam"],
                    "rang": int(r["rang"]),
                    "score": r["score"],
                    "kans_top_n": r["kans_top_n"],
                    "geselecteerd": bool(r["geselecteerd"]),
                    "werkzoekend": r["werkzoekend"],
                    "werkzoekend_per_1000": r["werkzoekend_per_1000"],
                    "provincie": r["provincie"],
                    "toelichting": ref.note,
                }
            )
    return pd.DataFrame(rows)
