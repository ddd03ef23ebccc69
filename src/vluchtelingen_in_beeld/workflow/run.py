"""The whole job, composed: build the year, then write every output into one folder.

:func:`run_all` checks the output folder first (a folder the tool did not write is never
replaced), builds the year once (:func:`~.pipeline.build_year`, with shapes) and writes the
run (:func:`write_run`): the tables, the regions, the pitch pages of the selection, the
maps, the overview page and the manifest. The folder is built beside its destination and
swapped in at the end (:func:`~.atomic.building`), so an interrupted run leaves the previous
folder as it was. The maps, most of a run's CPU, are drawn on the other core meanwhile.
The CBS rows are in the local store, so a rerun does not fetch them again.
"""

from __future__ import annotations

import contextlib
import functools
import json
import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.access.cbs import Session
from vluchtelingen_in_beeld.access.store import sha256_file
from vluchtelingen_in_beeld.atomic import building, sync_write
from vluchtelingen_in_beeld.clean.localfiles import LocalFiles
from vluchtelingen_in_beeld.clean.method import MethodCard
from vluchtelingen_in_beeld.errors import ConfigError
from vluchtelingen_in_beeld.forking import forked
from vluchtelingen_in_beeld.geography.result import YearResult
from vluchtelingen_in_beeld.records import JsonValue
from vluchtelingen_in_beeld.render.index import index_page
from vluchtelingen_in_beeld.render.maps import map_for
from vluchtelingen_in_beeld.render.output import (
    check_dialect,
    check_output_folder,
    gpkg_bytes,
    source_rows,
    table_bytes,
    top_line,
    writing_to,
    year_record,
)
from vluchtelingen_in_beeld.render.pitch import page_name, render_page
from vluchtelingen_in_beeld.render.provenance import page_sources
from vluchtelingen_in_beeld.render.sender import Sender
from vluchtelingen_in_beeld.render.verkenner import render_verkenner
from vluchtelingen_in_beeld.settings import Settings
from vluchtelingen_in_beeld.workflow.pipeline import build_year, year_trend

if TYPE_CHECKING:
    import pandas as pd

#: ``progress(step, text)``: called at the start of each step (1 to ``len(STEPS)``).
Progress = Callable[[int, str], None]
#: ``hook(name)``: called after each step (tests use it to interrupt a run).
Hook = Callable[[str], None]


def _no_progress(step: int, text: str) -> None:
    """The default :data:`Progress`: say nothing."""


def _no_hook(name: str) -> None:
    """The default :data:`Hook`: do nothing."""


@dataclass
class RunResult:
    """Where the outputs went and what they were made from."""

    out: Path
    outputs: dict[str, str]  # relative path -> sha256
    result: YearResult


def run_all(
    session: Session,
    year: int | None,
    out: str | Path,
    *,
    card: MethodCard | str | Path | None = None,
    n: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    boundaries: str | Path | None = None,
    boundary_year: int | None = None,
    progress: Progress = _no_progress,
    hook: Hook = _no_hook,
    force: bool = False,
    sender: Sender | None = None,
    inputs: Sequence[str | Path] = (),
    csv_dialect: str = "en",
    local: LocalFiles | None = None,
) -> RunResult:
    """Run every step for ``year`` (``None``: the latest) and put the outputs in ``out``.

    ``out`` must be new, empty, or an earlier run's folder (see
    :func:`~.output.check_output_folder`); ``force`` replaces files an earlier run wrote
    that were changed since, never a file no run wrote. One run at a time writes into
    ``out`` (a lock beside it); a second is refused. ``progress(i, text)`` is called at the
    start of each step, ``hook(name)`` after each (tests use it to interrupt a run).
    ``sender``: who hands the pitch pages out (their ask block); ``inputs``: more files the
    run reads (the sender file), which ``out`` may not hold, like the boundaries and card.
    ``csv_dialect``: the CSV tables' cells and decimals (:data:`~.output.CSV_DIALECTS`);
    ``local``: residents in reception and a gemeente's own figures (:mod:`.localfiles`).
    """
    check_dialect(csv_dialect)
    out = Path(out)
    bnd = Path(boundaries) if boundaries is not None else None
    files = [Path(p) for p in (bnd, *inputs) if p is not None]
    if isinstance(card, (str, Path)) and (
        Path(card).suffix.lower() == ".toml" or Path(card).exists()
    ):
        files.append(Path(card))  # a card file, whatever the case of its extension
    with writing_to(out):  # one run at a time into one folder
        check_output_folder(out, session.settings, force=force, inputs=files)
        progress(1, STEPS[0])
        result = build_year(
            session,
            year,
            card,
            draws=draws,
            seed=seed,
            n=n,
            shapes=True,
            boundaries=bnd,
            boundary_year=boundary_year,
            local=local,
        )
        # the maps need no trend: the other core draws them while this one makes it
        with _maps_in_background(result) as drawn:
            result.trend = year_trend(session, result)
            outputs = _write_run(
                result, out, session.settings, force, progress, hook, sender, files,
                csv_dialect, drawn,
            )  # fmt: skip
    return RunResult(out, outputs, result)


def write_run(
    result: YearResult,
    out: str | Path,
    *,
    settings: Settings | None = None,
    force: bool = False,
    progress: Progress = _no_progress,
    hook: Hook = _no_hook,
    sender: Sender | None = None,
    inputs: Sequence[str | Path] = (),
    csv_dialect: str = "en",
) -> dict[str, str]:
    """Every output of a year into ``out``, all at once: tables, maps, pages, index, manifest.

    Built in a staging folder beside ``out`` and swapped in at the end, so an interrupted
    run leaves the previous folder as it was (a run killed mid-swap is put right by the
    next). ``progress(i, text)`` is called at the start of steps 2–6 (step 1 is
    :func:`~.pipeline.build_year`), ``hook(name)`` after each. The maps are drawn on the
    other core from the start (see :func:`_maps_in_background`) and collected at step 5.
    Returns relative path -> sha256 of every file.

    ``out`` is checked first (:func:`~.output.check_output_folder`): a folder this tool did
    not write is refused unless ``force``, and the working folder, the store and the
    snapshot of ``settings`` (default: those of the environment, :meth:`Settings.from_env`)
    never are replaced.
    """
    if result.shapes is None:
        raise ConfigError("A run needs the gemeente boundaries: build the year with shapes.")
    check_dialect(csv_dialect)
    with _maps_in_background(result) as drawn:
        return _write_run(
            result, out, settings or Settings.from_env(), force, progress, hook, sender,
            inputs, csv_dialect, drawn,
        )  # fmt: skip


#: Waits for the run's maps (:func:`_maps_in_background`): (title, HTML, PNG) of each.
Drawn = Callable[[], list[tuple[str, bytes, bytes]]]


def _write_run(
    result: YearResult,
    out: str | Path,
    settings: Settings,
    force: bool,
    progress: Progress,
    hook: Hook,
    sender: Sender | None,
    inputs: Sequence[str | Path],
    csv_dialect: str,
    drawn: Drawn,
) -> dict[str, str]:
    """:func:`write_run` with the maps already being drawn (``drawn`` waits for them)."""
    out = Path(out)
    with writing_to(out):
        check_output_folder(out, settings, force=force, inputs=inputs)
        with building(out) as staging:
            return _build_run(result, staging, progress, hook, drawn, sender, csv_dialect)


STEPS = (
    "CBS-gegevens ophalen en schatten",
    "rangorde",
    "regio's",
    "pitchpagina's",
    "kaarten (HTML en PNG)",
    "selectieverkenner, overzicht en manifest",
)
#: The run's selectieverkenner page (:mod:`.verkenner`).
VERKENNER = "verkenner.html"
#: (metric, level, highlight the selection)
MAPS = (
    ("werkzoekend", "gemeente", True),
    ("werkzoekend_per_1000", "gemeente", True),
    ("werkzoekend", "arbeidsmarktregio", False),
    ("werkzoekend", "provincie", False),
)
LEVELS = ("provincie", "arbeidsmarktregio", "corop")
#: The run's workbook in ``tabellen/``: every table of the run as a sheet, for Excel.
WORKBOOK = "vluchtelingen_in_beeld_{year}.xlsx"


#: A table of a run: (the step that writes it, its file name in ``tabellen/`` without
#: ``.csv``, its sheet in the workbook, the frame).
RunTable = tuple[str, str, str, "pd.DataFrame"]


def run_tables(result: YearResult) -> list[RunTable]:
    """Every table of a run, in the order written: one list for the CSVs and the workbook."""
    y, est, ranking = result.year, result.estimate, result.ranking
    optional = [
        ("rank", f"selectie_{y}", "selectie", ranking.summary),
        ("rank", f"trajecten_{y}", "trajecten", ranking.funnel),
        ("rank", f"gevoeligheid_{y}", "gevoeligheid", result.sensitivity),
        ("rank", f"vergelijking_2009_{y}", "vergelijking_2009", result.comparison_2009()),
        *[("regions", f"regio_{lv}_{y}", f"regio_{lv}", result.totals(lv)) for lv in LEVELS],
        ("regions", f"vergelijkbaar_{y}", "vergelijkbaar", result.peers()),
        ("regions", f"trend_{y}", "trend", result.trend.table if result.trend else None),
    ]
    return [
        ("estimate", f"schatting_{y}", "gemeenten", est.table),
        ("estimate", f"schatting_{y}_nederland", "nederland", est.national),
        ("rank", f"rangorde_{y}", "rangorde", ranking.table),
        ("rank", f"prijzen_beperkingen_{y}", "prijzen", ranking.prices),
        *[(step, stem, sheet, frame) for step, stem, sheet, frame in optional if frame is not None],
    ]


def workbook(tables: Sequence[RunTable], rec: Mapping[str, JsonValue]) -> bytes:
    """One workbook of the run's tables (:func:`run_tables`) and their sources.

    Each data sheet has the sources (or the snapshot's warning) in its first row, a frozen
    header with a filter, and number formats (:func:`~.output.table_bytes`); ``bronnen``
    lists every source, the card and its parameters.
    """
    (_, _, _, first), *rest = tables
    sheets = {sheet: frame for _, _, sheet, frame in rest}
    sheets["bronnen"] = source_rows(rec)
    return table_bytes(first, ".xlsx", sheets, top_line=top_line(rec))


_PACKAGES = (
    "requests",
    "pandas",
    "numpy",
    "geopandas",
    "shapely",
    "folium",
    "mapclassify",
    "matplotlib",
    "highspy",
    "XStatic-Leaflet",
    "XlsxWriter",
    "Jinja2",
)


def _versions() -> dict[str, str]:
    out = {"vluchtelingen-in-beeld": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def _one_map(result: YearResult, i: int) -> tuple[str, bytes, bytes]:
    """Title, HTML and PNG of the run's ``i``-th map (in a worker, or in this process)."""
    metric, level, top = MAPS[i]
    n = result.ranking.constraints.n
    m = map_for(result, metric=metric, level=level, highlight_top=n if top else None)
    return m.data.title, m.html().encode("utf-8"), m.png()


@contextlib.contextmanager
def _maps_in_background(result: YearResult) -> Iterator[Drawn]:
    """Start drawing the run's maps on the other core; yield a function that waits for them.

    The maps need nothing the other outputs make, so one forked worker draws them, in turn,
    while this process writes the tables and pages: two processes on the machine's two
    cores (two map workers beside this process made all three wait for a core, and each
    worker imported folium and matplotlib). Where the platform cannot fork, they are drawn
    here when asked for. The worker is forked after the year is built, so it shares it and
    starts at once.
    """
    with forked(functools.partial(_one_map, result), range(len(MAPS)), workers=1) as maps:
        yield maps


def _put(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    sync_write(path, data)


def _build_run(
    result: YearResult,
    root: Path,
    progress: Progress,
    hook: Hook,
    drawn: Drawn,
    sender: Sender | None = None,
    dialect: str = "en",
) -> dict[str, str]:
    y, est, ranking = result.year, result.estimate, result.ranking
    assert result.shapes is not None

    tables = run_tables(result)

    def csvs(step: str) -> None:
        for of, stem, _, frame in tables:
            if of == step:
                _put(root, f"tabellen/{stem}.csv", table_bytes(frame, ".csv", dialect=dialect))

    # the other core draws the maps meanwhile (:func:`_maps_in_background`)
    csvs("estimate")
    hook("estimate")

    progress(2, STEPS[1])
    csvs("rank")
    geo = result.shapes.boundaries.frame.geometry
    base = year_record(result, "run-layer", len(est.table), {})
    for name, frame in ((f"schatting_{y}", est.table), (f"rangorde_{y}", ranking.table)):
        codes = frame["gemeentecode"].to_numpy()
        _put(root, f"tabellen/{name}.gpkg", gpkg_bytes(frame, geo.reindex(codes), name, base))
    hook("rank")

    progress(3, STEPS[2])
    csvs("regions")
    _put(root, f"tabellen/{WORKBOOK.format(year=y)}", workbook(tables, base))
    hook("regions")

    progress(4, STEPS[3])
    pages = []
    for code in ranking.selected["gemeentecode"]:
        name = result.gemeente_name(code)
        rel = f"pitch/{page_name(code, name)}"
        page = render_page(result, code, index_href="../index.html", sender=sender)
        _put(root, rel, page.encode("utf-8"))
        pages.append((code, name, rel))
    hook("pitch")

    progress(5, STEPS[4])
    maps = []
    for (metric, level, _), (title, html_bytes, png_bytes) in zip(MAPS, drawn(), strict=True):
        stem = f"kaarten/{metric}_{level}_{y}"
        _put(root, f"{stem}.html", html_bytes)
        _put(root, f"{stem}.png", png_bytes)
        maps.append((title, level, f"{stem}.html", f"{stem}.png"))
    hook("maps")

    progress(6, STEPS[5])
    _put(root, VERKENNER, render_verkenner(result).encode("utf-8"))
    hook("verkenner")
    sources = page_sources(result)
    page = index_page(result, maps, pages, sources, verkenner=VERKENNER)
    _put(root, "index.html", page.encode("utf-8"))
    outputs = {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    rec = year_record(
        result,
        "run",
        len(est.table),
        {
            "bijstand_table": est.bijstand_table,
            "local_variation": est.variation_record(),
            "parameters": {
                "n": ranking.constraints.n,
                **ranking.record(),
                "draws": result.card.draws,
                "seed": result.card.seed,
                "scenario": result.card.scenario,
                "maps": [{"metric": m, "level": lv, "highlight": t} for m, lv, t in MAPS],
            },
            "boundaries": result.shapes.boundaries.provenance,
            "versions": _versions(),
            "outputs": outputs,
        },
    )
    text = json.dumps(rec, indent=2, ensure_ascii=False, default=str)
    _put(root, "manifest.json", text.encode())
    hook("manifest")
    return outputs
