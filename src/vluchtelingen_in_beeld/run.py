"""The whole job in one call: fetch → estimate → rank → regions → maps → pitch pages → index.

Everything is written into a private staging folder beside the output folder and moved into
place at the end, so an interrupted run leaves the previous outputs as they were; the CBS rows
are in the local store, so a rerun does not fetch them again. ``manifest.json`` lists the
inputs, parameters, versions and the checksum of every output.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import platform
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.api import (
    RankResult,
    estimate_year,
    gemeente_shapes,
    map_year,
    pitch_context,
    rank_year,
)
from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.fmt import nl_dec, nl_int, nl_pct
from vluchtelingen_in_beeld.output import (
    check_output_folder,
    provenance,
    snapshot_warning,
    table_bytes,
)
from vluchtelingen_in_beeld.pitch import page_name, render_page
from vluchtelingen_in_beeld.rank import compare_reference
from vluchtelingen_in_beeld.regions import region_totals
from vluchtelingen_in_beeld.store import pid_alive, sha256_file, write_synced

STEPS = (
    "CBS-gegevens ophalen en schatten",
    "rangorde",
    "regio's",
    "kaarten (HTML en PNG)",
    "pitchpagina's",
    "overzicht en manifest",
)
#: (metric, level, highlight the selection)
MAPS = (
    ("werkzoekend", "gemeente", True),
    ("werkzoekend_per_1000", "gemeente", True),
    ("werkzoekend", "arbeidsmarktregio", False),
    ("werkzoekend", "provincie", False),
)
PACKAGES = (
    "cbsodata",
    "pandas",
    "numpy",
    "geopandas",
    "shapely",
    "folium",
    "mapclassify",
    "matplotlib",
    "scipy",
    "XStatic-Leaflet",
)


@dataclass
class RunResult:
    """Where the outputs went and what they were made from."""

    out: Path
    outputs: dict[str, str]  # relative path -> sha256
    result: RankResult


def _leftovers(out: Path) -> None:
    """Restore an output folder a crash left half-swapped; remove dead runs' staging."""
    parent = out.parent
    if not parent.is_dir():
        return
    pat = re.compile(rf"^\.{re.escape(out.name)}\.(tmp|old)-(\d+)-[0-9a-f]+$")
    for p in parent.iterdir():
        m = pat.match(p.name)
        if not m or pid_alive(int(m.group(2))):
            continue
        if m.group(1) == "old" and not out.exists():
            os.replace(p, out)  # the swap was cut between its two renames
        else:
            shutil.rmtree(p, ignore_errors=True)


def _swap_in(staging: Path, out: Path) -> None:
    old = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _versions() -> dict[str, str]:
    out = {"vluchtelingen-in-beeld": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def run_all(
    session: Session,
    year: int,
    out: Path,
    *,
    card: Any = None,
    n: int = 11,
    draws: int | None = None,
    seed: int | None = None,
    boundaries: Path | None = None,
    boundary_year: int | None = None,
    progress: Callable[[int, str], None] = lambda i, s: None,
    hook: Callable[[str], None] = lambda step: None,
    year_note: str = "",
    force: bool = False,
) -> RunResult:
    """Run every step for ``year`` and put the outputs in ``out`` (all at once, at the end).

    ``out`` must be new, empty, or an earlier run's folder (see
    :func:`~.output.check_output_folder`); ``force`` replaces any other folder except the
    working folder, the store and the snapshot.

    ``year_note`` says why this year when the tool chose it (see :func:`~.api.choose_year`).

    ``progress(i, text)`` is called at the start of each step; ``hook(name)`` after each
    (tests use it to interrupt a run).
    """
    out = Path(out)
    check_output_folder(out, session.settings, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    _leftovers(out)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        files = _build(
            session,
            year,
            staging,
            card,
            n,
            draws,
            seed,
            boundaries,
            boundary_year,
            progress,
            hook,
            year_note,
        )
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RunResult(out, files.outputs, files.result)


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    write_synced(path, data)


def _build(
    session: Session,
    year: int,
    root: Path,
    card: Any,
    n: int,
    draws: int | None,
    seed: int | None,
    boundaries: Path | None,
    boundary_year: int | None,
    progress: Callable[[int, str], None],
    hook: Callable[[str], None],
    year_note: str = "",
) -> RunResult:
    progress(1, STEPS[0])
    est = estimate_year(session, year, card, draws=draws, seed=seed)
    if year_note:
        est.year_note = year_note
        est.notes.insert(0, year_note)
    _write(root, f"tabellen/schatting_{year}.csv", table_bytes(est.table, ".csv"))
    _write(root, f"tabellen/schatting_{year}_nederland.csv", table_bytes(est.national, ".csv"))
    hook("estimate")

    progress(2, STEPS[1])
    result = rank_year(session, year, est=est, n=n)
    _write(root, f"tabellen/rangorde_{year}.csv", table_bytes(result.ranking.table, ".csv"))
    comparison = compare_reference(result.ranking)
    _write(root, f"tabellen/vergelijking_2009_{year}.csv", table_bytes(comparison, ".csv"))
    hook("rank")

    progress(3, STEPS[2])
    for level in ("provincie", "arbeidsmarktregio", "corop"):
        frame = region_totals(est, result.regions, level)
        _write(root, f"tabellen/regio_{level}_{year}.csv", table_bytes(frame, ".csv"))
    hook("regions")

    progress(4, STEPS[3])
    shapes = gemeente_shapes(session, est, boundaries=boundaries, boundary_year=boundary_year)
    maps = []
    for metric, level, top in MAPS:
        m = map_year(
            session,
            year,
            metric=metric,
            level=level,
            highlight_top=n if top else None,
            result=result,
            shapes=shapes,
        )
        stem = f"kaarten/{metric}_{level}_{year}"
        _write(root, f"{stem}.html", m.html().encode("utf-8"))
        _write(root, f"{stem}.png", m.png())
        maps.append((m.data.title, level, f"{stem}.html", f"{stem}.png"))
    hook("maps")

    progress(5, STEPS[4])
    ctx = pitch_context(session, result, shapes=shapes)
    pages = []
    for code in result.ranking.selected["gemeentecode"]:
        name = str(result.ranking.table.set_index("gemeentecode").at[code, "gemeentenaam"])
        rel = f"pitch/{page_name(code, name)}"
        _write(root, rel, render_page(ctx, code, index_href="../index.html").encode("utf-8"))
        pages.append((code, name, rel))
    hook("pitch")

    progress(6, STEPS[5])
    warning = snapshot_warning(session.settings)
    index = index_page(result, maps, pages, ctx.sources, warning, comparison)
    _write(root, "index.html", index.encode("utf-8"))
    outputs = {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    record = provenance(
        session.settings,
        sources=result.provenance(),
        card=est.card,
        notes=[*result.notes, *shapes.boundaries.notes],
        extra={
            "kind": "run",
            "year": est.year,
            "periods": [f"{est.year}JJ00"],
            "year_choice": est.year_note or "given with --year",
            "bijstand_table": est.bijstand_table,
            "parameters": {
                "n": n,
                "weights": result.ranking.weights,
                "constraints": vars(result.ranking.constraints),
                "draws": est.card.draws,
                "seed": est.card.seed,
                "scenario": est.card.scenario,
                "maps": [{"metric": m, "level": lv, "highlight": t} for m, lv, t in MAPS],
            },
            "boundaries": shapes.boundaries.provenance,
            "versions": _versions(),
            "outputs": outputs,
        },
    )
    _write(
        root,
        "manifest.json",
        json.dumps(record, indent=2, ensure_ascii=False, default=str).encode(),
    )
    hook("manifest")
    return RunResult(root, outputs, result)


def _e(x: Any) -> str:
    return html.escape(str(x))


def index_page(
    result: RankResult,
    maps: list[tuple[str, str, str, str]],
    pages: list[tuple[str, str, str]],
    sources: list[str],
    warning: str,
    comparison: Any = None,
) -> str:
    """The overview: the selection with reasons, and a link to every output."""
    est = result.estimate
    nat = est.national.iloc[0]
    sel = result.ranking.selected.set_index("gemeentecode")
    page_of = {code: rel for code, _, rel in pages}
    rows = "".join(
        f"<tr><td class='n'>{int(r.rang)}</td>"
        f"<td><a href='{_e(page_of[code])}'>{_e(r.gemeentenaam)}</a></td>"
        f"<td>{_e(r.provincie)}</td><td class='n'>{nl_int(r.werkzoekend)}</td>"
        f"<td class='n'>{nl_dec(r.werkzoekend_per_1000)}</td>"
        f"<td class='n'>{nl_dec(r.score, 3)}</td>"
        f"<td class='n'>{nl_pct(r.kans_top_n)}</td><td class='reden'>{_e(r.reden)}</td></tr>"
        for code, r in sel.iterrows()
    )
    map_links = "".join(
        f"<li><a href='{_e(h)}'>{_e(t)} ({_e(level)})</a> · <a href='{_e(p)}'>PNG</a></li>"
        for t, level, h, p in maps
    )
    y = est.year
    tables = [
        (f"tabellen/schatting_{y}.csv", "Schatting per gemeente (met p10–p90)"),
        (f"tabellen/schatting_{y}_nederland.csv", "Schatting Nederland"),
        (f"tabellen/rangorde_{y}.csv", "Rangorde met criteria en redenen"),
        (f"tabellen/vergelijking_2009_{y}.csv", "De voortrekkersgemeenten van 2009, nu"),
        (f"tabellen/regio_provincie_{y}.csv", "Per provincie"),
        (f"tabellen/regio_arbeidsmarktregio_{y}.csv", "Per arbeidsmarktregio"),
        (f"tabellen/regio_corop_{y}.csv", "Per COROP-gebied"),
        ("manifest.json", "Manifest: bronnen, parameters, versies, controlegetallen"),
    ]
    table_links = "".join(f"<li><a href='{_e(h)}'>{_e(t)}</a></li>" for h, t in tables)
    warn = f"<div class='waarschuwing'>{_e(warning)}</div>" if warning else ""
    ref = ""
    if comparison is not None and len(comparison):
        items = "".join(
            f"<li>{_e(c.gemeente_2009)}: nu rang {int(c.rang)}"
            f"{' (geselecteerd)' if c.geselecteerd else ''}"
            f"{'. ' + _e(c.toelichting) if c.toelichting else ''}</li>"
            for c in comparison.itertuples()
        )
        ref = f"<h2>De voortrekkersgemeenten van 2009, nu</h2><ul>{items}</ul>"
    src = "".join(f"<li>{_e(s)}</li>" for s in sources)
    made = datetime.now(UTC).isoformat(timespec="minutes")
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vluchtelingen in beeld {y}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.4; }}
h1 {{ margin-bottom: .2em; }} h2 {{ color: #08306b; border-bottom: 1px solid #c6dbef; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ text-align: left; padding: 4px 6px; border-bottom: 1px solid #e0e0e0;
  vertical-align: top; }}
td.n {{ text-align: right; white-space: nowrap; }} td.reden {{ font-size: 12px; color: #444; }}
.waarschuwing {{ border: 2px solid #8a1c1c; color: #8a1c1c; padding: .5em .8em; }}
.bronnen {{ font-size: 12px; color: #444; }}
</style>
</head>
<body>
<h1>Vluchtelingen in beeld {y}</h1>
<p>Naar schatting {nl_int(nat["werkzoekend"])} werkzoekende vluchtelingen in Nederland
(p10–p90 {nl_int(nat["werkzoekend_p10"])}–{nl_int(nat["werkzoekend_p90"])}), verdeeld over
{len(est.table)} gemeenten. Methodekaart {_e(est.card.name)} {_e(est.card.version)}.
Gemaakt {made} (UTC).</p>
{warn}
<h2>Voorgestelde voortrekkersgemeenten</h2>
<table><thead><tr><th>Rang</th><th>Gemeente</th><th>Provincie</th><th>Werkzoekend</th>
<th>Per 1.000</th><th>Score</th><th>Kans top {result.ranking.constraints.n}</th><th>Reden</th>
</tr></thead><tbody>{rows}</tbody></table>
{ref}
<h2>Kaarten</h2><ul>{map_links}</ul>
<h2>Tabellen</h2><ul>{table_links}</ul>
<h2>Bronnen en methode</h2><ul class="bronnen">{src}</ul>
</body>
</html>
"""
