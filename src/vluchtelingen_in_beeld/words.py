"""The one renderer of words: structured facts in, Dutch sentences out.

Reasons, near-ties, prices, infeasibility and the chance of selection are facts (small
dicts of names and numbers, made by :mod:`.rank` and :mod:`.selection`, each backed by a
re-solve). Turning them into Dutch happens only here, through the macros of
``phrases.j2``: the CSV's ``reden``, the console, the pitch pages, the index and the
selectieverkenner all say what these macros say. The selectieverkenner renders the same
template in the browser with nunjucks (its filters in
``render/templates/verkenner/format.js`` are :mod:`.fmt`'s twins), and a golden-case test
compares the two word for word.

Whitespace in the template is free: a rendered phrase is collapsed to single spaces.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from vluchtelingen_in_beeld.fmt import (
    is_small,
    nl_about,
    nl_about_between,
    nl_about_diff,
    nl_about_eur,
    nl_about_range,
    nl_dec,
    nl_int,
    nl_list,
    nl_num,
    nl_pct,
    nl_prob,
    nl_share,
)

#: The template of every phrase, inside the package.
TEMPLATE = "phrases.j2"
_SPACE = re.compile(r"[ \t\r\n]+")


def _about_dec(x: Any) -> str:
    return nl_about(x, count=False)


def _dec2(x: Any) -> str:
    return nl_dec(x, 2)


def _pcts(xs: Any) -> str:
    """``[0.1, 0.25, 0.5]`` -> ``"10%, 25% en 50%"``."""
    return nl_list([nl_pct(x) for x in xs])


#: The filters of ``phrases.j2``: name -> function (``format.js`` has the same names).
FILTERS = {
    "about": nl_about,
    "about_dec": _about_dec,
    "share": nl_share,
    "pct": nl_pct,
    "prob": nl_prob,
    "list": nl_list,
    "eur": nl_about_eur,
    "whole": nl_int,
    "num": nl_num,
    "between": nl_about_between,
    "range": nl_about_range,
    "diff": nl_about_diff,
    "small": is_small,
    "dec2": _dec2,
    "pcts": _pcts,
}


def source() -> str:
    """The text of ``phrases.j2`` (the selectieverkenner carries it)."""
    root = resources.files("vluchtelingen_in_beeld") / TEMPLATE
    return root.read_text("utf-8")


@functools.cache
def _module() -> Any:
    # lazy: jinja2: +0.14 s for every command, only rendering needs it
    import jinja2

    env = jinja2.Environment(
        autoescape=False,  # plain text; the pages escape it where they put it
        undefined=jinja2.StrictUndefined,  # a fact without a key fails, never says ""
    )
    env.filters.update(FILTERS)
    return env.from_string(source()).module


def tidy(text: str) -> str:
    """A rendered phrase on one line: runs of whitespace become one space."""
    return _SPACE.sub(" ", str(text)).strip()


def say(macro: str, *facts: Any, **kw: Any) -> str:
    """The Dutch of macro ``macro`` of ``phrases.j2`` for ``facts``."""
    return tidy(getattr(_module(), macro)(*facts, **kw))
