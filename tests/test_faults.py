"""CBS misbehaving: every fault ends in a clear error or a successful retry, never a
half-written store entry; the next good run succeeds."""

import pytest

from tests.replay import Fault
from vluchtelingen_in_beeld.access.cbs import Session, fetch
from vluchtelingen_in_beeld.access.store import Store
from vluchtelingen_in_beeld.errors import CbsUnavailableError, UnknownTableError

from .conftest import make_settings
from .test_cbs_fetch import national_population


def assert_store_clean(root):
    store = Store(root)
    assert store.incomplete() == []
    assert not any((root / ".tmp").iterdir()) if (root / ".tmp").exists() else True


def good_run_after(server, root):
    server.faults.clear()
    x = fetch(Session(make_settings(server.url, root)), national_population(2025))
    assert x.frame.set_index("RegioS").loc["NL01", "Bevolking_1"] == 18_044_027


@pytest.mark.parametrize("kind", ["500", "drop", "truncate"])
def test_one_fault_then_success(fresh_replay, tmp_path, kind):
    fresh_replay.faults.append(Fault(kind, "TypedDataSet", times=1))
    x = fetch(Session(make_settings(fresh_replay.url, tmp_path)), national_population(2025))
    assert len(x.frame) == 343
    assert sum("TypedDataSet" in r for r in fresh_replay.requests) == 2
    assert_store_clean(tmp_path)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("500", "after 3 attempt.*`offline`"),
        ("drop", "connection failed"),
        ("truncate", "not complete JSON"),
    ],
)
def test_persistent_fault_is_a_clear_error(fresh_replay, tmp_path, kind, message):
    fresh_replay.faults.append(Fault(kind, "TypedDataSet", times=None))
    with pytest.raises(CbsUnavailableError, match=message):
        fetch(Session(make_settings(fresh_replay.url, tmp_path)), national_population(2025))
    assert list(Store(tmp_path).entries("85458NED"))  # metadata entry only
    assert all(e.manifest["kind"] == "metadata" for e in Store(tmp_path).entries())
    assert_store_clean(tmp_path)
    good_run_after(fresh_replay, tmp_path)


def test_hang_times_out(fresh_replay, tmp_path):
    fresh_replay.faults.append(Fault("hang", "TypedDataSet", times=None, seconds=3))
    settings = make_settings(fresh_replay.url, tmp_path, timeout=0.3, retries=1)
    with pytest.raises(CbsUnavailableError, match=r"no answer within 0.3 s.*`timeout`"):
        fetch(Session(settings), national_population(2025))
    assert_store_clean(tmp_path)
    good_run_after(fresh_replay, tmp_path)


def test_row_limit_refusal_splits_the_request(statline, tmp_path):
    """Over the row limit CBS answers 500; the request is halved until each half passes.

    On the small Kerncijfers table (343 rows, so each split is cheap): 40 gemeenten asked
    for by key with a limit of 10 rows: 40 -> 2 × 20 -> 4 × 10, each refused answer split.
    """
    import json

    from vluchtelingen_in_beeld.access.cbs import Query
    from vluchtelingen_in_beeld.access.server import ReplayServer

    rows = json.loads((statline / "85984NED" / "TypedDataSet.json").read_text("utf-8"))
    codes = sorted(
        r["WijkenEnBuurten"].strip() for r in rows if r["WijkenEnBuurten"].startswith("GM")
    )
    q = Query.make("85984NED", keys={"WijkenEnBuurten": codes[:40]})
    with ReplayServer(statline, refuse_over=10) as server:
        x = fetch(Session(make_settings(server.url, tmp_path)), q)
        asked = [r for r in server.requests if "TypedDataSet" in r]
    assert len(x.frame) == 40
    assert sorted(x.frame["WijkenEnBuurten"]) == codes[:40]
    assert len(asked) == 1 + 2 + 4  # the whole, its halves, their halves (answered)
    assert x.frame.drop_duplicates().shape[0] == len(x.frame)
    assert_store_clean(tmp_path)


def test_row_limit_refusal_splits_a_request_by_prefixes(statline, tmp_path):
    """Without keys to halve, the list of region prefixes is halved (and each half kept)."""
    import json

    from vluchtelingen_in_beeld.access.cbs import Query
    from vluchtelingen_in_beeld.access.server import ReplayServer

    rows = json.loads((statline / "85984NED" / "TypedDataSet.json").read_text("utf-8"))
    prefixes = ["GM00", "GM01", "GM02", "GM03"]
    want = sorted(
        r["WijkenEnBuurten"].strip()
        for r in rows
        if r["WijkenEnBuurten"].startswith(tuple(prefixes))
    )
    q = Query.make("85984NED", prefixes={"WijkenEnBuurten": prefixes})
    most = max(sum(c.startswith(p) for c in want) for p in prefixes)
    with ReplayServer(statline, refuse_over=most) as server:  # one prefix at a time passes
        x = fetch(Session(make_settings(server.url, tmp_path)), q)
        asked = [r for r in server.requests if "TypedDataSet" in r]
    assert sorted(x.frame["WijkenEnBuurten"]) == want  # every prefix's rows, nothing else
    assert len(asked) == 1 + 2 + 4  # the whole, two halves of the list, then one prefix each
    assert_store_clean(tmp_path)


def test_unknown_table_id(fresh_replay, tmp_path):
    from vluchtelingen_in_beeld.access.cbs import Query

    with pytest.raises(UnknownTableError, match="'12345XYZ' does not exist"):
        fetch(Session(make_settings(fresh_replay.url, tmp_path)), Query.make("12345XYZ"))
    assert_store_clean(tmp_path)
    good_run_after(fresh_replay, tmp_path)


def test_corrupted_entry_is_refetched(fresh_replay, tmp_path):
    s = Session(make_settings(fresh_replay.url, tmp_path))
    x = fetch(s, national_population(2025))
    rows = next(p for p in tmp_path.rglob("rows.parquet"))
    rows.write_bytes(rows.read_bytes()[:100])
    y = fetch(Session(make_settings(fresh_replay.url, tmp_path)), national_population(2025))
    assert not y.from_store and len(y.frame) == len(x.frame)
