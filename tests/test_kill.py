"""Killing a fetch half-way leaves the store consistent, and the next run completes it."""

import os
import signal
import subprocess
import sys
import time

from tests.replay import Fault, FaultyReplay
from vluchtelingen_in_beeld.access.store import Store


def test_kill_mid_fetch(statline, tmp_path):
    store_dir = tmp_path / "store"
    with FaultyReplay(statline) as server:
        server.faults.append(Fault("slow", "TypedDataSet", times=None, seconds=1.5))
        cmd = [
            sys.executable,
            "-m",
            "vluchtelingen_in_beeld",
            "fetch",
            "--year",
            "2025",
            "--cbs-url",
            server.url,
            "--data-dir",
            str(store_dir),
            "--retries",
            "0",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        # wait until the first data page has been asked for: metadata stored, rows in flight
        while not any("TypedDataSet" in r for r in server.requests):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "fetch never reached the data request"
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

        store = Store(store_dir)
        assert store.incomplete() == []
        kinds = sorted(e.manifest["kind"] for e in store.entries())
        assert "extract" not in kinds[:-1] and kinds.count("extract") <= 1
        n_extracts_before = kinds.count("extract")

        server.faults.clear()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # the year's gemeenten (Gebieden), population by group, totals, non-European-born,
        # bijstand
        assert f"{5 - n_extracts_before} uittreksel(s) gehaald" in done.stdout
        assert store.incomplete() == []
        assert sorted(e.manifest["kind"] for e in store.entries()).count("extract") == 5


def test_leftovers_of_a_dead_writer_are_cleaned(tmp_path):
    store = Store(tmp_path)
    dead = tmp_path / ".tmp" / ".abc.tmp-999999-deadbeef"  # pid 999999 does not run
    dead.mkdir(parents=True)
    (dead / "rows.parquet").write_bytes(b"half")
    theirs = tmp_path / ".tmp" / "abc-999999-deadbeef"  # not the tool's pattern: left alone
    theirs.mkdir()
    store.write("T1", "k1", {"a.bin": b"x"}, {"kind": "extract"})
    assert not dead.exists() and theirs.is_dir()
    assert [e.manifest["key"] for e in store.entries()] == ["k1"]


def test_manifest_without_files_is_not_an_entry(tmp_path):
    store = Store(tmp_path)
    entry = store.write("T1", "k1", {"a.bin": b"x"}, {"kind": "extract"})
    (entry.path / "a.bin").unlink()
    assert store.read("T1", "k1") is None
    assert store.incomplete() == [entry.path]
