"""The overview page of a run: the selection with reasons, and a link to every output.

The page is the template ``index.html.j2``; this module gathers what it shows (values, not
markup), so every number passes through the pages' one rounding rule (:mod:`.fmt`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vluchtelingen_in_beeld.cells import num, whole
from vluchtelingen_in_beeld.geography.result import YearResult
from vluchtelingen_in_beeld.render.pitch import trend_fact
from vluchtelingen_in_beeld.render.provenance import parameter_label
from vluchtelingen_in_beeld.render.templates import render
from vluchtelingen_in_beeld.words import say


def _sensitivity(result: YearResult) -> list[dict[str, Any]]:
    """Each parameter with a range: what it moves at its low and high bound."""
    sens = result.sensitivity
    if sens is None or not len(sens):
        return []
    card = result.card
    rates = card.rates()
    rows = []
    for r in sens.itertuples():
        lo = getattr(r, "selectie_wissels_laag", None)
        hi = getattr(r, "selectie_wissels_hoog", None)
        picks = None if lo is None or hi is None or lo != lo or hi != hi else (int(lo), int(hi))
        rate = rates.get(str(r.parameter))
        rows.append(
            {
                "label": parameter_label(str(r.parameter), card),
                "aanname": bool(r.aanname),
                "werkt_op": r.werkt_op,
                "bereik": rate,
                "j_laag": r.werkzoekend_laag,
                "j_hoog": r.werkzoekend_hoog,
                "wissels": picks,
                "p_laag": r.plaatsingen_laag,
                "p_hoog": r.plaatsingen_hoog,
                "scenario": card.scenarios[str(r.scenario)].label.split(":")[0]
                if r.scenario in card.scenarios
                else r.scenario,
                "centraal": r.werkzoekend_centraal,
            }
        )
    return rows


def _reference(result: YearResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The 2009 list today: its summary lines and its members."""
    comparison = result.comparison_2009()
    if comparison is None or not len(comparison):
        return [], []
    members = comparison[comparison["soort"] == "lid"]
    rest = comparison[comparison["soort"] != "lid"]
    values = {r.soort: num(r.bereik) for r in rest.itertuples()}
    summary = [
        {
            "label": r.gemeente_2009,
            "bereik": r.bereik,
            "verschil": r.soort == "verschil",
            "van": (values.get("lijst 2009"), values.get("optimum")),
            "toelichting": r.toelichting,
        }
        for r in rest.itertuples()
    ]
    items = [
        {
            "naam": r.gemeente_2009,
            "rang": whole(r.rang),
            "bereik": r.bereik,
            "kans": r.kans_geselecteerd,
            "gekozen": bool(r.geselecteerd),
            "toelichting": r.toelichting,
        }
        for r in members.itertuples()
    ]
    return summary, items


def index_page(
    result: YearResult,
    maps: list[tuple[str, str, str, str]],
    pages: list[tuple[str, str, str]],
    sources: list[str],
    *,
    verkenner: str | None = None,
) -> str:
    """The overview: the selection with reasons, coverage, prices, sensitivity, links.

    ``maps``: (title, level, html, png) paths; ``pages``: (code, name, path) of the pitch
    pages; ``sources``: the Dutch source lines; ``verkenner``: the selectieverkenner's path.
    """
    est, ranking, card = result.estimate, result.ranking, result.card
    y = est.year
    page_of = {code: rel for code, _, rel in pages}
    sel = ranking.selected
    near = sel[sel["uitwisselbaar"].astype(bool)]
    summary, members = _reference(result)
    tables = [
        (f"tabellen/schatting_{y}.csv", "Schatting per gemeente (met p10–p90)"),
        (f"tabellen/schatting_{y}_nederland.csv", "Schatting Nederland"),
        (f"tabellen/gevoeligheid_{y}.csv", "Gevoeligheid: elke parameter op zijn grenzen"),
        (f"tabellen/rangorde_{y}.csv", "Rangorde met bereik, kans, vervangers en reden"),
        (f"tabellen/selectie_{y}.csv", "De selectie samengevat: bereik, aandelen, plaatsingen"),
        (f"tabellen/trajecten_{y}.csv", "Plaatsingen van de selectie per scenario, tegen het doel"),
        (f"tabellen/prijzen_beperkingen_{y}.csv", "Prijs van elke eis"),
        (f"tabellen/vergelijking_2009_{y}.csv", "De voortrekkersgemeenten van 2009, nu"),
        (f"tabellen/regio_provincie_{y}.csv", "Per provincie"),
        (f"tabellen/regio_arbeidsmarktregio_{y}.csv", "Per arbeidsmarktregio"),
        (f"tabellen/regio_corop_{y}.csv", "Per COROP-gebied"),
        (f"tabellen/trend_{y}.csv", "Trend: de schatting per jaar, met de verandering"),
        (f"tabellen/vergelijkbaar_{y}.csv", "Vergelijkbare gemeenten en mogelijke opvanglocaties"),
        (f"tabellen/vluchtelingen_in_beeld_{y}.xlsx", "Alle tabellen in één Excel-werkmap"),
        (f"tabellen/schatting_{y}.gpkg", "Schatting per gemeente als GeoPackage (EPSG:28992)"),
        (f"tabellen/rangorde_{y}.gpkg", "Rangorde als GeoPackage (QGIS, EPSG:28992)"),
        ("manifest.json", "Manifest: bronnen, parameters, versies, controlegetallen"),
    ]
    funnel = ranking.funnel
    facts = ranking.facts
    return render(
        "index.html.j2",
        jaar=y,
        nl=est.national.iloc[0],
        n_gemeenten=len(est.table),
        geen_gegevens=[
            {"naam": r.gemeentenaam, "code": r.gemeentecode, "reden": r.geen_gegevens}
            for r in est.table.itertuples()
            if isinstance(getattr(r, "geen_gegevens", ""), str) and r.geen_gegevens
        ],
        kaart=card,
        gemaakt=datetime.now(UTC).isoformat(timespec="minutes"),
        waarschuwing=result.origin.warning,
        selectie=[
            {**row, "href": page_of.get(str(row["gemeentecode"]))} for row in sel.to_dict("records")
        ],
        doorrekeningen=ranking.params["kans_draws"],
        kop=say("kop", ranking.headline),
        held=ranking.held,
        n_gekozen=len(sel),
        rho=card.selection.region_reach,
        kern=list(ranking.core["gemeentenaam"]),
        uitwisselbaar=[
            {"naam": r.gemeentenaam, "zin": say("paar", r.gemeentenaam, facts[code]["paar"])}
            for r, code in zip(near.itertuples(), near["gemeentecode"], strict=True)
        ],
        near_draws=card.selection.near_draws,
        near_loss=card.selection.near_loss,
        trajecten=list(funnel.itertuples()) if funnel is not None else [],
        doel=card.selection.target_trajectories,
        doel_jaren=card.selection.target_years,
        prijzen=list(ranking.prices.itertuples()),
        drijvers=say("drijvers", ranking.drivers) if ranking.drivers else "",
        regio_aandeel=ranking.drivers.get("regio_aandeel", []),
        variatie=est.variation,
        gevoeligheid=_sensitivity(result),
        vergelijking=summary,
        leden_2009=members,
        kaarten=maps,
        tabellen=tables,
        bronnen=sources,
        verkenner=verkenner,
        trend=say("trend_zin", fact) if (fact := trend_fact(result, "NL01")) else "",
        trend_jaren=_trend_years(result),
    )


def _trend_years(result: YearResult) -> list[dict[str, object]]:
    """The national estimate per year of the trend (empty without one)."""
    if result.trend is None:
        return []
    return [
        {"jaar": whole(r.jaar), "j": r.werkzoekend, "laag": r.werkzoekend_p10,
         "hoog": r.werkzoekend_p90}
        for r in result.trend.of("NL01").itertuples()
    ]  # fmt: skip
