"""A table cell as the number it holds: checked at run time, typed for the checker.

pandas types a cell (``frame.at[code, column]``, a row of ``itertuples()``) as any scalar it
knows, dates and strings included. Our tables hold numbers where these are used; a cell
that holds something else is a bug, and is said so here instead of being converted.
"""

from __future__ import annotations

from numbers import Integral, Real  # int, float, bool, and numpy's scalars (registered)


def num(value: object) -> float:
    """The cell as a float (NaN stays NaN); a cell that is not a number raises TypeError."""
    if isinstance(value, Real):
        return float(value)
    raise TypeError(f"a table cell holds {value!r} ({type(value).__name__}), not a number")


def whole(value: object) -> int:
    """The cell as an int (a float is truncated, as ``int`` does); not a number: TypeError."""
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return int(float(value))
    raise TypeError(f"a table cell holds {value!r} ({type(value).__name__}), not a number")
