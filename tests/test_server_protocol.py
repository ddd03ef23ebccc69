"""The replay server speaks OData well enough for the real, unmodified cbsodata client."""

import json

import cbsodata

from vluchtelingen_in_beeld.access.server import ReplayServer


def host(server):
    return server.url.removeprefix("http://")


def test_get_data_swaps_keys_for_titles(replay, plain_http):
    rows = cbsodata.get_data(
        "85458NED",
        filters="RegioS eq 'GM0363' and Perioden eq '2025JJ00' and Herkomstland eq 'T001040' "
        "and Geboorteland eq 'T001638' and Leeftijd eq '10000'",
        catalog_url=host(replay),
    )
    assert len(rows) == 1
    assert rows[0]["RegioS"] == "Amsterdam"
    assert rows[0]["Bevolking_1"] > 900_000


def test_download_data_writes_the_snapshot_layout(replay, plain_http, tmp_path, statline):
    data = cbsodata.download_data(
        "85984NED", dir=str(tmp_path / "85984NED"), catalog_url=host(replay)
    )
    assert "TypedDataSet" in data and "UntypedDataSet" not in data
    written = sorted(p.name for p in (tmp_path / "85984NED").iterdir())
    original = sorted(p.name for p in (statline / "85984NED").iterdir())
    assert written == original
    ours = json.loads((tmp_path / "85984NED" / "TypedDataSet.json").read_text())
    theirs = json.loads((statline / "85984NED" / "TypedDataSet.json").read_text())
    assert ours == theirs


def test_listing_names_both_datasets(replay, plain_http):
    names = [t["name"] for t in cbsodata.get_meta("85458NED", "", catalog_url=host(replay))]
    assert "TypedDataSet" in names and "UntypedDataSet" in names


def test_paging_follows_next_link(statline, plain_http):
    with ReplayServer(statline, page_size=100) as server:
        rows = cbsodata.get_meta("85984NED", "TypedDataSet", catalog_url=host(server))
        assert len(rows) == 343
        data_requests = [r for r in server.requests if "TypedDataSet" in r]
        assert len(data_requests) == 4  # 100 + 100 + 100 + 43


def test_select_top_skip(replay):
    import requests

    r = requests.get(
        f"{replay.url}/ODataFeed/odata/85984NED/TypedDataSet",
        params={"$select": "WijkenEnBuurten,AantalInwoners_5", "$top": "2", "$skip": "1"},
        timeout=5,
    )
    value = r.json()["value"]
    assert len(value) == 2
    assert set(value[0]) == {"WijkenEnBuurten", "AantalInwoners_5"}
    assert value[0]["WijkenEnBuurten"].startswith("GM")


def test_untyped_dataset_is_strings(replay):
    import requests

    r = requests.get(
        f"{replay.url}/ODataFeed/odata/85984NED/UntypedDataSet", params={"$top": "1"}, timeout=5
    )
    assert r.json()["value"][0]["AantalInwoners_5"] == "17942942"


def test_unknown_table_is_404(replay):
    import requests

    r = requests.get(f"{replay.url}/ODataFeed/odata/99999XXX/", timeout=5)
    assert r.status_code == 404
    assert "odata.error" in r.json()


def test_bad_filter_is_400(replay):
    import requests

    r = requests.get(
        f"{replay.url}/ODataFeed/odata/85984NED/TypedDataSet", params={"$filter": "x eq"}, timeout=5
    )
    assert r.status_code == 400


def _tiny_snapshot(root, rows):
    """A made-up table of three gemeenten in cbsodata's download layout."""
    t = root / "99001NED"
    t.mkdir(parents=True, exist_ok=True)
    (t / "TableInfos.json").write_text(json.dumps([{"Identifier": "99001NED", "Title": "t"}]))
    props = [{"Key": "RegioS", "Type": "GeoDimension"}, {"Key": "Waarde_1", "Type": "Topic"}]
    (t / "DataProperties.json").write_text(json.dumps(props))
    (t / "RegioS.json").write_text(
        json.dumps([{"Key": k, "Title": k} for k in ("GM0001", "GM0002", "GM0003")])
    )
    (t / "TypedDataSet.json").write_text(json.dumps(rows))
    return root


def test_servers_of_one_process_parse_a_file_once_and_an_edited_file_again(tmp_path, monkeypatch):
    """The parsed rows and filtered answers are shared across servers (keyed by file version)."""
    import requests

    from vluchtelingen_in_beeld.access import server as srv

    reads = []
    real = srv._read_list
    monkeypatch.setattr(srv, "_read_list", lambda p: reads.append(p.name) or real(p))
    rows = [{"ID": i, "RegioS": f"GM000{i + 1}", "Waarde_1": i} for i in range(3)]
    root = _tiny_snapshot(tmp_path / "snap", rows)
    url = "/ODataFeed/odata/99001NED/TypedDataSet"
    flt = {"$filter": "RegioS eq 'GM0002'"}
    for _ in range(2):
        with ReplayServer(root) as server:
            got = requests.get(server.url + url, params=flt, timeout=5).json()["value"]
            assert [r["Waarde_1"] for r in got] == [1]
    assert reads.count("TypedDataSet.json") == 1  # the second server did not parse it again
    changed = [{**r, "Waarde_1": r["Waarde_1"] + 10} for r in rows]
    (root / "99001NED" / "TypedDataSet.json").write_text(json.dumps(changed) + " ")  # new size
    with ReplayServer(root) as server:
        got = requests.get(server.url + url, params=flt, timeout=5).json()["value"]
    assert [r["Waarde_1"] for r in got] == [11]  # the edited file, not the cached answer
    assert reads.count("TypedDataSet.json") == 2
