"""Plumbing of the command line: shared options, the session, errors, reports.

The commands in :mod:`vluchtelingen_in_beeld.cli` stay thin: options, one library call,
write, messages. What they share lives here. Hand-formatted like the commands (the option
tables read better one option per line).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vluchtelingen_in_beeld.defaults import PILOTS, SETTING_NAMES, setting_name
from vluchtelingen_in_beeld.errors import VibError, for_cli
from vluchtelingen_in_beeld.fmt import nl_about, nl_about_range, nl_int

if TYPE_CHECKING:
    from vluchtelingen_in_beeld.result import YearResult
    from vluchtelingen_in_beeld.sender import Sender

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
)
#: --option -> (Constraints field, kind): "cap" takes a number or 'none', "num" a number
SELECTION_FLAGS = {
    "max_per_provincie": ("max_per_provincie", "cap"),
    "max_per_regio": ("max_per_regio", "cap"),
    "min_per_landsdeel": ("min_per_landsdeel", "cap"),
    "min_klein": ("min_klein", "cap"),
    "max_groot": ("max_groot", "cap"),
    "klein_onder": ("klein_onder", "num"),
    "groot_boven": ("groot_boven", "num"),
    "min_pool": ("min_pool", "cap"),
    setting_name("budget_eur"): ("budget_eur", "num"),
    setting_name("pilot_cost_eur"): ("pilot_cost_eur", "num"),
}
selection_options = _apply(
    click.option("--max-per-provincie", default=None,
                 help="At most this many per provincie ('none': no cap; card: 2)."),
    click.option("--max-per-regio", default=None,
                 help="At most this many per arbeidsmarktregio ('none': no cap; card: 1)."),
    click.option("--min-per-landsdeel", default=None,
                 help="At least this many per landsdeel ('none': off; card: 1)."),
    click.option("--min-klein", default=None,
                 help="At least this many small gemeenten ('none': off; card: 2)."),
    click.option("--klein-onder", type=float, default=None,
                 help="Inhabitants below which a gemeente is small (card: 100,000)."),
    click.option("--max-groot", default=None,
                 help="At most this many large gemeenten ('none': off; card: off)."),
    click.option("--groot-boven", type=float, default=None,
                 help="Inhabitants above which a gemeente is large (card: 200,000)."),
    click.option("--min-pool", default=None,
                 help="At least this many expected conversations per pilot in its first year "
                 "('none': off; card: off)."),
    click.option("--budget", type=float, default=None,
                 help="Budget in euro: a pilot costs --pilot-cost plus its expected "
                 "trajectories at the card's cost per placement (card: off)."),
    click.option("--pilot-cost", type=float, default=None,
                 help="Fixed cost of one pilot in euro, with --budget (card: 0; the EUR 1 m "
                 "of 2009 was the whole project's subsidy)."),
)

#: The choices ``build_year`` takes as they are (``vib rank``, ``vib verken``).
CHOICE = ("n", "include", "exclude", "region_reach", "draws", "seed")
#: What the selection must hold or leave out, and ρ: ``vib rank``, ``vib verken``.
choice_options = _apply(
    click.option("--include", multiple=True,
                 help="Gemeente (name or code) that must be selected; repeatable."),
    click.option("--exclude", multiple=True,
                 help="Gemeente (name or code) never to select; repeatable."),
    click.option("--region-reach", type=float, default=None,
                 help="ρ, the share of the rest of its arbeidsmarktregio a pilot reaches, "
                 "fixed in every draw, 0 to 1 (card: 0.25, uncertain from 0.10 to 0.50)."),
)


def selection_overrides(kw: dict[str, Any]) -> dict[str, Any]:
    """Take the selection options out of ``kw``: the ones given, as Constraints fields."""
    out: dict[str, Any] = {}
    for flag, (name, kind) in SELECTION_FLAGS.items():
        value = kw.pop(flag)
        if value is not None:
            out[name] = _cap(value) if kind == "cap" else value
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
out_option = click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output table (.csv, .xlsx, .parquet, or .gpkg with the gemeente geometry).",
)


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
    **{field: "--" + name.replace("_", "-") for field, name in SETTING_NAMES.items()},
}


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
            where = f" {exc.filename}" if exc.filename else ""
            raise click.ClickException(
                f"Cannot use{where}: {exc.strerror or exc}. Check the path and its permissions."
            ) from None

    return wrapper


@contextlib.contextmanager
def _session(kw: dict[str, Any], boundaries: Path | None = None) -> Iterator[Any]:
    """A session from the shared options.

    A snapshot is served (or, offline, named); a folder of boundaries is served at PDOK's
    paths.
    """
    from vluchtelingen_in_beeld.cbs import Session, offline_settings
    from vluchtelingen_in_beeld.settings import Settings
    from vluchtelingen_in_beeld.snapshot import (
        serving_boundaries,
        serving_snapshot,
        snapshot_settings,
    )

    quiet_logs(not kw.pop("verbose", False))
    snapshot = kw.pop("snapshot", None)
    settings = Settings.from_env(
        data_dir=kw.pop("data_dir", None),
        cbs_url=kw.pop("cbs_url", None),
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
    if (origin or result.origin).is_snapshot:
        click.echo("Let op: gemaakt uit een snapshot, geen echte CBS-cijfers; de waarschuwing "
                   "van de snapshot staat in elke uitvoer en in het manifest.")
    for p in written:
        click.echo(f"geschreven: {p}")


def sender_of(afzender: Path | None) -> Sender | None:
    """The sender of ``--afzender FILE`` (checked before any work), or ``None``."""
    from vluchtelingen_in_beeld.sender import load_sender

    return load_sender(afzender) if afzender is not None else None


def run_inputs(boundaries: Path | None, afzender: Path | None, card: str | None) -> list[Path]:
    """The files a run reads besides the store and snapshot: never inside its ``--out``."""
    files = [p for p in (boundaries, afzender) if p is not None]
    if card and card.endswith(".toml"):
        files.append(Path(card))
    return files


def map_pilots(highlight_top: int | None, card: str | None) -> int | None:
    """The selection size for ``vib map --highlight-top N``: the card's, or N if larger.

    Outlining the top 3 shows the first 3 of the card's selection, not a selection of 3
    under constraints meant for 11.
    """
    if highlight_top is None:
        return None
    from vluchtelingen_in_beeld.method import load_card

    return max(highlight_top, load_card(card).selection.n.value or 0)


def year_line(year: int) -> str:
    """The console's line for a year chosen without ``--year``."""
    return (f"Jaar {year}: de laatste periode met alle gegevens die de methodekaart nodig "
            "heeft (een ander jaar: --year).")


#: The loggers of this tool and the libraries it drives; quiet unless -v.
LOGGERS = ("vluchtelingen_in_beeld", "cbsodata", "urllib3", "requests", "pyogrio", "fiona")


def quiet_logs(quiet: bool) -> None:
    """Without ``-v`` no logger line reaches the console: the errors say what went wrong.

    With ``-v`` every logger writes at INFO (each OData URL). ``force``: importing
    cbsodata already gave the root logger a WARNING handler.
    """
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = not quiet
        if quiet and not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                            force=True)




def _checked_out(out: Path | None, kind: str = "estimate") -> Path | None:
    from vluchtelingen_in_beeld.output import check_table_path

    return check_table_path(out, kind) if out is not None else None


def _cap(value: str | None) -> int | None:
    """A number, or ``None`` for 'none'/'geen' (no cap). 0 is a number, and refused later."""
    if value is None or str(value).strip().lower() in {"none", "geen"}:
        return None
    if not str(value).strip():
        raise click.BadParameter("empty; give a number, or 'none' for no cap.")
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number or 'none'.") from None


def rank_lines(result: YearResult, *, compare: bool = False) -> list[str]:
    """What ``vib rank`` prints: the selection, prices, trajectories and the 2009 list."""
    from vluchtelingen_in_beeld.fmt import nl_pct, nl_prob

    ranking = result.ranking
    nat = float(ranking.table["werkzoekend"].sum())
    out = [
        f"{ranking.constraints.n} van {len(ranking.table)} gemeenten gekozen ({result.year}); "
        f"ze bereiken naar schatting {nl_about(ranking.objective)} werkzoekenden "
        f"({nl_pct(ranking.objective / nat)} van Nederland; {nl_pct(ranking.held['aandeel_nl'])} "
        f"woont in deze gemeenten, {nl_pct(ranking.held['aandeel_regios_nl'])} in hun regio's):"
    ]
    for r in ranking.selected.itertuples():
        loss = ("" if r.verlies_als_eruit != r.verlies_als_eruit
                else f"  zonder: -{nl_about(r.verlies_als_eruit)}"
                + (" (uitwisselbaar)" if r.uitwisselbaar else ""))
        out.append(f"  {r.rang:>3}. {r.gemeentenaam:<26} {r.provincie:<14} bereik "
                   f"{nl_about(r.bereik):>7}  kans gekozen {nl_prob(r.kans_geselecteerd)}{loss}")
    for r in ranking.prices.itertuples():
        out.append(f"  prijs van {r.beperking:<18} {nl_about(r.prijs, count=False):>7} "
                   f"werkzoekenden minder bereikt ({nl_pct(r.prijs_pct, 1)}; {r.omschrijving})")
    for f in ranking.funnel.itertuples() if ranking.funnel is not None else ():
        out.append(f"  trajecten ({f.scenario}): {nl_about(f.trajecten_in_doeljaren)} in "
                   f"{f.doel_jaren:g} jaar (p10–p90 "
                   f"{nl_about_range(f.trajecten_in_doeljaren_p10, f.trajecten_in_doeljaren_p90)}"
                   f"); doel {nl_about(f.doel)} voor het hele project")
    if compare:
        out.append("De voortrekkersgemeenten van 2009, nu:")
        for c in result.comparison_2009().itertuples():
            if c.soort == "lid":
                mark = "gekozen" if c.geselecteerd else "niet gekozen"
                out.append(f"  {c.gemeente_2009:<28} rang {int(c.rang):>3}  {mark}  "
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
