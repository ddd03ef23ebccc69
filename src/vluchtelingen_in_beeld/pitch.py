"""One-page pitches per gemeente: Dutch, A4-printable, working offline.

A page says how many job-seeking refugees the gemeente probably has (with the interval, in
plain words), how that splits by origin group, how it compares with its arbeidsmarktregio,
provincie and the Netherlands, where it ranks and why, what the outreach scenarios of 2005
would mean, and where every number comes from. The small map is inline SVG drawn from the
same boundaries as the maps, so the page needs no script and no network.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vluchtelingen_in_beeld.fmt import (
    nl_about,
    nl_about_between,
    nl_about_eur,
    nl_about_range,
    nl_dec,
    nl_int,
    nl_pct,
    nl_prob,
    nl_rate,
)
from vluchtelingen_in_beeld.names import normalise
from vluchtelingen_in_beeld.provenance import page_sources

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from vluchtelingen_in_beeld.year import YearResult


def slug(text: str) -> str:
    """File-name-safe form of a name: "'s-Gravenhage" -> "s-gravenhage"."""
    return "-".join(normalise(text).split()) or "gemeente"


def page_name(code: str, name: str) -> str:
    """``GM0363-amsterdam.html``."""
    return f"{code}-{slug(name)}.html"


def _e(x: Any) -> str:
    return html.escape(str(x))


# --- the small map -----------------------------------------------------------------------


def mini_map_svg(shapes: gpd.GeoDataFrame, code: str, width: int = 300, height: int = 200) -> str:
    """Inline SVG: the gemeente in colour among its neighbours (RD New coordinates)."""
    import shapely

    target = shapes.loc[code].geometry
    minx, miny, maxx, maxy = target.bounds
    pad = max(maxx - minx, maxy - miny) * 0.6 + 2_000
    view = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    vminx, vminy, vmaxx, vmaxy = view.bounds
    scale = min(width / (vmaxx - vminx), height / (vmaxy - vminy))

    def path(geom: Any) -> str:
        parts = []
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            for ring in [poly.exterior, *poly.interiors]:
                pts = " ".join(
                    f"{(x - vminx) * scale:.1f},{(vmaxy - y) * scale:.1f}" for x, y in ring.coords
                )
                parts.append(f"M{pts}Z")
        return "".join(parts)

    near = shapes[shapes.intersects(view)]
    items = []
    for c, row in near.iterrows():
        geom = row.geometry.intersection(view)
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        cls = "doel" if c == code else "buur"
        items.append(
            f'<path class="{cls}" d="{path(geom)}"><title>{_e(row.get("naam", c))}</title></path>'
        )
    cx, cy = target.representative_point().coords[0]
    label = (
        f'<text x="{(cx - vminx) * scale:.1f}" y="{(vmaxy - cy) * scale:.1f}" '
        f'class="label">{_e(shapes.loc[code].get("naam", code))}</text>'
    )
    w, h = (vmaxx - vminx) * scale, (vmaxy - vminy) * scale
    return (
        f'<svg class="minikaart" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" '
        f'role="img" aria-label="Kaart van {_e(shapes.loc[code].get("naam", code))} en buren">'
        + "".join(items)
        + label
        + "</svg>"
    )


# --- the page ------------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 14mm 14mm 14mm 14mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1a1a1a; font-size: 10.5pt; line-height: 1.35; margin: 0 auto; max-width: 182mm;
  padding: 8mm 0; }
h1 { font-size: 19pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; color: #08306b; border-bottom: 1px solid #c6dbef; }
.sub { color: #555; margin: 0 0 3mm; }
.lead { font-size: 11pt; background: #f2f7fc; border-left: 4px solid #08306b; padding: 3mm 4mm;
  margin: 0 0 3mm; }
.kolommen { display: flex; gap: 6mm; align-items: flex-start; }
.kolommen > div { flex: 1 1 0; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
th, td { text-align: left; padding: 1mm 2mm; border-bottom: 1px solid #e0e0e0; }
td.n, th.n { text-align: right; white-space: nowrap; }
.minikaart { max-width: 100%; height: auto; display: block; }
.minikaart .buur { fill: #e8e8e8; stroke: #fff; stroke-width: 1; }
.minikaart .doel { fill: #e4571e; stroke: #7a1d00; stroke-width: 1.5; }
.minikaart .label { font-size: 11px; font-weight: 700; text-anchor: middle; fill: #000;
  paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.waarschuwing { border: 2px solid #8a1c1c; color: #8a1c1c; padding: 2mm 3mm; font-size: 8.5pt;
  margin: 0 0 3mm; }
.bronnen { font-size: 7pt; color: #444; padding-left: 4mm; }
.bronnen li { margin: 0; }
.noot { font-size: 8.5pt; color: #555; }
ul.noot { padding-left: 4mm; margin: 0; }
.klein { font-size: 8pt; color: #555; }
nav { font-size: 9pt; margin-bottom: 3mm; }
@media print { nav { display: none; } body { padding: 0; } h2 { break-after: avoid; }
  table, .kolommen { break-inside: avoid; } }
"""


def _fig(text: str) -> str:
    """A shown figure (escaped), marked so that tests can check its rounding."""
    return f'<span class="getal">{html.escape(text)}</span>'


def _scenario_rows(result: YearResult, code: str) -> str:
    """Table rows per outreach scenario: the funnel over the period and per year.

    Placements carry their p10–p90 from the Monte Carlo (that draw's J times that draw's
    funnel); every figure is rounded to what the inputs support.
    """
    est, card = result.estimate, result.card
    rows = []
    for name, frame in est.scenarios.items():
        sc = card.scenarios[name]
        out = frame.loc[code]
        lo, _, hi = est.placements_interval(name, code)
        intakes = _fig(nl_about(out["intakes"])) if sc.reach_factor is not None else "–"
        rows.append(
            f"<tr><td>{_e(sc.label)}</td>"
            f"<td class='n'>{_fig(nl_about(out['contacten']))}</td>"
            f"<td class='n'>{intakes}</td>"
            f"<td class='n'>{_fig(nl_about(out['plaatsingen']))}<br><span class='klein'>"
            f"({_fig(nl_about_range(lo, hi))})</span></td>"
            f"<td class='n'>{_fig(nl_about(out['plaatsingen_per_jaar']))}</td>"
            f"<td class='n'>{_fig(nl_about_eur(out['kosten_eur']))}</td></tr>"
        )
    return "".join(rows)


def range_text(result: YearResult) -> str:
    """Where the p10–p90 range comes from, in plain Dutch (the same for every page)."""
    card = result.card
    s = card.job_seeking
    sens = result.estimate.sensitivity.table if result.estimate.sensitivity else None
    share = ""
    if sens is not None and len(sens):
        span = (sens["werkzoekend_hoog"] - sens["werkzoekend_laag"]).abs()
        js = span[sens["parameter"] == "job_seeking"]
        if len(js) and span.sum() > 0:
            share = (
                f" Van de parameters verschuift s het landelijke totaal verreweg het meest "
                f"({_fig(nl_pct(float(js.iloc[0]) / float(span.sum())))} van de uitslag van "
                f"alle parameters samen)."
            )
    var = result.estimate.variation
    local = (
        f" Daarbij komt lokale spreiding: gemeenten wijken van het landelijke patroon af, "
        f"op logschaal ongeveer {_fig(nl_dec(var.sd, 1))} (uit de restspreiding van de "
        f"bijstand tussen gemeenten), en toeval bij kleine aantallen."
        if var is not None and var.sd > 0
        else " Lokale afwijkingen van het landelijke patroon zitten er niet in."
    )
    return (
        f"Het bereik komt vooral uit de <strong>aanname</strong> s: welk deel van wie niet "
        f"economisch zelfstandig is beschikbaar is voor werk ({nl_rate(s)}; geen "
        f"publieke bron, kalibreer met lokale gegevens). De aandelen economisch "
        f"zelfstandigen komen uit CBS 86136NED en zijn tot op ongeveer 2 procentpunt "
        f"bekend.{share}{local}"
    )


NOT_SEEN = (
    "Herkomst is bij wie in het buitenland is geboren het eigen geboorteland (CBS): "
    "Afghanen geboren in Iran of Pakistan, of Syriërs geboren in Turkije of Libanon, tellen "
    "bij die landen en vallen hier buiten.",
    "De groep Iran omvat ook studenten en kennismigranten; dat telt in gemeenten als Delft, "
    "Eindhoven en Groningen.",
    "Bewoners van asielzoekerscentra (azc) tellen mee in de bevolking; wie daar nog op "
    "een beslissing wacht, mag vaak nog niet of beperkt werken.",
    "Het is geen telling van UWV of de bijstand: wie al werk zoekt via UWV of de gemeente, "
    "zit er net zo goed in als wie nog niet in beeld is.",
)


def selection_note(rk: pd.Series, result: YearResult) -> str:
    """The page's short form of the ranking's reason for a selected gemeente.

    The reach and the chance are on the page already; this says what leaving the gemeente
    out costs (re-solved), whether that is a near-tie, and the constraint it is chosen
    thanks to. Other gemeenten get the ranking's reason as it is.
    """
    from vluchtelingen_in_beeld.rank import leave_out_text

    ranking = result.ranking
    if not rk["geselecteerd"] or rk["verlies_als_eruit"] != rk["verlies_als_eruit"]:
        return str(rk["reden"])
    text = leave_out_text(rk, ranking.objective) + "."
    if rk["uitwisselbaar"]:
        text += " Uitwisselbaar: het verschil is kleiner dan de onzekerheid of dan 1%."
    if isinstance(rk["dankzij"], str):
        text += f" Gekozen dankzij: {ranking.constraints.describe(rk['dankzij'])}."
    return text


def chance_text(rk: pd.Series) -> str:
    """What ``kans_geselecteerd`` is and mostly reflects, in one or two plain sentences.

    The chance is re-solved three ways (see :mod:`.rank`): with every uncertainty, with ρ
    held at its centre, and with the job-seekers held at their mean; the one that leaves
    the chance more uncertain is what it mostly reflects.
    """
    p = float(rk["kans_geselecteerd"])
    head = (
        f"Kans gekozen, per doorrekening opnieuw opgelost: "
        f"{_fig(nl_prob(p))} (± {_fig(nl_pct(rk['kans_geselecteerd_se']))})."
    )
    local = float(rk["kans_rho_vast"])
    rho = float(rk["kans_aantallen_vast"])
    spread_local, spread_rho = local * (1 - local), rho * (1 - rho)
    if not (spread_local == spread_local and spread_rho == spread_rho):  # not computed
        why = ""
    elif p * (1 - p) < 1e-4:
        why = "In vrijwel elke doorrekening valt de keuze hetzelfde uit."
    elif spread_local >= spread_rho:
        why = "Dat komt vooral door de onzekerheid in de aantallen per gemeente, niet door ρ."
    else:
        why = (
            "Dat komt vooral door de aanname over het bereik in de regio (ρ), niet door de "
            "aantallen per gemeente."
        )
    return f"{head} {why}".strip()


def render_page(result: YearResult, code: str, index_href: str | None = "index.html") -> str:
    """The pitch page of one gemeente as HTML (everything from the year's result).

    Every figure is rounded to two significant digits (:func:`~.fmt.nl_about`); chances are
    never shown as certain (:func:`~.fmt.nl_prob`). The page fits two A4 pages in print.
    """
    res = result
    est, card = res.estimate, res.estimate.card
    row = est.table.set_index("gemeentecode").loc[code]
    rk = res.ranking.table.set_index("gemeentecode").loc[code]
    nat = est.national.iloc[0]
    reg = res.regions.frame.loc[code]
    prov = res.totals("provincie").set_index("code").loc[reg["provincie_code"]]
    shapes = res.shapes.frame if res.shapes is not None else None
    amr = res.totals("arbeidsmarktregio").set_index("code").loc[reg["arbeidsmarktregio_code"]]
    naam = str(row["gemeentenaam"])
    n_total = len(res.ranking.table)
    n_sel = res.ranking.constraints.n
    ages = card.ages_label(est.year)
    groups_text = ", ".join(g.label for g in card.groups)

    lead = (
        f"In {_e(naam)} wonen naar schatting <strong>{_fig(nl_about(row['werkzoekend']))}"
        f"</strong> vluchtelingen uit {_e(groups_text)}, {_e(ages)}, die niet economisch "
        f"zelfstandig zijn (ook wie te weinig uit deeltijdwerk haalt) en beschikbaar zijn "
        f"voor werk. Dit is een schatting uit "
        f"CBS-bevolkingscijfers met landelijke aandelen, geen telling van UWV of de "
        f"bijstand. Waarschijnlijk ligt het aantal tussen "
        f"{_fig(nl_about_between(row['werkzoekend_p10'], row['werkzoekend_p90']))} (8 van de 10 "
        f"doorrekeningen). Dat is {_fig(nl_about(row['werkzoekend_per_1000'], count=False))} "
        f"per 1.000 inwoners, tegen {_fig(nl_about(nat['werkzoekend_per_1000'], count=False))} "
        f"in heel Nederland."
    )
    status = "een van de" if rk["geselecteerd"] else "niet bij de"
    rank_text = (
        f"{_e(naam)} staat op plaats {int(rk['rang'])} van {n_total} en is {status} {n_sel} "
        f"voorgestelde voortrekkersgemeenten, gekozen op bereik: eigen werkzoekenden plus "
        f"{_fig(nl_dec(card.selection.region_reach.value, 2))} van de rest van de regio. "
        f"{chance_text(rk)}"
    )
    groups = "".join(
        f"<tr><td>{_e(g.label)}</td>"
        f"<td class='n'>{_fig(nl_about(row[f'doelgroep_{g.name}']))}</td>"
        f"<td class='n'>{_fig(nl_about(row[f'werkzoekend_{g.name}']))}</td></tr>"
        for g in card.groups
    )
    compare = "".join(
        f"<tr><td>{_e(label)}</td><td class='n'>{_fig(nl_about(v['werkzoekend']))}</td>"
        f"<td class='n'>{_fig(nl_about_range(v['werkzoekend_p10'], v['werkzoekend_p90']))}</td>"
        f"<td class='n'>{_fig(nl_about(v['werkzoekend_per_1000'], count=False))}</td></tr>"
        for label, v in (
            (f"Gemeente {naam}", row),
            (f"Arbeidsmarktregio {amr['naam']}", amr),
            (f"Provincie {prov['naam']}", prov),
            ("Nederland", nat),
        )
    )
    mini = (
        mini_map_svg(shapes, code)
        if shapes is not None and code in shapes.index
        else "<p class='noot'>Geen kaart: geen grenzen voor deze gemeente.</p>"
    )
    warning_text = res.origin.warning
    warning = f'<div class="waarschuwing">{_e(warning_text)}</div>' if warning_text else ""
    nav = f'<nav><a href="{_e(index_href)}">← Overzicht</a></nav>' if index_href else ""
    sources = "".join(f"<li>{_e(s)}</li>" for s in page_sources(res))
    made = datetime.now(UTC).date().isoformat()
    years = f"{card.period_years:g}"
    not_seen = "".join(f"<li>{_e(x)}</li>" for x in NOT_SEEN)
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(naam)}: werkzoekende vluchtelingen {est.year}</title>
<style>{CSS}</style>
</head>
<body>
{nav}
<h1>{_e(naam)}</h1>
<p class="sub">Werkzoekende vluchtelingen op 1 januari {est.year} · gemeentecode {_e(code)} ·
provincie {_e(reg["provincie"])} · arbeidsmarktregio {_e(reg["arbeidsmarktregio"])}</p>
{warning}
<p class="lead" id="definitie">{lead}</p>
<p class="noot" id="bereik">{range_text(res)}</p>
<div class="kolommen">
<div>
<h2>Plaats in de selectie</h2>
<p>{rank_text}</p>
<p class="noot">{_e(selection_note(rk, res))}</p>
</div>
<div>
<h2>Ligging</h2>
{mini}
</div>
</div>
<h2>Vergelijking</h2>
<table><thead><tr><th></th><th class="n">Werkzoekend</th><th class="n">Bereik p10–p90</th>
<th class="n">Per 1.000 inwoners</th></tr></thead><tbody>{compare}</tbody></table>
<div class="kolommen">
<div>
<h2>Naar herkomst</h2>
<table><thead><tr><th>Herkomstgroep</th><th class="n">Doelgroep</th>
<th class="n">Werkzoekend</th></tr></thead><tbody>{groups}</tbody></table>
<p class="noot">Doelgroep: {_e(ages)}, geboren: {_e(card.birthplace)}. Aandelen
economisch zelfstandig: CBS 86136NED.</p>
</div>
<div>
<h2>Wat deze schatting niet ziet</h2>
<ul class="noot">{not_seen}</ul>
</div>
</div>
<h2>Wat een aanpak kan opleveren, in {years} jaar</h2>
<table><thead><tr><th>Scenario</th><th class="n">Contacten</th><th class="n">Intakes</th>
<th class="n">Plaatsingen in {years} jaar (bereik)</th><th class="n">Per jaar</th>
<th class="n">Kosten</th></tr></thead><tbody>{_scenario_rows(res, code)}</tbody></table>
<p class="noot" id="scenario">Over een periode van {years} jaar, zoals het Banenoffensief
Vluchtelingen (2006–2008), en per jaar. Contact met {_fig(nl_pct(card.contact_share.value))}
van de werkzoekenden in die periode is een aanname ({nl_rate(card.contact_share)}).
Een plaatsing = baan, stage of werkervaringsplaats van minstens 6 maanden. Kosten:
€ {nl_int(card.cost_per_placement.value)} per plaatsing, in {_e(card.price_basis)} (niet
geïndexeerd). Getallen afgerond op twee cijfers.</p>
<h2>Bronnen en methode</h2>
<ul class="bronnen">{sources}
<li>Gemaakt op {made}. Dit is een schatting met onzekerheid, geen telling.</li></ul>
</body>
</html>
"""
