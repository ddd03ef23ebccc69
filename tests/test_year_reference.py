"""The gemeenten of the year are the reference: no answer that lacks one is ever stored.

Each kind of consistently bad answer (a server that gives it every time) is refused with a
message naming the table, the gemeente and the fix; nothing lands in the store; and the same
server, good again at the same address, then gives a run equal to a clean one. A gap CBS
really has (a suppressed bijstand figure) keeps the gemeente in every output, said as
"geen gegevens" with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.replay import Fault, FaultyReplay
from vluchtelingen_in_beeld.access.store import Store

from .conftest import cli, doctored_snapshot

BIJSTAND = "PersonenPerSoortUitkeringBijstand_87"


def _region(row: dict) -> str:
    return str(row.get("RegioS") or row.get("WijkenEnBuurten") or "").strip()


def _without(code: str):  # type: ignore[no-untyped-def]
    return lambda rows: [r for r in rows if _region(r) != code]


def _blank(code: str, value: object):  # type: ignore[no-untyped-def]
    def rewrite(rows: list[dict]) -> list[dict]:
        for r in rows:
            if _region(r) == code:
                r.update({k: value for k in r if k not in ("ID",) and k[0].isupper()
                          and k not in ("RegioS", "WijkenEnBuurten", "Perioden", "Geslacht",
                                        "Herkomstland", "Geboorteland", "Leeftijd")})  # fmt: skip
        return rows

    return rewrite


def _estimate(url: str, store: Path, out: Path):  # type: ignore[no-untyped-def]
    return cli("estimate", "--year", "2025", "--cbs-url", url, "--draws", "100",
               "--out", str(out), env={"VIB_DATA_DIR": str(store)})  # fmt: skip


@pytest.fixture(scope="module")
def clean_table(statline: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """`vib estimate` for 2025 against a good server: what every repaired run must equal."""
    tmp = tmp_path_factory.mktemp("clean")
    with FaultyReplay(statline) as server:
        r = _estimate(server.url, tmp / "store", tmp / "e.csv")
    assert r.exit_code == 0, r.output
    return pd.read_csv(tmp / "e.csv")


@pytest.mark.parametrize(
    ("name", "match", "rewrite", "says"),
    [
        ("gemeente missing", "85458NED/TypedDataSet", _without("GM0014"),
         r"85458NED: no figures for 1 gemeente of 2025 .*86059NED.*GM0014 \(Groningen\)"),
        ("empty answer", "85458NED/TypedDataSet", lambda rows: [],
         r"85458NED .*is empty; nothing was stored"),
        ("cells null", "85458NED/TypedDataSet", _blank("GM0014", None),
         r"85458NED: no figures for 1 gemeente .*GM0014 \(Groningen\)"),
        ("cells -99997", "85458NED/TypedDataSet", _blank("GM0014", -99997),
         r"85458NED: no figures for 1 gemeente .*GM0014 \(Groningen\)"),
        ("gebieden without one", "86059NED/TypedDataSet", _without("GM0014"),
         r"86059NED: no figures for 1 gemeente .*GM0014 \(Groningen\)"),
        ("bijstand row missing", "85984NED/TypedDataSet", _without("GM0014"),
         r"85984NED: no figures for 1 gemeente of 2025 .*GM0014 \(Groningen\)"),
    ],
)  # fmt: skip
def test_a_consistently_bad_answer_is_never_stored(
    statline, tmp_path, clean_table, name, match, rewrite, says
):
    with FaultyReplay(statline) as server:
        server.faults.append(Fault("rewrite", match=match, times=None, rows=rewrite))
        r = _estimate(server.url, tmp_path / "store", tmp_path / "e.csv")
        assert r.exit_code == 1, r.output
        flat = " ".join(r.output.split())
        assert re.search(says, flat), flat
        assert "nothing was stored" in flat
        assert re.search(r"[Tt]ry again later|run `?vib check", flat)  # the fix
        assert not (tmp_path / "e.csv").exists()
        table = match.split("/")[0]
        stored = [e.manifest.get("kind") for e in Store(tmp_path / "store").entries(table)]
        assert "extract" not in stored, stored
        # the same server, good again at the same address: a run equal to a clean run
        server.faults.clear()
        again = _estimate(server.url, tmp_path / "store", tmp_path / "e.csv")
        assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "e.csv"), clean_table)


def test_an_entry_stored_before_the_check_is_refused_with_the_fix(statline, tmp_path):
    """A store filled by an earlier version (an answer without GM0014) is not trusted."""
    from vluchtelingen_in_beeld.access.cbs import Expected, Query, Session, fetch, get_metadata
    from vluchtelingen_in_beeld.errors import CbsError

    from .conftest import make_settings

    q = Query.make("86059NED", prefixes={"RegioS": ["GM"]}, measures=("Code_1", "Naam_2"))
    with FaultyReplay(statline) as server:
        settings = make_settings(server.url, tmp_path / "store")
        meta = get_metadata(Session(settings), "86059NED")
        codes = tuple(k for k in meta.keys("RegioS") if k.startswith("GM"))
        server.faults.append(Fault("rewrite", match="86059NED/TypedDataSet", times=None,
                                   rows=_without("GM0014")))  # fmt: skip
        fetch(Session(settings), q)  # no reference: stored, as versions before this check did
        server.faults.clear()
        with pytest.raises(CbsError, match=r"GM0014.*Run again with `refresh`"):
            fetch(Session(settings), q, Expected("RegioS", codes, "2025 (test)"))
        fixed = fetch(Session(settings.with_(refresh=True)), q, Expected("RegioS", codes, "t"))
        assert len(fixed.frame) == len(codes) == 342


def test_the_store_cleanup_removes_only_its_own_leftovers(tmp_path):
    """`.tmp` may hold a user's file: only names of the tool's pattern, of dead processes, go."""
    store = Store(tmp_path)
    (tmp_path / ".tmp").mkdir()
    mine = tmp_path / ".tmp" / ".KEY.tmp-999999999-0123abcd"  # a dead process's leftover
    mine.mkdir()
    users = tmp_path / ".tmp" / "aantekeningen.txt"
    users.write_text("van mij", "utf-8")
    removed = store.clean_stale()
    assert removed == [mine]
    assert users.read_text("utf-8") == "van mij"


def test_a_suppressed_bijstand_figure_stays_in_every_output(statline, geo_folder, tmp_path):
    """A gemeente without a bijstand figure (CBS gives none) is in the tables, the map, the
    index and the console, as "geen gegevens" with the reason; the estimate keeps it."""

    def suppress(rows: list[dict]) -> list[dict]:
        for r in rows:
            if _region(r) == "GM0014":
                r[BIJSTAND] = None
        return rows

    snap = doctored_snapshot(statline, tmp_path / "snap" / "statline", rows={"85984NED": suppress})
    (tmp_path / "snap" / "geo").symlink_to(geo_folder.parent, target_is_directory=True)
    out = tmp_path / "run"
    r = cli("run", "--snapshot", str(snap), "--draws", "100", "--out", str(out),
            env={"VIB_DATA_DIR": str(tmp_path / "store")})  # fmt: skip
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    said = "bijstandscijfer: CBS geeft het niet; telt niet mee in de lokale spreiding"
    assert f"Geen gegevens: Groningen (GM0014): {said}" in flat
    # the note says it in Dutch (it once said "lacks a bijstand figure for 1 gemeente(n)")
    assert "85984NED geeft geen bijstandscijfer voor 1 gemeente (Groningen)" in flat
    assert "gemeente(n)" not in flat and "lacks" not in flat and "figure" not in flat
    table = pd.read_csv(out / "tabellen" / "schatting_2025.csv").set_index("gemeentecode")
    assert len(table) == 342 and table.loc["GM0014", "werkzoekend"] > 0
    assert table["geen_gegevens"].dropna().to_dict() == {"GM0014": said}
    index = (out / "index.html").read_text("utf-8")
    assert re.search(r'id="geen-gegevens".*Groningen \(GM0014\): ' + re.escape(said), index, re.S)
    kaart = (out / "kaarten" / "werkzoekend_gemeente_2025.html").read_text("utf-8")
    assert kaart.count(said) == 1 and kaart.count("compleet") == 341

    # with the local factor on (card lokaal), the gemeente keeps the national shares
    from vluchtelingen_in_beeld.access.cbs import Session
    from vluchtelingen_in_beeld.access.snapshot import snapshot_settings
    from vluchtelingen_in_beeld.settings import Settings
    from vluchtelingen_in_beeld.workflow.pipeline import estimate_year

    settings = snapshot_settings(Settings(data_dir=tmp_path / "store"), snap)
    with FaultyReplay(snap) as server:
        est = estimate_year(Session(settings.with_(cbs_url=server.url, offline=True)), 2025,
                            "lokaal", draws=100)  # fmt: skip
    t = est.table.set_index("gemeentecode")
    assert t.loc["GM0014", "geen_gegevens"] == (
        "bijstandscijfer: CBS geeft het niet; landelijke aandelen, geen lokale factor"
    )
    assert est.local is not None and est.local["GM0014"] == pytest.approx(1.0)
