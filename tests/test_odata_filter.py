import pytest

from vluchtelingen_in_beeld.access.odata_filter import FilterSyntaxError, compile_filter, quote

ROWS = [
    {"RegioS": "GM0363  ", "Perioden": "2025JJ00", "n": 5},
    {"RegioS": "NL01    ", "Perioden": "2025JJ00", "n": 50},
    {"RegioS": "GM0518  ", "Perioden": "2024JJ00", "n": None},
]


def pick(text):
    pred = compile_filter(text)
    return [r["RegioS"].strip() for r in ROWS if pred(r)]


def test_eq_and_or_parentheses():
    assert pick("Perioden eq '2025JJ00'") == ["GM0363", "NL01"]
    assert pick("(RegioS eq 'GM0363  ' or RegioS eq 'GM0518  ') and Perioden eq '2024JJ00'") == [
        "GM0518"
    ]


def test_padding_matters_for_eq_like_cbs():
    assert pick("RegioS eq 'GM0363'") == []


def test_functions_and_not():
    assert pick("startswith(RegioS,'GM')") == ["GM0363", "GM0518"]
    assert pick("substringof('0518',RegioS)") == ["GM0518"]
    assert pick("not startswith(RegioS,'GM')") == ["NL01"]


def test_numbers_and_null():
    assert pick("n gt 10") == ["NL01"]
    assert pick("n eq null") == ["GM0518"]


def test_empty_filter_selects_all():
    assert len(pick("")) == 3


@pytest.mark.parametrize(
    "bad", ["Perioden eq", "Perioden foo '1'", "(Perioden eq '1'", "startswith(RegioS)"]
)
def test_syntax_errors(bad):
    with pytest.raises(FilterSyntaxError):
        compile_filter(bad)


def test_quote_escapes():
    assert quote("'s-Gravenhage") == "'''s-Gravenhage'"
    assert pick(f"RegioS eq {quote('x')}") == []
