"""The selectieverkenner: one offline page that re-solves the selection in the browser.

Policy staff change the constraints (number of pilots, caps per provincie and
arbeidsmarktregio, floors per landsdeel and for small gemeenten, optional caps, a minimum
pool, a budget, gemeenten forced in or out, ρ) and the page solves the **same integer
programme** as ``vib rank`` (:class:`~.selection.Problem`) with HiGHS compiled to
WebAssembly (the npm package ``highs``, vendored in ``vendor/highs-js`` with its licence and
checksums), prices every active constraint, measures who replaces whom, and writes a
reason per gemeente.

What the page knows about the selection is generated from the Python definition: the
catalogue of settings (:mod:`.catalogue`: names, bounds, labels; the page's controls are
made from it), the phrases (``phrases.j2``, rendered in the page by the vendored
nunjucks), and the programme's own numbers (:class:`~.rank.ProgrammeNumbers`), so it and
the command line agree exactly:

* the values ``[a, b]``, pool and placements of the run (ρ uncertain, as the card has it);
* per gemeente the draws' means of ``J``, ``J · conversations`` and ``J · placements``:
  with ρ fixed at ``r`` every one of those is linear in ``r`` (``a = (1 − r) · J̄``,
  ``b = r · Σ J̄``), so the page computes them for any ``r`` as ``vib rank
  --region-reach r`` does;
* the covariance over the draws of ``[a, b]`` (uncertain ρ) and of ``J`` (fixed ρ), from
  which the Monte Carlo standard error of any swap is a quadratic form (the test for
  "uitwisselbaar");
* the draws that ``kans_geselecteerd`` is re-solved on, for a recount on request and for
  the share of draws in which one of two selections reaches more (``uitwisselbaar``).

The page's script is five files in ``templates/verkenner/`` with one job each (``format.js``:
numbers and words; ``solver.js``: HiGHS in a worker; ``programme.js``: the programme;
``explain.js``: prices, swaps and reasons; ``page.js``: the page), inlined in that order.

Everything is data in one JSON block; names reach the page only as JSON and are set as
text, never as markup.
"""

from __future__ import annotations

import base64
import functools
import json
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vluchtelingen_in_beeld import __version__, words
from vluchtelingen_in_beeld.catalogue import LIMITS, catalogue_record, setting_name
from vluchtelingen_in_beeld.catalogue import SETTINGS as CATALOGUE
from vluchtelingen_in_beeld.clean.method import load_card, with_region_reach
from vluchtelingen_in_beeld.clean.names import ALIASES, base_name, normalise
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.ranking.explain import reason_facts
from vluchtelingen_in_beeld.ranking.rank import MIN_RESOLVE, NEAR, programme_numbers
from vluchtelingen_in_beeld.ranking.selection import (
    BUDGET_GAP,
    NEIGHBOUR_STEPS,
    NODE_LIMIT,
    TIE,
    Constraints,
    try_solve,
    why_infeasible,
)
from vluchtelingen_in_beeld.render.maps import _polygon_rings, map_for
from vluchtelingen_in_beeld.render.provenance import page_sources
from vluchtelingen_in_beeld.render.templates import render

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.geography.result import YearResult

#: Where the vendored solver and phrase engine live, inside the package.
VENDOR = "vendor/highs-js"
PHRASE_ENGINE = "vendor/nunjucks"
#: The page's script, in the order it is inlined (each file one job).
SCRIPTS = ("format.js", "solver.js", "programme.js", "explain.js", "page.js")
#: Selection settings as the page and ``window.verkenner.solve`` name them (the CLI's
#: flags, with underscores) -> the :class:`~.selection.Constraints` field.
SETTINGS = {s.name: s.field for s in CATALOGUE}
#: Map units: RD New metres per unit of the page's SVG.
MAP_UNIT_M = 100.0
#: A gemeente whose area is smaller than a square of this side (map units) gets a larger,
#: round hit area around its label point: a thin island is missed by a tap in its middle.
SMALL_AREA = 90
#: The fieldsets of the page's controls (catalogue groups) and their titles.
GROUPS = {"aantal": "Aantal en spreiding", "regio": "Aantal en spreiding", "grootte": "Grootte",
          "budget": "Budget"}  # fmt: skip


def vendored(folder: str = VENDOR) -> dict[str, Any]:
    """A vendored package's record (``VENDOR.toml``): name, version, licence, sha256 sums."""
    root = resources.files("vluchtelingen_in_beeld.render") / folder
    info: dict[str, Any] = tomllib.loads((root / "VENDOR.toml").read_text("utf-8"))
    return info


def _inline(text: str, what: str) -> str:
    """``text`` for a ``<script>`` element: refused if it could close the element."""
    if "</script" in text.lower():  # pragma: no cover - checked for the shipped files
        raise ConfigError(f"{what} contains '</script'; it cannot be inlined.")
    return text


@functools.cache
def _page_assets() -> tuple[str, str, str]:
    """(the page's script, nunjucks, nunjucks's licence), read once per process."""
    pkg = resources.files("vluchtelingen_in_beeld.render")
    parts = [(pkg / "templates" / "verkenner" / name).read_text("utf-8") for name in SCRIPTS]
    app = (
        '"use strict";\n(function () {\nconst VIB = {};\n'
        "VIB.D = JSON.parse(document.getElementById('verkenner-data').textContent);\n"
        "VIB.bytesOf = (b64) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));\n"
        + "\n".join(parts)
        + "\n})();\n"
    )
    engine = pkg / PHRASE_ENGINE
    return (
        _inline(app, "the page's script"),
        _inline((engine / "nunjucks.min.js").read_text("utf-8"), "nunjucks"),
        (engine / "LICENSE").read_text("utf-8"),
    )


@functools.cache
def _solver_assets() -> tuple[str, str, str]:
    """(highs.js, base64 of highs.wasm gzipped, its licence) from the vendored package.

    The wasm is vendored gzipped as the page carries it (``highs.wasm.gz``; gzip of its
    3.5 MB took a third of a second on every run); read once per process.
    """
    root = resources.files("vluchtelingen_in_beeld.render") / VENDOR
    js = _inline((root / "highs.js").read_text("utf-8"), "the vendored highs.js")
    packed = base64.b64encode((root / "highs.wasm.gz").read_bytes()).decode("ascii")
    return js, packed, (root / "LICENSE").read_text("utf-8")


def _b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian bytes of ``array`` as ``dtype``, base64 (the page reads typed arrays)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=f"<{dtype}").tobytes()).decode()


def _upper(cov: np.ndarray) -> np.ndarray:
    """The upper triangle of a symmetric matrix, row by row (the page rebuilds it)."""
    return cov[np.triu_indices(cov.shape[0])]


def _settings_of(c: Constraints, rho: float | None) -> dict[str, Any]:
    """Constraints as the page's settings (flag names; ``None``: off)."""
    out: dict[str, Any] = {key: getattr(c, field) for key, field in SETTINGS.items()}
    out["include"], out["exclude"] = list(c.include), list(c.exclude)
    for key in ("min_pool", "budget"):  # 0 and None both mean off, as in the card
        out[key] = out[key] or None
    out["region_reach"] = rho
    return out


def _card_defaults(result: YearResult) -> tuple[dict[str, Any], list[list[str]]]:
    """The card's settings as shipped, and the options every command line repeats.

    The settings are what a command line's flags change; the options are (option, value)
    pairs, written by the page as flags. The card of a run may carry overrides (draws,
    seed); the command line repeats those, so it reproduces the run.
    """
    card = result.card
    fixed = [["year", str(result.year)]]
    shipped = card.origin.startswith("shipped:")
    try:  # the card as loaded, before this run's overrides
        base = load_card(card.origin.removeprefix("shipped:")) if card.origin else card
    except ConfigError:  # a card file that has gone since: its values as they are
        base = card
    # a card file by its name, never its path (as every output records it)
    fixed.append(["method", card.name if shipped or not card.origin else Path(card.origin).name])
    if base.draws != card.draws:
        fixed.append(["draws", str(card.draws)])
    if base.seed != card.seed:
        fixed.append(["seed", str(card.seed)])
    if result.origin.is_snapshot:
        fixed.append(["snapshot", "SNAPSHOT"])
    rho = base.selection.region_reach
    defaults = _settings_of(Constraints.from_card(base), None if rho.has_range else rho.value)
    return defaults, fixed


def _map(result: YearResult, codes: list[str]) -> dict[str, Any]:
    """SVG paths of the gemeenten (RD New, in :data:`MAP_UNIT_M` units) and the run's classes.

    The shapes and classes are those of the run's map of job-seekers per gemeente
    (:func:`~.maps.map_for`), the path coordinates relative ("m", "l") and whole units.
    """
    m = map_for(result, metric="werkzoekend")
    frame = m.data.frame.reindex(codes)
    coords, rings, polygons, parts = _polygon_rings(frame.geometry.array)
    minx, miny = coords.min(axis=0)
    maxx, maxy = coords.max(axis=0)
    pts = np.column_stack(
        [np.round((coords[:, 0] - minx) / MAP_UNIT_M), np.round((maxy - coords[:, 1]) / MAP_UNIT_M)]
    ).astype(int)
    # the polygon of each ring, then the gemeente of each polygon
    ring_polygon = np.searchsorted(polygons, np.arange(len(rings) - 1), "right") - 1
    ring_geom = np.searchsorted(parts, ring_polygon, "right") - 1
    paths = [""] * len(codes)
    for r in range(len(rings) - 1):
        ring = pts[rings[r] : rings[r + 1]]
        keep = np.r_[True, np.any(np.diff(ring, axis=0) != 0, axis=1)]
        ring = ring[keep]
        if len(ring) < 3:
            continue
        steps = np.diff(ring, axis=0)
        body = " ".join(f"{dx} {dy}" for dx, dy in steps.tolist())
        paths[int(ring_geom[r])] += f"M{ring[0, 0]} {ring[0, 1]}l{body}z"
    label_at = frame.geometry.representative_point()
    labels = [
        [round((p.x - minx) / MAP_UNIT_M), round((maxy - p.y) / MAP_UNIT_M)] for p in label_at
    ]
    size = np.sqrt(frame.geometry.area.to_numpy(dtype=float)) / MAP_UNIT_M  # a side, in units
    width = int(np.ceil((maxx - minx) / MAP_UNIT_M))
    classes = m.classes
    return {
        "width": width,
        "height": int(np.ceil((maxy - miny) / MAP_UNIT_M)),
        "paths": paths,
        "labels": labels,
        # small gemeenten get a round hit area of this radius; pilots a marker of this one
        "klein": [bool(x < SMALL_AREA) for x in size],
        "grootte": [float(x) for x in size],
        "raak": SMALL_AREA / 2,
        "nummer": round(width / 55),
        "klasse": [int(classes.index.get(c, -1)) for c in codes],
        "kleuren": classes.colours,
        "legenda": [
            {"kleur": colour, "tekst": label, "aantal": count}
            for colour, label, count in classes.legend()
        ],
        "titel": m.data.title,
        "schema": classes.scheme,
    }


def _names(codes: list[str], names: list[str]) -> dict[str, Any]:
    """The lookup of :class:`~.names.GemeenteNames`: normalised full and base names -> codes."""
    full: dict[str, list[str]] = {}
    base: dict[str, list[str]] = {}
    for code, name in zip(codes, names, strict=True):
        full.setdefault(normalise(name), []).append(code)
        base.setdefault(normalise(base_name(name)), []).append(code)
    return {"full": full, "base": base, "aliases": ALIASES}


def verkenner_data(result: YearResult) -> dict[str, Any]:
    """Everything the page needs, as JSON-able values (see the module docstring)."""
    ranking, card = result.ranking, result.card
    problem, nums = ranking.problem, ranking.numbers
    if problem is None or nums is None or ranking.values is None:
        raise ConfigError("The selectieverkenner needs a ranking made by `rank`.")
    frame = problem.frame
    codes = [str(c) for c in frame.index]
    m, k = len(codes), len(problem.regions)
    rd = nums.draws
    if not np.isfinite(rd.j).all():
        raise ConfigError("The draws of job-seekers have missing values; cannot build the page.")
    funnel = result.estimate.funnels[card.scenario]
    jconv = (rd.j * funnel.conversations[:, None]).mean(axis=0)
    jkost = (rd.j * funnel.cost_per_seeker[:, None]).mean(axis=0)
    values = ranking.values
    table = ranking.table.set_index("gemeentecode").reindex(codes)

    def groups(code_col: str, name_col: str) -> tuple[list[int], list[dict[str, str]]]:
        """Per gemeente the position of its group, and the groups (code, name) in order."""
        first = frame.drop_duplicates(code_col)
        keys = first[code_col].astype(str).tolist()
        pos = {key: i for i, key in enumerate(keys)}
        return [pos[str(x)] for x in frame[code_col]], [
            {"code": key, "naam": str(name)}
            for key, name in zip(keys, first[name_col], strict=True)
        ]

    prov, provincies = groups("provincie_code", "provincie")
    land, landsdelen = groups("landsdeel_code", "landsdeel")
    regio_name = dict(zip(frame["arbeidsmarktregio_code"], frame["arbeidsmarktregio"], strict=True))
    regios = [{"code": str(r), "naam": str(regio_name[r])} for r in problem.regions]
    cov_values = np.cov(rd.values, rowvar=False, ddof=1)
    cov_j = np.cov(rd.j, rowvar=False, ddof=1)
    resolve = nums.resolved(card)
    rho = card.selection.region_reach
    defaults, fixed_flags = _card_defaults(result)
    c = ranking.constraints
    initial = _settings_of(c, None if rho.has_range else rho.value)
    names = [str(x) for x in frame["gemeentenaam"]]
    return {
        "versie": __version__,
        "jaar": result.year,
        "kaart": {"naam": card.name, "versie": card.version, "checksum": card.checksum},
        "waarschuwing": result.origin.warning,
        "bronnen": page_sources(result),
        "snapshot": result.origin.snapshot_label,
        "opdracht": fixed_flags,
        "catalogus": catalogue_record(),
        "rho": {
            "waarde": rho.value,
            "laag": rho.low,
            "hoog": rho.high,
            "onzeker": rho.has_range,
            "gemiddeld": float(rd.rho.mean()),
        },
        "kosten_per_plaatsing": card.cost_per_placement.value,
        "periode_jaren": card.period_years,
        "scenario": card.scenarios[card.scenario].label.split(":")[0],
        "tie": TIE,
        "near": NEAR,
        "near_loss": card.selection.near_loss,
        "near_draws": card.selection.near_draws,
        "node_limit": NODE_LIMIT,
        "budget_gap": BUDGET_GAP,
        "neighbour_steps": NEIGHBOUR_STEPS,
        "draws": int(rd.a.shape[0]),
        "min_resolve": MIN_RESOLVE,
        "limits": [setting_name(k) for k in LIMITS],
        "redenen": {setting_name(k): v for k, v in c.reasons.items()},
        "standaard": defaults,
        "begin": initial,
        "cli_objective": ranking.objective,
        "gemeenten": {
            "code": codes,
            "naam": names,
            "provincie": prov,
            "regio": problem.region_of.astype(int).tolist(),
            "landsdeel": land,
            "inwoners": frame["inwoners"].astype(float).tolist(),
            "werkzoekend": table["werkzoekend"].astype(float).tolist(),
            "kans": table["kans_geselecteerd"].astype(float).tolist(),
            "j": nums.own.tolist(),
            "jconv": jconv.tolist(),
            "jkost": jkost.tolist(),
            "a": values[:m].tolist(),
            "pool": nums.pool.tolist(),
            "kost": nums.spend.tolist(),
        },
        "b": values[m:].tolist(),
        "provincies": provincies,
        "landsdelen": landsdelen,
        "regios": regios,
        "namen": _names(codes, names),
        "kaartbeeld": _map(result, codes),
        "cov_values": _b64(_upper(cov_values), "f4"),
        "cov_j": _b64(_upper(cov_j), "f4"),
        "kans_draws": {
            "n": resolve,
            "j": _b64(rd.j[:resolve], "f8"),
            "rho": _b64(rd.rho[:resolve], "f8"),
        },
        "k": k,
    }


def _groups() -> list[dict[str, Any]]:
    """The page's fieldsets of controls, from the catalogue (settings of a kind with a box)."""
    out: dict[str, dict[str, Any]] = {}
    for setting in CATALOGUE:
        if setting.kind == "gemeenten":
            continue
        title = GROUPS[setting.group]
        group = out.setdefault(title, {"id": setting.group, "titel": title, "settings": []})
        before, _, after = setting.label.partition("…")
        group["settings"].append(
            {
                "name": setting.name,
                "kind": setting.kind,
                "optional": setting.optional,
                "label": setting.label.replace("…", "").replace("  ", " ").strip(),
                "voor": before.strip()[:1].upper() + before.strip()[1:],
                "na": after.strip(),
            }
        )
    return list(out.values())


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` as is."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_verkenner(result: YearResult) -> str:
    """The selectieverkenner of a year as one self-contained HTML page."""
    js, wasm, licence = _solver_assets()
    app, engine, engine_licence = _page_assets()
    data = verkenner_data(result)
    return render(
        "verkenner.html.j2",
        jaar=result.year,
        waarschuwing=result.origin.warning,
        bronnen=data["bronnen"],
        kaart=result.card,
        versie=__version__,
        solver=vendored(),
        licentie=licence,
        zinnen=vendored(PHRASE_ENGINE),
        zinnen_licentie=engine_licence,
        groepen=_groups(),
        data_json=_json_for_script(data),
        highs_js=js,
        highs_wasm=wasm,
        phrases=_inline(words.source(), "phrases.j2"),
        nunjucks_js=engine,
        app_js=app,
    )


def answer(result: YearResult, settings: Mapping[str, object]) -> dict[str, Any]:
    """What the page answers for ``settings``, computed in Python (the golden cases).

    ``settings`` as the page's hook takes them: setting names (:data:`SETTINGS`) with
    values relative to the card, gemeenten by name or code, ``region_reach`` fixed or
    ``None`` (uncertain, as the card). The same programme numbers, the same re-solves
    (:func:`~.explain.explain`) and the same phrases: the page must give this, word for
    word.
    """
    ranking, est = result.ranking, result.estimate
    frame = ranking.frame
    if frame is None:
        raise ConfigError("The selectieverkenner needs a ranking made by `rank`.")
    given = dict(settings)
    rho = given.pop("region_reach", None)
    card = est.card if rho is None else with_region_reach(est.card, float(rho))  # type: ignore[arg-type]
    names = result.names()
    overrides: dict[str, Any] = {}
    for key, value in given.items():
        field = SETTINGS[key]
        if field in ("include", "exclude"):
            listed = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
            overrides[field] = tuple(dict.fromkeys(names.resolve_all(listed)))
        else:
            overrides[field] = value
    c = Constraints.from_card(est.card, **overrides)
    c.check()
    nums = programme_numbers(replace(est, card=card), frame)
    problem = nums.problem(frame, c)
    named = dict(zip(frame.index, frame["gemeentenaam"].astype(str), strict=True))
    solved = try_solve(problem, nums.values)
    if solved is None:
        why = why_infeasible(frame, c, pool=nums.pool, cost=nums.cost(c))
        return {
            "infeasible": {
                "beperkingen": list(why.constraints),
                "tekst": words.say("onhaalbaar", why.fact(named)),
            }
        }
    idx, objective = solved
    x = nums.explain(problem, idx, objective, card)
    werkzoekend = (
        ranking.table.set_index("gemeentecode").loc[frame.index, "werkzoekend"].to_numpy(float)
    )
    facts = reason_facts(
        x, problem, nums.values, werkzoekend=werkzoekend, near_loss=card.selection.near_loss
    )
    prices: dict[str, float | None] = {}
    for p in x.prices:
        if isinstance(p["eis"], dict):  # the number of pilots: one more, one fewer
            prices["n_meer"] = p["meer"]["prijs"] if p["meer"] else None
            prices["n_minder"] = p["minder"]["prijs"] if p["minder"] else None
        else:
            prices[str(p["eis"])] = float(p["prijs"])
    codes = list(frame.index)
    return {
        "selected": sorted(codes[i] for i in idx),
        "objective": float(objective),
        "prices": prices,
        "reasons": {f["code"]: words.say("reden", f) for f in facts},
        "alternatives": [codes[i] for i in x.alternatives],
    }
