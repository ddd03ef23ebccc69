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

from vluchtelingen_in_beeld.fmt import is_small, nl_rate
from vluchtelingen_in_beeld.ranking.rank import said
from vluchtelingen_in_beeld.words import FILTERS


@functools.cache
def environment() -> Any:
    """The Jinja2 environment of the package's templates (built once)."""
    # lazy: jinja2: +0.14 s for every command, only rendering needs it
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vluchtelingen_in_beeld.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails, never renders as ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # the phrases' filters: one name for each way a number is said (format.js has them
    # too), and the pages' own rate
    env.filters.update(FILTERS, rate=nl_rate)
    env.tests["small"] = is_small
    env.filters["names"] = said
    return env


def render(name: str, **context: Any) -> str:
    """Template ``name`` (in ``templates/``) rendered with ``context``."""
    return str(environment().get_template(name).render(**context))
