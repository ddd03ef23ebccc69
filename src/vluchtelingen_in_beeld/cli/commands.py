"""The ``vib`` command line: each command is options -> one library call -> write -> messages.

Shared options and plumbing are in :mod:`.clikit`.
"""

# lazy: each command imports the library inside its body. Loading the workflow at the top
# (pandas, requests and every stage) takes 0.7 s; ``vib --help`` and a mistyped option then
# answer in 0.2 s instead of 0.9 s (``python -X importtime -m vluchtelingen_in_beeld --help``).

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from vluchtelingen_in_beeld import __version__
from vluchtelingen_in_beeld.cli.clikit import (
    CHOICE,
    CONTEXT,
    SCHEMES,
    YEARS,
    _checked_out,
    _file,
    _report,
    _session,
    boundary_options,
    choice_options,
    csv_option,
    data_options,
    estimate_line,
    fetch_lines,
    force_option,
    handles_errors,
    local_files,
    map_pilots,
    model_options,
    n_option,
    out_option,
    rank_lines,
    region_lines,
    run_inputs,
    selection_options,
    selection_overrides,
    sender_of,
    trend_lines,
    year_line,
    year_option,
)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="vib")
def main() -> None:
    """vluchtelingen-in-beeld: job-seeking refugees per Dutch gemeente, from CBS open data.

    Example: vib run --snapshot ../shared/data/statline
    """


@main.command()
@year_option
@click.option("--method", "method_card", default=None, help="Method card (default standaard).")
@data_options
@handles_errors
def fetch(year: int | None, method_card: str | None, **kw: Any) -> None:
    """Fetch everything the method needs for one year into the local store.

    Only the rows the method card needs are requested (server-side filters); what the store
    already holds is not fetched again.

    Example: vib fetch --year 2025 --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.clean.inputs import gather
    from vluchtelingen_in_beeld.clean.method import load_card
    from vluchtelingen_in_beeld.workflow.pipeline import choose_year

    card = load_card(method_card)
    with _session(kw) as session:
        choice = choose_year(session, year, card)
        if choice.note:
            click.echo(year_line(choice.year))
        else:
            gather(session, card, choice.year)
        click.echo("\n".join(fetch_lines(session)))


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
    from vluchtelingen_in_beeld.clean.check import ABSENT, FAIL, check_registry, report

    with _session(kw) as session:
        results = check_registry(session)
    click.echo("\n".join(report(results)))
    failed = [r.table for r in results if r.status == FAIL]
    if failed:
        raise click.ClickException(
            f"Some registered tables no longer resolve: {', '.join(failed)}. See the lines "
            "above; fix the registry (tables.py) or the table ids."
        )
    if all(r.status == ABSENT for r in results):
        raise click.ClickException("No registered table is available at this source.")


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Local store (default ./data).")
@handles_errors
def tables(data_dir: Path | None) -> None:
    """List the CBS tables this tool knows, and what the local store holds of each.

    Example: vib tables --data-dir data
    """
    from vluchtelingen_in_beeld.clean.check import store_listing
    from vluchtelingen_in_beeld.settings import Settings

    click.echo("\n".join(store_listing(Settings.from_env(data_dir=data_dir).data_dir)))


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
@click.option("--boundary-year", "boundary_years", type=YEARS, multiple=True,
              help="Also save PDOK gemeente boundaries of this year into geo/ (repeatable).")
@force_option
@data_options
@handles_errors
def snapshot_save(table_ids: tuple[str, ...], to: Path, years: tuple[int, ...], filters: str | None,
                  whole: bool, boundary_years: tuple[int, ...], force: bool, **kw: Any) -> None:
    """Save TABLE... in cbsodata's download_data layout (one folder per table).

    With --boundary-year, the gemeente boundaries go into geo/ beside the tables, so that
    --snapshot can draw maps offline too.

    Example: vib snapshot save 85458NED 85755NED --year 2025 --boundary-year 2025 --to snap/
    """
    from vluchtelingen_in_beeld.access.snapshot import check_snapshot_target, save_snapshot
    from vluchtelingen_in_beeld.render.output import check_replace, check_writable, write_boundaries

    check_writable(to, "snapshot folder")
    check_snapshot_target(to, table_ids)  # before any work: nothing of yours is replaced
    check_replace([to / "geo" / f"gemeente_gegeneraliseerd_{y}.geojson" for y in boundary_years],
                  force=force, what=f"boundaries in {to / 'geo'}")
    with _session(kw) as session:
        for t in save_snapshot(session, table_ids, to, years=years, filters=filters, whole=whole):
            click.echo(f"saved {t.table}: {t.rows:,} rows -> {t.path}")
        for path in write_boundaries(session, boundary_years, to / "geo", force=force):
            click.echo(f"saved boundaries -> {path}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--port", type=click.IntRange(1, 65535), default=8087, help="Port (8087).")
@handles_errors
def serve(folder: Path, port: int) -> None:
    """Serve a snapshot FOLDER on 127.0.0.1 as CBS's OData v3 feed (until Ctrl-C).

    Example: vib serve ../shared/data/statline --port 8087
    """
    from vluchtelingen_in_beeld.access.snapshot import snapshot_server

    with snapshot_server(folder, port) as (server, years):
        click.echo(f"Serving {folder} at {server.url}/ODataFeed/odata/ (Ctrl-C stops)")
        if years:
            click.echo(f"and gemeente boundaries ({', '.join(map(str, years))}) at PDOK's paths")
        click.echo(f"Use it with: vib run --cbs-url {server.url} --pdok-url {server.url}")
        click.echo(f"(or set VIB_CBS_URL={server.url} and VIB_PDOK_URL={server.url})")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


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
    from vluchtelingen_in_beeld.clean.method import describe, load_card

    click.echo("\n".join(describe(load_card(card))))


@method.command("init")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--from", "base", default="standaard", show_default=True,
              help="Shipped card to copy.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@handles_errors
def method_init(path: Path, base: str, force: bool) -> None:
    """Write an editable copy of a shipped card to PATH.

    Example: vib method init mijnkaart.toml --from lokaal
    """
    from vluchtelingen_in_beeld.clean.method import init_card
    from vluchtelingen_in_beeld.render.output import check_file_path

    init_card(check_file_path(path), base, force=force)
    click.echo(f"Wrote {path}: card {path.stem!r}, a copy of {base!r}; every output names it "
               f"so. Edit it, then: vib method validate {path}")


@method.command("validate")
@click.argument("path")
@handles_errors
def method_validate(path: str) -> None:
    """Check a card: unknown keys, rates outside [0, 1], low > high, bad keys or ages.

    Example: vib method validate mijnkaart.toml
    """
    from vluchtelingen_in_beeld.clean.method import load_card

    c = load_card(path)
    click.echo(f"{path}: valid (card {c.name!r} version {c.version}, {len(c.groups)} groups, "
               f"sha256 {c.checksum[:16]}).")


@main.command()
@year_option
@out_option
@model_options
@click.option("--scenario", default=None, help="Outreach scenario: plan2005 or resultaat2005.")
@click.option("--contact-share", type=float, default=None,
              help="Share of the job-seeking reached by outreach (0-1; overrides the card).")
@data_options
@handles_errors
def estimate(year: int | None, out: Path | None, force: bool, csv_dialect: str,
             method_card: str | None, draws: int | None, seed: int | None,
             scenario: str | None, contact_share: float | None, **kw: Any) -> None:
    """Estimate job-seeking refugees per gemeente, with p10-p90 intervals.

    Writes one row per gemeente, a national row, and a .manifest.json with every source.

    Example: vib estimate --year 2025 --snapshot ../shared/data/statline --out maps/schatting.xlsx
    """
    from vluchtelingen_in_beeld.geography.result import Origin
    from vluchtelingen_in_beeld.render.output import check_table_path, write_estimate
    from vluchtelingen_in_beeld.workflow.pipeline import build_year, estimate_year

    out = _checked_out(out, force=force)
    gpkg = out is not None and out.suffix.lower() == ".gpkg"
    with _session(kw) as session:
        opts: Any = {"draws": draws, "seed": seed, "scenario": scenario,
                     "contact_share": contact_share, "local": local_files(kw, out)}
        if gpkg:  # the geometry of the data's year comes with the whole year
            result = build_year(session, year, method_card, shapes=True, **opts)
            est = result.estimate
        else:
            result, est = None, estimate_year(session, year, method_card, **opts)
        out = out or check_table_path(Path("maps") / f"schatting_{est.year}.csv", force=force)
        written = write_estimate(est, Origin.of(session.settings), out, result=result,
                                 dialect=csv_dialect, force=force)
    click.echo(estimate_line(est))
    _report(est, written, notes=False, origin=Origin.of(session.settings))


@main.command()
@year_option
@n_option
@selection_options
@choice_options
@click.option("--compare", type=click.Choice(["2009"]), default=None,
              help="Show the 2009 selection under today's data.")
@model_options
@out_option
@data_options
@handles_errors
def rank(year: int | None, compare: str | None, out: Path | None, force: bool,
         csv_dialect: str, method_card: str | None, **kw: Any) -> None:
    """Select voortrekkersgemeenten that reach the most people; rank all, with reasons.

    An exact integer programme maximises the job-seekers the pilots reach (their own and a
    share of their arbeidsmarktregio's) under the card's constraints (each overridable
    here); it prices every constraint, measures who replaces whom, and re-solves per
    Monte Carlo draw for kans_geselecteerd. An impossible combination is refused.

    Example: vib rank --year 2025 --snapshot ../shared/data/statline --n 11 --compare 2009
    """
    from vluchtelingen_in_beeld.render.output import check_table_path, write_ranking
    from vluchtelingen_in_beeld.workflow.pipeline import build_year

    out = _checked_out(out, "ranking", force)
    selection = selection_overrides(kw)
    choice = {k: kw.pop(k) for k in CHOICE}
    gpkg = out is not None and out.suffix.lower() == ".gpkg"
    with _session(kw) as session:
        result = build_year(session, year, method_card, selection=selection, shapes=gpkg,
                            local=local_files(kw, out), **choice)
        out = out or check_table_path(Path("maps") / f"rangorde_{result.year}.csv", "ranking",
                                      force=force)
        written = write_ranking(result, out, compare=compare is not None, force=force,
                                dialect=csv_dialect)
    for line in rank_lines(result, compare=compare is not None):
        click.echo(line)
    _report(result, written)


@main.command()
@year_option
@n_option
@selection_options
@choice_options
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="HTML file to write (default maps/verkenner_<year>.html).")
@force_option
@boundary_options
@model_options
@data_options
@handles_errors
def verken(year: int | None, out: Path | None, force: bool, method_card: str | None,
           boundaries: Path | None, boundary_year: int | None, **kw: Any) -> None:
    """Write the selectieverkenner: one offline page that re-solves the selection in the browser.

    The page opens at these settings (the card's, with the same flags as vib rank); every
    change re-solves the same integer programme (HiGHS, in the page) and prices it.

    Example: vib verken --year 2025 --snapshot ../shared/data/statline --out verkenner.html
    """
    from vluchtelingen_in_beeld.render.output import check_page_path, write_verkenner
    from vluchtelingen_in_beeld.workflow.pipeline import build_year

    out = check_page_path(out, force=force) if out is not None else None
    selection = selection_overrides(kw)
    choice = {k: kw.pop(k) for k in CHOICE}
    with _session(kw, boundaries) as session:
        result = build_year(session, year, method_card, selection=selection, shapes=True,
                            boundaries=_file(boundaries), boundary_year=boundary_year,
                            local=local_files(kw), **choice)
        out = check_page_path(out or Path("maps") / f"verkenner_{result.year}.html", force=force)
        written = write_verkenner(result, out, force=force)
    click.echo(f"Selectieverkenner ({result.year}) in {written}; open het bestand in een browser.")
    _report(result, [], notes=False)


@main.command()
@year_option
@click.option("--level", default="provincie", show_default=True, help="Regional level.",
              type=click.Choice(["provincie", "arbeidsmarktregio", "corop", "landsdeel"]))
@model_options
@out_option
@data_options
@handles_errors
def regions(year: int | None, level: str, method_card: str | None, draws: int | None,
            seed: int | None, out: Path | None, force: bool, csv_dialect: str, **kw: Any) -> None:
    """Sum the estimate per provincie, arbeidsmarktregio, COROP-gebied or landsdeel.

    Intervals are percentiles of the regional sum within each Monte Carlo draw.

    Example: vib regions --year 2025 --level arbeidsmarktregio --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.render.output import check_table_path, write_regions
    from vluchtelingen_in_beeld.workflow.pipeline import build_year

    out = _checked_out(out, "regions", force)
    gpkg = out is not None and out.suffix.lower() == ".gpkg"
    with _session(kw) as session:
        result = build_year(session, year, method_card, draws=draws, seed=seed, shapes=gpkg,
                            local=local_files(kw, out))
        out = out or check_table_path(Path("maps") / f"regio_{level}_{result.year}.csv",
                                      "regions", force=force)
        written = write_regions(result, level, out, force=force, dialect=csv_dialect)
    click.echo("\n".join(region_lines(result, level)))
    _report(result, written, notes=False)


@main.command()
@year_option
@click.option("--from", "first", type=YEARS, default=None,
              help="First year (default: up to 5 years back, never before the origin table's "
              "first; an earlier year comes from 84910NED, with the 2022 break said).")
@model_options
@out_option
@data_options
@handles_errors
def trend(year: int | None, first: int | None, method_card: str | None, draws: int | None,
          seed: int | None, out: Path | None, force: bool, csv_dialect: str, **kw: Any) -> None:
    """The estimate per year on today's gemeenten: same draws, the change and its split.

    Example: vib trend --year 2025 --snapshot ../shared/data/statline --out maps/trend.xlsx
    """
    from vluchtelingen_in_beeld.render.output import check_table_path, write_trend
    from vluchtelingen_in_beeld.workflow.pipeline import build_year, trend_years, year_trend

    out = _checked_out(out, "trend", force)
    with _session(kw) as session:
        result = build_year(session, year, method_card, draws=draws, seed=seed,
                            local=local_files(kw, out))
        result.trend = year_trend(session, result, trend_years(session, result.year, first))
        out = out or check_table_path(Path("maps") / f"trend_{result.year}.csv", "trend",
                                      force=force)
        written = write_trend(result, out, force=force, dialect=csv_dialect)
    click.echo("\n".join(line for line in trend_lines(result) if line))
    _report(result, written, notes=False)


@main.command("map")
@year_option
@click.option("--metric", default="werkzoekend", show_default=True, help="What to colour by.")
@click.option("--scheme", type=click.Choice(SCHEMES), default="fisher_jenks", show_default=True,
              help="Classification (mapclassify).")
@click.option("--k", type=int, default=5, show_default=True, help="Number of classes.")
@click.option("--level", default="gemeente", show_default=True, help="Areas to colour.",
              type=click.Choice(["gemeente", "provincie", "arbeidsmarktregio", "corop",
                                 "landsdeel"]))
@click.option("--highlight-top", type=int, default=None, help="Outline the N selected candidates.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="HTML file to write.")
@click.option("--png", type=click.Path(path_type=Path), default=None, help="Also write a PNG here.")
@click.option("--tiles", is_flag=True, help="Add an OpenStreetMap background (needs internet).")
@force_option
@boundary_options
@model_options
@data_options
@handles_errors
def map_command(year: int | None, out: Path | None, png: Path | None, tiles: bool, force: bool,
                boundaries: Path | None, boundary_year: int | None, method_card: str | None,
                draws: int | None, seed: int | None, **kw: Any) -> None:
    """Draw a choropleth map as one offline HTML file (and optionally a PNG).

    Boundaries are those of the data's year; every gemeente must join on its code.

    Example: vib map --year 2025 --snapshot ../shared/data/statline --highlight-top 11
    """
    from vluchtelingen_in_beeld.render.maps import check_map_options
    from vluchtelingen_in_beeld.render.output import check_file_path, sidecar, write_map
    from vluchtelingen_in_beeld.workflow.pipeline import build_year

    opts = {k: kw.pop(k) for k in ("metric", "scheme", "k", "level", "highlight_top")}
    check_map_options(opts["level"], opts["highlight_top"], opts["scheme"], opts["k"],
                      opts["metric"])
    for path, ext in ((out, (".html", ".htm")), (png, (".png",))):
        if path is not None and path.suffix.lower() not in ext:
            raise click.BadParameter(f"{path} must end in {ext[0]}", param_hint="--out/--png")
        if path is not None:
            check_file_path(path, force=force, manifest=path is out)
    with _session(kw, boundaries) as session:
        result = build_year(session, year, method_card, draws=draws, seed=seed,
                            n=map_pilots(opts["highlight_top"], method_card), shapes=True,
                            boundaries=_file(boundaries), boundary_year=boundary_year,
                            local=local_files(kw))
        out = out or Path("maps") / f"kaart_{opts['metric']}_{opts['level']}_{result.year}.html"
        m = write_map(result, check_file_path(out, force=force), png=png, tiles=tiles,
                      force=force, **opts)
    assert result.shapes is not None
    click.echo(f"{len(m.data.frame)} gebieden ({opts['level']}), {opts['metric']}; "
               f"{len(m.classes.bounds)} klassen ({opts['scheme']}), {m.classes.n_missing} "
               f"zonder gegevens; grenzen van {result.shapes.boundaries.year}.")
    _report(result, [p for p in (out, png, sidecar(out)) if p is not None], notes=False)


@main.command()
@click.argument("gemeenten", nargs=-1)
@year_option
@click.option("--top", type=int, default=None, help="Pages for the N selected candidates.")
@click.option("--all", "all_", is_flag=True, help="A page for every gemeente.")
@n_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the pages (default maps/pitch_<year>).")
@click.option("--afzender", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Sender file (TOML: organisatie, vraag, contact, logo): the ask on the pages.")
@force_option
@boundary_options
@model_options
@data_options
@handles_errors
def pitch(gemeenten: tuple[str, ...], year: int | None, top: int | None, all_: bool,
          n: int | None,
          out: Path | None, afzender: Path | None, force: bool, boundaries: Path | None,
          boundary_year: int | None, method_card: str | None, draws: int | None,
          seed: int | None, **kw: Any) -> None:
    """Write one-page Dutch pitches (A4, offline) for gemeenten by name or code.

    Example: vib pitch "Den Haag" Zwolle --year 2025 --snapshot ../shared/data/statline
    """
    from vluchtelingen_in_beeld.render.output import check_replace, check_writable, write_pitch
    from vluchtelingen_in_beeld.workflow.pipeline import build_year, check_pitch_choice, pitch_codes

    if out is not None and check_writable(out, "pitch folder").exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file; give a folder.", param_hint="--out")
    if out is not None:  # before any work: the index is replaced only if vib wrote it
        check_replace([out / "index.html"], force=force, what=f"pitch pages in {out}")
    sender = sender_of(afzender)
    check_pitch_choice(gemeenten, top=top, all_=all_)
    with _session(kw, boundaries) as session:
        result = build_year(session, year, method_card, draws=draws, seed=seed, n=n, shapes=True,
                            boundaries=_file(boundaries), boundary_year=boundary_year,
                            local=local_files(kw))
        codes = pitch_codes(result, gemeenten, top=top, all_=all_)
        out = out or Path("maps") / f"pitch_{result.year}"
        written = write_pitch(result, codes, out, sender=sender, force=force)
    click.echo(f"{len(codes)} pitchpagina{'’s' * (len(codes) != 1)} ({result.year}) in {out}:")
    _report(result, written if len(written) <= 6 else [out / "index.html"], notes=False)


@main.command()
@year_option
@n_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default maps/<year>); replaced as a whole at the end, so it "
              "must be new, empty or an earlier run's.")
@force_option
@click.option("--afzender", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Sender file (TOML: organisatie, vraag, contact, logo): the ask on the pages.")
@csv_option
@boundary_options
@model_options
@data_options
@handles_errors
def run(year: int | None, n: int | None, out: Path | None, force: bool, afzender: Path | None,
        csv_dialect: str, boundaries: Path | None, boundary_year: int | None,
        method_card: str | None, draws: int | None, seed: int | None, **kw: Any) -> None:
    """Run everything for a year: fetch, estimate, rank, regions, maps, pitch pages, index.

    Outputs are built in a temporary folder and moved into place at the end, so an
    interrupted run leaves the previous ones intact; a rerun reuses the local store.

    Example: vib run --year 2025 --snapshot ../shared/data/statline --out maps/2025
    """
    from vluchtelingen_in_beeld.render.output import check_output_folder
    from vluchtelingen_in_beeld.workflow.pipeline import choose_year
    from vluchtelingen_in_beeld.workflow.run import STEPS, run_all

    progress = lambda i, text: click.echo(f"[{i}/{len(STEPS)}] {text} ...")  # noqa: E731
    sender, read = sender_of(afzender), [kw.get("opvang"), kw.get("lokale_cijfers")]
    with _session(kw, boundaries) as session:
        if out is not None:  # before any work: never replace what is not ours
            check_output_folder(out, session.settings, force=force,
                                inputs=run_inputs(boundaries, afzender, method_card, *read))
        if out is None:  # maps/<year>: the year is needed first (its rows stay in the store)
            out = Path("maps") / str(choose_year(session, year, method_card).year)
        res = run_all(session, year, out, card=method_card, n=n, draws=draws, seed=seed,
                      boundaries=_file(boundaries), boundary_year=boundary_year,
                      progress=progress, force=force, sender=sender, csv_dialect=csv_dialect,
                      inputs=run_inputs(None, afzender, None, *read), local=local_files(kw))
    click.echo(f"Gekozen: {', '.join(res.result.ranking.selected['gemeentenaam'])}.")
    _report(res.result, [])
    click.echo(f"{len(res.outputs) + 1} bestanden geschreven in {out}; open {out / 'index.html'}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
