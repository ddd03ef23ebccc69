"""Plumbing of the command line: shared options, the session, errors, reports.

The commands in :mod:`vluchtelingen_in_beeld.cli.commands` stay thin: options, one library call,
write, messages. What they share lives here. Hand-formatted like the commands (the option
tables read better one option per line).
"""

# lazy: library modules are imported where a command needs them, as in commands.py, so
# ``vib --help`` does not load the workflow (0.7 s).

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vluchtelingen_in_beeld.catalogue import BY_FIELD, SETTINGS, Setting
from vluchtelingen_in_beeld.cells import num, whole
from vluchtelingen_in_beeld.defaults import PILOTS
from vluchtelingen_in_beeld.errors import VibError, for_cli
from vluchtelingen_in_beeld.fmt import nl_about, nl_about_range, nl_int

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.geography.result import YearResult
    from vluchtelingen_in_beeld.render.sender import Sender

#: The years of PDOK's gebiedsindelingen (CBS publishes them from 1995 on).
YEARS = click.IntRange(1995, 2100)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
Fn = Callable[..., Any]
SCHEMES = ("fisher_jenks", "quantiles", "equal_interval", "natural_breaks", "jenks_caspall",
           "maximum_breaks", "headtail_breaks")


def _apply(*opts: Callable[[Fn], Fn]) -> Callable[[Fn], Fn]:
    def deco(fn: Fn) -> Fn:
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return deco


data_options = _apply(
    click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                 help="Local store (default ./data, or $VIB_DATA_DIR)."),
    click.option("--snapshot", type=click.Path(path_type=Path), default=None,
                 help="Read a saved snapshot folder instead of live CBS (served locally)."),
    click.option("--offline", is_flag=True, help="Never touch the network; use the local store."),
    click.option("--refresh", is_flag=True, help="Fetch again even if the store has the rows."),
    click.option("--cbs-url", default=None,
                 help="CBS OData base URL (default https://opendata.cbs.nl, or $VIB_CBS_URL)."),
    click.option("--pdok-url", default=None,
                 help="PDOK base URL for gemeente boundaries (default https://service.pdok.nl, "
                 "or $VIB_PDOK_URL); `vib serve` prints both URLs of a local server."),
    click.option("--timeout", type=float, default=None,
                 help="Read timeout: seconds to wait for an answer (default 120, or "
                 "$VIB_TIMEOUT; connecting has its own 10 s, $VIB_CONNECT_TIMEOUT)."),
    click.option("--retries", type=int, default=None,
                 help="Retries on transient failures, 0-10 (default 3, or $VIB_RETRIES)."),
    click.option("-v", "--verbose", is_flag=True, help="Log every OData URL requested."),
)
model_options = _apply(
    click.option("--method", "method_card", default=None,
                 help="Method card: shipped name or path (default standaard)."),
    click.option("--draws", type=click.IntRange(100, 200_000), default=None,
                 help="Monte Carlo draws, 100 to 200,000 (overrides the card)."),
    click.option("--seed", type=int, default=None, help="Random seed (overrides the card)."),
    click.option("--opvang", type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="CSV of residents in reception (gemeentecode, bewoners, peildatum, "
                 "bron): taken out of the target population before the estimate."),
    click.option("--lokale-cijfers", "lokale_cijfers",
                 type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="CSV of a gemeente's own figures (gemeentecode, wat = werkzoekend or "
                 "bijstand, waarde, peildatum, bron, optional marge): the estimate is "
                 "calibrated to them."),
)
def _card_default(setting: Setting) -> str:
    """The shipped card's value of a setting, for ``--help`` ("card: 2", "card: off")."""
    from vluchtelingen_in_beeld.clean.method import load_card

    sel = load_card().selection
    if setting.field == "n":
        return str(sel.n.value)
    if setting.field in sel.limits:
        value = sel.limits[setting.field].value
        return "off" if value is None else f"{value:,}"
    if setting.field == "klein_onder":
        return f"{sel.limits['min_klein'].threshold or 0:,.0f}"
    if setting.field == "groot_boven":
        return f"{sel.limits['max_groot'].threshold or 0:,.0f}"
    if setting.field == "pilot_cost_eur":
        return f"{sel.pilot_cost_eur.value:,.0f}"
    return ""


def _setting_option(setting: Setting) -> Callable[[Fn], Fn]:
    """The click option of a catalogue setting (numbers checked later, by the catalogue)."""
    default = _card_default(setting)
    help_text = setting.help + (f" (card: {default})" if default else "")
    if setting.kind == "gemeenten":
        return click.option(setting.flag, setting.name, multiple=True, help=help_text)
    if setting.optional:  # a number, or 'none' to switch it off
        return click.option(setting.flag, setting.name, default=None, help=help_text)
    kind = int if setting.integer else float
    return click.option(setting.flag, setting.name, type=kind, default=None, help=help_text)


#: The switchable constraints and their thresholds: ``vib rank``, ``vib verken``.
SELECTION_SETTINGS = tuple(s for s in SETTINGS if s.kind not in ("count", "gemeenten"))
selection_options = _apply(*(_setting_option(s) for s in SELECTION_SETTINGS))

#: The choices ``build_year`` takes as they are (``vib rank``, ``vib verken``).
CHOICE = ("n", "include", "exclude", "region_reach", "draws", "seed")
#: What the selection must hold or leave out, and ρ: ``vib rank``, ``vib verken``.
choice_options = _apply(
    _setting_option(BY_FIELD["include"]),
    _setting_option(BY_FIELD["exclude"]),
    click.option("--region-reach", type=float, default=None,
                 help="ρ, the share of the rest of its arbeidsmarktregio a pilot reaches, "
                 "fixed in every draw, 0 to 1 (card: 0.25, uncertain from 0.10 to 0.50)."),
)


def selection_overrides(kw: dict[str, Any]) -> dict[str, Any]:
    """Take the selection options out of ``kw``: the ones given, as Constraints fields."""
    out: dict[str, Any] = {}
    for setting in SELECTION_SETTINGS:
        value = kw.pop(setting.name)
        if value is not None:
            out[setting.field] = _number(value, setting) if setting.optional else value
    return out


year_option = click.option(
    "--year",
    type=int,
    default=None,
    help="Reference date, 1 January of YEAR (default: the latest year for which CBS has "
    "everything the method card needs).",
)
boundary_options = _apply(
    click.option("--boundaries", type=click.Path(path_type=Path, exists=True), default=None,
                 help="Local boundaries: a GeoJSON/TopoJSON/GeoPackage file, or a folder of "
                 "gemeente_gegeneraliseerd_<year>.geojson files (default: PDOK, or the "
                 "snapshot's geo/)."),
    click.option("--boundary-year", type=YEARS, default=None,
                 help="Use this year's boundaries (its gemeenten must match the data's)."),
)
n_option = click.option(
    "--n",
    "n",
    type=int,
    default=None,
    help=f"Size of the selection (default: the card's n; {PILOTS} if the card has none).",
)
force_option = click.option(
    "--force", is_flag=True,
    help="Replace what vib wrote before there even if you changed it since (a file vib "
    "did not write is never replaced).",
)  # fmt: skip
csv_option = click.option(
    "--csv-dialect", type=click.Choice(["en", "nl"]), default="en", show_default=True,
    help="CSV cells and decimals: en (',' and 4.05) or nl (';' and 4,05, what Excel with "
    "Dutch settings opens as columns).",
)  # fmt: skip
out_option = _apply(
    click.option("--out", type=click.Path(path_type=Path), default=None,
                 help="Output table (.csv, .xlsx, .parquet, or .gpkg with the gemeente "
                 "geometry)."),
    force_option,
    csv_option,
)  # fmt: skip


def _flags() -> dict[str, str]:
    """Parameter name -> flag of the running command first, then of every other command."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    out: dict[str, str] = {}

    def walk(cmd: click.Command) -> None:
        for p in cmd.params:
            longs = [o for o in p.opts if o.startswith("--")]
            if isinstance(p, click.Option) and p.name and longs:
                out.setdefault(p.name, longs[0])
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(ctx.command)
    walk(ctx.find_root().command)
    return {**out, **{k: v for k, v in _PARAMETER_FLAGS.items() if k not in out}}


#: Library parameters whose flag has another name (the rest are their flag's own name).
_PARAMETER_FLAGS = {
    "card": "--method",
    "sender": "--afzender",
    "years": "--year",
    "filters": "--filter",
    **{s.field: s.flag for s in SETTINGS if s.field != s.name},
}


def os_error_text(exc: OSError) -> str:
    """What an operating-system error means for the user, with the path and what to do."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        folder = Path(exc.filename).parent if exc.filename else None
        free = ""
        if folder is not None:
            with contextlib.suppress(OSError):

                free = f" ({shutil.disk_usage(folder).free // 1_000_000:,} MB free now)"
        return (
            f"The disk is full: could not write{where}{free}. Nothing half-written was kept. "
            "Free space on that disk (a run writes about 10 MB; the store about 2 MB per "
            "year), or choose another `out` (or `data_dir` for the store)."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"Cannot use{where}: {exc.strerror or exc}. Choose a path you may write, or change "
            "its permissions."
        )
    return f"Cannot use{where}: {exc.strerror or exc}. Check the path and its permissions."


def handles_errors(fn: Fn) -> Fn:
    """Turn our exceptions (and unwritable paths) into click errors: exit 1, one message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VibError as exc:
            raise click.ClickException(for_cli(str(exc), _flags())) from None
        except MemoryError:
            raise click.ClickException(
                "Out of memory. Use fewer --draws (the cards allow at most 200,000)."
            ) from None
        except OSError as exc:  # a file or folder the user named cannot be written or read
            raise click.ClickException(os_error_text(exc)) from None

    return wrapper


@contextlib.contextmanager
def _session(kw: dict[str, Any], boundaries: Path | None = None) -> Iterator[Any]:
    """A session from the shared options.

    A snapshot is served (or, offline, named); a folder of boundaries is served at PDOK's
    paths.
    """
    from vluchtelingen_in_beeld.access.cbs import Session, offline_settings
    from vluchtelingen_in_beeld.access.snapshot import (
        serving_boundaries,
        serving_snapshot,
        snapshot_settings,
    )
    from vluchtelingen_in_beeld.settings import Settings

    quiet_logs(not kw.pop("verbose", False))
    snapshot = kw.pop("snapshot", None)
    settings = Settings.from_env(
        data_dir=kw.pop("data_dir", None),
        cbs_url=kw.pop("cbs_url", None),
        pdok_url=kw.pop("pdok_url", None),
        timeout=kw.pop("timeout", None),
        retries=kw.pop("retries", None),
        offline=kw.pop("offline", False),
        refresh=kw.pop("refresh", False),
    )
    with contextlib.ExitStack() as stack:
        if snapshot is not None and settings.offline:
            settings = snapshot_settings(settings, Path(snapshot))
        elif snapshot is not None:
            settings = stack.enter_context(serving_snapshot(settings, snapshot))
        elif settings.offline:
            settings, note = offline_settings(settings)
            if note:
                click.echo(f"Noot: {for_cli(note, _flags())}")
        if boundaries is not None and boundaries.is_dir():
            settings = stack.enter_context(serving_boundaries(settings, boundaries))
        yield Session(settings)


def _file(boundaries: Path | None) -> Path | None:
    return boundaries if boundaries is not None and not boundaries.is_dir() else None


def _report(result: Any, written: list[Path], notes: bool = True, origin: Any = None) -> None:
    """The year (if chosen), the notes, the snapshot warning, the files written.

    ``result``: a year's result, or an estimate (then give its ``origin``).
    """
    if result.year_note:
        click.echo(year_line(result.year))
    flags = _flags()
    for note in result.notes if notes else []:
        if note != result.year_note:  # said by the year line above
            click.echo(f"Noot: {for_cli(note, flags)}")
    for line in gap_lines(getattr(result, "estimate", result).table):
        click.echo(line)
    if (origin or result.origin).is_snapshot:
        click.echo("Let op: gemaakt uit een snapshot, geen echte CBS-cijfers; de waarschuwing "
                   "van de snapshot staat in elke uitvoer en in het manifest.")
    for p in written:
        click.echo(f"geschreven: {p}")


def gap_lines(table: Any) -> list[str]:
    """The gemeenten with a figure CBS does not give, and what the estimate did there."""
    if "geen_gegevens" not in table.columns:
        return []
    gaps = table[table["geen_gegevens"].fillna("").astype(str) != ""]
    return [f"Geen gegevens: {r.gemeentenaam} ({r.gemeentecode}): {r.geen_gegevens}."
            for r in gaps.itertuples()][:20] + (
        [f"… en {len(gaps) - 20} meer (kolom geen_gegevens)."] if len(gaps) > 20 else [])


def sender_of(afzender: Path | None) -> Sender | None:
    """The sender of ``--afzender FILE`` (checked before any work), or ``None``."""
    from vluchtelingen_in_beeld.render.sender import load_sender

    return load_sender(afzender) if afzender is not None else None


def local_files(kw: dict[str, Any], out: Path | None = None) -> Any:
    """The ``--opvang`` and ``--lokale-cijfers`` files, read and checked (or ``None``).

    ``out``: the command's output, which may not be one of them (not even with --force).
    """
    from vluchtelingen_in_beeld.clean.localfiles import LocalFiles
    from vluchtelingen_in_beeld.errors import ConfigError

    given = {"--opvang": kw.pop("opvang", None), "--lokale-cijfers": kw.pop("lokale_cijfers", None)}
    for flag, path in given.items():
        if out is not None and path is not None and Path(out).resolve() == Path(path).resolve():
            raise ConfigError(f"--out {out} is the {flag} file this command reads; give another.")
    return LocalFiles.read(given["--opvang"], given["--lokale-cijfers"])


def run_inputs(
    boundaries: Path | None, afzender: Path | None, card: str | None, *more: Path | None
) -> list[Path]:
    """The files a run reads besides the store and snapshot: never inside its ``--out``."""
    files = [p for p in (boundaries, afzender, *more) if p is not None]
    if card and (Path(card).suffix.lower() == ".toml" or Path(card).exists()):
        files.append(Path(card))  # a card file, whatever the case of its extension
    return files


def map_pilots(highlight_top: int | None, card: str | None) -> int | None:
    """The selection size for ``vib map --highlight-top N``: the card's, or N if larger.

    Outlining the top 3 shows the first 3 of the card's selection, not a selection of 3
    under constraints meant for 11.
    """
    if highlight_top is None:
        return None
    from vluchtelingen_in_beeld.clean.method import load_card

    return max(highlight_top, load_card(card).selection.n.value or 0)


def year_line(year: int) -> str:
    """The console's line for a year chosen without ``--year``."""
    return (f"Jaar {year}: de laatste periode met alle gegevens die de methodekaart nodig "
            "heeft (een ander jaar: --year).")


#: The loggers of this tool and the libraries it drives; quiet unless -v.
LOGGERS = ("vluchtelingen_in_beeld", "urllib3", "requests", "pyogrio", "fiona")


def quiet_logs(quiet: bool) -> None:
    """Without ``-v`` no logger line reaches the console: the errors say what went wrong.

    With ``-v`` every logger writes at INFO (each OData URL). ``force``: a library may
    have given the root logger a handler of its own already.
    """
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = not quiet
        if quiet and not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                            force=True)




def _checked_out(out: Path | None, kind: str = "estimate", force: bool = False) -> Path | None:
    from vluchtelingen_in_beeld.render.output import check_table_path

    return check_table_path(out, kind, force=force) if out is not None else None


def _number(value: str, setting: Setting) -> float | int | None:
    """A number, or ``None`` for 'none'/'geen' (off); its range is checked by the catalogue."""
    text = str(value).strip()
    if text.lower() in {"none", "geen"}:
        return None
    if not text:
        raise click.BadParameter("empty; give a number, or 'none' to switch it off.",
                                 param_hint=setting.flag)
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number or 'none'.",
                                 param_hint=setting.flag) from None
    if not math.isfinite(number):
        raise click.BadParameter(f"{value!r} is not a finite number.", param_hint=setting.flag)
    if setting.integer:
        if number != int(number):
            raise click.BadParameter(f"{value!r} is not a whole number.", param_hint=setting.flag)
        return int(number)
    return number


def rank_lines(result: YearResult, *, compare: bool = False) -> list[str]:
    """What ``vib rank`` prints: the selection, prices, placements and the 2009 list.

    Every sentence comes from the ranking's facts through the one renderer (:mod:`.words`).
    """
    from vluchtelingen_in_beeld.fmt import is_small, nl_prob
    from vluchtelingen_in_beeld.words import say

    ranking = result.ranking
    out = [say("kop", ranking.headline)]
    for r in ranking.selected.itertuples():
        gone = num(r.verlies_als_eruit)
        loss = ("" if math.isnan(gone)
                else "  zonder: vrijwel evenveel" if is_small(gone)
                else f"  zonder: {nl_about(gone)} minder")
        loss += " (uitwisselbaar)" if r.uitwisselbaar else ""
        out.append(f"  {r.rang:>3}. {r.gemeentenaam:<26} {r.provincie:<14} bereik "
                   f"{nl_about(r.bereik):>7}  kans gekozen {nl_prob(r.kans_geselecteerd)}{loss}")
    out.append("Prijzen:")
    for r in ranking.prices.itertuples():
        out.append(f"  {r.uitleg}")
    for f in ranking.funnel.itertuples() if ranking.funnel is not None else ():
        likely = nl_about_range(f.plaatsingen_in_doeljaren_p10, f.plaatsingen_in_doeljaren_p90)
        out.append(f"  plaatsingen ({str(f.omschrijving).split(':')[0]}): "
                   f"{nl_about(f.plaatsingen_in_doeljaren)} in {f.doel_jaren:g} jaar "
                   f"(waarschijnlijk {likely}); doel {nl_about(f.doel_trajecten)} trajecten "
                   "voor het hele project")
    if compare:
        out.append("De voortrekkersgemeenten van 2009, nu:")
        for c in result.comparison_2009().itertuples():
            if c.soort == "lid":
                mark = "gekozen" if c.geselecteerd else "niet gekozen"
                out.append(f"  {c.gemeente_2009:<28} plaats {whole(c.rang):>3}  {mark}  "
                           f"kans gekozen {nl_prob(c.kans_geselecteerd)}")
            else:
                out.append(f"  {c.gemeente_2009}: {nl_about(c.bereik)}. {c.toelichting}")
    return out


def fetch_lines(session: Any) -> list[str]:
    """What ``vib fetch`` got: one line per extract, and where from."""
    lines = []
    for x in session.fetched:
        how = "opslag " if x.from_store else "gehaald"
        lines.append(f"{how} {x.meta.table:9} {nl_int(len(x.frame)):>7} rijen  "
                     f"{x.manifest.get('filter', '')[:90]}")
    n_new = sum(not x.from_store for x in session.fetched)
    lines.append(f"{n_new} uittreksel(s) gehaald, {len(session.fetched) - n_new} uit de lokale "
                 f"opslag ({session.settings.data_dir}).")
    return lines


def estimate_line(est: Any) -> str:
    """``vib estimate``'s summary: the national estimate with its p10–p90 range."""
    nat = est.national.iloc[0]
    return (
        f"{len(est.table)} gemeenten, {est.year}: naar schatting "
        f"{nl_about(nat['werkzoekend'])} werkzoekend (p10–p90 "
        f"{nl_about_range(nat['werkzoekend_p10'], nat['werkzoekend_p90'])}), "
        f"methodekaart {est.card.name} {est.card.version}."
    )


def region_lines(result: YearResult, level: str) -> list[str]:
    """``vib regions``'s summary: the twelve largest areas with their p10–p90 range."""
    frame = result.totals(level)
    lines = [f"{len(frame)} gebieden ({level}), {result.year}:"]
    for r in frame.head(12).itertuples():
        lines.append(f"  {r.naam:<32} {nl_about(r.werkzoekend):>9}  (p10–p90 "
                     f"{nl_about_range(r.werkzoekend_p10, r.werkzoekend_p90)})")
    return lines


def trend_lines(result: YearResult) -> list[str]:
    """``vib trend``'s summary: the country per year and the change in words."""
    from vluchtelingen_in_beeld.render.pitch import trend_fact
    from vluchtelingen_in_beeld.words import say

    trend = result.trend
    if trend is None:
        return [f"Alleen {result.year}: geen eerdere jaren in de herkomsttabel."]
    lines = [f"Nederland, {trend.years[0]}–{trend.years[-1]} (gemeenten van {result.year}):"]
    for r in trend.of("NL01").itertuples():
        lines.append(f"  {r.jaar}  {nl_about(r.werkzoekend):>9}  (p10–p90 "
                     f"{nl_about_range(r.werkzoekend_p10, r.werkzoekend_p90)})")
    fact = trend_fact(result, "NL01")
    return [*lines, say("trend_zin", fact) if fact else "", *trend.notes]
