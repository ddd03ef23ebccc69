"""The ``vib`` command line: thin commands over the library.

Each command parses its options, calls one library function, writes the output, and turns
:class:`~vluchtelingen_in_beeld.errors.VibError` into a clear message and exit code 1.
Heavy libraries are imported inside the commands, so ``vib --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.errors import VibError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(exc: VibError) -> click.ClickException:
    return click.ClickException(str(exc))


def data_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that reads CBS data."""
    opts = [
        click.option(
            "--data-dir",
            type=click.Path(path_type=Path),
            default=None,
            help="Local store (default ./data, or $VIB_DATA_DIR).",
        ),
        click.option(
            "--snapshot",
            type=click.Path(path_type=Path),
            default=None,
            help="Read a saved snapshot folder instead of live CBS (served locally).",
        ),
        click.option(
            "--offline", is_flag=True, help="Never touch the network; use the local store."
        ),
        click.option("--refresh", is_flag=True, help="Fetch again even if the store has the rows."),
        click.option(
            "--cbs-url",
            default=None,
            help="CBS OData base URL (default https://opendata.cbs.nl, or $VIB_CBS_URL).",
        ),
        click.option(
            "--timeout",
            type=float,
            default=None,
            help="Read timeout: seconds to wait for an answer (default 120, or $VIB_TIMEOUT; "
            "connecting has its own 10 s, $VIB_CONNECT_TIMEOUT).",
        ),
        click.option(
            "--retries",
            type=int,
            default=None,
            help="Retries on transient failures (default 3, or $VIB_RETRIES).",
        ),
        click.option("-v", "--verbose", is_flag=True, help="Log every OData URL requested."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


year_option = click.option(
    "--year",
    type=int,
    default=None,
    help="Reference date, 1 January of YEAR (default: the latest year for which CBS has "
    "everything the method card needs).",
)


def _year_note(est: Any) -> None:
    """Say which year was chosen, when the user did not give one."""
    if est.year_note:
        click.echo(f"Year {est.year}: the latest period with this card's inputs.")


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that runs the estimate: card, draws, seed."""
    opts = [
        click.option(
            "--method", "method_card", default=None, help="Method card: shipped name or path."
        ),
        click.option(
            "--draws",
            type=click.IntRange(100, 200_000),
            default=None,
            help="Monte Carlo draws, 100 to 200,000 (overrides the card).",
        ),
        click.option("--seed", type=int, default=None, help="Random seed (overrides the card)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


@contextlib.contextmanager
def _session(kw: dict[str, Any]) -> Iterator[Any]:
    """A :class:`~.cbs.Session` from the shared options (serving a snapshot if asked)."""
    from vluchtelingen_in_beeld.cbs import Session, offline_settings
    from vluchtelingen_in_beeld.settings import Settings
    from vluchtelingen_in_beeld.snapshot import serving_snapshot, snapshot_settings

    if kw.pop("verbose", False):
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
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
            # what a run on this snapshot stored, without serving the snapshot again
            settings = snapshot_settings(settings, Path(snapshot))
        elif snapshot is not None:
            settings = stack.enter_context(serving_snapshot(settings, snapshot))
        elif settings.offline:
            settings, note = offline_settings(settings)
            if note:
                click.echo(f"Note: {note}")
        yield Session(settings)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our exceptions into click errors (exit 1 with the message)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VibError as exc:
            raise _fail(exc) from None
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


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="vib")
def main() -> None:
    """vluchtelingen-in-beeld: job-seeking refugees per Dutch gemeente, from CBS open data.

    Example: vib run --year 2025 --snapshot ../shared/data/statline
    """


# --- data ----------------------------------------------------------------------------------


@main.command()
@year_option
@click.option(
    "--method",
    "method_card",
    default=None,
    help="Method card: shipped name or path (default standaard).",
)
@data_options
@handles_errors
def fetch(year: int | None, method_card: str | None, **kw: Any) -> None:
    """Fetch everything the method needs for one year into the local store.

    Only the rows the method card needs are requested (server-side filters); what the store
    already holds is not fetched again.

    Example: vib fetch --year 2025 --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.inputs import gather, latest_year
    from vluchtelingen_in_beeld.method import load_card

    card = load_card(method_card)
    with _session(kw) as session:
        if year is None:
            year = latest_year(session, card).year
            click.echo(f"Year {year}: the latest period with this card's inputs.")
        else:
            gather(session, card, year)
        for x in session.fetched:
            how = "store  " if x.from_store else "fetched"
            click.echo(
                f"{how} {x.meta.table:9} {len(x.frame):>7,} rows  "
                f"{x.manifest.get('filter', '')[:90]}"
            )
        n_new = sum(not x.from_store for x in session.fetched)
        click.echo(
            f"{n_new} extract(s) fetched, {len(session.fetched) - n_new} from the local store "
            f"({session.settings.data_dir})."
        )


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Local store (default ./data).",
)
@handles_errors
def tables(data_dir: Path | None) -> None:
    """List the CBS tables this tool knows, and what the local store holds of each.

    Example: vib tables --data-dir data
    """
    from vluchtelingen_in_beeld.settings import Settings
    from vluchtelingen_in_beeld.store import Store
    from vluchtelingen_in_beeld.tables import all_table_ids

    settings = Settings.from_env(data_dir=data_dir)
    store = Store(settings.data_dir)
    held: dict[str, list[dict[str, Any]]] = {}
    for entry in store.entries():
        held.setdefault(entry.manifest["table"], []).append(entry.manifest)
    for spec, year, tid in all_table_ids():
        entries = held.get(tid, [])
        extracts = [m for m in entries if m.get("kind") == "extract"]
        rows = sum(int(m.get("rows", 0)) for m in extracts)
        stored = f"{len(extracts)} extract(s), {rows:,} rows" if entries else "not in store"
        label = f"{spec.title}" + (f" {year}" if year else "")
        click.echo(f"{tid:10} {label[:70]:70} {stored}")


@main.command()
@data_options
@handles_errors
def check(**kw: Any) -> None:
    """Check that every registered CBS table still has what the tool needs.

    Reads the metadata of each table and year in the registry from the current source
    (live CBS, or --snapshot DIR) and resolves every title path, dimension, key and period.
    Exits 1 if any does not resolve, naming the closest titles. Tables a snapshot does not
    hold are listed as absent.

    Example: vib check --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.check import ABSENT, FAIL, check_registry

    with _session(kw) as session:
        results = check_registry(session)
    for r in results:
        label = f"{r.title}"[:58]
        click.echo(f"{r.status:6} {r.table:9} {label:58} {r.detail}")
        for role, key in sorted(r.resolved.items()):
            click.echo(f"         {role} -> {key}")
        for problem in r.problems:
            click.echo(f"         {problem}")
        for warning in r.warnings:
            click.echo(f"         note: {warning}")
    failed = [r for r in results if r.status == FAIL]
    checked = [r for r in results if r.status != ABSENT]
    click.echo(
        f"{len(checked)} table(s) checked, {len(failed)} with problems, "
        f"{len(results) - len(checked)} not at this source."
    )
    if failed:
        raise click.ClickException(
            "Some registered tables no longer resolve: "
            + ", ".join(r.table for r in failed)
            + ". See the lines above; fix the registry (tables.py) or the table ids."
        )
    if not checked:
        raise click.ClickException("No registered table is available at this source.")


@main.group()
def snapshot() -> None:
    """Save CBS tables to a folder that works without internet.

    Example: vib snapshot save 85458NED --year 2025 --to snap/
    """


@snapshot.command("save")
@click.argument("table_ids", nargs=-1, required=True)
@click.option("--to", "to", type=click.Path(path_type=Path), required=True, help="Folder to write.")
@click.option("--year", "years", type=int, multiple=True, help="Only these years (repeatable).")
@click.option("--filter", "filters", default=None, help="Extra OData $filter on the rows.")
@click.option("--all", "whole", is_flag=True, help="Allow saving a large table whole.")
@click.option(
    "--boundary-year",
    "boundary_years",
    type=int,
    multiple=True,
    help="Also save PDOK gemeente boundaries of this year into geo/ (repeatable).",
)
@data_options
@handles_errors
def snapshot_save(
    table_ids: tuple[str, ...],
    to: Path,
    years: tuple[int, ...],
    filters: str | None,
    whole: bool,
    boundary_years: tuple[int, ...],
    **kw: Any,
) -> None:
    """Save TABLE... in cbsodata's download_data layout (one folder per table).

    With --boundary-year, the gemeente boundaries go into geo/ beside the tables, so that
    --snapshot can draw maps offline too.

    Example: vib snapshot save 85458NED 85755NED --year 2025 --boundary-year 2025 --to snap/
    """
    from vluchtelingen_in_beeld.geo import save_boundaries
    from vluchtelingen_in_beeld.output import check_writable
    from vluchtelingen_in_beeld.snapshot import save_snapshot

    check_writable(to, "snapshot folder")
    with _session(kw) as session:
        for saved in save_snapshot(
            session, table_ids, to, years=years, filters=filters, whole=whole
        ):
            click.echo(f"saved {saved.table}: {saved.rows:,} rows -> {saved.path}")
        for path in save_boundaries(session, boundary_years, to / "geo"):
            click.echo(f"saved boundaries -> {path}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--port", type=int, default=8087, show_default=True, help="Port on 127.0.0.1.")
@handles_errors
def serve(folder: Path, port: int) -> None:
    """Serve a snapshot FOLDER on 127.0.0.1 as CBS's OData v3 feed (until Ctrl-C).

    Example: vib serve ../shared/data/statline --port 8087
    """
    from vluchtelingen_in_beeld._impl.server import ReplayServer, check_snapshot
    from vluchtelingen_in_beeld.geo import boundary_files, find_geo_folder

    problems = check_snapshot(folder)
    if problems:
        raise VibError(f"Snapshot {folder.name}: {problems[0]}")
    geo = find_geo_folder(folder)
    try:
        server = ReplayServer(folder, port=port, boundaries=boundary_files(geo) if geo else {})
    except OSError as exc:
        raise VibError(f"Cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port.") from None
    click.echo(f"Serving {folder} at {server.url}/ODataFeed/odata/ (Ctrl-C stops)")
    if geo is not None:
        click.echo(
            f"and gemeente boundaries ({', '.join(map(str, boundary_files(geo)))}) at PDOK's paths"
        )
    click.echo(f"Use it with: vib fetch --cbs-url {server.url}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


# --- method cards ----------------------------------------------------------------------------


@main.group()
def method() -> None:
    """Show, copy and check method cards (every parameter of the estimate).

    Example: vib method show lokaal
    """


@method.command("show")
@click.argument("card", required=False)
@handles_errors
def method_show(card: str | None) -> None:
    """Show a card's parameters with ranges and sources (default: standaard).

    Example: vib method show cbs6+ethiopie
    """
    from vluchtelingen_in_beeld.method import load_card, shipped_cards

    c = load_card(card)
    click.echo(f"{c.name} {c.version}: {c.description}")
    click.echo(f"  origin: {c.origin}   sha256: {c.checksum[:16]}")
    if c.warning:
        click.echo(f"  LET OP: {c.warning}")
    click.echo(f"  groups: {', '.join(f'{g.name} ({g.key})' for g in c.groups)}")
    click.echo(f"  birthplace: {c.birthplace}; ages {c.age_min:g} to {c.age_max:g} (exclusive)")
    for name, r in c.rates().items():
        flag = "  [assumption]" if r.assumption else ""
        click.echo(f"  {name:30} {r.describe():22} {r.source}{flag}")
    click.echo(f"  scenario: {c.scenario}; draws {c.draws}, seed {c.seed}, {c.distribution}")
    click.echo(f"Shipped cards: {', '.join(shipped_cards())}")


@method.command("init")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--from", "base", default="standaard", show_default=True, help="Shipped card to copy."
)
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@handles_errors
def method_init(path: Path, base: str, force: bool) -> None:
    """Write an editable copy of a shipped card to PATH.

    Example: vib method init mijnkaart.toml --from lokaal
    """
    from vluchtelingen_in_beeld.method import init_card
    from vluchtelingen_in_beeld.output import check_file_path

    check_file_path(path)
    init_card(path, base, force=force)
    click.echo(f"Wrote {path}. Edit it, then: vib method validate {path}")


@method.command("validate")
@click.argument("path")
@handles_errors
def method_validate(path: str) -> None:
    """Check a card: unknown keys, rates outside [0, 1], low > high, bad keys or ages.

    Example: vib method validate mijnkaart.toml
    """
    from vluchtelingen_in_beeld.method import load_card

    c = load_card(path)
    click.echo(
        f"{path}: valid ({c.name} {c.version}, {len(c.groups)} groups, sha256 {c.checksum[:16]})."
    )


# --- the estimate ------------------------------------------------------------------------------


@main.command()
@year_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output table (.csv, .xlsx, .parquet); default maps/schatting_YEAR.csv.",
)
@model_options
@click.option("--scenario", default=None, help="Outreach scenario: plan2005 or resultaat2005.")
@click.option(
    "--contact-share",
    type=float,
    default=None,
    help="Share of the job-seeking reached by outreach (0-1; overrides the card).",
)
@data_options
@handles_errors
def estimate(
    year: int | None,
    method_card: str | None,
    out: Path | None,
    draws: int | None,
    seed: int | None,
    scenario: str | None,
    contact_share: float | None,
    **kw: Any,
) -> None:
    """Estimate job-seeking refugees per gemeente, with p10-p90 intervals.

    Writes one row per gemeente, a national row, and a .manifest.json with every source.

    Example: vib estimate --year 2025 --snapshot ../shared/data/statline --out maps/schatting.xlsx
    """
    from vluchtelingen_in_beeld.api import estimate_year
    from vluchtelingen_in_beeld.output import check_table_path, write_estimate

    if out is not None:
        out = check_table_path(out)
    with _session(kw) as session:
        est = estimate_year(
            session,
            year,
            method_card,
            draws=draws,
            seed=seed,
            scenario=scenario,
            contact_share=contact_share,
        )
        _year_note(est)
        out = out or check_table_path(Path("maps") / f"schatting_{est.year}.csv")
        written = write_estimate(est, out, session.settings)
    nat = est.national.iloc[0]
    click.echo(
        f"{len(est.table)} gemeenten, {est.year}: werkzoekend {nat['werkzoekend']:,.0f} "
        f"(p10-p90 {nat['werkzoekend_p10']:,.0f}-{nat['werkzoekend_p90']:,.0f}), "
        f"card {est.card.name}."
    )
    for p in written:
        click.echo(f"wrote {p}")
    _snapshot_note(session)


def _snapshot_note(session: Any) -> None:
    if session.settings.snapshot_dir is not None:
        click.echo("Note: made from a snapshot; see the manifest for its warning text.")


def _optional_int(value: str | None) -> int | None:
    """A number, or ``None`` for 'none'/'geen' (no cap). 0 is a number, and refused later."""
    if value is None or str(value).strip().lower() in {"none", "geen", ""}:
        return None
    return int(value)


@main.command()
@year_option
@click.option("--n", "n", type=int, default=11, show_default=True, help="How many to select.")
@click.option(
    "--weights",
    default="volume=0.5,concentratie=0.3,groei=0.2",
    show_default=True,
    help="Criterion weights.",
)
@click.option(
    "--max-per-provincie",
    default="3",
    show_default=True,
    help="At most this many per provincie ('none' for no cap).",
)
@click.option(
    "--max-per-regio", type=int, default=None, help="At most this many per arbeidsmarktregio."
)
@click.option(
    "--min-klein",
    type=int,
    default=0,
    show_default=True,
    help="At least this many small gemeenten.",
)
@click.option(
    "--klein-onder",
    type=float,
    default=50_000,
    show_default=True,
    help="Inhabitants below which a gemeente counts as small.",
)
@click.option(
    "--include", multiple=True, help="Gemeente (name or code) that must be selected; repeatable."
)
@click.option(
    "--exclude", multiple=True, help="Gemeente (name or code) never to select; repeatable."
)
@click.option(
    "--compare",
    type=click.Choice(["2009"]),
    default=None,
    help="Show where a reference selection stands.",
)
@model_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output table (.csv, .xlsx, .parquet).",
)
@data_options
@handles_errors
def rank(
    year: int | None,
    n: int,
    weights: str,
    max_per_provincie: str,
    max_per_regio: int | None,
    min_klein: int,
    klein_onder: float,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    compare: str | None,
    method_card: str | None,
    draws: int | None,
    seed: int | None,
    out: Path | None,
    **kw: Any,
) -> None:
    """Rank gemeenten and select candidate voortrekkersgemeenten, with a reason for each.

    Score = weighted percentile ranks of volume, concentration and two-year growth; the
    selection respects every cap and minimum, and refuses an impossible combination.

    Example: vib rank --year 2025 --snapshot ../shared/data/statline --n 11 --compare 2009
    """
    from vluchtelingen_in_beeld.api import rank_year
    from vluchtelingen_in_beeld.output import check_table_path, write_table
    from vluchtelingen_in_beeld.rank import compare_reference

    if out is not None:
        out = check_table_path(out)
    try:
        cap = _optional_int(max_per_provincie)
    except ValueError:
        raise click.BadParameter(
            f"{max_per_provincie!r} is not a number or 'none'.", param_hint="--max-per-provincie"
        ) from None
    with _session(kw) as session:
        result = rank_year(
            session,
            year,
            method_card,
            weights=weights,
            n=n,
            max_per_provincie=cap,
            max_per_regio=max_per_regio,
            min_klein=min_klein,
            klein_onder=klein_onder,
            include=include,
            exclude=exclude,
            draws=draws,
            seed=seed,
        )
        _year_note(result.estimate)
        year = result.estimate.year
        out = out or check_table_path(Path("maps") / f"rangorde_{year}.csv")
        ranking = result.ranking
        companions = {}
        comparison = None
        if compare:
            comparison = compare_reference(ranking)
            companions["vergelijking_2009"] = comparison
        written = write_table(
            ranking.table,
            out,
            session.settings,
            kind="ranking",
            year=result.estimate.year,
            sources=result.provenance(),
            card=result.estimate.card,
            notes=result.notes,
            extra={
                "weights": ranking.weights,
                "constraints": vars(ranking.constraints),
                "growth_basis": result.growth.basis,
                "regions_table": result.regions.table,
            },
            companions=companions,
        )
    click.echo(f"Selected {n} of {len(ranking.table)} gemeenten ({year}):")
    for r in ranking.selected.itertuples():
        click.echo(
            f"  {r.rang:>3}. {r.gemeentenaam:<28} {r.provincie:<15} score {r.score:.3f}  "
            f"P(top {n}) {r.kans_top_n:.0%}"
        )
    if comparison is not None:
        click.echo("2009 reference, today:")
        for c in comparison.itertuples():
            mark = "selected" if c.geselecteerd else "not selected"
            click.echo(f"  {c.gemeente_2009:<28} rank {c.rang:>3}  {mark}")
    for note in result.notes:
        click.echo(f"Note: {note}")
    _snapshot_note(session)
    for p in written:
        click.echo(f"wrote {p}")


@main.command()
@year_option
@click.option(
    "--level",
    type=click.Choice(["provincie", "arbeidsmarktregio", "corop", "landsdeel"]),
    default="provincie",
    show_default=True,
    help="Regional level.",
)
@model_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output table (.csv, .xlsx, .parquet).",
)
@data_options
@handles_errors
def regions(
    year: int | None,
    level: str,
    method_card: str | None,
    draws: int | None,
    seed: int | None,
    out: Path | None,
    **kw: Any,
) -> None:
    """Sum the estimate per provincie, arbeidsmarktregio or COROP-gebied, with intervals.

    Intervals are percentiles of the regional sum within each Monte Carlo draw.

    Example: vib regions --year 2025 --level arbeidsmarktregio --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.api import regions_year
    from vluchtelingen_in_beeld.output import check_table_path, write_table

    if out is not None:
        out = check_table_path(out)
    with _session(kw) as session:
        frame, est, regs = regions_year(session, year, level, method_card, draws=draws, seed=seed)
        _year_note(est)
        year = est.year
        out = out or check_table_path(Path("maps") / f"regio_{level}_{year}.csv")
        written = write_table(
            frame,
            out,
            session.settings,
            kind=f"regions:{level}",
            year=est.year,
            sources=[*est.provenance, *regs.provenance()],
            card=est.card,
            notes=[*est.notes, *regs.notes],
            extra={"level": level, "regions_table": regs.table},
        )
    click.echo(f"{len(frame)} regions ({level}), {year}:")
    for r in frame.head(12).itertuples():
        click.echo(
            f"  {r.naam:<32} {r.werkzoekend:>9,.0f}  (p10-p90 {r.werkzoekend_p10:,.0f}-"
            f"{r.werkzoekend_p90:,.0f})"
        )
    for note in regs.notes:
        click.echo(f"Note: {note}")
    _snapshot_note(session)
    for p in written:
        click.echo(f"wrote {p}")


def boundary_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options that choose the gemeente boundaries."""
    opts = [
        click.option(
            "--boundaries",
            type=click.Path(path_type=Path, exists=True),
            default=None,
            help="Local boundaries: a GeoJSON/TopoJSON/GeoPackage file, or a folder of "
            "gemeente_gegeneraliseerd_<year>.geojson files (default: PDOK, or the "
            "snapshot's geo/).",
        ),
        click.option(
            "--boundary-year",
            type=int,
            default=None,
            help="Use this year's boundaries (its gemeenten must match the data's).",
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


@contextlib.contextmanager
def _with_boundaries(session: Any, boundaries: Path | None) -> Iterator[tuple[Any, Path | None]]:
    """(session, boundary file): a folder is served at PDOK's paths, a file is read directly."""
    if boundaries is None or not boundaries.is_dir():
        yield session, boundaries
        return
    from vluchtelingen_in_beeld.cbs import Session
    from vluchtelingen_in_beeld.geo import serving_boundaries

    with serving_boundaries(session.settings, boundaries) as settings:
        yield Session(settings), None


@main.command("map")
@year_option
@click.option("--metric", default="werkzoekend", show_default=True, help="What to colour by.")
@click.option(
    "--scheme",
    default="fisher_jenks",
    show_default=True,
    help="Classification (mapclassify): fisher_jenks, quantiles, equal_interval, ...",
)
@click.option("--k", type=int, default=5, show_default=True, help="Number of classes.")
@click.option(
    "--level",
    type=click.Choice(["gemeente", "provincie", "arbeidsmarktregio"]),
    default="gemeente",
    show_default=True,
    help="Areas to colour.",
)
@click.option("--highlight-top", type=int, default=None, help="Outline the N selected candidates.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="HTML file to write.")
@click.option("--png", type=click.Path(path_type=Path), default=None, help="Also write a PNG here.")
@click.option("--tiles", is_flag=True, help="Add an OpenStreetMap background (needs internet).")
@boundary_options
@model_options
@data_options
@handles_errors
def map_command(
    year: int | None,
    metric: str,
    scheme: str,
    k: int,
    level: str,
    highlight_top: int | None,
    out: Path | None,
    png: Path | None,
    tiles: bool,
    boundaries: Path | None,
    boundary_year: int | None,
    method_card: str | None,
    draws: int | None,
    seed: int | None,
    **kw: Any,
) -> None:
    """Draw a choropleth map as one offline HTML file (and optionally a PNG).

    Boundaries are those of the data's year; every gemeente must join on its code.

    Example: vib map --year 2025 --snapshot ../shared/data/statline --highlight-top 11
    """
    from vluchtelingen_in_beeld.api import map_year
    from vluchtelingen_in_beeld.output import provenance, sidecar, write_bundle

    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{out} must end in .html", param_hint="--out")
    if png is not None and png.suffix.lower() != ".png":
        raise click.BadParameter(f"{png} must end in .png", param_hint="--png")
    from vluchtelingen_in_beeld.output import check_file_path

    for path in (out, png):
        if path is not None:
            check_file_path(path)
    with _session(kw) as base, _with_boundaries(base, boundaries) as (session, bfile):
        result = map_year(
            session,
            year,
            metric=metric,
            scheme=scheme,
            k=k,
            level=level,
            highlight_top=highlight_top,
            boundaries=bfile,
            boundary_year=boundary_year,
            card=method_card,
            draws=draws,
            seed=seed,
        )
        _year_note(result.rank.estimate)
        year = result.rank.estimate.year
        out = out or Path("maps") / f"kaart_{metric}_{level}_{year}.html"
        files = {out: result.html(tiles=tiles).encode("utf-8")}
        if png is not None:
            files[png] = result.png()
        est = result.rank.estimate
        record = provenance(
            session.settings,
            sources=result.rank.provenance(),
            card=est.card,
            notes=[*result.rank.notes, *result.boundaries.notes],
            extra=result.record,
        )
        write_bundle(files, sidecar(out), record)
    click.echo(
        f"{len(result.data.frame)} areas ({level}), {metric}; {len(result.classes.bounds)} classes "
        f"({scheme}), {result.classes.n_missing} without data; boundaries {result.boundaries.year}."
    )
    for note in result.boundaries.notes:
        click.echo(f"Note: {note}")
    _snapshot_note(base)
    for p in [*files, sidecar(out)]:
        click.echo(f"wrote {p}")


@main.command()
@click.argument("gemeenten", nargs=-1)
@year_option
@click.option("--top", type=int, default=None, help="Pages for the N selected candidates.")
@click.option("--all", "all_", is_flag=True, help="A page for every gemeente.")
@click.option("--n", "n", type=int, default=11, show_default=True, help="Size of the selection.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the pages (default maps/pitch_<year>).",
)
@boundary_options
@model_options
@data_options
@handles_errors
def pitch(
    gemeenten: tuple[str, ...],
    year: int | None,
    top: int | None,
    all_: bool,
    n: int,
    out: Path | None,
    boundaries: Path | None,
    boundary_year: int | None,
    method_card: str | None,
    draws: int | None,
    seed: int | None,
    **kw: Any,
) -> None:
    """Write one-page Dutch pitches (A4, offline) for gemeenten by name or code.

    Example: vib pitch "Den Haag" Zwolle --year 2025 --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.api import pitch_codes, pitch_context, rank_year
    from vluchtelingen_in_beeld.output import earlier_outputs, provenance, write_bundle
    from vluchtelingen_in_beeld.pitch import page_name, render_page

    if out is not None and out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file; give a folder.", param_hint="--out")
    if out is not None:
        from vluchtelingen_in_beeld.output import check_writable

        check_writable(out, "pitch folder")
    with _session(kw) as base, _with_boundaries(base, boundaries) as (session, bfile):
        result = rank_year(session, year, method_card, n=n, draws=draws, seed=seed)
        _year_note(result.estimate)
        year = result.estimate.year
        out = out or Path("maps") / f"pitch_{year}"
        codes = pitch_codes(result, gemeenten, top=top, all_=all_)
        ctx = pitch_context(session, result, boundaries=bfile, boundary_year=boundary_year)
        names = result.ranking.table.set_index("gemeentecode")["gemeentenaam"]
        files = {
            out / page_name(c, str(names[c])): render_page(ctx, c, index_href=None).encode()
            for c in codes
        }
        est = result.estimate
        record = provenance(
            session.settings,
            sources=result.provenance(),
            card=est.card,
            notes=result.notes,
            extra={"kind": "pitch", "year": est.year, "gemeenten": codes},
        )
        manifest = out / f"pitch_{est.year}.manifest.json"
        write_bundle(files, manifest, record, keep=earlier_outputs(manifest))
    click.echo(f"{len(files)} pitch page(s), {year}:")
    for p in [*files, manifest]:
        click.echo(f"wrote {p}")
    _snapshot_note(base)


@main.command()
@year_option
@click.option("--n", "n", type=int, default=11, show_default=True, help="Size of the selection.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default maps/<year>); replaced as a whole at the end, so it must be "
    "new, empty or an earlier run's.",
)
@click.option(
    "--force", is_flag=True, help="Replace --out even if it holds files vib run did not write."
)
@boundary_options
@model_options
@data_options
@handles_errors
def run(
    year: int | None,
    method_card: str | None,
    n: int,
    out: Path | None,
    force: bool,
    boundaries: Path | None,
    boundary_year: int | None,
    draws: int | None,
    seed: int | None,
    **kw: Any,
) -> None:
    """Run everything for a year: fetch, estimate, rank, regions, maps, pitch pages, index.

    Outputs are built in a temporary folder and moved into place at the end, so an
    interrupted run leaves the previous ones intact; a rerun reuses the local store.

    Example: vib run --year 2025 --snapshot ../shared/data/statline --out maps/2025
    """
    from vluchtelingen_in_beeld.api import choose_year
    from vluchtelingen_in_beeld.output import check_output_folder
    from vluchtelingen_in_beeld.run import STEPS, run_all

    def progress(i: int, text: str) -> None:
        click.echo(f"[{i}/{len(STEPS)}] {text} ...")

    with _session(kw) as base, _with_boundaries(base, boundaries) as (session, bfile):
        if out is not None:  # before any work: never replace what is not ours
            check_output_folder(out, session.settings, force=force)
        choice = choose_year(session, year, method_card)
        year = choice.year
        if choice.note:
            click.echo(f"Year {year}: the latest period with this card's inputs.")
        out = out or Path("maps") / str(year)
        res = run_all(
            session,
            year,
            out,
            card=method_card,
            n=n,
            draws=draws,
            seed=seed,
            boundaries=bfile,
            boundary_year=boundary_year,
            progress=progress,
            year_note=choice.note,
            force=force,
        )
    sel = res.result.ranking.selected
    click.echo(f"Selected: {', '.join(sel['gemeentenaam'])}.")
    for note in res.result.notes:
        click.echo(f"Note: {note}")
    _snapshot_note(base)
    click.echo(f"wrote {len(res.outputs) + 1} files to {out}; open {out / 'index.html'}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
