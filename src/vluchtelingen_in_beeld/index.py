"""The overview page of a run: the selection with reasons, and a link to every output.

Stage: render.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from vluchtelingen_in_beeld.fmt import nl_about, nl_about_range, nl_dec, nl_pct, nl_prob
from vluchtelingen_in_beeld.year import YearResult


def _e(x: Any) -> str:
    return html.escape(str(x))


def sensitivity_table(result: YearResult) -> str:
    """The sensitivity table as HTML: each parameter with a range at its low and high bound."""
    sens = result.ranking.sensitivity
    if sens is None and result.estimate.sensitivity is not None:
        sens = result.estimate.sensitivity.table
    if sens is None or not len(sens):
        return "<p>Geen parameters met een bereik.</p>"
    n = result.ranking.constraints.n

    def picks(r: Any) -> str:
        lo, hi = (
            getattr(r, "selectie_wissels_laag", None),
            getattr(r, "selectie_wissels_hoog", None),
        )
        if lo is None or hi is None or lo != lo or hi != hi:
            return "–"
        return f"{int(lo)} / {int(hi)}"

    rows = "".join(
        f"<tr><td>{_e(r.parameter)}{' (aanname)' if r.aanname else ''}</td>"
        f"<td>{_e(r.werkt_op)}</td>"
        f"<td class='n'>{nl_dec(r.laag, 3)} – {nl_dec(r.hoog, 3)}</td>"
        f"<td class='n'>{nl_about(r.werkzoekend_laag)} – {nl_about(r.werkzoekend_hoog)}</td>"
        f"<td class='n'>{picks(r)}</td>"
        f"<td class='n'>{nl_about(r.plaatsingen_laag)} – {nl_about(r.plaatsingen_hoog)}"
        f" ({_e(r.scenario)})</td></tr>"
        for r in sens.itertuples()
    )
    return (
        "<table><thead><tr><th>Parameter</th><th>Werkt op</th><th>Laag – hoog</th>"
        "<th>Werkzoekend in NL</th>"
        f"<th>Andere keuzes in de selectie van {n} (laag / hoog)</th>"
        "<th>Plaatsingen in de periode</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        f"<p class='noot'>Eén parameter tegelijk op zijn grens, de rest centraal "
        f"(werkzoekend centraal {nl_about(sens['werkzoekend_centraal'].iloc[0])}). 'Andere "
        f"keuzes': hoeveel van de {n} voortrekkersgemeenten een andere worden als de selectie "
        "opnieuw wordt opgelost met de parameter op die grens (beide keren op centrale "
        "waarden).</p>"
    )


def near_ties(result: YearResult) -> str:
    """The core of the selection and its interchangeable places, as HTML."""
    ranking = result.ranking
    sel = ranking.selected
    core = ranking.core
    near = sel[sel["uitwisselbaar"].astype(bool)]
    out = [
        f"<p><strong>Kern ({len(core)} van {len(sel)}):</strong> "
        + (_e(", ".join(core["gemeentenaam"])) or "geen")
        + ". Zonder een van deze gemeenten bereikt de selectie duidelijk minder mensen.</p>"
    ]
    if len(near):
        items = "".join(
            f"<li>{_e(r.gemeentenaam)} of {_e(r.vervanger)}: verschil "
            f"{nl_about(r.verlies_als_eruit)} in bereik (onzekerheid ± "
            f"{nl_about(r.verschil_se, count=False)}); in "
            f"{_e(nl_pct(r.doorrekeningen_eens))} van de doorrekeningen is "
            f"{_e(r.gemeentenaam)} de betere keus.</li>"
            for r in near.itertuples()
        )
        out.append(
            "<p><strong>Uitwisselbare plaatsen</strong> (het verschil is kleiner dan de "
            f"onzekerheid of dan 1% van het bereik):</p><ul>{items}</ul>"
        )
    else:
        out.append(
            "<p>Geen uitwisselbare plaatsen: elke gekozen gemeente is duidelijk de betere keus.</p>"
        )
    return "".join(out)


def funnel_check(result: YearResult) -> str:
    """The programme's own funnel for the selection against its target, as HTML."""
    f = result.ranking.funnel
    if f is None or not len(f):
        return ""
    card = result.card
    rows = "".join(
        f"<tr><td>{_e(r.omschrijving)}</td><td class='n'>{nl_about(r.gesprekken)}</td>"
        f"<td class='n'>{nl_about(r.trajecten)} "
        f"({nl_about_range(r.trajecten_p10, r.trajecten_p90)})</td>"
        f"<td class='n'>{nl_about(r.trajecten_in_doeljaren)} "
        f"({nl_about_range(r.trajecten_in_doeljaren_p10, r.trajecten_in_doeljaren_p90)})</td></tr>"
        for r in f.itertuples()
    )
    target = card.selection.target_trajectories
    goal = (
        f"Het doel was {nl_about(target.value)} trajecten in {card.selection.target_years:g} "
        f"jaar voor het hele project, ook de landelijke verbreding in het tweede jaar "
        f"({_e(target.source)}): een toets, niet waar de selectie op kiest."
        if target.value
        else ""
    )
    return (
        "<table id='trajecten'><thead><tr><th>Scenario</th>"
        f"<th>Gesprekken in {card.period_years:g} jaar</th>"
        f"<th>Trajecten in {card.period_years:g} jaar (p10–p90)</th>"
        f"<th>Trajecten in {card.selection.target_years:g} jaar (p10–p90)</th>"
        f"</tr></thead><tbody>{rows}</tbody></table><p class='noot'>{goal}</p>"
    )


def index_page(
    result: YearResult,
    maps: list[tuple[str, str, str, str]],
    pages: list[tuple[str, str, str]],
    sources: list[str],
) -> str:
    """The overview: the selection with reasons, coverage, prices, sensitivity, links.

    ``maps``: (title, level, html, png) paths; ``pages``: (code, name, path) of the pitch
    pages; ``sources``: the Dutch source lines.
    """
    warning = result.origin.warning
    comparison = result.comparison_2009()
    est = result.estimate
    ranking = result.ranking
    nat = est.national.iloc[0]
    sel = ranking.selected.set_index("gemeentecode")
    page_of = {code: rel for code, _, rel in pages}
    rows = "".join(
        f"<tr><td class='n'>{int(r.rang)}</td>"
        f"<td><a href='{_e(page_of[code])}'>{_e(r.gemeentenaam)}</a></td>"
        f"<td>{_e(r.provincie)}</td><td>{_e(r.landsdeel)}</td>"
        f"<td class='n'>{nl_about(r.werkzoekend)}</td>"
        f"<td class='n'>{nl_about(r.bereik)}</td>"
        f"<td class='n'>{_e(nl_prob(r.kans_geselecteerd))}</td>"
        f"<td class='reden'>{_e(r.reden)}</td>"
        "</tr>"
        for code, r in sel.iterrows()
    )
    held = ranking.held
    traj = held.get("trajecten_in_doeljaren")
    cover = (
        f"<p>De {len(sel)} gemeenten hebben samen naar schatting "
        f"{nl_about(held['werkzoekend_gekozen'])} werkzoekende vluchtelingen: "
        f"<strong>{nl_pct(held['aandeel_nl'])}</strong> van Nederland; hun "
        f"arbeidsmarktregio's samen {nl_about(held['aandeel_regios_nl'] * held['werkzoekend_nl'])} "
        f"(<strong>{nl_pct(held['aandeel_regios_nl'])}</strong>). Met ρ = "
        f"{_e(ranking.params['region_reach'])} van de rest van hun regio's bereiken de pilots "
        f"naar schatting {nl_about(ranking.objective)} werkzoekenden "
        f"({nl_pct(held['bereik_aandeel_nl'])}).</p>"
        + (
            f"<p>Volgens de trechter van de methodekaart geven de pilots in "
            f"{result.card.selection.target_years:g} jaar naar verwachting "
            f"{nl_about(traj)} trajecten.</p>"
            if traj is not None
            else ""
        )
    )
    prices = "".join(
        f"<tr><td>{_e(r.omschrijving)}</td><td class='reden'>{_e(r.reden)}</td>"
        f"<td class='n'>{nl_about(r.prijs, count=False)} ({_e(nl_pct(r.prijs_pct))})</td>"
        f"<td class='reden'>{_e(r.erin_zonder) or '–'}</td></tr>"
        for r in ranking.prices.itertuples()
    )
    var = est.variation
    local = (
        f"Lokale spreiding in de doorrekeningen: {nl_dec(var.sd, 2)} op logschaal "
        f"({_e(var.source)})."
        if var is not None
        else "Geen lokale spreiding in de doorrekeningen."
    )
    map_links = "".join(
        f"<li><a href='{_e(h)}'>{_e(t)} ({_e(level)})</a> · <a href='{_e(p)}'>PNG</a></li>"
        for t, level, h, p in maps
    )
    y = est.year
    tables = [
        (f"tabellen/schatting_{y}.csv", "Schatting per gemeente (met p10–p90)"),
        (f"tabellen/schatting_{y}_nederland.csv", "Schatting Nederland"),
        (f"tabellen/gevoeligheid_{y}.csv", "Gevoeligheid: elke parameter op zijn grenzen"),
        (f"tabellen/rangorde_{y}.csv", "Rangorde met bereik, kans, vervangers en reden"),
        (f"tabellen/selectie_{y}.csv", "De selectie samengevat: bereik, aandelen, trajecten"),
        (f"tabellen/trajecten_{y}.csv", "Trajecten van de selectie per scenario, tegen het doel"),
        (f"tabellen/prijzen_beperkingen_{y}.csv", "Prijs van elke eis"),
        (f"tabellen/vergelijking_2009_{y}.csv", "De voortrekkersgemeenten van 2009, nu"),
        (f"tabellen/regio_provincie_{y}.csv", "Per provincie"),
        (f"tabellen/regio_arbeidsmarktregio_{y}.csv", "Per arbeidsmarktregio"),
        (f"tabellen/regio_corop_{y}.csv", "Per COROP-gebied"),
        (f"tabellen/schatting_{y}.gpkg", "Schatting per gemeente als GeoPackage (EPSG:28992)"),
        (f"tabellen/rangorde_{y}.gpkg", "Rangorde als GeoPackage (QGIS, EPSG:28992)"),
        ("manifest.json", "Manifest: bronnen, parameters, versies, controlegetallen"),
    ]
    table_links = "".join(f"<li><a href='{_e(h)}'>{_e(t)}</a></li>" for h, t in tables)
    warn = f"<div class='waarschuwing'>{_e(warning)}</div>" if warning else ""
    ref = ""
    if comparison is not None and len(comparison):
        members = comparison[comparison["soort"] == "lid"]
        items = "".join(
            f"<li>{_e(c.gemeente_2009)}: nu rang {int(c.rang)}, bereik {nl_about(c.bereik)}, "
            f"kans gekozen {_e(nl_prob(c.kans_geselecteerd))}"
            f"{' (gekozen)' if c.geselecteerd else ''}"
            f"{'. ' + _e(c.toelichting) if c.toelichting else ''}</li>"
            for c in members.itertuples()
        )
        summary = "".join(
            f"<li><strong>{_e(c.gemeente_2009)}: {nl_about(c.bereik)}</strong> werkzoekenden "
            "binnen bereik. "
            f"{_e(c.toelichting)}</li>"
            for c in comparison[comparison["soort"] != "lid"].itertuples()
        )
        ref = f"<h2>De voortrekkersgemeenten van 2009, nu</h2><ul>{summary}</ul><ul>{items}</ul>"
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
.bronnen, .noot {{ font-size: 12px; color: #444; }}
</style>
</head>
<body>
<h1>Vluchtelingen in beeld {y}</h1>
<p>Naar schatting {nl_about(nat["werkzoekend"])} werkzoekende vluchtelingen in Nederland
(p10–p90 {nl_about(nat["werkzoekend_p10"])}–{nl_about(nat["werkzoekend_p90"])}), verdeeld over
{len(est.table)} gemeenten. Methodekaart {_e(est.card.name)} {_e(est.card.version)}.
Gemaakt {made} (UTC).</p>
{warn}
<h2>Voorgestelde voortrekkersgemeenten</h2>
<table id="selectie"><thead><tr><th>Rang</th><th>Gemeente</th><th>Provincie</th>
<th>Landsdeel</th><th>Werkzoekend</th><th>Bereik</th><th>Kans gekozen</th><th>Reden</th>
</tr></thead><tbody>{rows}</tbody></table>
<p class="noot">Bereik: eigen werkzoekenden plus een deel ρ van de rest van de
arbeidsmarktregio. Kans gekozen: in hoeveel van {ranking.params["resolve_draws"]} opnieuw
opgeloste doorrekeningen de gemeente erbij is.</p>
<h2>Dekking</h2>
<div id="dekking">{cover}</div>
<h2>Vaste keuzes en bijna-gelijke</h2>
<div id="kern">{near_ties(result)}</div>
<h2>Trajecten: een toets op het doel</h2>
<div id="toets">{funnel_check(result)}</div>
<h2>Prijs van elke eis</h2>
<table id="prijzen"><thead><tr><th>Eis</th><th>Waarom</th>
<th>Prijs (werkzoekenden binnen bereik)</th>
<th>Zonder deze eis erbij</th></tr></thead><tbody>{prices}</tbody></table>
<p class="noot">De prijs is hoeveel werkzoekenden de selectie meer zou bereiken zonder de eis
(opnieuw opgelost zonder de eis), ook als aandeel van het bereik. Bij het aantal pilots: wat
één pilot extra zou toevoegen. {local}</p>
<h2>Welke aanname doet ertoe?</h2>
<div id="gevoeligheid">{sensitivity_table(result)}</div>
{ref}
<h2>Kaarten</h2><ul>{map_links}</ul>
<h2>Tabellen</h2><ul>{table_links}</ul>
<h2>Bronnen en methode</h2><ul class="bronnen">{src}</ul>
</body>
</html>
"""
