"""Numbers written the Dutch way for what end users read: 12.345 and 3,5 and 12%.

Every function here has a twin in the selectieverkenner's script
(``render/templates/verkenner/format.js``) that must write the same characters for the same
float: rounding is done here by hand, halves away from zero (never by Python's or
JavaScript's own formatting, which differ on halves), and a test feeds both the same
numbers.
"""

from __future__ import annotations

import math
from typing import Any


def _missing(x: Any) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def nl_int(x: Any, missing: str = "onbekend") -> str:
    """``12345.6`` -> ``"12.346"``."""
    return nl_dec(x, 0, missing)


def nl_dec(x: Any, digits: int = 1, missing: str = "onbekend") -> str:
    """``3.456`` -> ``"3,5"``; thousands get a dot; halves away from zero (``0.125`` -> ``0,13``).

    ``|x| · 10^digits + 0.5`` floored, as floats: the same steps in JavaScript give the same
    digits for the same number.
    """
    if _missing(x):
        return missing
    v = float(x)
    if not math.isfinite(v):
        return missing
    scale = 10**digits
    n = math.floor(abs(v) * scale + 0.5)
    whole_part, frac = divmod(n, scale)
    text = f"{whole_part:,}".replace(",", ".")
    if digits:
        text += "," + str(frac).zfill(digits)
    return ("-" if v < 0 and n else "") + text


def nl_pct(x: Any, digits: int = 0, signed: bool = False, missing: str = "onbekend") -> str:
    """``0.123`` -> ``"12%"`` (``"+12%"`` with ``signed``)."""
    if _missing(x):
        return missing
    s = nl_dec(float(x) * 100, digits)
    if signed and float(x) > 0:
        s = "+" + s
    return s + "%"


#: What users read is rounded to what the inputs support: an estimate resting on an
#: assumption with a +-25% range has no meaningful third digit.
SIGNIFICANT = 2


def whole(x: float) -> float:
    """A count made whole, halves away from zero: ``374.5`` -> ``375``.

    Not Python's or numpy's half-to-even ``374``: pages, legends and tables all round
    counts this one way.
    """
    return math.copysign(math.floor(abs(x) + 0.5), x)


def round_sig(x: float, digits: int = SIGNIFICANT) -> float:
    """``1040`` -> ``1000``, ``885`` -> ``890``, ``7.26`` -> ``7.3``; 0 stays 0."""
    if x == 0 or not math.isfinite(x):
        return x
    step = 10.0 ** (math.floor(math.log10(abs(x))) - digits + 1)
    return math.copysign(math.floor(abs(x) / step + 0.5) * step, x)


#: Counts below this are not shown as a number: "minder dan 10". A cell of 1 or 3 persons
#: out of an estimate with a wide range claims a precision the data does not have.
SMALL_COUNT = 10


def nl_about(x: Any, missing: str = "onbekend", *, count: bool = True) -> str:
    """A figure rounded to :data:`SIGNIFICANT` digits, the Dutch way: ``"1.000"``, ``"7,3"``.

    The one rounding rule of every page, map legend, tooltip and console line. Counts
    (``count``) are whole, and below :data:`SMALL_COUNT` the text says so
    (``"minder dan 10"``); so no figure claims a precision it does not have.
    """
    if _missing(x):
        return missing
    v = float(x)
    if count:  # a count is whole first, as the tables write it: 374.6 -> 375 -> "380"
        count_of = whole(v)
        if v != 0 and abs(count_of) < SMALL_COUNT:
            return f"minder dan {SMALL_COUNT}"
        v = count_of
    r = round_sig(v)
    if r == 0:
        return "0"
    digits = 0 if count else max(0, SIGNIFICANT - 1 - math.floor(math.log10(abs(r))))
    return nl_dec(r, digits)


def is_small(x: Any) -> bool:
    """A count shown as "minder dan 10" (or missing): no figure, and no cost, is derived."""
    return _missing(x) or abs(whole(float(x))) < SMALL_COUNT


def nl_about_range(lo: Any, hi: Any) -> str:
    """``(885, 1195)`` -> ``"890–1.200"``; small ends in words (``"tot 20"``)."""
    if is_small(hi):
        return f"minder dan {SMALL_COUNT}"
    if is_small(lo):
        return f"tot {nl_about(hi)}"
    return f"{nl_about(lo)}–{nl_about(hi)}"


def nl_about_between(lo: Any, hi: Any) -> str:
    """A p10–p90 range as words after "Waarschijnlijk …": ``"tussen 890 en 1.200"``.

    Small ends read ``"minder dan 10"`` or ``"hooguit 20"``.
    """
    if is_small(hi):
        return f"minder dan {SMALL_COUNT}"
    if is_small(lo):
        return f"hooguit {nl_about(hi)}"
    return f"tussen {nl_about(lo)} en {nl_about(hi)}"


def nl_about_diff(x: Any, *of: Any) -> str:
    """A difference of figures shown rounded (``of``), to the same unit as the largest.

    690 − 600 reads 90, not 92: the figures it is the difference of are rounded to tens.
    """
    if _missing(x):
        return "onbekend"
    big = max([abs(float(v)) for v in of if not _missing(v)] + [abs(float(x))])
    if big == 0:
        return "0"
    unit = 10.0 ** (math.floor(math.log10(big)) - SIGNIFICANT + 1)
    r = whole(float(x) / unit) * unit
    return nl_int(r) if unit >= 1 else nl_dec(r, max(0, -math.floor(math.log10(unit))))


def nl_about_eur(x: Any, missing: str = "onbekend") -> str:
    """``377028`` -> ``"€ 380.000"``."""
    if _missing(x):
        return missing
    return "€ " + nl_about(x, count=False)


def nl_share(x: Any, missing: str = "onbekend") -> str:
    """A share that is small but not nothing reads so: ``0.003`` -> ``"minder dan 1%"``."""
    if _missing(x):
        return missing
    if 0 < abs(float(x)) < 0.005:
        return "minder dan 1%"
    return nl_pct(x)


def nl_list(items: Any) -> str:
    """``["A", "B", "C"]`` -> ``"A, B en C"``."""
    names = [str(x) for x in items]
    return ", ".join(names[:-1]) + " en " + names[-1] if len(names) > 1 else "".join(names)


def nl_prob(x: Any, missing: str = "onbekend") -> str:
    """A chance from draws, never a certainty: ``"minder dan 1%"``, ``"37%"``, ``"meer dan 99%"``.

    The words of :func:`nl_share`, so that a page, a table and the console say a small
    share and a small chance alike.
    """
    if _missing(x):
        return missing
    v = float(x)
    if v < 0.01:
        return "minder dan 1%"
    if v > 0.99:
        return "meer dan 99%"
    return nl_pct(v)


def nl_num(x: Any) -> str:
    """A parameter's value as written, the Dutch way: ``0.25`` -> ``"0,25"``.

    ``2500`` -> ``"2.500"``, ``0.687`` -> ``"0,687"``, ``0.1`` -> ``"0,10"``: below 1 four
    significant digits (at least two decimals), from 1 on at most three decimals; trailing
    zeros dropped (no float artefacts).
    """
    if _missing(x):
        return "onbekend"
    v = float(x)
    if not math.isfinite(v):
        return "onbekend"
    if v == int(v):
        return nl_int(v)
    if abs(v) < 1:
        text = nl_dec(v, 3 - math.floor(math.log10(abs(v))))
        head, _, frac = text.partition(",")
        return f"{head},{frac.rstrip('0').ljust(2, '0')}"
    return nl_dec(v, 3).rstrip("0").rstrip(",")


def nl_rate(rate: Any) -> str:
    """A card parameter (``value``, ``low``, ``high``) the Dutch way: ``0,55 (0,40–0,70)``."""
    central = nl_num(rate.value)
    if rate.high > rate.low:
        return f"{central} ({nl_num(rate.low)}–{nl_num(rate.high)})"
    return central
