"""The one-command run: the full output folder, its manifest, interruption, the browser view,
and the pitch pages."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from vluchtelingen_in_beeld.access.store import sha256_file
from vluchtelingen_in_beeld.cli.commands import main
from vluchtelingen_in_beeld.fmt import (
    is_small,
    nl_about,
    nl_about_range,
    nl_pct,
    nl_prob,
    nl_share,
)
from vluchtelingen_in_beeld.render.pitch import mini_map_svg, page_name, slug
from vluchtelingen_in_beeld.workflow.run import run_all

from .browser import artifact, offline_page
from .conftest import cli
from .test_maps import EVIL, squares

#: The tests of this module share a run built once: one xdist worker takes them all.
pytestmark = pytest.mark.xdist_group("run")

ROOT = Path(__file__).resolve().parents[1]


def snapshot_of(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): sha256_file(p) for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def run_out(tmp_path_factory, statline):
    """``vib run --snapshot <shared statline>`` into a fresh folder, as a user would."""
    base = tmp_path_factory.mktemp("run")
    out = base / "uitvoer"
    here = os.getcwd()
    os.chdir(base)  # the working folder: no output may name it
    try:
        result = CliRunner().invoke(
            main,
            ["run", "--snapshot", str(statline), "--out", "uitvoer", "--draws", "300"],
            env={"VIB_DATA_DIR": str(base / "store"), "VIB_RETRIES": "0"},
            catch_exceptions=False,
        )
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output
    assert "[6/6]" in result.output
    # no --year: the latest year with the card's inputs, and it says so
    assert "Jaar 2025: de laatste periode" in result.output
    assert out.name == "uitvoer"
    return out


def test_full_output_folder_and_manifest_matches_disk(run_out):
    files = snapshot_of(run_out)
    manifest = json.loads((run_out / "manifest.json").read_text())
    listed = manifest["outputs"]
    assert set(listed) == set(files) - {"manifest.json"}
    for rel, digest in listed.items():
        assert files[rel] == digest, rel
    assert {"index.html", "manifest.json"} <= set(files)
    assert len([f for f in files if f.startswith("kaarten/") and f.endswith(".html")]) == 4
    assert len([f for f in files if f.startswith("kaarten/") and f.endswith(".png")]) == 4
    assert len([f for f in files if f.startswith("pitch/")]) == 11
    # 13 CSV (trend and peers among them), 2 GeoPackage, the workbook
    assert len([f for f in files if f.startswith("tabellen/")]) == 16
    assert {
        "tabellen/gevoeligheid_2025.csv",
        "tabellen/prijzen_beperkingen_2025.csv",
        "tabellen/selectie_2025.csv",
        "tabellen/trajecten_2025.csv",
    } <= set(files)
    # what the selection holds, stated where policy staff read it
    index = (run_out / "index.html").read_text("utf-8")
    summary = pd.read_csv(run_out / "tabellen/selectie_2025.csv").set_index("onderwerp")
    share = summary.at["aandeel_nl", "waarde"]
    assert share >= 0.30
    dekking = re.search(r'<div id="dekking">(.*?)</div>', index, re.S).group(1)
    assert f"woont {nl_share(share)} van de werkzoekenden in Nederland" in dekking
    assert f"samen {nl_share(summary.at['aandeel_regios_nl', 'waarde'])}" in dekking
    assert "Kern (" in index and "Plaatsingen: een toets op het doel" in index
    for rel in files:
        if rel.endswith((".html", ".csv")):
            text = (run_out / rel).read_text("utf-8")
            assert "spijt" not in text.lower() and "64 van de 64" not in text, rel
    assert manifest["local_variation"]["sd_log"] > 0
    assert manifest["parameters"]["constraints"]["max_per_regio"] == 1
    assert manifest["parameters"]["objective"] > 0
    assert manifest["snapshot"]["warnings"]
    assert manifest["versions"]["vluchtelingen-in-beeld"]
    assert manifest["parameters"]["n"] == 11 and manifest["parameters"]["draws"] == 300
    # the Gebieden table of the data's own year (2025), not a neighbour
    assert {s["table"] for s in manifest["sources"]} >= {"85458NED", "86059NED"}
    assert manifest["year"] == 2025 and "laatste periode" in manifest["year_choice"]
    assert manifest["boundaries"]["year"] == 2023
    assert not list(run_out.parent.glob(".uitvoer.*"))  # no staging left behind


#: A number as the pages write it: 7.300, 0,25, 14%.
NUMBER = re.compile(r"\d+(?:\.\d{3})*(?:,\d+)?%?")


def _text(html_text: str) -> str:
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


def test_every_number_in_the_selection_paragraphs_is_the_rankings(run_out):
    """The selection paragraph of every selected gemeente's pitch page (the four largest
    among them) and the index: each count, reach, loss, share and chance is the ranking
    table's, rounded by the one rule. (The page used to cut the ranking's reason at the
    thousands dot: "300 werkzoekenden" for Amsterdam's 7.300.)"""
    t = pd.read_csv(run_out / "tabellen/rangorde_2025.csv").set_index("gemeentecode")
    summary = pd.read_csv(run_out / "tabellen/selectie_2025.csv").set_index("onderwerp")
    objective = summary.at["bereik", "waarde"]
    sel = t[t["geselecteerd"]]
    assert {"GM0363", "GM0599", "GM0518", "GM0344"} <= set(sel.index)
    manifest = json.loads((run_out / "manifest.json").read_text("utf-8"))
    draws = manifest["parameters"]["selection"]
    for code, r in sel.iterrows():
        (page,) = (run_out / "pitch").glob(f"{code}-*.html")
        html_text = page.read_text("utf-8")
        para = _text(re.search(r'<p class="noot" id="selectie">(.*?)</p>', html_text, re.S)[1])
        reach = nl_about_range(r["bereik_p10"], r["bereik_p90"])
        assert f"naar schatting {nl_about(r['bereik'])} (waarschijnlijk {reach})" in para, para
        loss = r["verlies_als_eruit"]
        if is_small(loss):
            assert "vrijwel evenveel mensen" in para, para
        else:
            assert f"{nl_about(loss)} mensen minder ({nl_share(loss / objective)} van" in para
        assert f"in {nl_prob(r['kans_geselecteerd'])} van de {draws['kans_draws']}" in para
        allowed = {
            nl_about(r["bereik"]),
            *reach.split("–"),
            nl_about(loss),
            nl_share(loss / objective),
            nl_prob(r["kans_geselecteerd"]),
            nl_prob(r["kans_rho_vast"]),
            nl_prob(r["kans_aantallen_vast"]),
            nl_share(r["doorrekeningen_eens"]),
            str(draws["kans_draws"]),
            str(draws["resolve_draws"]),
            "11",
            "2",
            "100.000",
            "1%",
            *(nl_pct(x) for x in (0.10, 0.50, draws["region_reach_mean"])),
        }
        partners = str(r["uitwisselbaar_met"]).split("; ")
        allowed.add(str(max(len(partners) - 3, 0)))
        tokens = set(NUMBER.findall(" ".join(allowed)))
        for token in NUMBER.findall(para):
            if token in tokens:
                continue
            # the names of gemeenten carry no digits; anything else must be the table's
            raise AssertionError(f"{code}: {token!r} is not the ranking's: {para}")
    index = (run_out / "index.html").read_text("utf-8")
    rows = re.findall(r"<tr><td class=\"n\">(\d+)</td>(.*?)</tr>", index, re.S)
    assert len(rows) == len(sel)
    for rank, row in rows:
        cells = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        (code,) = sel.index[sel["rang"] == int(rank)]
        r = sel.loc[code]
        assert cells[0] == r["gemeentenaam"]
        assert cells[3] == nl_about(r["werkzoekend"]) and cells[4] == nl_about(r["bereik"])
        assert cells[5] == nl_prob(r["kans_geselecteerd"])
    dekking = _text(re.search(r'<div id="dekking">(.*?)</div>', index, re.S)[1])
    low, high = summary.at["bereik_p10", "waarde"], summary.at["bereik_p90", "waarde"]
    assert f"naar schatting {nl_about(objective)} werkzoekenden" in dekking
    assert f"(waarschijnlijk tussen {nl_about(low)} en {nl_about(high)})" in dekking
    share = summary.at["bereik_aandeel_nl", "waarde"]
    nl = summary.at["werkzoekend_nl", "waarde"]
    assert f"{nl_share(share)} van de {nl_about(nl)} in Nederland" in dekking


def test_no_output_names_a_local_path(run_out, statline):
    """Sources are named by what they are (snapshot name and checksum, PDOK year), never by
    where they lay on disk: not the working folder, the output folder or ../shared."""
    paths = {str(run_out.parent), str(run_out.parent.resolve()), str(statline),
             str(statline.resolve()), str(statline.resolve().parent.parent)}  # fmt: skip
    files = [p for p in run_out.rglob("*") if p.is_file()]
    assert len(files) > 25
    for f in files:
        data = f.read_bytes()
        for path in paths:
            assert path.encode() not in data, (f.name, path)
    manifest = json.loads((run_out / "manifest.json").read_text())
    assert manifest["snapshot"]["name"].startswith("statline (sha256 ")


@pytest.mark.parametrize(
    "args",
    [
        ("estimate", "--offline", "--snapshot", "{statline}"),
        ("estimate", "--offline"),
        ("rank", "--offline", "--compare", "2009"),
        ("regions", "--offline", "--level", "arbeidsmarktregio"),
        ("map", "--offline", "--snapshot", "{statline}"),
        ("pitch", "Zwolle", "--offline"),
    ],
    ids=lambda a: " ".join(a).replace("{statline}", "SNAP"),
)
def test_offline_after_a_snapshot_run(run_out, statline, tmp_path, monkeypatch, args):
    """What `vib run --snapshot` stored is enough for every command with --offline."""
    monkeypatch.chdir(tmp_path)
    argv = [a.format(statline=statline) for a in args]
    r = CliRunner().invoke(
        main,
        [*argv, "--draws", "300"],
        env={"VIB_DATA_DIR": str(run_out.parent / "store"), "VIB_CBS_URL": "http://127.0.0.1:9"},
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert "Jaar 2025" in r.output
    manifests = list((tmp_path / "maps").rglob("*.manifest.json"))
    assert manifests
    record = json.loads(manifests[0].read_text())
    assert record["snapshot"]["warnings"]  # the snapshot's warning travels offline too
    assert record["source"].startswith("snapshot:statline@")


def test_pitch_manifest_lists_pages_of_earlier_calls(run_out, tmp_path, monkeypatch):
    """Two `vib pitch` calls into one folder: the manifest lists both pages, not the last."""
    monkeypatch.chdir(tmp_path)
    env = {"VIB_DATA_DIR": str(run_out.parent / "store"), "VIB_CBS_URL": "http://127.0.0.1:9"}
    for name in ("Zwolle", "Groningen"):
        r = CliRunner().invoke(main, ["pitch", name, "--offline", "--draws", "300"], env=env)
        assert r.exit_code == 0, r.output
    manifest = json.loads(
        (tmp_path / "maps" / "pitch_2025" / "pitch_2025.manifest.json").read_text()
    )
    folder = tmp_path / "maps" / "pitch_2025"
    assert sorted(manifest["outputs"]) == [
        "GM0014-groningen.html", "GM0193-zwolle.html", "index.html"
    ]  # fmt: skip
    index = (folder / "index.html").read_text("utf-8")  # the index lists both calls' pages
    assert 'href="GM0014-groningen.html"' in index and 'href="GM0193-zwolle.html"' in index


def test_interrupted_run_leaves_previous_outputs(run_out, shared_session):
    before = snapshot_of(run_out)

    def stop(step):
        if step == "maps":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_all(shared_session, 2025, run_out, draws=300, hook=stop)
    assert snapshot_of(run_out) == before
    assert not list(run_out.parent.glob(".uitvoer.*"))


def survivors(marker: str, timeout: float) -> list[int]:
    """Live processes whose command line contains ``marker``, once ``timeout`` s have given
    them a chance to end (Linux /proc; empty elsewhere)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read()
                with open(f"/proc/{entry}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if marker.encode() in cmd and state != "Z":
                found.append(int(entry))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_killed_run_leaves_previous_outputs_and_rerun_uses_store(tmp_path, statline):
    """A real process killed mid-run (SIGKILL): nothing of the old folder changes; the next
    run cleans the dead run's staging and fetches no CBS rows again."""
    out, store = tmp_path / "uit", tmp_path / "store"
    env = {**os.environ, "VIB_DATA_DIR": str(store), "VIB_RETRIES": "0"}
    cmd = [
        sys.executable,
        "-m",
        "vluchtelingen_in_beeld",
        "run",
        "--snapshot",
        str(statline),
        "--out",
        str(out),
        "--draws",
        "200",
    ]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    before = snapshot_of(out)

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    staged = []
    while time.monotonic() < deadline and proc.poll() is None:
        staged = [p for p in tmp_path.glob(".uit.tmp-*") if (p / "tabellen").is_dir()]
        if staged:
            break
        time.sleep(0.02)
    assert staged, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert snapshot_of(out) == before
    # the map workers the run had forked end with it, not orphaned on a pipe
    left = survivors(str(out), timeout=10)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes {left} of the killed run are still running"

    again = subprocess.run([*cmd, "-v"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(".uit.tmp-*"))
    data_requests = re.findall(r"TypedDataSet", again.stderr)
    assert data_requests == [], "rerun fetched CBS rows instead of reading the store"
    # -v really logs: every extract is read from the store, once
    reads = re.findall(r"STORE (\S+ .*) \(\d+ rows\)", again.stderr)
    assert len(reads) >= 4 and len(reads) == len(set(reads)), again.stderr[-2000:]
    assert (out / "manifest.json").is_file()


def test_browser_index_and_pitch_page(run_out):
    index = run_out / "index.html"
    html_text = index.read_text()
    hrefs = re.findall(r"href=[\"']([^\"']+)[\"']", html_text)
    assert len(hrefs) >= 11 + 8 + 8
    for h in hrefs:
        assert (run_out / h).is_file(), h
    pitch_file = next((run_out / "pitch").glob("*.html"))
    with offline_page() as (page, log):
        page.goto(index.as_uri())
        assert page.locator("h1").inner_text().startswith("Vluchtelingen in beeld")  # index
        assert page.locator("#selectie tbody tr").count() == 11
        prices = pd.read_csv(run_out / "tabellen" / "prijzen_beperkingen_2025.csv")
        assert page.locator("#prijzen tbody tr").count() == len(prices) >= 5
        sens = pd.read_csv(run_out / "tabellen" / "gevoeligheid_2025.csv")
        assert page.locator("#gevoeligheid tbody tr").count() == len(sens) >= 8
        assert "werkzoekenden (waarschijnlijk" in page.locator("#dekking").inner_text()
        assert page.locator(".waarschuwing").is_visible()
        page.screenshot(path=str(artifact("index.png")), full_page=True)
        page.locator("#selectie tbody tr a").first.click()
        page.wait_for_load_state()
        assert "/pitch/" in page.url
        assert page.locator("svg.minikaart path.doel").count() == 1
        page.locator("nav a").click()
        page.wait_for_load_state()
        assert page.url.endswith("index.html")
        page.goto(pitch_file.as_uri())
        assert page.locator("h1").first.is_visible()
        assert page.locator("svg.minikaart path").count() > 3
        for text in (
            "Vergeleken met regio en land",
            "Naar herkomst",
            "Wat een aanpak kan opleveren in 3 jaar",
            "Wat deze schatting niet ziet",
            "Bronnen, definities en methode",
        ):
            assert page.get_by_text(text, exact=True).is_visible()
        page.screenshot(path=str(artifact("pitch.png")), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        artifact("pitch.pdf").write_bytes(pdf)
        page.uncheck("#met-verantwoording")  # the hand-out alone
        alone = page.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page(?!s)", alone)) == 1
        assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) >= 2
    assert log.errors == []
    assert log.blocked == []


def test_pitch_command_names_and_top(tmp_path, statline):
    out = tmp_path / "p"
    r = CliRunner().invoke(
        main,
        [
            "pitch",
            "Den Haag",
            "GM0193",
            "--top",
            "2",
            "--snapshot",
            str(statline),
            "--out",
            str(out),
            "--draws",
            "200",
        ],
        env={"VIB_DATA_DIR": str(tmp_path / "store")},
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    pages = sorted(p.name for p in out.glob("GM*.html"))
    assert "GM0518-s-gravenhage.html" in pages and "GM0193-zwolle.html" in pages
    assert len(pages) == 4 and (out / "index.html").is_file()
    page = (out / "GM0518-s-gravenhage.html").read_text()
    assert "&#39;s-Gravenhage" in page or "'s-Gravenhage" in page  # Jinja escapes ' as &#39;
    assert "TEST SNAPSHOT" in page and "Planning 2005" in page and "Resultaat 2006-2008" in page
    manifest = json.loads((out / "pitch_2025.manifest.json").read_text())
    assert set(manifest["outputs"]) == {*pages, "index.html"}
    bad = CliRunner().invoke(
        main,
        ["pitch", "Bergen", "--snapshot", str(statline), "--out", str(tmp_path / "q")],
        env={"VIB_DATA_DIR": str(tmp_path / "store")},
    )
    assert bad.exit_code == 1 and "Bergen (NH.)" in bad.output
    assert not (tmp_path / "q").exists()


def test_mini_map_escapes_names():
    frame = squares()
    svg = mini_map_svg(frame, "GM0002")
    assert EVIL not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="doel"') == 1 and svg.count('class="buur"') >= 2


def test_slug_and_page_name():
    assert slug("'s-Gravenhage") == "s-gravenhage"
    assert slug("Súdwest-Fryslân") == "sudwest-fryslan"
    assert page_name("GM0363", "Amsterdam") == "GM0363-amsterdam.html"


@pytest.mark.parametrize("moment", ["tabellen", "pitch", "kaarten"])
def test_no_process_of_a_killed_run_is_left_within_2_s(moment, tmp_path_factory, statline, run_out):
    """SIGKILL of `vib run` while it writes its tables, its pages and its maps: within 2 s
    no process of it is left (the map workers get SIGKILL from the kernel with their
    parent, and watch it besides)."""
    import shutil

    root = tmp_path_factory.mktemp(f"kill-{moment}")
    out = root / "uit"
    shutil.copytree(run_out.parent / "store", root / "store")  # filled: the run goes on at once
    env = {**os.environ, "VIB_DATA_DIR": str(root / "store"), "VIB_RETRIES": "0"}
    cmd = [sys.executable, "-m", "vluchtelingen_in_beeld", "run", "--snapshot", str(statline),
           "--out", str(out), "--draws", "200"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    reached = False
    while time.monotonic() < deadline and proc.poll() is None:
        if any((p / moment).is_dir() for p in root.glob(".uit.tmp-*")):
            reached = True
            break
        time.sleep(0.01)
    assert reached, f"the run finished before it reached {moment}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = survivors(str(out), timeout=2)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes {left} of the run killed at {moment} are still running"


#: Internal names a reader must never see: constraint keys and bare gemeentecodes.
INTERNAL = re.compile(
    r"max_per_|min_per_|min_klein|min_pool|max_groot|budget_eur|(?<!gemeentecode )\bGM\d{4}\b"
)
#: Columns that hold codes on purpose (beside the names and words meant for reading).
CODE_COLUMNS = re.compile(r"(^|_)code$|^gemeentecode$|_code$")


def test_no_internal_key_reaches_a_reader(run_out, statline, tmp_path):
    """The console report, every page, the map tooltips and every workbook cell meant for
    reading name constraints in Dutch and gemeenten by name (the console used to print "prijs
    van max_per_provincie", reasons "vastgezet: GM0193", the workbook keys)."""
    import html as html_lib

    import openpyxl

    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    book = tmp_path / "rang.xlsx"
    r = cli("rank", "--snapshot", str(statline), "--draws", "300", "--include", "Zwolle",
            "--compare", "2009", "--out", str(book), env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    # the snapshot's own warning text is quoted as it is (it names CBS's codes): left out
    manifest = json.loads((run_out / "manifest.json").read_text("utf-8"))
    quoted = list((manifest.get("snapshot") or {}).get("warnings", {}).values())

    def unquoted(text: str) -> str:
        for q in quoted:
            text = text.replace(q, " ")
        return text

    report = r.output.split("Noot:")[0]  # the data report (notes name their sources)
    assert not INTERNAL.search(report), INTERNAL.search(report)
    assert "vastgezet: Zwolle" in report or "Zwolle" in report
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header_row = 1 if ws.title != "bronnen" and rows and len(rows) > 1 else 0
        header = [str(h) for h in rows[header_row]] if rows else []
        for row in rows[header_row + 1 :]:
            for name, value in zip(header, row, strict=False):
                if CODE_COLUMNS.search(name) or not isinstance(value, str):
                    continue
                found = INTERNAL.search(unquoted(value))
                assert not found, (ws.title, name, value[:120])
    for page in [run_out / "index.html", *sorted((run_out / "pitch").glob("*.html")),
                 *sorted((run_out / "kaarten").glob("*.html"))]:  # fmt: skip
        text = page.read_text("utf-8")
        text = re.sub(r"<script[^>]*>.*?</script>|<style[^>]*>.*?</style>", " ", text, flags=re.S)
        text = re.sub(r'data-[a-z-]+="[^"]*"|href="[^"]*"|id="[^"]*"|class="[^"]*"', " ", text)
        visible = unquoted(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)))
        found = INTERNAL.search(visible)
        assert not found, (page.name, visible[max(0, found.start() - 80) : found.end() + 40])
