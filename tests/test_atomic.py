"""The one way to write (atomic.py): old or complete new, never half, never nothing."""

from __future__ import annotations

import os

import pytest

from vluchtelingen_in_beeld import atomic
from vluchtelingen_in_beeld.atomic import TEMP_NAME, building, recover, write_files


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    final = tmp_path / "uit"
    final.mkdir()
    (final / "oud.txt").write_text("oud")
    real = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder into place
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", second_fails)
    with pytest.raises(OSError, match="disk full"), building(final) as work:
        (work / "nieuw.txt").write_text("nieuw")
    assert (final / "oud.txt").read_text() == "oud"  # not left without a folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uit"]  # nothing left beside it


def test_a_symlinked_destination_is_replaced_and_its_target_kept(tmp_path):
    target = tmp_path / "elders"
    target.mkdir()
    (target / "van_de_gebruiker.txt").write_text("x")
    link = tmp_path / "uit"
    link.symlink_to(target, target_is_directory=True)
    with building(link) as work:
        (work / "nieuw.txt").write_text("nieuw")
    assert link.is_dir() and not link.is_symlink() and (link / "nieuw.txt").is_file()
    assert (target / "van_de_gebruiker.txt").read_text() == "x"  # the link's target untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elders", "uit"]


def test_recover_puts_back_a_folder_a_dead_process_left_mid_swap(tmp_path):
    final = tmp_path / "uit"
    old = tmp_path / ".uit.old-999999-deadbeef"  # pid 999999 does not run
    old.mkdir()
    (old / "a.txt").write_text("a")
    half = tmp_path / ".uit.tmp-999999-0badcafe"
    half.mkdir()
    assert TEMP_NAME.match(old.name) and TEMP_NAME.match(half.name)
    assert recover(final) == [half]
    assert (final / "a.txt").read_text() == "a" and not half.exists()


def test_write_files_is_all_or_nothing(tmp_path, monkeypatch):
    a, b = tmp_path / "a.csv", tmp_path / "a.csv.manifest.json"
    a.write_text("oud")
    real = os.replace
    moves = []

    def manifest_fails(src, dst):
        moves.append(dst)
        if str(dst).endswith("manifest.json"):
            raise OSError("no space")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", manifest_fails)
    with pytest.raises(OSError):
        write_files({a: b"nieuw", b: b"{}"})
    assert a.read_text() == "oud" and not b.exists()  # the table went back with its manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
