"""A small parser for the OData v3 ``$filter`` language, as CBS StatLine accepts it.

Supports what ``cbsodata`` users and this project send: comparisons (``eq ne gt ge lt le``)
of a field with a string, number or ``null``; ``and``, ``or``, ``not`` and parentheses; and
the functions ``startswith(Field,'x')``, ``endswith(Field,'x')`` and
``substringof('x',Field)``. Used by the replay server; the client builds filters itself.

Beside the predicate, :func:`plan_filter` says which text a row's JSON must contain to
pass (``"GM0014"`` for ``RegioS eq 'GM0014'``): the replay server finds those rows in a
table's file by a byte search instead of parsing every row (:class:`Plan`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]
#: Alternatives, each a set of JSON texts of which a passing row holds at least one.
Needs = list[frozenset[str]]
#: A value whose JSON text is itself in quotes, whatever writer wrote the file.
_PLAIN = re.compile(r"[A-Za-z0-9_.:+-]{1,64}")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<lp>\() | (?P<rp>\)) | (?P<comma>,)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_FUNCS = {"startswith", "endswith", "substringof"}


class FilterSyntaxError(ValueError):
    """The filter text is not valid OData."""


def _tokenize(text: str) -> list[tuple[str, Any]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(
                f"unexpected character at position {pos}: {text[pos : pos + 20]!r}"
            )
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)  # type: ignore[arg-type]
        if kind == "str":
            out.append(("lit", value[1:-1].replace("''", "'")))
        elif kind == "num":
            out.append(("lit", float(value) if "." in value else int(value)))
        elif kind == "word" and value == "null":
            out.append(("lit", None))
        else:
            out.append((kind, value))  # type: ignore[arg-type]
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], known: frozenset[str] | None = None):
        self.tokens = tokens
        self.i = 0
        self.known = known
        self.dropped: list[str] = []

    def _unknown(self, field: str) -> bool:
        """A field the table does not have: CBS drops such a clause without a word."""
        if self.known is None or field in self.known:
            return False
        self.dropped.append(field)
        return True

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise FilterSyntaxError("filter ends too early")
        if (kind and tok[0] != kind) or (value and str(tok[1]).lower() != value):
            raise FilterSyntaxError(f"expected {value or kind}, found {tok[1]!r}")
        self.i += 1
        return tok

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and str(tok[1]).lower() in words

    def parse(self) -> tuple[Predicate, Needs]:
        pred, needs = self.or_expr()
        if self.peek() is not None:
            raise FilterSyntaxError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return pred, needs

    def or_expr(self) -> tuple[Predicate, Needs]:
        parts = [self.and_expr()]
        while self.at_word("or"):
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        preds = [p for p, _ in parts]
        # a passing row passes one part: it holds a text of that part's smallest set
        needs: Needs = []
        if all(n for _, n in parts):
            needs = [frozenset().union(*(min(n, key=len) for _, n in parts))]
        equals = [p for p in preds if isinstance(p, _Equal)]
        if len(equals) == len(preds) and len({p.field for p in equals}) == 1:
            # one field equal to one of some values: one set lookup
            return _Equal(equals[0].field, frozenset().union(*(p.values for p in equals))), needs

        def any_part(row: Row) -> bool:
            for p in preds:
                if p(row):
                    return True
            return False

        return any_part, needs

    def and_expr(self) -> tuple[Predicate, Needs]:
        parts = [self.not_expr()]
        while self.at_word("and"):
            self.take()
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]
        preds = [p for p, _ in parts]

        def every_part(row: Row) -> bool:
            for p in preds:
                if not p(row):
                    return False
            return True

        # a passing row passes every part: each part's sets hold for it
        return every_part, [s for _, n in parts for s in n]

    def not_expr(self) -> tuple[Predicate, Needs]:
        if self.at_word("not"):
            self.take()
            inner, _ = self.not_expr()
            return (lambda row: not inner(row)), []
        return self.primary()

    def primary(self) -> tuple[Predicate, Needs]:
        tok = self.peek()
        if tok is None:
            raise FilterSyntaxError("filter ends too early")
        if tok[0] == "lp":
            self.take()
            inner = self.or_expr()
            self.take("rp")
            return inner
        if tok[0] == "word" and str(tok[1]).lower() in _FUNCS:
            return self.function()
        if tok[0] == "word":
            field = self.take()[1]
            op = str(self.take("word")[1]).lower()
            if op not in _COMPARE:
                raise FilterSyntaxError(f"unknown operator {op!r}")
            lit = self.take("lit")[1]
            cmp = _COMPARE[op]
            if self._unknown(field):
                return (lambda row: True), []
            plain = op == "eq" and isinstance(lit, str) and _PLAIN.fullmatch(lit)
            needs = [frozenset({f'"{lit}"'})] if plain else []
            if op == "eq" and isinstance(lit, (str, int, float)):
                return _Equal(field, frozenset({lit})), needs
            return (lambda row: cmp(row.get(field), lit)), needs
        raise FilterSyntaxError(f"unexpected {tok[1]!r}")

    def function(self) -> tuple[Predicate, Needs]:
        name = str(self.take()[1]).lower()
        self.take("lp")
        args = [self.take()]
        while self.peek() is not None and self.peek()[0] == "comma":  # type: ignore[index]
            self.take()
            args.append(self.take())
        self.take("rp")
        if len(args) != 2:
            raise FilterSyntaxError(f"{name} takes two arguments")
        if name == "substringof":
            (lk, lit), (fk, field) = args
        else:
            (fk, field), (lk, lit) = args
        if fk != "word" or lk != "lit" or not isinstance(lit, str):
            raise FilterSyntaxError(f"{name} wants a field and a string")
        if self._unknown(field):
            return (lambda row: True), []
        if name == "startswith":
            needs = [frozenset({f'"{lit}'})] if _PLAIN.fullmatch(lit) else []
            return (
                lambda row: isinstance(row.get(field), str) and row[field].startswith(lit)
            ), needs
        if name == "endswith":
            return (lambda row: isinstance(row.get(field), str) and row[field].endswith(lit)), []
        return (lambda row: isinstance(row.get(field), str) and lit in row[field]), []


class _Equal:
    """``field eq v`` for one of ``values``: a set lookup, and mergeable under ``or``."""

    __slots__ = ("field", "values")

    def __init__(self, field: str, values: frozenset[Any]) -> None:
        self.field, self.values = field, values

    def __call__(self, row: Row) -> bool:
        try:
            return row.get(self.field) in self.values
        except TypeError:  # an unhashable value (a list) equals no literal
            return False


@dataclass(frozen=True)
class Plan:
    """A compiled filter: its predicate, and what a passing row's JSON text must hold.

    ``needs`` lists alternatives: each is a set of texts (a quoted plain value such as
    ``"GM0014"``, or the start of one, ``"GM``) of which every passing row holds at least
    one. Only plain values (letters, digits, ``_.:+-``) are used: their JSON text is the same
    whoever wrote the file. A row found by a text is still checked by the predicate.
    """

    predicate: Predicate
    needs: Needs


def plan_filter(text: str, known: frozenset[str] | set[str] | None = None) -> Plan:
    """The :class:`Plan` of an OData ``$filter`` text (see :func:`compile_filter`)."""
    if not text or not text.strip():
        return Plan(lambda row: True, [])
    parser = _Parser(_tokenize(text), frozenset(known) if known is not None else None)
    return Plan(*parser.parse())


def compile_filter(text: str, known: frozenset[str] | set[str] | None = None) -> Predicate:
    """Compile an OData ``$filter`` text into a predicate over a row (a mapping).

    With ``known`` (the table's properties), a comparison on any other property is treated
    as true, i.e. dropped, which is what CBS's feed does (HTTP 200, unfiltered rows).
    """
    return plan_filter(text, known).predicate


def quote(value: str) -> str:
    """An OData string literal."""
    return "'" + value.replace("'", "''") + "'"
