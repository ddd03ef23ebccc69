"""The command line: outputs with provenance, clear failures that write nothing, docs."""

import json
import re
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from vluchtelingen_in_beeld.cli.commands import main

ROOT = Path(__file__).resolve().parents[1]


def all_commands(group=main, prefix=()):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, path)


def test_every_command_has_help_with_example_and_is_in_the_docs():
    readme = (ROOT / "docs" / "commands.md").read_text()
    runner = CliRunner()
    for path, _cmd in all_commands():
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example: vib " + " ".join(path) in result.output.replace("\n  ", " "), path
        assert re.search(rf"`vib {' '.join(path)}[ `]", readme), (
            f"vib {' '.join(path)} not in docs/commands.md"
        )


@pytest.fixture
def cli(tmp_path, statline):
    def invoke(*args):
        return CliRunner().invoke(
            main,
            [*args],
            env={"VIB_DATA_DIR": str(tmp_path / "store"), "VIB_RETRIES": "0"},
            catch_exceptions=False,
        )

    return invoke


def estimate_2025(cli, snapshot, out, draws, *extra):
    """``vib estimate --year 2025`` on ``snapshot`` into ``out``; must succeed."""
    r = cli(
        "estimate",
        "--year",
        "2025",
        "--snapshot",
        str(snapshot),
        "--out",
        str(out),
        "--draws",
        str(draws),
        *extra,
    )
    assert r.exit_code == 0, r.output
    return r


@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".parquet"])
def test_estimate_writes_table_national_and_manifest(cli, tmp_path, statline, ext):
    out = tmp_path / f"s{ext}"
    estimate_2025(cli, statline, out, 200)
    if ext == ".xlsx":
        sheets = pd.read_excel(out, sheet_name=None, header=1)  # row 1: the warning
        assert set(sheets) == {"gemeenten", "nederland", "gevoeligheid", "bronnen"}
        frame = sheets["gemeenten"]
    else:
        frame = pd.read_csv(out) if ext == ".csv" else pd.read_parquet(out)
        nat = tmp_path / f"s_nederland{ext}"
        assert nat.exists()
    assert len(frame) == 342
    manifest = json.loads((tmp_path / f"s{ext}.manifest.json").read_text())
    assert manifest["method_card"]["name"] == "standaard"
    assert manifest["uncertainty"]["draws"] == 200
    # population; bijstand and Gebieden for the size of the local variation
    assert {s["table"] for s in manifest["sources"]} == {"85458NED", "85984NED", "86059NED"}
    assert manifest["local_variation"]["sd_log"] > 0
    assert {r["parameter"] for r in manifest["sensitivity"]} >= {"job_seeking", "ei.syrie"}
    assert "NOT CBS figures" in manifest["snapshot"]["warnings"]["85458NED"]
    from vluchtelingen_in_beeld.access.store import sha256_file

    for name, digest in manifest["outputs"].items():
        assert sha256_file(tmp_path / name) == digest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", "--year", "2025", "--out", "x.txt"], "extension decides the format"),
        # 84910NED has 2019, but not the first generation the default card asks for
        (["estimate", "--year", "2019"], "Eerste generatie"),
        (["estimate", "--year", "2025", "--method", "nope"], "Unknown method card 'nope'"),
        (["estimate", "--year", "2025", "--draws", "0"], "0 is not in the range 100<=x<=200000"),
        (["estimate", "--year", "2025", "--draws", "10000000"], "not in the range 100<=x"),
        (["fetch", "--year", "2030"], "Available periods: 2023JJ00, 2024JJ00, 2025JJ00"),
        # a snapshot offline: only what an earlier run stored, and here nothing was
        (["estimate", "--year", "2025", "--offline"], "once without --offline: it reads"),
        (["estimate", "--year", "2025", "--scenario", "plan2030"], "Unknown scenario 'plan2030'"),
        (["estimate", "--year", "2025", "--contact-share", "25"], "between 0 and 1"),
    ],
)
def test_bad_arguments_fail_clearly_and_write_nothing(
    cli, tmp_path, statline, args, message, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    r = cli(*args, "--snapshot", str(statline))
    assert r.exit_code in (1, 2), r.output  # 2: click's usage errors
    assert message in r.output
    assert not (tmp_path / "maps").exists()
    assert not list(tmp_path.glob("x.*"))


def test_year_without_age_bands_names_the_years_that_work(
    cli, tmp_path, statline_no_bands_2024, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    r = cli("estimate", "--year", "2024", "--snapshot", str(statline_no_bands_2024))
    assert r.exit_code == 1, r.output
    assert "Years where this card works: 2025, 2023" in r.output
    assert not (tmp_path / "maps").exists()


def test_offline_without_store(cli, tmp_path):
    r = cli("fetch", "--year", "2025", "--offline")
    assert r.exit_code == 1 and "without --offline" in r.output


def test_unreachable_cbs_suggests_offline(cli):
    r = cli("fetch", "--year", "2025", "--cbs-url", "http://127.0.0.1:9", "--timeout", "1")
    assert r.exit_code == 1
    assert "--offline" in r.output and "--snapshot" in r.output


def test_fetch_then_offline_and_tables(cli, statline):
    r = cli("fetch", "--year", "2025", "--snapshot", str(statline))
    # the year's gemeenten (Gebieden, the reference), the card's groups, the totals, the
    # non-European-born and the bijstand (local spread)
    assert r.exit_code == 0 and "5 uittreksel(s) gehaald" in r.output
    r = cli("fetch", "--year", "2025", "--snapshot", str(statline))
    assert "0 uittreksel(s) gehaald, 5 uit de lokale opslag" in r.output
    r = cli("tables")
    # what the two filters select from the raw snapshot rows: the card's six groups born
    # abroad in the 11 age bands 15-20 .. 65-70 (18 to the AOW age, 67) + the age total, and
    # the all-origins total; gemeenten, NL01
    # and (for the total) the 12 provincie rows
    raw = json.loads((statline / "85458NED" / "TypedDataSet.json").read_text("utf-8"))
    groups = {"H008533", "H008597", "H008633", "H008634", "H008747", "H008753"}
    ages = {f"7{i:02d}00" for i in range(4, 15)} | {"10000"}
    pop = sum(
        r["Perioden"] == "2025JJ00"
        and r["Herkomstland"] in groups
        and r["Geboorteland"] == "A051736"
        and r["Leeftijd"] in ages
        and r["RegioS"][:2] in ("GM", "NL")
        for r in raw
    )
    tot = sum(
        r["Perioden"] == "2025JJ00"
        and r["Herkomstland"] == "T001040"
        and r["Geboorteland"] == "T001638"
        and r["Leeftijd"] == "10000"
        and r["RegioS"][:2] in ("GM", "NL", "PV")
        for r in raw
    )
    assert tot == 342 + 1 + 12
    # and the gemeenten's inhabitants born abroad with an origin outside Europe
    non_eu = sum(
        r["Perioden"] == "2025JJ00"
        and r["Herkomstland"] == "H008859"
        and r["Geboorteland"] == "A051736"
        and r["Leeftijd"] == "10000"
        and r["RegioS"][:2] == "GM"
        for r in raw
    )
    assert non_eu == 342
    rows = pop + tot + non_eu
    assert re.search(rf"85458NED .* 3 extract\(s\), {rows:,} rows", r.output), r.output


def test_method_commands(cli, tmp_path):
    card = tmp_path / "k.toml"
    assert cli("method", "init", str(card), "--from", "lokaal").exit_code == 0
    r = cli("method", "validate", str(card))
    assert r.exit_code == 0 and "valid" in r.output
    card.write_text(card.read_text().replace("value = 0.55", "value = 5.5"))
    r = cli("method", "validate", str(card))
    assert r.exit_code == 1 and "rates.job_seeking.value: 5.5 is outside [0, 1]" in r.output
    r = cli("method", "show", "legacy2005")
    assert "Joegoslavië" in r.output and "[assumption]" in r.output


def test_snapshot_save_then_serve_it(cli, tmp_path, statline):
    snap = tmp_path / "snap"

    def save(table, *extra, to=snap):
        return cli("snapshot", "save", table, "--to", str(to), "--snapshot", str(statline), *extra)

    r = save("85458NED", "--year", "2025")
    assert r.exit_code == 0, r.output
    r = save("85984NED", "--filter", "startswith(WijkenEnBuurten,'NL')", to=tmp_path / "nl")
    assert r.exit_code == 0, r.output
    assert len(json.loads((tmp_path / "nl" / "85984NED" / "TypedDataSet.json").read_text())) == 1
    # the bijstand and the regions size the local variation of the estimate
    assert save("85984NED").exit_code == 0 and save("86059NED").exit_code == 0
    names = sorted(p.name for p in (snap / "85458NED").iterdir())
    assert "TypedDataSet.json" in names and "UntypedDataSet.json" not in names
    rows = json.loads((snap / "85458NED" / "TypedDataSet.json").read_text())
    assert {r["Perioden"] for r in rows} == {"2025JJ00"}
    # the saved snapshot serves the same estimate as the original, through the same code path
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    estimate_2025(cli, snap, a, 100)
    estimate_2025(cli, statline, b, 100)
    pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))
    r = save("85755NED", "--year", "2025")
    assert r.exit_code == 1 and "no time dimension" in r.output
    assert sorted(p.name for p in snap.iterdir()) == ["85458NED", "85984NED", "86059NED"]


def test_scenarios_and_contact_share(cli, tmp_path, statline):
    outs = {}
    for scen in ("plan2005", "resultaat2005"):
        out = tmp_path / f"{scen}.parquet"  # every digit: the CSV rounds counts
        estimate_2025(cli, statline, out, 100, "--scenario", scen, "--contact-share", "0.5")
        outs[scen] = pd.read_parquet(out)
    a, b = outs["plan2005"], outs["resultaat2005"]
    assert (a["contacten"] - a["werkzoekend"] * 0.5).abs().max() < 1e-6
    # the plan: 20% of contacts placed; the result: a reach shortfall (0.356 of the
    # contacts become conversations), then 0.50 of the conversations placed
    assert ((b["plaatsingen"] / a["plaatsingen"]) - 0.356 * 0.50 / 0.20).abs().max() < 1e-9
    assert (b["gesprekken"] - b["contacten"] * 0.356).abs().max() < 1e-6
    # the plan has no shortfall: every planned contact is a conversation
    assert (a["gesprekken"] - a["contacten"]).abs().max() < 1e-6
    # EUR 5.8 m over the placements of 4,000 conversations at 0.50 each: 2,900 a placement
    assert (b["kosten_eur"] - b["plaatsingen"] * 2900).abs().max() < 1e-6
    assert (b["plaatsingen_per_jaar"] * 3 - b["plaatsingen"]).abs().max() < 1e-6


def test_rank_and_regions_commands(cli, tmp_path, statline):
    out = tmp_path / "r.xlsx"
    r = cli(
        "rank",
        "--year",
        "2025",
        "--snapshot",
        str(statline),
        "--draws",
        "200",
        "--include",
        "Den Haag",
        "--compare",
        "2009",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    assert "Schagen (intergemeentelijk)" in r.output and "snapshot" in r.output
    import openpyxl

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "gemeenten",
        "prijzen",
        "samenvatting",
        "trajecten",
        "gevoeligheid",
        "vergelijking_2009",
        "bronnen",
    ]
    assert "in Nederland" in r.output and "doel 700 trajecten voor het hele project" in r.output
    manifest = json.loads((tmp_path / "r.xlsx.manifest.json").read_text())
    assert manifest["summary"]["aandeel_nl"] >= 0.3
    assert manifest["kind"] == "ranking" and manifest["constraints"]["include"] == ["GM0518"]
    assert manifest["snapshot"]["warnings"]

    bad = cli(
        "rank",
        "--year",
        "2025",
        "--snapshot",
        str(statline),
        "--n",
        "40",
        "--out",
        str(tmp_path / "x.csv"),
    )
    assert bad.exit_code == 1 and "at most 24" in bad.output
    assert not (tmp_path / "x.csv").exists()
    amb = cli(
        "rank",
        "--year",
        "2025",
        "--snapshot",
        str(statline),
        "--include",
        "Bergen",
        "--out",
        str(tmp_path / "y.csv"),
    )
    assert amb.exit_code == 1 and "Bergen (L.)" in amb.output

    reg = cli(
        "regions",
        "--year",
        "2025",
        "--level",
        "corop",
        "--snapshot",
        str(statline),
        "--draws",
        "200",
        "--out",
        str(tmp_path / "c.csv"),
    )
    assert reg.exit_code == 0, reg.output
    frame = pd.read_csv(tmp_path / "c.csv")
    assert len(frame) == 40 and frame["aantal_gemeenten"].sum() == 342


def test_snapshot_with_boundaries_draws_maps_offline(cli, tmp_path, statline):
    """Tables and PDOK boundaries saved together; the saved folder alone is enough for a map."""
    snap = tmp_path / "snap"
    r = cli("snapshot", "save", "85755NED", "--to", str(snap), "--snapshot", str(statline))
    assert r.exit_code == 0, r.output
    r = cli(
        "snapshot",
        "save",
        "85458NED",
        "--year",
        "2025",
        "--to",
        str(snap),
        "--snapshot",
        str(statline),
        "--boundary-year",
        "2023",
    )
    assert r.exit_code == 0, r.output
    assert (snap / "geo" / "gemeente_gegeneraliseerd_2023.geojson").is_file()
    out = tmp_path / "k.html"
    r = cli(
        "map",
        "--year",
        "2025",
        "--snapshot",
        str(snap),
        "--draws",
        "100",
        "--out",
        str(out),
        "--metric",
        "werkzoekend_per_1000",
    )
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "k.html.manifest.json").read_text())
    assert manifest["boundaries"]["source"].startswith("files:geo@")  # named, not a path
    assert str(tmp_path) not in json.dumps(manifest)
    assert manifest["join"]["without_shape"] == [] and manifest["join"]["shapes"] == 342
    bad = cli(
        "snapshot",
        "save",
        "85755NED",
        "--to",
        str(tmp_path / "s2"),
        "--snapshot",
        str(statline),
        "--boundary-year",
        "2019",
    )
    assert bad.exit_code == 1 and "2021, 2022, 2023" in bad.output
