"""The pages' Jinja2 templates: autoescaped, with the pages' number formats as filters.

Each end-user page (the pitch page, the run's overview, the index of pitch pages) is one
template in ``templates/``, so its structure can be read in one file; every value is
escaped unless it is marked safe, so a gemeente called ``<script>`` stays text. The filters
are the one rounding rule of :mod:`.fmt`: ``about`` (counts, "minder dan 10" below 10),
``about_dec`` (rates), ``range``, ``between``, ``pct``, ``prob``, ``eur``, ``rate``.
"""

from __future__ import annotations

import functools
from typing import Any

from vluchtelingen_in_beeld.fmt import (
    is_small,
    nl_about,
    nl_about_between,
    nl_about_diff,
    nl_about_eur,
    nl_about_range,
    nl_int,
    nl_pct,
    nl_prob,
    nl_rate,
    nl_share,
)
from vluchtelingen_in_beeld.ranking.rank import said
from vluchtelingen_in_beeld.words import TEMPLATE, source


def _about_dec(x: Any) -> str:
    return nl_about(x, count=False)


@functools.cache
def environment() -> Any:
    """The Jinja2 environment of the package's templates (built once)."""
    # lazy: jinja2: +0.14 s for every command, only rendering needs it
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("vluchtelingen_in_beeld.render", "templates"),
                # the phrases live beside their one renderer (words.py, in the base)
                jinja2.FunctionLoader(lambda name: source() if name == TEMPLATE else None),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails, never renders as ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        about=nl_about,
        about_dec=_about_dec,
        range=nl_about_range,
        between=nl_about_between,
        diff=nl_about_diff,
        pct=nl_pct,
        share=nl_share,
        prob=nl_prob,
        eur=nl_about_eur,
        rate=nl_rate,
        whole=nl_int,
    )
    env.tests["small"] = is_small
    env.filters["names"] = said
    return env


def render(name: str, **context: Any) -> str:
    """Template ``name`` (in ``templates/``) rendered with ``context``."""
    return str(environment().get_template(name).render(**context))
