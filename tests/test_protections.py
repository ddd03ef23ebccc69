"""Nothing a user made is replaced or deleted; one writer per folder; no traceback, no hang.

Every probe here was a defect once: `--force` deleting an input (a card in upper case, the
snapshot's boundaries, the folder that holds $HOME), writers replacing a user's file of the
same name, two runs into one folder both saying they wrote it, a TOML nested 100,000 deep, a
URL that cannot be parsed, a logo that is a FIFO or /dev/zero, a full disk without a path,
and local addresses in the outputs of a run against local servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vluchtelingen_in_beeld.access.server import ReplayServer
from vluchtelingen_in_beeld.access.snapshot import boundary_files

from .conftest import cli, doctored_snapshot

SENDER = 'organisatie = "Stichting X"\nvraag = "Een gesprek"\nemail = "x@example.nl"\n'


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


# --- --force never touches an input, home's ancestors or a system folder ------------------------


@pytest.mark.parametrize("kind", ["card in upper case", "afzender", "snapshot", "snapshot geo",
                                  "snapshot tree", "store"])  # fmt: skip
def test_force_never_replaces_an_input(kind, statline, geo_folder, tmp_path):
    """On copies (never ../shared): the folder given as --out holds, or is, what the run
    reads; with --force it is refused, and nothing in it changes."""
    tree = tmp_path / "dl" / "shared"
    snap = doctored_snapshot(statline, tree / "statline")
    (tree / "geo").mkdir()
    (tree / "geo" / "pdok").symlink_to(geo_folder, target_is_directory=True)
    cards = tmp_path / "cardf"
    cards.mkdir()
    assert cli("method", "init", str(cards / "mijnkaart.toml")).exit_code == 0
    (cards / "mijnkaart.toml").rename(cards / "mijnkaart.TOML")
    (cards / "afzender.toml").write_text(SENDER, "utf-8")
    store = tmp_path / "store"
    store.mkdir()
    (store / "aantekening.txt").write_text("van mij", "utf-8")
    args, out = {
        "card in upper case": (["--method", str(cards / "mijnkaart.TOML")], cards),
        "afzender": (["--afzender", str(cards / "afzender.toml")], cards),
        "snapshot": ([], tree / "statline"),
        "snapshot geo": ([], tree / "geo" / "pdok"),
        "snapshot tree": ([], tree / "geo"),
        "store": ([], store),
    }[kind]
    before = _tree(tmp_path)
    r = cli("run", "--snapshot", str(snap), *args, "--out", str(out), "--force",
            "--draws", "100", env={"VIB_DATA_DIR": str(store)})  # fmt: skip
    assert r.exit_code == 1, r.output
    assert "Refusing to use" in r.output and "Traceback" not in r.output
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("out", ["home", "its parent", "/", "/etc", "/usr", "/home", "/var/lib",
                                 "/usr/local/share/vib", "/tmp"])  # fmt: skip
def test_force_never_replaces_home_its_ancestors_or_a_system_folder(out, tmp_path, monkeypatch):
    home = tmp_path / "huis" / "gebruiker"
    home.mkdir(parents=True)
    (home / "brief.txt").write_text("van mij", "utf-8")
    monkeypatch.setenv("HOME", str(home))
    target = {"home": home, "its parent": home.parent}.get(out, Path(out))
    r = cli("run", "--offline", "--out", str(target), "--force",
            env={"VIB_DATA_DIR": str(tmp_path / "store"), "HOME": str(home)})  # fmt: skip
    assert r.exit_code == 1, r.output
    assert "Refusing to use" in r.output, r.output
    assert (home / "brief.txt").read_text("utf-8") == "van mij"
    assert not (tmp_path / "store").exists()  # refused before any work


# --- writers replace only what they wrote, unchanged ----------------------------------------


def test_pitch_never_replaces_a_users_page_or_index(statline, tmp_path):
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    out = tmp_path / "pitch"
    out.mkdir()
    (out / "index.html").write_text("<p>mijn eigen overzicht</p>", "utf-8")
    r = cli("pitch", "Zwolle", "--snapshot", str(statline), "--draws", "100", "--out", str(out),
            "--force", env=env)  # fmt: skip
    assert r.exit_code == 1 and "index.html" in r.output and "vib did not write" in r.output
    assert (out / "index.html").read_text("utf-8") == "<p>mijn eigen overzicht</p>"
    assert not (tmp_path / "store").exists()  # refused before any work
    (out / "index.html").unlink()
    (out / "GM0193-zwolle.html").write_text("<p>mijn eigen Zwolle</p>", "utf-8")
    r = cli("pitch", "Zwolle", "--snapshot", str(statline), "--draws", "100", "--out", str(out),
            env=env)  # fmt: skip
    assert r.exit_code == 1 and "GM0193-zwolle.html" in r.output
    assert (out / "GM0193-zwolle.html").read_text("utf-8") == "<p>mijn eigen Zwolle</p>"
    assert sorted(p.name for p in out.iterdir()) == ["GM0193-zwolle.html"]


def test_a_rerun_keeps_a_file_the_user_edited_unless_force(rank2025, tmp_path, shared_session):
    from vluchtelingen_in_beeld import write_run
    from vluchtelingen_in_beeld.errors import ConfigError

    out = tmp_path / "run"
    write_run(rank2025, out, settings=shared_session.settings)
    page = next((out / "pitch").glob("GM*.html"))
    page.write_text(page.read_text("utf-8") + "<!-- mijn aantekening -->", "utf-8")
    with pytest.raises(ConfigError, match=rf"{page.name} changed since vib run wrote it.*`force`"):
        write_run(rank2025, out, settings=shared_session.settings)
    assert page.read_text("utf-8").endswith("<!-- mijn aantekening -->")
    write_run(rank2025, out, settings=shared_session.settings, force=True)
    assert "mijn aantekening" not in page.read_text("utf-8")


def test_estimate_never_replaces_a_users_manifest_beside_its_table(statline, tmp_path):
    mine = tmp_path / "y.csv.manifest.json"
    mine.write_text('{"mijn": "eigen bestand"}', "utf-8")
    r = cli("estimate", "--snapshot", str(statline), "--out", str(tmp_path / "y.csv"), "--force",
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.exit_code == 1 and "y.csv.manifest.json" in r.output
    assert mine.read_text("utf-8") == '{"mijn": "eigen bestand"}'
    assert not (tmp_path / "y.csv").exists()


def test_snapshot_save_never_replaces_a_users_boundary_file(statline, tmp_path):
    geo = tmp_path / "snap" / "geo"
    geo.mkdir(parents=True)
    mine = geo / "gemeente_gegeneraliseerd_2023.geojson"
    mine.write_text('{"type": "FeatureCollection", "features": []}', "utf-8")
    r = cli("snapshot", "save", "86059NED", "--to", str(tmp_path / "snap"), "--snapshot",
            str(statline), "--boundary-year", "2023", "--force",
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.exit_code == 1 and "gemeente_gegeneraliseerd_2023.geojson" in r.output
    assert mine.read_text("utf-8") == '{"type": "FeatureCollection", "features": []}'
    assert not (tmp_path / "snap" / "86059NED").exists()  # refused before any work


# --- one writer per folder -----------------------------------------------------------------------


def _vib(*args: str) -> list[str]:
    return [sys.executable, "-m", "vluchtelingen_in_beeld", *args]


def test_two_runs_into_one_folder_one_result_and_a_clear_message(statline, geo_folder, tmp_path):
    """The second run is refused while the first holds the folder; the first completes, and
    (against local servers named with --cbs-url and --pdok-url) no output names their
    address."""
    out = tmp_path / "run"
    lock = tmp_path / ".run.vib-lock"
    with ReplayServer(statline, boundaries=boundary_files(geo_folder)) as server:
        port = server.url.rsplit(":", 1)[1]
        base = ["run", "--cbs-url", server.url, "--pdok-url", server.url, "--draws", "100",
                "--out", str(out)]  # fmt: skip
        env = {**os.environ, "VIB_DATA_DIR": str(tmp_path / "store1")}
        first = subprocess.Popen(_vib(*base), env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)  # fmt: skip
        try:
            for _ in range(600):  # at most 60 s for the first to take the folder
                if lock.exists() or first.poll() is not None:
                    break
                time.sleep(0.1)
            assert lock.exists(), "the first run never took the folder"
            env2 = {**os.environ, "VIB_DATA_DIR": str(tmp_path / "store2")}
            second = subprocess.run(_vib(*base), env=env2, capture_output=True,
                                    text=True, timeout=120)  # fmt: skip
            said = second.stdout + second.stderr
            assert second.returncode == 1, said
            assert f"Another vib (process {first.pid}" in said and "is writing to" in said
            text, _ = first.communicate(timeout=600)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 0, text[-3000:]
        assert "bestanden geschreven" in text
        assert any("/wfs/" in r for r in server.requests)  # its boundaries: the local PDOK
    assert not lock.exists()
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    from vluchtelingen_in_beeld.access.store import sha256_file

    assert all(sha256_file(out / p) == d for p, d in manifest["outputs"].items())
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"127.0.0.1" not in data and f":{port}".encode() not in data, path
    assert "eigen server" in json.dumps(manifest)


def test_a_lock_of_a_process_that_no_longer_runs_is_taken_over(rank2025, tmp_path,
                                                                shared_session):  # fmt: skip
    from vluchtelingen_in_beeld import write_run
    from vluchtelingen_in_beeld.errors import ConfigError

    out = tmp_path / "run"
    lock = tmp_path / ".run.vib-lock"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(f"{alive.pid} 2026-12-06T10:00:00+00:00", "utf-8")
        with pytest.raises(ConfigError, match=rf"Another vib \(process {alive.pid}, since "):
            write_run(rank2025, out, settings=shared_session.settings)
        assert not out.exists() and lock.exists()
    finally:
        alive.kill()
        alive.wait(timeout=10)
    lock.write_text(f"{alive.pid} 2026-12-06T10:00:00+00:00", "utf-8")  # now dead
    write_run(rank2025, out, settings=shared_session.settings)
    assert (out / "manifest.json").is_file() and not lock.exists()


# --- no traceback, no hang ----------------------------------------------------------------------


def _deep(path: Path, depth: int = 100_000) -> Path:
    path.write_text("organisatie = " + "[" * depth + "]" * depth + "\n", "utf-8")
    return path


@pytest.mark.parametrize("command", ["afzender", "method validate", "method show", "rank"])
def test_a_toml_nested_100000_deep_is_a_message(command, tmp_path):
    deep = _deep(tmp_path / "diep.toml")
    args = {
        "afzender": ["pitch", "Zwolle", "--offline", "--afzender", str(deep)],
        "method validate": ["method", "validate", str(deep)],
        "method show": ["method", "show", str(deep)],
        "rank": ["rank", "--offline", "--method", str(deep)],
    }[command]
    r = cli(*args, env={"VIB_DATA_DIR": str(tmp_path / "store")})
    assert r.exit_code == 1, r.output
    assert "nests tables or arrays too deeply" in r.output and "diep.toml" in r.output


@pytest.mark.parametrize("where", ["--cbs-url", "VIB_PDOK_URL", "--pdok-url"])
def test_a_url_that_cannot_be_read_is_a_message(where, tmp_path):
    bad = "http://[::1"
    env = {"VIB_DATA_DIR": str(tmp_path / "store")}
    args = ["fetch", "--year", "2025"]
    if where == "VIB_PDOK_URL":
        env[where] = bad
    else:
        args += [where, bad]
    r = cli(*args, env=env)
    assert r.exit_code == 1, r.output
    assert f"{bad!r} is not usable: it cannot be read" in r.output


@pytest.mark.parametrize("logo", ["fifo", "/dev/zero", "folder"])
def test_a_logo_that_is_not_a_regular_file_is_refused_at_once(logo, tmp_path):
    target = tmp_path / "logo.png"
    if logo == "fifo":
        os.mkfifo(target)
    elif logo == "folder":
        target.mkdir()
    else:
        target.symlink_to(logo)
    sender = tmp_path / "afzender.toml"
    sender.write_text(SENDER + 'logo = "logo.png"\n', "utf-8")
    code = (
        "from vluchtelingen_in_beeld.render.sender import load_sender\n"
        "from vluchtelingen_in_beeld.errors import ConfigError\n"
        f"try:\n    load_sender({str(sender)!r})\n"
        "except ConfigError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # a FIFO used to block for ever  # fmt: skip
    kind = {"fifo": "a pipe (FIFO)", "/dev/zero": "a device", "folder": "a folder"}[logo]
    assert f"is {kind}; give a regular file" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0


def test_a_full_disk_names_the_path_and_keeps_nothing_half_written(statline, tmp_path):
    """A 64 KiB file system (tmpfs) cannot hold the estimate's tables."""
    tiny = tmp_path / "klein"
    tiny.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tiny)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr!r}); CI runs as root")
    try:
        env = {"VIB_DATA_DIR": str(tmp_path / "store")}
        r = cli("estimate", "--snapshot", str(statline), "--draws", "100",
                "--out", str(tiny / "e.csv"), env=env)  # fmt: skip
        assert r.exit_code == 1, r.output
        assert "The disk is full: could not write" in r.output and str(tiny) in r.output
        assert "Free space" in r.output
        assert list(tiny.iterdir()) == []  # nothing half-written
    finally:
        subprocess.run(["umount", str(tiny)], check=True)


def test_serve_prints_one_setting_for_both_feeds(statline, tmp_path):
    import selectors
    import socket

    help_text = cli("run", "--help").output
    assert "--pdok-url" in help_text and "--cbs-url" in help_text
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_vib("serve", str(statline), "--port", str(port)), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    said = ""
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while "VIB_PDOK_URL" not in said and time.monotonic() < deadline:
            if sel.select(timeout=1):  # the pipe's own bytes: no buffer hides what came
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                said += chunk.decode("utf-8", "replace")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    url = f"http://127.0.0.1:{port}"
    assert f"Use it with: vib run --cbs-url {url} --pdok-url {url}" in said, said
    assert f"VIB_CBS_URL={url} and VIB_PDOK_URL={url}" in said


# --- vib serve: its own files only, bounded work, bounded waits ----------------------------------


def _get(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_never_follows_a_link_out_of_the_snapshot(statline, tmp_path):
    import shutil

    from vluchtelingen_in_beeld.access.snapshot import snapshot_server

    secret = tmp_path / "geheim"  # a table folder outside the snapshot, with a secret in it
    shutil.copytree(statline / "86059NED", secret)
    (secret / "Wachtwoorden.json").write_text('[{"wachtwoord": "hunter2"}]', "utf-8")
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "86059NED").symlink_to(statline / "86059NED", target_is_directory=True)
    (snap / "GEHEIM").symlink_to(secret, target_is_directory=True)
    own = snap / "EIGEN"  # a real folder of the snapshot, one file of which is a link out
    shutil.copytree(statline / "86059NED", own)
    (own / "Wachtwoorden.json").symlink_to(secret / "Wachtwoorden.json")
    with snapshot_server(snap, 0) as (server, _):
        server.start()
        try:
            for path in ("86059NED/TableInfos", "GEHEIM/Wachtwoorden", "EIGEN/Wachtwoorden"):
                status, body = _get(f"{server.url}/ODataFeed/odata/{path}")
                assert status == 404 and b"hunter2" not in body, path
            assert _get(f"{server.url}/ODataFeed/odata/EIGEN/TableInfos")[0] == 200
        finally:
            server.stop()


def test_serve_bounds_a_filter_by_its_size_and_terms(fresh_replay):
    base = f"{fresh_replay.url}/ODataFeed/odata/86059NED/TypedDataSet?$filter="
    from urllib.parse import quote, quote_plus

    long = " or ".join(f"RegioS eq 'GM{i:04d}'" for i in range(2_300))  # 51 KB, as reported
    assert 50_000 < len(long) and len(quote_plus(long)) < 65_000  # under the line limit
    status, _ = _get(base + quote_plus(long))
    assert status == 413
    many = " or ".join(f"RegioS eq 'GM{i:04d}'" for i in range(300))  # 7 KB, 300 terms
    status, _ = _get(base + quote(many))
    assert status == 400
    fine = " or ".join(f"RegioS eq 'GM{i:04d}    '" for i in range(25))
    assert _get(base + quote(fine))[0] == 200


def test_serve_cuts_off_a_request_that_never_finishes_and_bounds_its_clients(statline):
    import socket

    with ReplayServer(statline, max_clients=2, header_timeout=0.5) as server:
        host, port = server.url.removeprefix("http://").split(":")
        idle = []
        for _ in range(2):  # two clients that start a request and never end it
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(b"GET /ODataFeed/odata/ HTTP/1.1\r\nHost: x\r\n")
            idle.append(s)
        status, _ = _get(f"{server.url}/ODataFeed/odata/")
        assert status == 503  # both places taken: refused at once, not queued
        for s in idle:
            assert s.recv(1024) == b""  # cut off at the header deadline (0.5 s), not never
            s.close()
        for _ in range(100):  # the places come free
            status, _ = _get(f"{server.url}/ODataFeed/odata/")
            if status == 200:
                break
            time.sleep(0.05)
        assert status == 200


def test_a_second_writer_of_the_store_waits_then_says_who_holds_it(tmp_path, monkeypatch):
    from vluchtelingen_in_beeld.access import store as store_module
    from vluchtelingen_in_beeld.access.store import Store
    from vluchtelingen_in_beeld.errors import StoreError

    monkeypatch.setattr(store_module, "LOCK_WAIT", 0.3)
    store = Store(tmp_path / "data")
    (tmp_path / "data").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "data" / ".lock").write_text(f"{holder.pid} 2026-12-06T10:00:00+00:00")
        with pytest.raises(StoreError, match=rf"Another vib \(process {holder.pid}, since "):
            store.write("T1", "k1", {"a.bin": b"x"}, {"kind": "extract"})
        assert list(store.entries()) == []
    finally:
        holder.kill()
        holder.wait(timeout=10)
    store.write("T1", "k1", {"a.bin": b"x"}, {"kind": "extract"})  # its holder is gone
    assert [e.manifest["key"] for e in store.entries()] == ["k1"]
    assert not (tmp_path / "data" / ".lock").exists()
