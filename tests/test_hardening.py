"""The hardening pass: misbehaving servers, bad answers, lost files, leaks.

Each test names the failure it guards against; every one of them failed before the change
that made it pass (issue "Never lose a user's files, never cache a bad answer, always stop").
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.replay import Fault, FaultyReplay
from vluchtelingen_in_beeld.access.cbs import Query, Session, fetch, get_metadata
from vluchtelingen_in_beeld.errors import CbsError, CbsUnavailableError, ConfigError
from vluchtelingen_in_beeld.settings import Settings

from .conftest import cli, doctored_snapshot, make_settings

KWB_NL = Query.make("85984NED", prefixes={"WijkenEnBuurten": ["NL"]})


def stored(store: Path) -> list[Path]:
    return sorted(store.rglob("rows.parquet")) + sorted(store.rglob("metadata.json"))


# --- fetches that always stop -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["drip_headers", "drip_body"])
def test_dripping_server_is_given_up_at_the_page_deadline(fresh_replay, tmp_path, kind):
    """A byte every 0.25 s never trips the 1 s read timeout; the 2 s page deadline ends it.

    `vib fetch --timeout 1 --retries 1`: two attempts of at most 2 s each, then a clear
    error (the same as with `--timeout 5`, whose 10 s deadline makes the test 10× longer).
    """
    fresh_replay.faults.append(Fault(kind, match="85458NED", times=None, seconds=0.25))
    start = time.monotonic()
    r = cli(
        "fetch", "--year", "2025", "--cbs-url", fresh_replay.url, "--timeout", "1",
        "--retries", "1", env={"VIB_DATA_DIR": str(tmp_path / "store"), "VIB_BACKOFF": "0.1"},
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert r.exit_code == 1
    assert 4 <= elapsed < 15, elapsed  # two whole deadlines waited, and not much more
    assert "within 2 s" in r.output and "2 attempt(s)" in r.output
    assert not stored(tmp_path / "store")


def test_next_link_loop_ends_after_a_bounded_number_of_requests(fresh_replay, tmp_path):
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    get_metadata(session, "85984NED")
    fresh_replay.faults.append(Fault("next_loop", match="TypedDataSet", times=None))
    before = len(fresh_replay.requests)
    with pytest.raises(CbsError, match="already requested"):
        fetch(session, KWB_NL)
    assert len(fresh_replay.requests) - before == 1  # its self-link is not followed
    assert not list((tmp_path / "store").rglob("rows.parquet"))


def test_retries_are_bounded(monkeypatch):
    monkeypatch.setenv("VIB_RETRIES", "100000")
    with pytest.raises(ConfigError, match="between 0 and 10"):
        Settings.from_env()
    r = cli("fetch", "--year", "2025", "--offline")
    assert r.exit_code == 1 and "between 0 and 10" in r.output


def test_retry_after_is_honoured(fresh_replay, tmp_path):
    fresh_replay.faults.append(Fault("429", match="TypedDataSet", times=1, seconds=2))
    session = Session(make_settings(fresh_replay.url, tmp_path / "store", backoff=0.01))
    get_metadata(session, "85984NED")
    start = time.monotonic()
    x = fetch(session, KWB_NL)
    assert time.monotonic() - start >= 2.0  # waited as asked, not the 0.01 s back-off
    assert len(x.frame) == 1


def test_retry_after_too_long_is_not_waited_for(fresh_replay, tmp_path):
    fresh_replay.faults.append(Fault("429", match="TypedDataSet", times=None, seconds=3600))
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    get_metadata(session, "85984NED")
    start = time.monotonic()
    with pytest.raises(CbsUnavailableError, match="Retry-After") as err:
        fetch(session, KWB_NL)
    assert time.monotonic() - start < 5
    assert "after 1 attempt(s)" in str(err.value)  # it gave up at once; it says so


# --- bad answers never become store entries -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "match", "message"),
    [
        ("rows_not_objects", "TypedDataSet", "not a list of rows"),
        ("no_value", "TypedDataSet", "not an OData feed"),
        ("redirect_loop", "TypedDataSet", "redirects loop"),
        ("redirect_loop", "85984NED/?", "redirects loop"),
        ("empty_list", "85984NED/DataProperties", "metadata is incomplete"),
        ("empty_list", "85984NED/?", "names no TableInfos"),
        ("empty_list", "WijkenEnBuurten", "no keys for dimension"),
    ],
)
def test_wrong_answers_are_refused_and_not_stored(fresh_replay, tmp_path, kind, match, message):
    fresh_replay.faults.append(Fault(kind, match=match, times=None))
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    with pytest.raises(CbsError, match=message):
        fetch(session, KWB_NL)
    store = tmp_path / "store"
    assert not list(store.rglob("rows.parquet"))
    if "TypedDataSet" not in match:  # a metadata answer was bad: no metadata stored either
        assert not list(store.rglob("metadata.json"))
    # the next call, with a healthy server, fetches and stores normally
    fresh_replay.faults.clear()
    assert len(fetch(session, KWB_NL).frame) == 1


def test_empty_listing_is_not_cached_through_the_cli(fresh_replay, tmp_path):
    """`{"value": []}` for the table listing once: an error, and the next run just works."""
    env = {"VIB_DATA_DIR": str(tmp_path / "store"), "VIB_RETRIES": "0"}
    fresh_replay.faults.append(Fault("empty_list", match="85458NED/?", times=1))
    r = cli("fetch", "--year", "2025", "--cbs-url", fresh_replay.url, env=env)
    assert r.exit_code == 1 and "names no TableInfos" in r.output
    r = cli("fetch", "--year", "2025", "--cbs-url", fresh_replay.url, env=env)
    assert r.exit_code == 0, r.output


def test_duplicate_rows_are_refused(tmp_path, statline):
    from .conftest import doctored_snapshot

    snap = doctored_snapshot(statline, tmp_path / "snap", rows={"85984NED": lambda r: r + r[:3]})
    with FaultyReplay(snap) as server:
        session = Session(make_settings(server.url, tmp_path / "store"))
        with pytest.raises(CbsError, match="duplicate row"):
            fetch(session, Query.make("85984NED", prefixes={"WijkenEnBuurten": ["GM", "NL"]}))
    assert not list((tmp_path / "store").rglob("rows.parquet"))


def test_damaged_entry_offline_mentions_refresh(fresh_replay, tmp_path):
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    x = fetch(session, KWB_NL)
    manifest = x.manifest
    entry = next(p.parent for p in (tmp_path / "store").rglob("rows.parquet"))
    # a manifest that lists no files over a corrupt parquet: verifies, but is unusable
    (entry / "rows.parquet").write_bytes(b"not parquet")
    import json

    (entry / "manifest.json").write_text(json.dumps({**manifest, "files": {}}))
    offline = Session(make_settings(fresh_replay.url, tmp_path / "store", offline=True))
    from vluchtelingen_in_beeld.errors import StoreError

    with pytest.raises(StoreError, match="`refresh`"):
        fetch(offline, KWB_NL)
    assert len(fetch(Session(session.settings), KWB_NL).frame) == 1  # online: fetched anew


# --- output folders are the tool's own -------------------------------------------------------


def test_run_refuses_a_folder_with_a_foreign_file_before_any_fetch(tmp_path, statline):
    out = tmp_path / "u"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    store = tmp_path / "store"
    r = cli("run", "--snapshot", str(statline), "--out", str(out), env={"VIB_DATA_DIR": str(store)})
    assert r.exit_code == 1
    assert "keep.txt" in r.output and "Move them" in r.output
    assert (out / "keep.txt").read_text() == "x"
    # not even with --force: a file no run wrote is never deleted
    r = cli("run", "--snapshot", str(statline), "--out", str(out), "--force",
            env={"VIB_DATA_DIR": str(store)})  # fmt: skip
    assert r.exit_code == 1 and "keep.txt" in r.output
    assert not store.exists()  # refused before anything was fetched


@pytest.mark.parametrize("where", ["cwd", "parent of cwd", "store", "inside store", "snapshot"])
def test_run_never_replaces_the_working_folder_the_store_or_the_snapshot(
    tmp_path, statline, monkeypatch, where
):
    work = tmp_path / "work"
    store = work / "data"
    store.mkdir(parents=True)
    monkeypatch.chdir(work)
    # never the real shared folder: a regression here would replace it. A copy of its
    # folder of symlinks is what the run reads (and what it must refuse to replace).
    snapshot = doctored_snapshot(statline, tmp_path / "snapshot")
    out = {
        "cwd": Path("."),
        "parent of cwd": tmp_path,
        "store": store,
        "inside store": store / "cbs",
        "snapshot": snapshot,
    }[where]
    r = cli("run", "--snapshot", str(snapshot), "--out", str(out), "--force",
            env={"VIB_DATA_DIR": str(store)})  # fmt: skip
    assert r.exit_code == 1
    assert "Refusing to use" in r.output
    assert "Traceback" not in r.output
    assert not list(store.rglob("*.parquet"))


def test_output_paths_are_checked_before_the_work(tmp_path, statline, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    cases = [
        ("estimate", "--out", "afile/x.csv"),
        ("run", "--out", "afile/run"),
        ("map", "--out", "afile/k.html"),
        ("map", "--png", "afile/k.png"),
    ]
    for args in cases:
        r = cli(*args, "--snapshot", str(statline), env=env)
        assert r.exit_code == 1, (args, r.output)
        assert "afile is a file" in r.output, (args, r.output)
        assert "Traceback" not in r.output
    for args in (
        ("method", "init", "afile/k.toml"),
        ("snapshot", "save", "85984NED", "--to", "afile/snap", "--snapshot", str(statline)),
    ):
        r = cli(*args, env=env)
        assert r.exit_code == 1, (args, r.output)
        assert "afile is a file" in r.output, (args, r.output)
        assert "Traceback" not in r.output
    assert not (tmp_path / "store").exists()


# --- offline works on what was fetched ------------------------------------------------------


def test_offline_after_an_online_run_against_a_local_server(replay, tmp_path, monkeypatch):
    """`vib rank` online (a local CBS), then the same with --offline: nothing is asked."""
    monkeypatch.chdir(tmp_path)
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("rank", "--cbs-url", replay.url, "--draws", "100", env=env)
    assert r.exit_code == 0, r.output
    first = (tmp_path / "maps" / "rangorde_2025.csv").read_text()
    for extra in (["--cbs-url", replay.url], []):  # the same source, or the one in the store
        (tmp_path / "maps" / "rangorde_2025.csv").unlink()
        before = len(replay.requests)
        r = cli("rank", "--offline", *extra, "--draws", "100", env=env)
        assert r.exit_code == 0, r.output
        assert len(replay.requests) == before
        assert (tmp_path / "maps" / "rangorde_2025.csv").read_text() == first
    r = cli("rank", "--offline", "--year", "2019", "--draws", "100", env=env)
    assert r.exit_code == 1 and "without --offline" in r.output


# --- clear messages instead of tracebacks, and the right cause ---------------------------------


def test_data_dir_that_is_a_file(tmp_path):
    (tmp_path / "data").write_text("x")
    r = cli("fetch", "--offline", env={"VIB_DATA_DIR": str(tmp_path / "data")})
    assert r.exit_code == 1 and "is a file; the local store needs a folder" in r.output


def test_serve_on_a_busy_port(statline):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        r = cli("serve", str(statline), "--port", str(port))
    assert r.exit_code == 1 and "Cannot listen on 127.0.0.1" in r.output


def test_map_out_an_existing_folder(tmp_path, statline):
    (tmp_path / "k.html").mkdir()
    r = cli("map", "--snapshot", str(statline), "--out", str(tmp_path / "k.html"))
    assert r.exit_code == 1 and "is a folder" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rank", "--max-per-provincie", "0"), "--max-per-provincie must be from 1 to 400"),
        (("rank", "--max-per-regio", "0"), "--max-per-regio must be from 1 to 400"),
        (("rank", "--n", "400"), "only 342 gemeenten are left, fewer than --n 400"),
        (("pitch", "--top", "20"), "--top 20 asks for more pages than the 11 selected"),
        (("estimate", "--draws", "1"), "1 is not in the range 100<=x<=200000"),
    ],
)
def test_the_message_names_the_real_cause(shared_snapshot_store, statline, args, message):
    r = cli(*args, "--snapshot", str(statline), env=shared_snapshot_store)
    assert r.exit_code in (1, 2), r.output
    assert message in r.output
    assert "--exclude" not in r.output


@pytest.fixture(scope="module")
def shared_snapshot_store(tmp_path_factory):
    """One store for the CLI cases above (the first one fills it)."""
    return {"VIB_DATA_DIR": str(tmp_path_factory.mktemp("store"))}


def test_missing_population_of_one_gemeente_is_not_a_herindeling(
    statline, tmp_path, doctored_session
):
    from .conftest import doctored_snapshot

    def drop_total(rows):
        for r in rows:
            if (r["RegioS"], r["Perioden"], r["Herkomstland"], r["Leeftijd"]) == (
                "GM0363", "2025JJ00", "T001040", "10000"
            ) and r["Geboorteland"] == "T001638":  # fmt: skip
                r["Bevolking_1"] = None
        return rows

    snap = doctored_snapshot(statline, tmp_path / "snap", rows={"85458NED": drop_total})
    from vluchtelingen_in_beeld.errors import CbsError
    from vluchtelingen_in_beeld.workflow.pipeline import estimate_year

    session = doctored_session(snap)
    with pytest.raises(CbsError, match=r"no figures for 1 gemeente of 2025 .*GM0363 \(Amsterdam\)"):
        estimate_year(session, 2025, draws=100)
    import pandas as pd

    # what was stored (the national rows, the groups) holds Amsterdam; the cut answer is not
    for entry in session.store.entries("85458NED"):
        if entry.manifest.get("kind") != "extract":
            continue
        rows = pd.read_parquet(entry.file("rows.parquet"))
        gm = rows[rows["RegioS"].str.startswith("GM")]
        assert gm.empty or (gm.groupby("RegioS")["Bevolking_1"].count() > 0).get("GM0363")


def test_snapshot_without_boundaries_does_not_go_to_the_internet(statline, tmp_path):
    from .conftest import doctored_snapshot

    snap = doctored_snapshot(statline, tmp_path / "alone" / "snap")  # no geo/ in or beside it
    r = cli("map", "--snapshot", str(snap), "--draws", "100", "--out", str(tmp_path / "k.html"),
            env={"VIB_DATA_DIR": str(tmp_path / "store"),
                 "VIB_PDOK_URL": "http://127.0.0.1:9"})  # fmt: skip
    assert r.exit_code == 1
    assert "has no geo/ folder" in r.output and "127.0.0.1:9" not in r.output


# --- nothing half-written ---------------------------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text_in_xlsx(tmp_path):
    import io

    import openpyxl
    import pandas as pd

    from vluchtelingen_in_beeld.render.output import table_bytes

    frame = pd.DataFrame(
        {"gemeentenaam": ['=HYPERLINK("http://x")', "+1", "Zwolle"], "n": [1, 2, 3]}
    )
    book = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, ".xlsx")))
    cells = [c for c in book["gemeenten"]["A"][1:]]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x")', "+1", "Zwolle"]
    assert all(c.data_type == "s" for c in cells)


def test_a_bundle_that_fails_halfway_puts_back_what_was_there(tmp_path, monkeypatch):
    import os

    from vluchtelingen_in_beeld.render import output

    a, b, m = tmp_path / "x.csv", tmp_path / "x_nederland.csv", tmp_path / "x.csv.manifest.json"
    a.write_text("old table")
    real = os.replace

    def failing(src, dst):
        if Path(dst) == b:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", failing)
    with pytest.raises(OSError):
        output.write_bundle({a: b"new table", b: b"new national"}, m, {"kind": "test"})
    assert a.read_text() == "old table"  # put back: no table without its manifest
    assert not b.exists() and not m.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_estimate_whose_national_file_cannot_be_written_leaves_nothing(tmp_path, statline):
    (tmp_path / "x_nederland.csv").mkdir()
    r = cli("estimate", "--snapshot", str(statline), "--out", str(tmp_path / "x.csv"),
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.exit_code == 1 and "x_nederland.csv" in r.output
    assert not (tmp_path / "x.csv").exists()
    assert not (tmp_path / "store").exists()  # refused before the work


def test_answer_without_a_dimension_is_refused(fresh_replay, tmp_path):
    """Rows that lack a dimension's key (the column comes back all missing) are not stored."""
    from vluchtelingen_in_beeld.access.cbs import check_answer, rows_to_frame

    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    meta = get_metadata(session, "85984NED")
    rows = [{"ID": 0, "AantalInwoners_5": 5}, {"ID": 1, "AantalInwoners_5": 6}]
    frame = rows_to_frame(rows, meta, ("AantalInwoners_5",))
    with pytest.raises(CbsError, match="lacks the dimension column.*WijkenEnBuurten"):
        check_answer(KWB_NL, meta, frame)


# --- formulas in CSV cells --------------------------------------------------------------------


def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert():
    """OWASP: a text cell starting with =, +, -, @, tab or CR is prefixed with a quote."""
    import csv
    import io

    import pandas as pd

    from vluchtelingen_in_beeld.render.output import table_bytes

    names = ['=HYPERLINK("http://x")', "+1+1", "@SUM(A1)", "\tA", "\rB", "-Zuid", "Zwolle"]
    frame = pd.DataFrame({"gemeentenaam": names, "reden": ["-5", "x", "y", "z", "w", "v", "u"]})
    text = table_bytes(frame, ".csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert [r[0] for r in rows] == [f"'{n}" for n in names[:-1]] + ["Zwolle"]
    assert rows[0][1] == "-5"  # a number written as text stays a number


# --- vib serve: the snapshot's own files only ---------------------------------------------------


def test_serve_answers_every_path_outside_the_snapshot_with_404(tmp_path, caplog):
    """A made-up one-table snapshot with a secret beside it: plain, %2f, %2e%2e, absolute
    and backslash traversals all get 404 and a log line; the table's own endpoints work."""
    import http.client
    import logging

    from vluchtelingen_in_beeld.access.server import ReplayServer

    root = tmp_path / "snap"
    table = root / "99999NED"
    table.mkdir(parents=True)
    (table / "TableInfos.json").write_text('[{"Title": "Proef", "Modified": "x"}]')
    (table / "DataProperties.json").write_text('[{"Key": "Aantal_1", "Type": "Topic"}]')
    (table / "TypedDataSet.json").write_text('[{"ID": 0, "Aantal_1": 5}]')
    (tmp_path / "secret.json").write_text('[{"geheim": "ja"}]')
    (root / "secret.json").write_text('[{"geheim": "ja"}]')
    attempts = [
        "/ODataFeed/odata/99999NED/..%2f..%2fsecret",
        "/ODataFeed/odata/99999NED/../../secret",
        "/ODataFeed/odata/99999NED/%2e%2e%2f%2e%2e%2fsecret",
        "/ODataFeed/odata/%2e%2e/secret",
        "/ODataFeed/odata/..%2fsecret",
        "/ODataFeed/odata/99999NED/%2f" + str(tmp_path / "secret").lstrip("/").replace("/", "%2f"),
        "/ODataFeed/odata/99999NED/..%5c..%5csecret",
    ]
    caplog.set_level(logging.WARNING, logger="vluchtelingen_in_beeld.access.server")
    with ReplayServer(root) as server:
        host, port = server.url.split("//")[1].split(":")
        for path in attempts:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", path)  # sent as is: http.client does not normalise
            answer = conn.getresponse()
            body = answer.read()
            conn.close()
            assert answer.status == 404, (path, answer.status, body[:200])
            assert b"geheim" not in body, path
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/ODataFeed/odata/99999NED/TypedDataSet?$format=json")
        assert conn.getresponse().status == 200
        conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/ODataFeed/odata/99999NED/TypedDataSet?$skip=-5")
        assert conn.getresponse().status == 400
        conn.close()
    refused = [r for r in caplog.records if "outside the snapshot" in r.getMessage()]
    assert len(refused) == len(attempts)  # each one logged


# --- numbers that mean nothing, refused at the edge with the option named ----------------------


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["rank", "--timeout", "nan"], {}, "timeout must be a number of seconds, got nan"),
        (["rank"], {"VIB_TIMEOUT": "nan"}, "$VIB_TIMEOUT"),
        (["rank"], {"VIB_BACKOFF": "inf"}, "backoff must be a number of seconds"),
        (["rank", "--budget", "nan"], {}, "--budget: 'nan' is not a finite number"),
        (["rank", "--budget", "0"], {}, "--budget must be from 1 to 1,000,000,000,000"),
        (["rank", "--klein-onder", "nan"], {}, "'nan' is not a valid integer"),
        (["rank", "--groot-boven", "100000000000"], {}, "--groot-boven must be from 1 to"),
        (["rank", "--pilot-cost", "-inf", "--budget", "5"], {},
         "--pilot-cost must be a finite number"),
        (["rank", "--pilot-cost", "-1", "--budget", "5"], {}, "--pilot-cost must be from 0 to"),
        (["rank", "--klein-onder", "500000", "--groot-boven", "1000", "--max-groot", "2"], {},
         "small and large at once"),
        (["rank", "--max-per-provincie", ""], {}, "give a number, or 'none'"),
        (["rank", "--max-per-provincie", "0"], {}, "from 1 to 400, got 0 (or 'none' to switch"),
        (["rank", "--max-per-provincie", "-1"], {}, "from 1 to 400, got -1 (or 'none' to switch"),
        (["rank", "--max-per-provincie", "1.5"], {}, "'1.5' is not a whole number"),
        (["serve", ".", "--port", "-1"], {}, "not in the range 1<=x<=65535"),
        (["serve", ".", "--port", "70000"], {}, "not in the range 1<=x<=65535"),
    ],
)  # fmt: skip
def test_meaningless_numbers_are_refused_before_any_work(args, env, says, tmp_path):
    """No traceback (catch_exceptions=False would raise it), a message naming the option,
    and nothing fetched: the store stays empty (it is offline and empty, so any work fails
    differently)."""
    store = tmp_path / "store"
    extra = ["--offline"] if args[0] == "rank" else []
    r = cli(*args, *extra, env={"VIB_DATA_DIR": str(store), **env})
    assert r.exit_code != 0
    assert says in r.output, r.output
    assert not store.exists() or not any(store.rglob("rows.parquet"))


# --- inputs are never outputs ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["boundaries", "method", "afzender"])
def test_force_never_replaces_a_folder_that_holds_an_input(kind, statline, geo_folder, tmp_path):
    """--force replaces a foreign folder, but not one holding what the run reads."""
    folder = tmp_path / "invoer"
    folder.mkdir()
    boundary = "gemeente_gegeneraliseerd_2023.geojson"
    files = {
        "boundaries": folder / boundary,
        "method": folder / "kaart.toml",
        "afzender": folder / "afzender.toml",
    }
    if kind == "method":
        assert cli("method", "init", str(files["method"])).exit_code == 0
    elif kind == "boundaries":
        files[kind].symlink_to(geo_folder / boundary)
    else:
        files[kind].write_text('organisatie = "X"\nvraag = "Y"\nemail = "x@y.nl"\n', "utf-8")
    given = {"boundaries": ["--boundaries", str(folder)], "method": ["--method",
             str(files["method"])], "afzender": ["--afzender", str(files["afzender"])]}  # fmt: skip
    before = sorted(p.name for p in folder.iterdir())
    r = cli("run", "--snapshot", str(statline), *given[kind], "--out", str(folder), "--force",
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.exit_code != 0
    assert "an input of this run" in r.output, r.output
    assert sorted(p.name for p in folder.iterdir()) == before


# --- answers of the right shape with bad content -----------------------------------------------

GEMEENTEN_2025 = Query.make(
    "86059NED", prefixes={"RegioS": ["GM"]}, measures=("Code_1", "Naam_2", "Inwonertal_52")
)


def _first(change):  # type: ignore[no-untyped-def]
    def rewrite(rows: list[dict]) -> list[dict]:
        if rows:
            change(rows[0])
        return rows

    return rewrite


@pytest.mark.parametrize(
    ("name", "rewrite", "says"),
    [
        ("negative", _first(lambda r: r.update(Inwonertal_52=-5)), "a negative count"),
        ("fraction", _first(lambda r: r.update(Inwonertal_52=12.5)), "a count with a fraction"),
        ("huge", _first(lambda r: r.update(Inwonertal_52=1e300)), "too large to be a count"),
        ("text", _first(lambda r: r.update(Inwonertal_52="abc")), "not a number"),
        ("column", lambda rows: [{k: v for k, v in r.items() if k != "Inwonertal_52"}
                                 for r in rows], "lacks the column(s) Inwonertal_52"),
        ("region", lambda rows: [r for r in rows if r["RegioS"].strip() != "GM0014"],
         "lacks the rows of RegioS GM0014 (Groningen)"),
    ],
)  # fmt: skip
def test_bad_content_is_refused_and_never_stored(fresh_replay, tmp_path, name, rewrite, says):
    """A fault proxy rewrites one answer: a clean error naming the table and the row, nothing
    stored, and the same call against the good server then succeeds (no --refresh)."""
    session = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    meta = get_metadata(session, "86059NED")
    measures = {p["Key"] for p in meta.topics()}
    assert {"Code_1", "Naam_2", "Inwonertal_52"} <= measures, sorted(measures)[:10]
    fresh_replay.faults.append(Fault("rewrite", match="TypedDataSet", times=1, rows=rewrite))
    with pytest.raises(CbsError, match=r"86059NED: .*" + re.escape(says)) as err:
        fetch(session, GEMEENTEN_2025)
    assert "nothing was stored" in str(err.value)
    if name not in ("column", "region"):
        assert "RegioS GM" in str(err.value)  # the first offending row, by its keys
    assert not list((tmp_path / "store").rglob("rows.parquet"))
    again = Session(make_settings(fresh_replay.url, tmp_path / "store"))
    assert len(fetch(again, GEMEENTEN_2025).frame) == 342


@pytest.mark.parametrize(
    ("name", "rewrite", "says"),
    [
        ("missing", lambda fs: fs[1:], "sent 341 gemeente features of the 342"),
        ("code", _first(lambda f: f["properties"].update(statcode="XX0001")), "'XX0001', not GM"),
        ("null", _first(lambda f: f.update(geometry=None)), "has no geometry"),
    ],
)
def test_bad_boundaries_are_refused_and_never_stored(
    statline, geo_folder, tmp_path, name, rewrite, says
):
    """PDOK answers of the right shape with bad content: nothing stored, and the next
    call against the good service succeeds without --refresh."""
    from vluchtelingen_in_beeld.access.snapshot import geo_settings
    from vluchtelingen_in_beeld.errors import VibError
    from vluchtelingen_in_beeld.geography.geo import boundary_files, fetch_boundaries

    with FaultyReplay(statline, boundaries=boundary_files(geo_folder)) as server:
        settings = geo_settings(make_settings(server.url, tmp_path / "store"), server.url,
                                geo_folder)  # fmt: skip
        server.faults.append(Fault("rewrite", match="gebiedsindelingen", rows=rewrite))
        with pytest.raises(VibError, match=re.escape(says)) as err:
            fetch_boundaries(Session(settings), 2023)
        assert "nothing was stored" in str(err.value)
        assert not list((tmp_path / "store").rglob("*.geojson"))
        data, info = fetch_boundaries(Session(settings), 2023)  # type: ignore[misc]
        assert data and info["year"] == 2023


def test_a_pdok_answer_without_crs_is_read_in_the_crs_it_was_asked_for(
    statline, geo_folder, tmp_path
):
    from vluchtelingen_in_beeld.access.snapshot import geo_settings
    from vluchtelingen_in_beeld.geography.geo import boundary_files, load_boundaries

    with FaultyReplay(statline, boundaries=boundary_files(geo_folder)) as server:
        settings = geo_settings(make_settings(server.url, tmp_path / "store"), server.url,
                                geo_folder)  # fmt: skip
        server.faults.append(Fault("no_crs", match="gebiedsindelingen", times=None))
        import json

        served = json.loads((geo_folder / "gemeente_gegeneraliseerd_2023.geojson").read_text())
        codes = [f["properties"]["statcode"] for f in served["features"]]
        b = load_boundaries(Session(settings), 2023, codes)
        assert len(b.frame) == 342 and b.frame.crs.to_epsg() == 28992


# --- what live services do that the replay now does too ----------------------------------------


def test_an_answer_after_a_redirect_is_read_whole(fresh_replay, tmp_path):
    """requests follows a 302 through the guarded send; the final answer's body was read
    there, and used to be read a second time, empty (no retry here: a retry would hide it)."""
    session = Session(make_settings(fresh_replay.url, tmp_path / "store", retries=0))
    get_metadata(session, "85984NED")
    fresh_replay.faults.append(Fault("redirect", match="TypedDataSet", times=1))
    x = fetch(session, KWB_NL)
    assert len(x.frame) == 1 and x.frame["WijkenEnBuurten"].iloc[0].startswith("NL")
    assert any("via=redirect" in p for p in fresh_replay.requests)


def test_a_body_shorter_than_its_content_length_is_retried(fresh_replay, tmp_path):
    session = Session(make_settings(fresh_replay.url, tmp_path / "store", backoff=0.01))
    get_metadata(session, "85984NED")
    fresh_replay.faults.append(Fault("short_body", match="TypedDataSet", times=1))
    x = fetch(session, KWB_NL)  # the first answer broke off; the retry is whole
    assert len(x.frame) == 1
    fresh_replay.faults.append(Fault("short_body", match="TypedDataSet", times=None))
    again = Session(make_settings(fresh_replay.url, tmp_path / "store2", retries=1,
                                  backoff=0.01))  # fmt: skip
    get_metadata(again, "85984NED")
    with pytest.raises(CbsUnavailableError, match=r"after 2 attempt\(s\): connection failed"):
        fetch(again, KWB_NL)
    assert not list((tmp_path / "store2").rglob("rows.parquet"))


def test_estimate_never_overwrites_a_users_file_beside_its_output(statline, tmp_path):
    """`--out x.csv` writes x_nederland.csv and x_gevoeligheid.csv beside it: they may only
    replace what an earlier call wrote, never a file the user keeps there."""
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    out = tmp_path / "x.csv"
    args = ["estimate", "--snapshot", str(statline), "--draws", "100", "--out", str(out)]
    assert cli(*args, env=env).exit_code == 0
    assert cli(*args, env=env).exit_code == 0  # its own companions: replaced
    mine = tmp_path / "x_gevoeligheid.csv"
    mine.write_text("mijn eigen aantekeningen\n", "utf-8")
    r = cli(*args, env=env)
    assert r.exit_code != 0 and "x_gevoeligheid.csv changed since vib wrote it" in r.output
    assert "--force" in r.output
    assert mine.read_text("utf-8") == "mijn eigen aantekeningen\n"
    assert cli(*args, "--force", env=env).exit_code == 0  # what vib wrote: --force replaces
    assert mine.read_text("utf-8").startswith("\ufeffparameter")
    other = tmp_path / "y.csv"
    (tmp_path / "y_nederland.csv").write_text("van iemand anders\n", "utf-8")
    r = cli("estimate", "--snapshot", str(statline), "--out", str(other), env=env)
    assert r.exit_code != 0 and "y_nederland.csv" in r.output and not other.exists()
    assert "vib did not write" in r.output
    r = cli("estimate", "--snapshot", str(statline), "--out", str(other), "--force", env=env)
    assert r.exit_code != 0 and not other.exists()  # not even with --force


def test_pitch_choices_that_cannot_be_meant_are_refused_before_any_work(tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "empty")}
    r = cli("pitch", "Zwolle", "--all", "--offline", env=env)
    assert r.exit_code != 0 and "--all already makes a page for every gemeente" in r.output
    r = cli("pitch", "--top", "0", "--offline", env=env)
    assert r.exit_code != 0 and "--top must be at least 1" in r.output
    assert not (tmp_path / "empty").exists()


def test_snapshot_save_never_replaces_a_folder_it_did_not_write(replay, tmp_path):
    to = tmp_path / "snap"
    env = {"VIB_DATA_DIR": str(tmp_path / "store"), "VIB_CBS_URL": replay.url}
    args = ["snapshot", "save", "86059NED", "--to", str(to)]
    assert cli(*args, env=env).exit_code == 0
    assert (to / "86059NED" / ".vib-snapshot").is_file()
    assert cli(*args, env=env).exit_code == 0  # its own folder: replaced
    (to / "86059NED" / ".vib-snapshot").unlink()
    (to / "86059NED" / "notes.txt").write_text("mijn notities\n", "utf-8")
    r = cli(*args, env=env)
    assert r.exit_code != 0 and "did not write" in r.output and "notes.txt" in r.output
    assert (to / "86059NED" / "notes.txt").read_text("utf-8") == "mijn notities\n"
    for bad in ([""], ["../x"]):
        r = cli("snapshot", "save", *bad, "--to", str(to), env=env)
        assert r.exit_code != 0 and "is not a CBS table id" in r.output
    r = cli("snapshot", "save", "86059NED", "--to", str(tmp_path / "s2"), "--boundary-year",
            "1800", env=env)  # fmt: skip
    assert r.exit_code != 0 and "1800 is not in the range" in r.output
    assert not (tmp_path / "s2").exists()  # refused before anything was written


def test_too_few_pilots_names_the_constraints_that_ask_for_more(statline, tmp_path):
    r = cli("rank", "--snapshot", str(statline), "--n", "1", "--draws", "100",
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.exit_code != 0
    assert "--min-per-landsdeel (at least 1 per landsdeel) needs 4" in r.output
    assert "--min-klein (at least 2 below 100,000 inhabitants) needs 2" in r.output


def test_an_output_folder_nothing_can_be_created_in_is_refused_before_any_work(tmp_path):
    """/proc lets root pass os.access but refuses every new folder; it is a system folder,
    so it is refused as one, before anything is probed or fetched."""
    r = cli("run", "--offline", "--out", "/proc/vib-x", env={"VIB_DATA_DIR": str(tmp_path / "s")})
    assert r.exit_code != 0 and "/proc" in r.output
    assert "system folder" in r.output
    assert not (tmp_path / "s").exists()  # nothing read, nothing fetched


def test_a_geodetail_column_without_endpoint_is_a_column_not_a_dimension(
    statline, tmp_path, doctored_session
):
    """CBS types descriptive region columns (a name, a code) as GeoDetail without giving
    them an endpoint; they must not be taken for dimensions whose keys are missing."""
    from tests.conftest import doctored_snapshot

    def geodetail(props: list[dict]) -> list[dict]:
        return [{**p, "Type": "GeoDetail"} if p.get("Key") == "Codering_3" else p for p in props]

    snap = doctored_snapshot(statline, tmp_path / "snap",
                             files={"85984NED/DataProperties.json": geodetail})  # fmt: skip
    session = doctored_session(snap)
    meta = get_metadata(session, "85984NED")
    assert meta.dimension_names() == ["WijkenEnBuurten"]
    assert "Codering_3" in {p["Key"] for p in meta.topics()}
    x = fetch(session, Query.make("85984NED", prefixes={"WijkenEnBuurten": ["NL"]},
                                  measures=("Codering_3", "AantalInwoners_5")))  # fmt: skip
    assert x.frame["Codering_3"].str.strip().iloc[0].startswith("NL")


def test_serve_answers_a_deeply_nested_filter_with_400(replay):
    import http.client
    from urllib.parse import quote as q

    flt = "(" * 3000 + "RegioS eq 'GM0363'" + ")" * 3000
    host, port = replay.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    conn.request("GET", "/ODataFeed/odata/86059NED/TypedDataSet?$filter=" + q(flt))
    answer = conn.getresponse()
    assert answer.status == 400 and b"nested too deeply" in answer.read()
    conn.close()


def test_pitch_top_beyond_the_gemeenten_says_use_all(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    r = cli("pitch", "--top", "1000", "--snapshot", str(statline), "--draws", "100",
            "--out", str(tmp_path / "p"), env=env)  # fmt: skip
    assert r.exit_code != 0
    assert "more pages than there are gemeenten (342); use --all" in r.output
    assert "raise --n" not in r.output


def test_a_mismatch_found_later_names_refresh(shared_session, geo_folder):
    """Data and boundaries of one indeling that do not match: a stored answer may be cut,
    so the message names --refresh as the fix."""
    import json

    from vluchtelingen_in_beeld.errors import BoundaryError
    from vluchtelingen_in_beeld.geography.geo import load_boundaries

    served = json.loads((geo_folder / "gemeente_gegeneraliseerd_2023.geojson").read_text())
    codes = [f["properties"]["statcode"] for f in served["features"]][1:]  # one short
    with pytest.raises(BoundaryError, match="run again with `refresh`"):
        load_boundaries(shared_session, 2023, codes, boundary_year=2023)


def test_the_package_requires_the_urllib3_its_client_reads_with():
    """The client reads pages with response.raw.read1(…, decode_content=True): urllib3 2."""
    from importlib.metadata import requires

    wanted = [r for r in requires("vluchtelingen-in-beeld") or [] if r.startswith("urllib3")]
    assert wanted and ">=2" in wanted[0].replace(" ", "")


def test_write_run_of_the_library_refuses_a_folder_it_did_not_write(rank2025, tmp_path):
    """`write_run` is public: it checks its folder as `vib run` does, before anything."""
    from vluchtelingen_in_beeld import write_run

    folder = tmp_path / "mijn_map"
    folder.mkdir()
    (folder / "belangrijk.txt").write_text("x")
    with pytest.raises(ConfigError, match="did not write"):
        write_run(rank2025, str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["belangrijk.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mijn_map"]
