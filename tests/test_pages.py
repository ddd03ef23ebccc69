"""Pages for their readers: one A4 hand-out per gemeente, no jargon, one rounding rule,
tables that open cleanly, the card's own name everywhere, a quiet console.

One snapshot run (with a sender file and an edited card) is made once per module; every
test reads that folder, as a reader would open it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import html5lib
import openpyxl
import pandas as pd
import pytest

from tests.browser import artifact, offline_page
from vluchtelingen_in_beeld.fmt import nl_about, round_sig

from .conftest import cli

#: The tests of this module share a run built once: one xdist worker takes them all.
pytestmark = pytest.mark.xdist_group("pages")

#: The gemeenten whose pages are printed: the longest name, the largest, the smallest
#: estimate, and the last of the selection.
LONGEST, LARGEST, SMALLEST = "GM0820", "GM0363", "GM0096"
#: An ask at the sender file's length limit, so the page is tried at its fullest.
ASK = ("Wilt u met ons verkennen of uw gemeente een van de voortrekkersgemeenten wordt? " * 5)[
    :400
].strip()
#: A 1×1 PNG (a logo), made here.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e0a2d6d40000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def made(statline, tmp_path_factory):
    """A run with an edited card (``mijnkaart``) and a sender, and pitch pages of all."""
    root = tmp_path_factory.mktemp("pages")
    env = {"VIB_DATA_DIR": str(root / "store")}
    card = root / "mijnkaart.toml"
    r = cli("method", "init", str(card), env=env)
    assert r.exit_code == 0, r.output
    text = card.read_text("utf-8")
    text, n = re.subn(r"job_seeking = \{ value = 0\.55", "job_seeking = { value = 0.45", text)
    assert n == 1
    card.write_text(text, "utf-8")
    (root / "logo.png").write_bytes(PNG)
    sender = root / "afzender.toml"
    sender.write_text(
        f'organisatie = "Stichting Proef & Co"\nvraag = "{ASK}"\n'
        'contactpersoon = "A. de Vries"\nemail = "a.devries@example.org"\n'
        'telefoon = "030 123 45 67"\nlogo = "logo.png"\n',
        "utf-8",
    )
    run = root / "run"
    args = ["--snapshot", str(statline), "--method", str(card), "--draws", "400"]
    r = cli("run", *args, "--out", str(run), "--afzender", str(sender), env=env)
    assert r.exit_code == 0, r.output
    pitch = root / "pitch"
    r = cli("pitch", "--all", *args, "--out", str(pitch), "--afzender", str(sender), env=env)
    assert r.exit_code == 0, r.output
    return {"run": run, "pitch": pitch, "root": root, "env": env, "card": card}


def page_of(folder: Path, code: str) -> Path:
    (page,) = folder.glob(f"{code}-*.html")
    return page


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_pitch_page_is_one_a4_page_and_its_verantwoording_the_next(made):
    run = made["run"]
    sel = pd.read_csv(run / "tabellen" / "rangorde_2025.csv")
    last_selected = sel[sel["geselecteerd"]].sort_values("rang")["gemeentecode"].iloc[-1]
    t = pd.read_csv(run / "tabellen" / "schatting_2025.csv").set_index("gemeentecode")
    assert t["gemeentenaam"].str.len().idxmax() == LONGEST
    assert t["werkzoekend"].idxmax() == LARGEST
    assert t.loc[SMALLEST, "werkzoekend"] == t["werkzoekend"].min()
    with offline_page() as (page, log):
        for code in (LONGEST, LARGEST, SMALLEST, last_selected):
            page.goto(page_of(made["pitch"], code).as_uri())
            assert page.locator("#afzender").inner_text().count("Stichting Proef & Co") == 1
            assert page.locator("#afzender img").count() == 1  # the logo, inline
            full = page.pdf(format="A4", print_background=True)
            page.uncheck("#met-verantwoording")
            proper = page.pdf(format="A4", print_background=True)
            artifact(f"pitch_{code}.pdf").write_bytes(full)
            assert pdf_pages(proper) == 1, code
            assert pdf_pages(full) >= 2, code  # the verantwoording starts on a page of its own
        assert not log.errors and not log.blocked


def test_pitch_page_reads_on_a_phone(made):
    with offline_page(viewport=(390, 844)) as (page, _):
        page.goto(page_of(made["pitch"], LONGEST).as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px phone"
        page.screenshot(path=str(artifact("pitch_phone.png")), full_page=True)


def test_without_a_sender_the_block_says_how_to_add_one(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("pitch", "Zwolle", "--snapshot", str(statline), "--draws", "200", "--out",
            str(tmp_path / "p"), env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    text = visible_text(page_of(tmp_path / "p", "GM0193").read_text("utf-8"))
    assert "afzenderbestand (afzender.toml" in text
    bad = tmp_path / "a.toml"
    bad.write_text('organisatie = "X"\nvraag = "Y"\nlogo = "weg.png"\nmail = "x@y"\n', "utf-8")
    r = cli("pitch", "Zwolle", "--snapshot", str(statline), "--afzender", str(bad), env=env)
    assert r.exit_code != 0 and "unknown key 'mail'" in r.output and "email" in r.output


# --- no jargon ------------------------------------------------------------------------------


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page: text outside scripts and styles, and titles."""
    doc = html5lib.parse(page, namespaceHTMLElements=False)
    parts: list[str] = []

    def walk(el) -> None:  # type: ignore[no-untyped-def]
        if el.tag in ("script", "style"):
            return
        parts.append(el.text or "")
        for child in el:
            walk(child)
            parts.append(child.tail or "")
        for attr in ("title", "alt", "aria-label"):
            parts.append(el.get(attr, ""))

    walk(doc)
    return " ".join(parts)


def tooltips(page: str) -> list[str]:
    """The tooltip texts of a map (in its GeoJSON, shown on hover)."""
    return re.findall(r'"t\d+": "([^"]*)"', page)


def end_user_pages(made) -> dict[str, str]:
    run, pitch = made["run"], made["pitch"]
    pages = [run / "index.html", run / "verkenner.html", *run.glob("pitch/*.html")]
    pages += [*run.glob("kaarten/*.html")]
    pages += [pitch / "index.html", *sorted(pitch.glob("GM*.html"))[:40]]
    return {p.relative_to(made["root"]).as_posix(): p.read_text("utf-8") for p in pages}


def test_no_jargon_on_any_end_user_page(made, statline):
    ages = json.loads((statline / "85458NED" / "Leeftijd.json").read_text("utf-8"))
    bands = {a["Key"].strip() for a in ages if re.fullmatch(r"\d+ tot \d+ jaar", a["Title"])}
    assert bands  # the 5-year age bands: their keys are CBS codes, never shown
    forbidden = [
        re.compile(r"\d{4}JJ00"),
        re.compile(r"\b(" + "|".join(sorted(bands)) + r")\b"),
        re.compile(r"kans_geselecteerd|werkzoekend_p\d|_per_1000"),
        re.compile(r"(?<![\w-])--\w"),  # a CLI flag
        re.compile(r"files?:"),
        re.compile(r"(?<![\w.])/(?:tmp|home|root|work|usr|var)/"),
        re.compile(re.escape(str(made["root"]))),
        re.compile(r"\bei\.\w|\blocal_sd\b|\bjob_seeking\b|\bregion_reach\b"),
        re.compile(r"\d\.\d{3,}"),  # an unrounded decimal (a Dutch thousands dot has 3 digits
    ]
    for name, page in end_user_pages(made).items():
        text = visible_text(page) + " " + " ".join(tooltips(page))
        for pattern in forbidden:
            if pattern.pattern == r"\d\.\d{3,}":
                hits = [h for h in re.findall(r"\d+\.\d{4,}", text)]  # 2.500 is Dutch; 0.25 is not
            else:
                hits = pattern.findall(text)
            assert not hits, f"{name}: {pattern.pattern} -> {hits[:3]}"


def test_every_end_user_page_is_valid_html(made):
    for name, page in end_user_pages(made).items():
        parser = html5lib.HTMLParser(strict=False)
        parser.parse(page)
        errors = [e for e in parser.errors if e[1] != "expected-doctype-but-got-chars"]
        assert not errors, f"{name}: {errors[:3]}"
        assert re.search(r'<html lang="nl"', page), name


# --- one rounding rule ------------------------------------------------------------------------


def test_pitch_page_map_tooltip_and_index_show_the_same_rounded_number(made):
    run = made["run"]
    t = pd.read_csv(run / "tabellen" / "schatting_2025.csv").set_index("gemeentecode")
    rk = pd.read_csv(run / "tabellen" / "rangorde_2025.csv")
    codes = rk[rk["geselecteerd"]]["gemeentecode"].tolist()
    picked = [codes[0], codes[len(codes) // 2], codes[-1]]
    selection_rows = table_rows((run / "index.html").read_text("utf-8"), "selectie", "Gemeente")
    themap = (run / "kaarten" / "werkzoekend_gemeente_2025.html").read_text("utf-8")
    features: dict[str, dict] = {}
    for f in geojson_features(themap):  # the choropleth first; the outline layer repeats ids
        features.setdefault(f["id"], f["properties"])
    for code in picked:
        name = t.loc[code, "gemeentenaam"]
        shown = nl_about(t.loc[code, "werkzoekend"])
        lead = re.search(r"naar schatting\s+(\S+)\s+vluchtelingen",
                         visible_text(page_of(run / "pitch", code).read_text("utf-8")))  # fmt: skip
        assert lead and lead.group(1) == shown, (code, lead and lead.group(1), shown)
        tip = [v for k, v in features[code].items() if k.startswith("t")]
        assert tip[2] == shown, (code, tip)
        cells = selection_rows[name]
        assert cells["Werkzoekend"] == shown, (code, cells)
    # legend: classes that share no endpoint, limits rounded as the pages round
    legend = re.search(r'id="vib-legend">(.*?)</div></div>', themap, re.S)
    assert legend
    labels = re.findall(r'data-count="(\d+)"><span[^>]*></span><span>([^<]+)</span>', legend[1])
    assert labels[0][1].startswith("minder dan ") and labels[-2][1].endswith(" of meer")
    assert sum(int(n) for n, _ in labels) == len(features)
    for _, label in labels[:-1]:
        for number in re.findall(r"[\d.]+", label):
            value = float(number.replace(".", ""))
            assert value == round_sig(value), label
    assert "natuurlijke grenzen (Fisher-Jenks)" in legend[1]
    assert "fisher jenks" not in themap.lower().replace("fisher-jenks", "")
    assert "imperial: false" in themap


def table_rows(page: str, table_id: str, key: str) -> dict[str, dict[str, str]]:
    """The rows of a page's table (by id) as header -> cell text, keyed by column ``key``."""
    doc = html5lib.parse(page, namespaceHTMLElements=False)
    table = next(t for t in doc.iter("table") if t.get("id") == table_id)
    text = lambda el: " ".join("".join(el.itertext()).split())  # noqa: E731
    header = [text(th) for th in table.iter("th")]
    rows = [[text(td) for td in tr.iter("td")] for tr in table.find("tbody").iter("tr")]
    return {r[header.index(key)]: dict(zip(header, r, strict=True)) for r in rows}


def geojson_features(page: str) -> list[dict]:
    out = []
    for m in re.finditer(r'"id": "(GM\d{4})", "properties": (\{[^}]*\})', page):
        out.append({"id": m.group(1), "properties": json.loads(m.group(2))})
    assert out, "no features found in the map"
    return out


def test_map_names_the_outlined_pilots(made):
    run = made["run"]
    page = (run / "kaarten" / "werkzoekend_gemeente_2025.html").read_text("utf-8")
    rk = pd.read_csv(run / "tabellen" / "rangorde_2025.csv")
    names = rk[rk["geselecteerd"]]["gemeentenaam"]
    pilots = re.search(r'<ol class="vib-pilots" id="vib-pilots">(.*?)</ol>', page, re.S)
    assert pilots
    import html as html_lib

    listed = [html_lib.unescape(x) for x in re.findall(r"<li>(.*?)</li>", pilots[1])]
    assert sorted(listed) == sorted(names)
    assert "<details>" in page  # the sources footer folds open, never cut off


# --- tables for people ------------------------------------------------------------------------


def test_xlsx_opens_formatted_with_its_warning_and_sources(made, statline, tmp_path):
    out = tmp_path / "schatting.xlsx"
    r = cli("estimate", "--snapshot", str(statline), "--draws", "200", "--out", str(out),
            env=made["env"])  # fmt: skip
    assert r.exit_code == 0, r.output
    book = openpyxl.load_workbook(out)
    sheet = book["gemeenten"]
    assert "TEST SNAPSHOT" in str(sheet["A1"].value)  # the snapshot's own warning, row 1
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref.startswith("A2:")
    header = {c.value: c.column_letter for c in sheet[2]}
    assert sheet[f"{header['werkzoekend']}3"].number_format == "#,##0"
    assert isinstance(sheet[f"{header['werkzoekend']}3"].value, int)
    assert sheet[f"{header['werkzoekend_per_1000']}3"].number_format == "0.0"
    assert sheet.column_dimensions[header["gemeentenaam"]].width >= 12
    bronnen = book["bronnen"]
    cells = [str(c.value or "") for row in bronnen.iter_rows() for c in row]
    assert max(len(c) for c in cells) < 1500  # one source or parameter per row, no JSON
    assert not any(c.lstrip().startswith(("{", "[")) for c in cells)
    kinds = {row[0].value for row in bronnen.iter_rows(min_row=2)}
    assert {"waarschuwing", "tabel", "parameter", "methodekaart"} <= kinds


def test_csv_has_whole_counts_no_float_artefacts_and_a_bom(made):
    path = made["run"] / "tabellen" / "schatting_2025.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads ë and â right
    table = pd.read_csv(path)
    for col in ("werkzoekend", "werkzoekend_p10", "doelgroep", "inwoners", "plaatsingen"):
        assert pd.api.types.is_integer_dtype(table[col]), col
    assert not re.search(rb"\d\.\d*(9999|0000)\d", raw)  # no 633.5999999999999


def test_geopackage_description_carries_the_warning(made):
    import pyogrio

    meta = pyogrio.read_info(made["run"] / "tabellen" / "schatting_2025.gpkg")["layer_metadata"]
    assert "TEST SNAPSHOT" in meta["DESCRIPTION"]


# --- the card's own name ------------------------------------------------------------------------


def test_an_edited_card_is_named_on_every_page_and_never_by_its_path(made):
    run = made["run"]
    for name, page in end_user_pages(made).items():
        assert "mijnkaart" in visible_text(page), name
        assert "standaard 3.0" not in visible_text(page), name
    manifest = (run / "manifest.json").read_text("utf-8")
    assert str(made["card"]) not in manifest and str(made["root"]) not in manifest
    assert "127.0.0.1" not in manifest  # no short-lived replay address either
    assert json.loads(manifest)["method_card"]["origin"] == "file:mijnkaart.toml"
    # the selectieverkenner's command line names the card file by its name, and the draws
    page = (run / "verkenner.html").read_text("utf-8")
    data = json.loads(re.search(r'id="verkenner-data">(.*?)</script>', page, re.S).group(1))
    assert data["opdracht"] == [
        ["year", "2025"],
        ["method", "mijnkaart.toml"],
        ["draws", "400"],
        ["snapshot", "SNAPSHOT"],
    ]
    assert str(made["root"]) not in page


def test_a_card_named_like_a_shipped_one_must_hold_its_values(tmp_path):
    card = tmp_path / "kaart.toml"
    assert cli("method", "init", str(card), env={}).exit_code == 0
    assert 'name = "kaart"' in card.read_text("utf-8")
    r = cli("method", "validate", str(card), env={})
    assert r.exit_code == 0 and "card 'kaart'" in r.output
    text = card.read_text("utf-8").replace('name = "kaart"', 'name = "standaard"', 1)
    card.write_text(text, "utf-8")
    assert cli("method", "validate", str(card), env={}).exit_code == 0  # unedited: the same
    card.write_text(text.replace("value = 0.55", "value = 0.45", 1), "utf-8")
    r = cli("method", "validate", str(card), env={})
    assert r.exit_code != 0 and "named 'standaard'" in r.output and "job_seeking" in r.output


# --- a quiet console ------------------------------------------------------------------------------


def vib(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (the solver writes to the C-level stdout)."""
    return subprocess.run(
        [sys.executable, "-m", "vluchtelingen_in_beeld", *args],
        capture_output=True, text=True, timeout=300, env={**_base_env(), **env},
    )  # fmt: skip


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("VIB_")}


LOG_LINE = re.compile(r"^(WARNING|INFO|DEBUG|ERROR|CRITICAL)\b|^\S+:vluchtelingen_in_beeld", re.M)


@pytest.mark.parametrize(
    "args",
    [
        ("rank", "--draws", "200"),
        ("map", "--draws", "200", "--highlight-top", "3"),
        ("pitch", "Zwolle", "--draws", "200"),
        ("run", "--draws", "200"),
    ],
    ids=lambda a: a[0],
)
def test_commands_print_no_solver_banner_and_no_logger_line(args, statline, tmp_path, made):
    """`run` starts from an empty store (fetching logs nothing either); the others from a
    copy of a filled one, as a user's second command would."""
    import shutil

    out = {
        "map": ["--out", str(tmp_path / "k.html")],
        "pitch": ["--out", str(tmp_path / "p")],
        "run": ["--out", str(tmp_path / "r")],
        "rank": ["--out", str(tmp_path / "r.csv")],
    }
    store = tmp_path / "store"
    if args[0] != "run":
        shutil.copytree(made["env"]["VIB_DATA_DIR"], store)
    r = vib(*args, "--snapshot", str(statline), *out[args[0]],
            env={"VIB_DATA_DIR": str(store)})  # fmt: skip
    assert r.returncode == 0, r.stderr
    both = r.stdout + r.stderr
    assert "HiGHS" not in both and "Copyright" not in both
    assert not LOG_LINE.search(both), both[:500]
    assert "Noot:" in r.stdout or args[0] != "rank"  # the notes, in Dutch


def test_a_failed_fetch_says_what_went_wrong_without_logger_lines(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = vib("fetch", "--year", "2025", "--cbs-url", f"http://127.0.0.1:{port}", "--retries", "0",
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.returncode != 0
    assert not LOG_LINE.search(r.stdout + r.stderr), r.stderr[:500]
    assert "127.0.0.1" in r.stderr


def test_map_options_are_checked_before_any_work(tmp_path):
    r = vib("map", "--metric", "per1000", "--offline",
            env={"VIB_DATA_DIR": str(tmp_path / "empty")})  # fmt: skip
    assert r.returncode != 0 and "Unknown --metric 'per1000'" in r.stderr
    assert "werkzoekend_per_1000" in r.stderr


def test_pitch_index_lists_every_page_and_sorts_by_name_estimate_and_selection(made):
    pitch = made["pitch"]
    rk = pd.read_csv(made["run"] / "tabellen" / "rangorde_2025.csv")
    chosen = rk[rk["geselecteerd"]].sort_values("rang")["gemeentenaam"].tolist()
    with offline_page() as (page, log):
        page.goto((pitch / "index.html").as_uri())
        rows = page.locator("#paginas tbody tr")
        assert rows.count() == 342 == len(list(pitch.glob("GM*.html")))
        page.click('button[data-kolom="4"]')  # selection: the chosen first, in their order
        assert [rows.nth(i).locator("td").first.inner_text() for i in range(len(chosen))] == chosen
        page.click('button[data-kolom="2"]')  # estimate, ascending
        page.click('button[data-kolom="2"]')  # and descending
        t = pd.read_csv(made["run"] / "tabellen" / "schatting_2025.csv")
        biggest = t.sort_values("werkzoekend")["gemeentenaam"].iloc[-1]
        assert rows.nth(0).locator("td").first.inner_text() == biggest
        assert not log.errors and not log.blocked


def test_no_rate_beside_a_count_under_ten(made):
    """Vlieland: "minder dan 10" werkzoekenden, and no per-1,000 figure beside it from which
    the count could be backed out (it read "2,1 per 1.000 inwoners", about 2.5 people)."""
    import html as html_lib

    page = page_of(made["pitch"], SMALLEST).read_text("utf-8")
    table = re.search(r'<table id="vergelijking">(.*?)</table>', page, re.S)[1]
    first = re.search(r'<tr class="eigen">(.*?)</tr>', table, re.S)[1]
    cells = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", first, re.S)]  # fmt: skip
    assert cells[1] == "minder dan 10" and cells[3] == "–", cells
    index = (made["run"] / "index.html").read_text("utf-8")
    assert "Wat de selectie drijft" in index and "Bij elk bereik in de regio" in index


def test_a_flagged_and_a_calibrated_page_stay_one_a4(made, shared_session, tmp_path):
    """With the trend line, the peers line, a reception flag with residents taken out
    (Cranendonck) and a calibration to the gemeente's own figure (Amsterdam, and the longest
    name), at the sender file's longest ask: still one A4 page each."""
    from vluchtelingen_in_beeld.clean.localfiles import LocalFiles
    from vluchtelingen_in_beeld.render.pitch import render_page
    from vluchtelingen_in_beeld.render.sender import load_sender
    from vluchtelingen_in_beeld.workflow.pipeline import build_year, year_trend

    opvang = tmp_path / "opvang.csv"
    opvang.write_text("gemeentecode,bewoners,peildatum,bron\nGM1706,100,2025-01-01,COA\n")
    figures = tmp_path / "lokaal.csv"
    figures.write_text(
        "gemeentecode,wat,waarde,peildatum,bron\n"
        f"{LARGEST},werkzoekend,9000,2025-01-01,Gemeente Amsterdam (eigen telling)\n"
        f"{LONGEST},bijstand,40,2025-01-01,Sociale dienst\n"
    )
    res = build_year(shared_session, 2025, shapes=True, local=LocalFiles.read(opvang, figures))
    res.trend = year_trend(shared_session, res)
    peers = res.peers()
    peers.loc[peers["gemeentecode"] == "GM1706", "mogelijk_opvang"] = True  # as if flagged
    sender = load_sender(made["root"] / "afzender.toml")
    with offline_page() as (page, log):
        for code in (LONGEST, LARGEST, SMALLEST, "GM1706"):
            path = tmp_path / f"{code}.html"
            path.write_text(render_page(res, code, sender=sender), "utf-8")
            page.goto(path.as_uri())
            text = page.inner_text("body")
            assert "sinds 2023" in text
            if code == SMALLEST:  # fewer than 10: no rate from which to back out the count
                assert "geen vergelijking per 1.000 inwoners" in text
            else:
                assert "Vergeleken per 1.000 inwoners" in text
            if code == "GM1706":
                assert "Mogelijk een opvanglocatie" in text and "100 bewoners van de opvang" in text
                assert "Bewoners van een azc tellen mee" not in text  # not here: taken out
            if code in (LARGEST, LONGEST):
                assert "Gekalibreerd op een eigen cijfer" in text
                assert "Dit is een schatting uit CBS" not in text  # its own count, not ours
                assert "zonder de eigen cijfers" in text  # the trend says what it compares
            page.uncheck("#met-verantwoording")
            proper = page.pdf(format="A4", print_background=True)
            artifact(f"pitch_extra_{code}.pdf").write_bytes(proper)
            assert pdf_pages(proper) == 1, code
        assert not log.blocked
