"""The overview page of a run: the selection with reasons, and a link to every output.

Stage: render.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from vluchtelingen_in_beeld.fmt import nl_dec, nl_int, nl_pct
from vluchtelingen_in_beeld.year import YearResult


def _e(x: Any) -> str:
    return html.escape(str(x))


def index_page(
    result: YearResult,
    maps: list[tuple[str, str, str, str]],
    pages: list[tuple[str, str, str]],
    sources: list[str],
) -> str:
    """The overview: the selection with reasons, and a link to every output.

    ``maps``: (title, level, html, png) paths; ``pages``: (code, name, path) of the pitch
    pages; ``sources``: the Dutch source lines.
    """
    warning = result.origin.warning
    comparison = result.comparison_2009()
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
        (f"tabellen/schatting_{y}.gpkg", "Schatting per gemeente als GeoPackage (EPSG:28992)"),
        (f"tabellen/rangorde_{y}.gpkg", "Rangorde als GeoPackage (QGIS, EPSG:28992)"),
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
