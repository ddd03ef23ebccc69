"""One-page pitches per gemeente: Dutch, A4-printable, working offline.

A page says how many job-seeking refugees the gemeente probably has (with the interval, in
plain words), how that splits by origin group, how it compares with its arbeidsmarktregio,
provincie and the Netherlands, where it ranks and why, what the outreach scenarios of 2005
would mean, and where every number comes from. The small map is inline SVG drawn from the
same boundaries as the maps, so the page needs no script and no network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup

from vluchtelingen_in_beeld.cells import num, whole
from vluchtelingen_in_beeld.clean.names import normalise
from vluchtelingen_in_beeld.estimation.estimate import WHAT_WORD
from vluchtelingen_in_beeld.estimation.peers import GROUPS, RECEPTION_RATIO
from vluchtelingen_in_beeld.fmt import is_small, nl_int, nl_list, nl_pct, nl_rate
from vluchtelingen_in_beeld.render.provenance import page_sources, parameter_label
from vluchtelingen_in_beeld.render.templates import render
from vluchtelingen_in_beeld.words import say

if TYPE_CHECKING:
    import geopandas as gpd

    from vluchtelingen_in_beeld.geography.result import YearResult
    from vluchtelingen_in_beeld.render.sender import Sender


def slug(text: str) -> str:
    """File-name-safe form of a name: "'s-Gravenhage" -> "s-gravenhage"."""
    return "-".join(normalise(text).split()) or "gemeente"


def page_name(code: str, name: str) -> str:
    """``GM0363-amsterdam.html``."""
    return f"{code}-{slug(name)}.html"


# --- the small map -----------------------------------------------------------------------


def mini_map_svg(
    shapes: gpd.GeoDataFrame, code: str, width: int = 300, height: int = 200
) -> Markup:
    """Inline SVG: the gemeente in colour among its neighbours (RD New coordinates)."""
    # lazy: shapely: only geometry needs it (+0.07 s at start-up)
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
    areas = []
    for c, row in near.iterrows():
        geom = row.geometry.intersection(view)
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        areas.append({"cls": "doel" if c == code else "buur", "d": path(geom),
                      "naam": str(row.get("naam", c))})  # fmt: skip
    cx, cy = target.representative_point().coords[0]
    name = str(shapes.loc[code].get("naam", code))
    w, h = (vmaxx - vminx) * scale, (vmaxy - vminy) * scale
    return Markup(  # noqa: S704 - a template with autoescape: every name is escaped
        render(
            "minikaart.svg.j2",
            naam=name,
            w=f"{w:.0f}",
            h=f"{h:.0f}",
            areas=areas,
            # a long name would run off the map; the page's title says it anyway
            label={"x": f"{(cx - vminx) * scale:.1f}", "y": f"{(vmaxy - cy) * scale:.1f}"}
            if len(name) <= 16
            else None,
        ).strip()
    )


# --- the page ------------------------------------------------------------------------------


def _scenarios(result: YearResult, code: str) -> list[dict[str, Any]]:
    """Per outreach scenario: the funnel over the period and per year, with the range.

    Placements and costs carry their p10–p90 from the Monte Carlo (that draw's J times
    that draw's funnel, the cost per placement following from that draw's placement rate).
    A cost is only shown for at least 10 placements: below that the count reads "minder dan
    10" and a euro figure would claim what the count does not.
    """
    est, card = result.estimate, result.card
    rows = []
    for name, frame in est.scenarios.items():
        sc = card.scenarios[name]
        out = frame.loc[code]
        lo, _, hi = est.placements_interval(name, code)
        c_lo, _, c_hi = est.cost_interval(name, code)
        small = is_small(out["plaatsingen"])
        rows.append(
            {
                "label": sc.label.split(":")[0],
                "contacten": out["contacten"],
                "gesprekken": out["gesprekken"],
                "plaatsingen": out["plaatsingen"],
                "laag": lo,
                "hoog": hi,
                "per_jaar": out["plaatsingen_per_jaar"],
                "kosten": None if small else out["kosten_eur"],
                "kosten_laag": None if small else c_lo,
                "kosten_hoog": None if small else c_hi,
            }
        )
    return rows


def spread_text(result: YearResult, code: str) -> str:
    """Where this gemeente's range comes from, in shares of the spread of log J."""
    cal = result.estimate.calibration
    if cal is not None and code in cal.target:  # its own figure: its margin is the range
        return ""
    spread = result.estimate.draws.spread if result.estimate.draws is not None else None
    if spread is None or code not in spread.index:
        return ""
    sh = spread.loc[code]
    parts = [
        (num(sh["aandeel_lokaal"]), "de lokale afwijking van het landelijke patroon en het "
         "toeval bij kleine aantallen"),
        (num(sh["aandeel_s"]), "de aanname hoeveel van wie niet economisch zelfstandig is "
         "beschikbaar is voor werk"),
        (num(sh["aandeel_landelijk"]), "de landelijke CBS-aandelen per herkomstgroep"),
    ]  # fmt: skip
    parts.sort(key=lambda p: -p[0])
    said = [f"{nl_pct(share) if share >= 0.01 else 'vrijwel niets'} uit {what}"
            for share, what in parts]  # fmt: skip
    return f"Van de onzekerheid in dit getal komt {nl_list(said)}."


def region_label(name: str) -> str:
    """``Groot Amsterdam`` -> ``Regio Groot Amsterdam``; ``Regio Zwolle`` stays as it is."""
    return name if name.lower().startswith("regio") else f"Regio {name}"


def page_context(
    result: YearResult,
    code: str,
    *,
    sender: Sender | None = None,
    index_href: str | None = "index.html",
) -> dict[str, Any]:
    """Everything the pitch template shows for one gemeente (values, not markup)."""
    res = result
    est, card = res.estimate, res.estimate.card
    row = est.table.set_index("gemeentecode").loc[code]
    rk = res.ranking.table.set_index("gemeentecode").loc[code]
    nat = est.national.iloc[0]
    reg = res.regions.frame.loc[code]
    prov = res.totals("provincie").set_index("code").loc[reg["provincie_code"]]
    amr = res.totals("arbeidsmarktregio").set_index("code").loc[reg["arbeidsmarktregio_code"]]
    shapes = res.shapes.frame if res.shapes is not None else None
    naam = str(row["gemeentenaam"])
    mini = mini_map_svg(shapes, code) if shapes is not None and code in shapes.index else None
    parameters = [
        {"label": parameter_label(k, card), "waarde": nl_rate(r), "bron": r.source,
         "aanname": r.assumption}
        for k, r in card.rates().items()
        if k != "local_sd" or est.variation is None or est.variation.n == 0
        if k not in ("beta", "target_bijstand_share") or card.uses_local_factor
    ]  # fmt: skip
    return {
        "naam": naam,
        "code": code,
        "jaar": est.year,
        "provincie": str(reg["provincie"]),
        "regio": str(reg["arbeidsmarktregio"]),
        "waarschuwing": res.origin.warning,
        "index_href": index_href,
        "j": row["werkzoekend"],
        "j_laag": row["werkzoekend_p10"],
        "j_hoog": row["werkzoekend_p90"],
        "per_1000": row["werkzoekend_per_1000"],
        "per_1000_nl": nat["werkzoekend_per_1000"],
        "leeftijd": card.ages_label(est.year),
        "herkomst": ", ".join(g.label for g in card.groups),
        "kaart": mini,
        "vergelijking": [
            {
                "label": label,
                "j": v["werkzoekend"],
                "laag": v["werkzoekend_p10"],
                "hoog": v["werkzoekend_p90"],
                "per_1000": v["werkzoekend_per_1000"],
            }
            for label, v in (
                (naam, row),
                (region_label(str(amr["naam"])), amr),
                (f"Provincie {prov['naam']}", prov),
                ("Nederland", nat),
            )
        ],  # fmt: skip
        "gekozen": bool(rk["geselecteerd"]),
        "selectie": selection_paragraph(res, code),
        "vergelijkbaar": peers_text(res, code),
        "opvang": reception_text(res, code),
        "lokaal_cijfer": calibration_text(res, code),
        "trend": say("trend_zin", fact) if (fact := trend_fact(res, code)) else "",
        "trend_svg": trend_svg(res, code),
        "kans": chance_text(res, code),
        "scenarios": _scenarios(res, code),
        "jaren": card.period_years,
        "contact": card.contact_share,
        "kosten_per_plaatsing": card.cost_per_placement,
        "programma_kosten": card.programme_cost.value,
        "prijzen_van": card.price_basis,
        "spreiding": spread_text(res, code),
        "niet_gezien": not_seen(res, code),
        "gekalibreerd": bool(res.estimate.calibration and code in res.estimate.calibration.target),
        "afzender": sender,
        "groepen": [
            {
                "label": g.label,
                "doelgroep": row[f"doelgroep_{g.name}"],
                "werkzoekend": row[f"werkzoekend_{g.name}"],
            }
            for g in card.groups
        ],  # fmt: skip
        "geboren": card.birthplace,
        "parameters": parameters,
        "bronnen": page_sources(res),
        "kaart_naam": card.name,
        "kaart_versie": card.version,
        "kaart_sha": card.checksum[:12],
        "gemaakt": datetime.now(UTC).date().isoformat(),
    }


def render_page(
    result: YearResult,
    code: str,
    index_href: str | None = "index.html",
    *,
    sender: Sender | None = None,
) -> str:
    """The pitch page of one gemeente as HTML (template ``pitch.html.j2``).

    One A4 page in print, and an optional second page ("verantwoording": sources,
    definitions, parameters) that the reader can leave out of the print. Every figure is
    rounded by :func:`~.fmt.nl_about` (counts under 10 read "minder dan 10"); chances are
    never shown as certain (:func:`~.fmt.nl_prob`).
    """
    return render(
        "pitch.html.j2", **page_context(result, code, sender=sender, index_href=index_href)
    )


def not_seen(result: YearResult, code: str) -> tuple[str, ...]:
    """What the estimate does not see, for this gemeente.

    Residents in reception that a file took out are not counted here, so the page does not
    say they are.
    """
    taken = result.estimate.reception.get(code)
    if taken is None:
        return NOT_SEEN
    here = (
        f"Bewoners van de opvang hier ({nl_int(taken.bewoners)}, {taken.bron}) zijn buiten de "
        "doelgroep gehouden; ingeschreven azc-bewoners elders tellen wel mee."
    )
    return tuple(here if "azc" in line else line for line in NOT_SEEN)


NOT_SEEN = (
    "Herkomst is het eigen geboorteland (CBS): Afghanen geboren in Iran of Pakistan, of "
    "Syriërs geboren in Turkije of Libanon, vallen erbuiten.",
    "De groep Iran omvat ook studenten en kennismigranten; dat telt in gemeenten als Delft, "
    "Eindhoven en Groningen.",
    "Bewoners van een azc tellen mee; wie nog op een beslissing wacht, mag vaak niet of "
    "beperkt werken.",
    "Geen telling van UWV of de bijstand: wie al via UWV of de gemeente werk zoekt, zit erin, "
    "net als wie nog niet in beeld is.",
)


def selection_paragraph(result: YearResult, code: str) -> str:
    """The page's paragraph on the selection, from the ranking's facts (``pitch_selectie``).

    The reach with its likely range, what leaving the gemeente out (or forcing it in) costs,
    whether it is interchangeable and with whom, and the constraint it is chosen thanks to
    or kept out by: each a re-solve of the ranking, said by the one renderer.
    """
    ranking = result.ranking
    rk = ranking.table.set_index("gemeentecode").loc[code]
    fact = {
        **ranking.facts[code],
        "bereik": num(rk["bereik"]),
        "bereik_laag": num(rk["bereik_p10"]),
        "bereik_hoog": num(rk["bereik_p90"]),
    }
    return say("pitch_selectie", fact, {"n": ranking.constraints.n, "rho": ranking.headline["rho"]})


def peers_text(result: YearResult, code: str) -> str:
    """The line on comparable gemeenten (:mod:`.peers`), from its facts."""
    p = result.peers().set_index("gemeentecode").loc[code]
    rate = p["werkzoekend_per_1000"]
    fact = {
        "naam": result.gemeente_name(code),
        "per_1000": None if pd.isna(rate) else float(rate),
        "groepen": [
            {
                "naam": name,
                "plaats": whole(p[f"plaats_{suffix}"]),
                "aantal": whole(p[f"aantal_{suffix}"]),
                "mediaan": None
                if pd.isna(p[f"mediaan_per_1000_{suffix}"])
                else float(p[f"mediaan_per_1000_{suffix}"]),
            }
            for suffix, _, name in GROUPS
        ],
    }
    return say("vergelijkbaar", fact)


def reception_text(result: YearResult, code: str) -> str:
    """The possible reception centre, and residents an ``--opvang`` file took out."""
    p = result.peers().set_index("gemeentecode").loc[code]
    taken = result.estimate.reception.get(code) if result.estimate.reception else None
    fact = {
        "vlag": bool(p["mogelijk_opvang"]),
        "per_1000": num(p["doelgroep_per_1000"]) if pd.notna(p["doelgroep_per_1000"]) else 0.0,
        "keer": RECEPTION_RATIO,
        "regio": num(p["doelgroep_per_1000_regio_anderen"]),
        "klasse": num(p["doelgroep_per_1000_klasse_anderen"]),
        "bewoners": None if taken is None else taken.bewoners,
        "bron": "" if taken is None else taken.bron,
        "peildatum": "" if taken is None else taken.peildatum,
    }
    return say("opvang", fact)


def calibration_text(result: YearResult, code: str) -> str:
    """The gemeente's own figure the estimate was calibrated to (empty if none)."""
    cal = result.estimate.calibration
    if cal is None or code not in cal.target:
        return ""
    figures = result.estimate.figures
    f = figures[code]
    fact = {
        "waarde": f.waarde,
        "wat": WHAT_WORD[f.wat],
        "bron": f.bron,
        "peildatum": f.peildatum,
        "marge": f.marge,
        "doel": cal.target[code],
    }
    return say("lokaal_cijfer", fact)


def trend_fact(result: YearResult, code: str) -> dict[str, Any] | None:
    """The change since the trend's first year, as a fact for ``trend_zin``."""
    trend = result.trend
    if trend is None:
        return None
    rows = trend.of(code)
    first, last = trend.years[0], trend.years[-1]
    now = rows[rows["jaar"] == last].iloc[0]
    then = rows[rows["jaar"] == first].iloc[0]
    change = float(now[f"verandering_sinds_{first}"])
    low = float(now[f"verandering_sinds_{first}_p10"])
    high = float(now[f"verandering_sinds_{first}_p90"])
    return {
        "wie": result.gemeente_name(code) if code != "NL01" else "Nederland",
        "eerste": first,
        "omvang": abs(change),
        "richting": "meer" if change >= 0 else "minder",
        "laag": low,
        "hoog": high,
        "laag_abs": abs(low),
        "hoog_abs": abs(high),
        "bevolking": float(then[f"deel_bevolking_tot_{last}"]),
        "methode": float(then[f"deel_methode_tot_{last}"]),
        "methode_klein": abs(float(then[f"deel_methode_tot_{last}"])) < 0.05 * abs(change),
        "voorgangers": [p for p in str(now["voorgangers"]).split("; ") if p],
        "breuk": str(then["breuk"]),
        # the trend leaves the user's own files out: say so where they changed this figure
        "zonder_eigen": code in result.estimate.reception
        or (result.estimate.calibration is not None and code in result.estimate.calibration.target),
    }


def trend_svg(result: YearResult, code: str) -> Markup | None:
    """A small line of the estimate per year with its p10–p90 band (inline SVG)."""
    trend = result.trend
    if trend is None:
        return None
    rows = trend.of(code)
    w, h, top, bottom = 140.0, 34.0, 2.0, 10.0  # room for the years below
    lo, hi = float(rows["werkzoekend_p10"].min()), float(rows["werkzoekend_p90"].max())
    span = (hi - lo) or 1.0
    n = len(rows)

    def at(i: int, v: float) -> str:
        x = 8 + (w - 16) * (i / (n - 1) if n > 1 else 0.5)
        y = top + (h - top - bottom) * (1 - (v - lo) / span)
        return f"{x:.1f},{y:.1f}"

    r = list(rows.itertuples())
    upper = [at(i, num(x.werkzoekend_p90)) for i, x in enumerate(r)]
    lower = [at(i, num(x.werkzoekend_p10)) for i, x in enumerate(r)][::-1]
    points = [at(i, num(x.werkzoekend)) for i, x in enumerate(r)]
    dots = [
        {"x": p.split(",")[0], "y": p.split(",")[1], "jaar": whole(x.jaar),
         "anker": "start" if i == 0 else "end" if i == n - 1 else "middle"}
        for i, (p, x) in enumerate(zip(points, r, strict=True))
    ]  # fmt: skip
    label = f"Schatting per jaar, {r[0].jaar} tot {r[-1].jaar}, met de waarschijnlijke marge"
    return Markup(  # noqa: S704 - a template with autoescape
        render(
            "trend.svg.j2",
            w=f"{w:.0f}",
            h=f"{h:.0f}",
            band=" ".join(upper + lower),
            lijn=" ".join(points),
            punten=dots,
            label=label,
        ).strip()
    )


def chance_text(result: YearResult, code: str) -> str:
    """What ``kans_geselecteerd`` is and mostly reflects, from the ranking's re-solves.

    The chance is re-solved three ways (see :mod:`.rank`): with every uncertainty, with ρ
    held at its centre, and with the job-seekers held at their mean; the one whose fixing
    moves the chance less is not what it reflects (``kans_zin``).
    """
    naam = result.gemeente_name(code)
    return say("kans_zin", naam, result.ranking.chance_facts[code])


def pitch_index(result: YearResult, pages: dict[str, str]) -> str:
    """The index of a folder of pitch pages (``pages``: code -> file name).

    Sortable by name, estimate and selection (``pitch_index.html.j2``).
    """
    est = result.estimate
    t = est.table.set_index("gemeentecode")
    rk = result.ranking.table.set_index("gemeentecode")
    reg = result.regions.frame
    rows = [
        {
            "naam": str(t.at[code, "gemeentenaam"]),
            "href": href,
            "provincie": str(reg.at[code, "provincie"]) if code in reg.index else "",
            "j": num(t.at[code, "werkzoekend"]),
            "laag": num(t.at[code, "werkzoekend_p10"]),
            "hoog": num(t.at[code, "werkzoekend_p90"]),
            "rang": whole(rk.at[code, "rang"]),
            "bereik": num(rk.at[code, "bereik"]),
            "gekozen": bool(rk.at[code, "geselecteerd"]),
        }
        for code, href in pages.items()
    ]

    # the order of "Selectie": the chosen by their place, then the others by reach
    def place(r: dict[str, Any]) -> tuple[bool, float]:
        return (not r["gekozen"], float(r["rang"]) if r["gekozen"] else -float(r["bereik"]))

    ranked = sorted(rows, key=place)
    for i, r in enumerate(ranked):
        r["volgorde"] = i
    rows.sort(key=lambda r: normalise(str(r["naam"])))
    card = result.card
    return render(
        "pitch_index.html.j2",
        jaar=est.year,
        rijen=rows,
        n_gemeenten=len(rk),
        n_gekozen=result.ranking.constraints.n,
        waarschuwing=result.origin.warning,
        kaart_naam=card.name,
        kaart_versie=card.version,
        bronnen=page_sources(result),
    )
