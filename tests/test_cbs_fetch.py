"""The data layer against the shared snapshot, through the package's own pager."""

import pytest

from vluchtelingen_in_beeld.access import tables as T
from vluchtelingen_in_beeld.access.cbs import Query, Session, fetch, get_metadata
from vluchtelingen_in_beeld.errors import (
    CbsError,
    MetadataError,
    OfflineMissError,
    UnknownTableError,
)

from .conftest import make_settings


def national_population(year):
    return Query.make(
        "85458NED",
        keys={
            "Perioden": [T.period_key(year)],
            "Herkomstland": [T.HERKOMST_TOTAAL],
            "Geboorteland": [T.GEBOORTELAND_TOTAAL],
            "Leeftijd": [T.LEEFTIJD_TOTAAL],
            "Geslacht": [T.GESLACHT_TOTAAL],
        },
        prefixes={"RegioS": ["NL", "GM"]},
    )


def test_real_national_population_2025(session):
    x = fetch(session, national_population(2025))
    f = x.frame.set_index("RegioS")
    assert f.loc["NL01", "Bevolking_1"] == 18_044_027
    assert len(f) == 343
    # keys stripped, title available separately
    assert "GM0363" in f.index
    assert x.meta.titles("RegioS")["GM0363"] == "Amsterdam"
    assert not x.from_store


def test_real_national_bijstand(session):
    meta = get_metadata(session, "85984NED")
    bij = T.resolve_measure(meta.properties, T.KEY_FIGURES.measure("bijstand").path)
    assert bij == "PersonenPerSoortUitkeringBijstand_87"
    x = fetch(session, Query.make("85984NED", prefixes={"WijkenEnBuurten": ["NL"]}, measures=[bij]))
    assert x.frame[bij].tolist() == [405_770]
    assert list(x.frame.columns) == ["WijkenEnBuurten", bij]


@pytest.mark.parametrize("table", ["85755NED", "86059NED"])
def test_regions_resolved_by_topic_group_titles(session, table):
    """Gemeente code under "Codes en namen van gemeenten", each classification in its own
    group inside "Lokaliseringen van gemeenten" (the old registry looked for "Gemeenten")."""
    meta = get_metadata(session, table)
    keys = {m.role: T.resolve_measure(meta.properties, m.path) for m in T.REGIONS.measures}
    assert keys["gemeente_code"] == "Code_1" and keys["gemeente_naam"] == "Naam_2"
    assert keys["arbeidsmarktregio_code"] == "Code_4"
    assert keys["landsdeel_code"] == "Code_24"
    assert keys["provincie_naam"] == "Naam_35"


def _props(*rows):
    return [
        {"ID": i, "ParentID": parent, "Type": kind, "Key": key, "Title": title}
        for i, (parent, kind, key, title) in enumerate(rows)
    ]


def test_resolve_by_title_path_whatever_the_keys_and_nesting():
    """A later edition renumbers keys and nests a classification one level deeper."""
    props = _props(
        (None, "TopicGroup", "", "Codes en namen van gemeenten"),  # 0
        (0, "Topic", "Code_1", "Code"),  # 1
        (None, "TopicGroup", "", "Lokaliseringen van gemeenten"),  # 2
        (2, "TopicGroup", "", "Arbeidsmarkt"),  # 3: an extra level
        (3, "TopicGroup", "", "Arbeidsmarktregio's"),  # 4
        (4, "Topic", "Code_77", "Code"),  # 5
        (2, "TopicGroup", "", "Provincies"),  # 6
        (6, "Topic", "Code_91", "Code  "),  # 7: padded title
    )
    path = (T._LOCATIES, "Arbeidsmarktregio's", "Code")
    assert T.resolve_measure(props, path) == "Code_77"
    assert T.resolve_measure(props, (T._LOCATIES, "Provincies", "code")) == "Code_91"
    assert T.resolve_measure(props, (T._GEMEENTEN, "Code")) == "Code_1"
    with pytest.raises(MetadataError, match="ambiguous.*Code_1.*Code_77.*Code_91"):
        T.resolve_measure(props, ("Code",))
    with pytest.raises(MetadataError, match="No measure titled.*COROP"):
        T.resolve_measure(props, (T._LOCATIES, "COROP-gebieden", "Code"))
    # groups in the wrong order do not match
    with pytest.raises(MetadataError, match="No measure titled"):
        T.resolve_measure(props, ("Arbeidsmarktregio's", T._LOCATIES, "Code"))


def test_empty_answer_is_refused_and_never_stored(statline_no_bands_2024, doctored_session):
    """CBS answers [] for a key it lacks: as a probe that is "none" (columns kept, not
    stored); as data it is refused and nothing lands in the store."""
    session = doctored_session(statline_no_bands_2024)
    q = Query.make(
        "85458NED",
        keys={
            "Perioden": ["2024JJ00"],
            "Herkomstland": ["H008533"],
            "Geboorteland": ["A051736"],
            "Leeftijd": ["70400"],
            "Geslacht": ["T001038"],
        },
        prefixes={"RegioS": ["GM0363"]},
    )
    # the doctored copy has no 2024 age bands for refugee countries
    x = fetch(session, q, probe=True)
    assert x.frame.empty
    assert "Bevolking_1" in x.frame.columns and "RegioS" in x.frame.columns
    key = q.store_key(session.settings.source)
    assert session.store.read("85458NED", key) is None
    with pytest.raises(CbsError, match="empty; nothing was stored"):
        fetch(session, q)
    assert session.store.read("85458NED", key) is None


def test_nulls_stay_missing(session):
    """A CBS null ("geheim", not published) must stay missing, never become 0."""
    from vluchtelingen_in_beeld.access.cbs import rows_to_frame

    meta = get_metadata(session, "85984NED")
    rows = [
        {"ID": 0, "WijkenEnBuurten": "GM0001    ", "AantalInwoners_5": None},
        {"ID": 1, "WijkenEnBuurten": "GM0002    ", "AantalInwoners_5": 12},
        # CBS's placeholder codes for suppressed KWB figures are not numbers
        {"ID": 2, "WijkenEnBuurten": "GM0003    ", "AantalInwoners_5": -99997},
        {"ID": 3, "WijkenEnBuurten": "GM0004    ", "AantalInwoners_5": "-99995"},
        {"ID": 4, "WijkenEnBuurten": "GM0005    ", "AantalInwoners_5": -99999},
        {"ID": 5, "WijkenEnBuurten": "GM0006    ", "AantalInwoners_5": -5},
    ]
    f = rows_to_frame(rows, meta, ("AantalInwoners_5",))
    assert f["WijkenEnBuurten"].tolist()[:2] == ["GM0001", "GM0002"]
    assert f["AantalInwoners_5"].isna().tolist() == [True, False, True, True, True, False]
    assert f["AantalInwoners_5"].tolist()[-1] == -5
    assert str(f["AantalInwoners_5"].dtype) == "Int64"


def test_over_10000_rows_fetched_completely(session, replay):
    before = len(replay.requests)
    q = Query.make(
        "85458NED",
        keys={
            "Perioden": ["2025JJ00"],
            "Herkomstland": ["H008533", "H008753"],
            "Geboorteland": ["A051736"],
            "Geslacht": ["T001038"],
        },
        prefixes={"RegioS": ["GM"]},
    )
    x = fetch(session, q)
    assert len(x.frame) == 2 * 7182
    pages = [r for r in replay.requests[before:] if "TypedDataSet" in r]
    assert len(pages) == 2  # one nextLink page


def test_store_hit_needs_no_network(replay, tmp_path):
    settings = make_settings(replay.url, tmp_path)
    fetch(Session(settings), national_population(2025))
    dead = make_settings("http://127.0.0.1:9", tmp_path, retries=0)  # nothing listens there
    x = fetch(Session(dead), national_population(2025))
    assert x.from_store and len(x.frame) == 343
    x = fetch(Session(dead.with_(offline=True)), national_population(2025))
    assert x.from_store


def test_offline_without_store_says_what_to_do(tmp_path):
    settings = make_settings("http://127.0.0.1:9", tmp_path, offline=True)
    with pytest.raises(OfflineMissError, match="without `offline`"):
        fetch(Session(settings), national_population(2025))


def test_refresh_fetches_again(replay, tmp_path):
    settings = make_settings(replay.url, tmp_path)
    fetch(Session(settings), national_population(2025))
    n = len(replay.requests)
    x = fetch(Session(settings.with_(refresh=True)), national_population(2025))
    assert not x.from_store and len(replay.requests) > n


def test_period_not_in_table_lists_available(session):
    with pytest.raises(MetadataError, match="Available periods: 2023JJ00, 2024JJ00, 2025JJ00"):
        fetch(session, national_population(2019))


def test_unknown_dimension_key(session):
    q = Query.make("85458NED", keys={"Herkomstland": ["H999999"], "Perioden": ["2025JJ00"]})
    with pytest.raises(MetadataError, match="H999999.*Herkomstland"):
        fetch(session, q)


def test_unknown_dimension(session):
    q = Query.make("85458NED", keys={"Herkomst": ["T001040"]})
    with pytest.raises(MetadataError, match="Did you mean 'Herkomstland'"):
        fetch(session, q)


def test_unknown_table(session):
    with pytest.raises(UnknownTableError, match="does not exist"):
        fetch(session, Query.make("99999NED", keys={"Perioden": ["2025JJ00"]}))


def test_filter_requests_a_small_fraction(session):
    x = fetch(session, national_population(2025))
    assert x.manifest["cells"] / x.manifest["table_cells"] < 0.01
