"""The selectieverkenner: one offline page that re-solves the selection in the browser.

Policy staff change the constraints (number of pilots, caps per provincie and
arbeidsmarktregio, floors per landsdeel and for small gemeenten, optional caps, a minimum
pool, a budget, gemeenten forced in or out, ρ) and the page solves the **same integer
programme** as ``vib rank`` (:class:`~.selection.Problem`) with HiGHS compiled to
WebAssembly (the npm package ``highs``, vendored in ``vendor/highs-js`` with its licence and
checksums), prices every active constraint, measures who replaces whom, and writes a
reason per gemeente.

The page carries the programme's own numbers (:class:`~.rank.ProgrammeNumbers`), so it
and the command line agree exactly:

* the values ``[a, b]``, pool and placements of the run (ρ uncertain, as the card has it);
* per gemeente the draws' means of ``J``, ``J · conversations`` and ``J · placements``:
  with ρ fixed at ``r`` every one of those is linear in ``r`` (``a = (1 − r) · J̄``,
  ``b = r · Σ J̄``), so the page computes them for any ``r`` as ``vib rank
  --region-reach r`` does;
* the covariance over the draws of ``[a, b]`` (uncertain ρ) and of ``J`` (fixed ρ), from
  which the Monte Carlo standard error of any swap is a quadratic form (the test for
  "uitwisselbaar");
* the draws that ``kans_geselecteerd`` is re-solved on, for a recount on request.

Everything is data in one JSON block; names reach the page only as JSON and are set as
text, never as markup.

Stage: render.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import tomllib
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.catalogue import LIMITS, setting_name
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.method import load_card
from vluchtelingen_in_beeld.names import ALIASES, base_name, normalise
from vluchtelingen_in_beeld.provenance import page_sources
from vluchtelingen_in_beeld.rank import MIN_RESOLVE, NEAR
from vluchtelingen_in_beeld.selection import NODE_LIMIT, TIE, Constraints
from vluchtelingen_in_beeld.templates import render

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.result import YearResult

#: Where the vendored solver lives, inside the package.
VENDOR = "vendor/highs-js"
#: Selection settings as the page and ``window.verkenner.solve`` name them (the CLI's
#: flags, with underscores) -> the :class:`~.selection.Constraints` field.
SETTINGS = {setting_name(f.name): f.name for f in fields(Constraints) if f.name != "reasons"}
#: Map units: RD New metres per unit of the page's SVG.
MAP_UNIT_M = 100.0


def vendored() -> dict[str, Any]:
    """The vendored solver's record (``VENDOR.toml``): name, version, licence, sha256 sums."""
    root = resources.files("vluchtelingen_in_beeld") / VENDOR
    info: dict[str, Any] = tomllib.loads((root / "VENDOR.toml").read_text("utf-8"))
    return info


@functools.cache
def _solver_assets() -> tuple[str, str, str]:
    """(highs.js, gzip+base64 of highs.wasm, its licence) from the vendored package.

    Read and packed once per process (gzip of the 3.5 MB wasm takes a few tenths of a second).
    """
    root = resources.files("vluchtelingen_in_beeld") / VENDOR
    js = (root / "highs.js").read_text("utf-8")
    if "</script" in js.lower():  # pragma: no cover - checked for the vendored version
        raise ConfigError("The vendored highs.js contains '</script'; it cannot be inlined.")
    wasm = (root / "highs.wasm").read_bytes()
    packed = base64.b64encode(gzip.compress(wasm, compresslevel=9, mtime=0)).decode("ascii")
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
    from vluchtelingen_in_beeld.maps import _polygon_rings, map_for

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
    classes = m.classes
    return {
        "width": int(np.ceil((maxx - minx) / MAP_UNIT_M)),
        "height": int(np.ceil((maxy - miny) / MAP_UNIT_M)),
        "paths": paths,
        "labels": labels,
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
    jplac = (rd.j * funnel.placements[:, None]).mean(axis=0)
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
    resolve = min(card.selection.resolve_draws, int(rd.a.shape[0]))
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
        "rho": {"waarde": rho.value, "laag": rho.low, "hoog": rho.high, "onzeker": rho.has_range},
        "kosten_per_traject": card.cost_per_placement.value,
        "periode_jaren": card.period_years,
        "scenario": card.scenarios[card.scenario].label,
        "tie": TIE,
        "near": NEAR,
        "near_share": card.selection.near_loss,
        "time_limit": NODE_LIMIT,
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
            "jplac": jplac.tolist(),
            "a": values[:m].tolist(),
            "pool": nums.pool.tolist(),
            "plac": nums.placements.tolist(),
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


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` as is."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_verkenner(result: YearResult) -> str:
    """The selectieverkenner of a year as one self-contained HTML page."""
    js, wasm, licence = _solver_assets()
    app = (resources.files("vluchtelingen_in_beeld") / "templates" / "verkenner.js").read_text(
        "utf-8"
    )
    info = vendored()
    data = verkenner_data(result)
    return render(
        "verkenner.html.j2",
        jaar=result.year,
        waarschuwing=result.origin.warning,
        bronnen=data["bronnen"],
        kaart=result.card,
        versie=__version__,
        solver=info,
        licentie=licence,
        data_json=_json_for_script(data),
        highs_js=js,
        highs_wasm=wasm,
        app_js=app,
    )
