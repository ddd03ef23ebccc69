"""Numbers written the Dutch way for what end users read: 12.345 and 3,5 and 12%."""

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
    if _missing(x):
        return missing
    return f"{float(x):,.0f}".replace(",", ".")


def nl_dec(x: Any, digits: int = 1, missing: str = "onbekend") -> str:
    """``3.456`` -> ``"3,5"``; thousands get a dot."""
    if _missing(x):
        return missing
    s = f"{float(x):,.{digits}f}"
    return s.replace(",", "_").replace(".", ",").replace("_", ".")


def nl_pct(x: Any, digits: int = 0, signed: bool = False, missing: str = "onbekend") -> str:
    """``0.123`` -> ``"12%"`` (``"+12%"`` with ``signed``)."""
    if _missing(x):
        return missing
    s = nl_dec(float(x) * 100, digits)
    if signed and float(x) > 0:
        s = "+" + s
    return s + "%"


def nl_range(lo: Any, hi: Any) -> str:
    """``(1200, 3400)`` -> ``"1.200–3.400"``."""
    return f"{nl_int(lo)}–{nl_int(hi)}"


#: What users read is rounded to what the inputs support: an estimate resting on an
#: assumption with a +-25% range has no meaningful third digit.
SIGNIFICANT = 2


def round_sig(x: float, digits: int = SIGNIFICANT) -> float:
    """``1040`` -> ``1000``, ``885`` -> ``890``, ``7.26`` -> ``7.3``; 0 stays 0."""
    if x == 0 or not math.isfinite(x):
        return x
    step = 10.0 ** (math.floor(math.log10(abs(x))) - digits + 1)
    return math.copysign(math.floor(abs(x) / step + 0.5) * step, x)


def nl_about(x: Any, missing: str = "onbekend", *, count: bool = True) -> str:
    """A figure rounded to :data:`SIGNIFICANT` digits, the Dutch way: ``"1.000"``, ``"7,3"``.

    Counts (``count``) are whole: below 10 they keep their one digit, and below 1 the text
    says so (``"minder dan 1"``); so no figure claims a precision it does not have.
    """
    if _missing(x):
        return missing
    v = float(x)
    if count and 0 < abs(v) < 1:
        return "minder dan 1"
    r = round_sig(v)
    if r == 0:
        return "0"
    digits = max(0, SIGNIFICANT - 1 - math.floor(math.log10(abs(r))))
    if count:
        r, digits = round_sig(v, min(SIGNIFICANT, 1 + math.floor(math.log10(abs(v))))), 0
    return nl_dec(r, digits)


def nl_about_range(lo: Any, hi: Any) -> str:
    """``(885, 1195)`` -> ``"890–1.200"``; a lower end below 1 is ``0`` (``"0–5"``)."""
    return nl_about_between(lo, hi, "–")


def nl_about_between(lo: Any, hi: Any, sep: str = " en ") -> str:
    """``(885, 1195)`` -> ``"890 en 1.200"`` (for "tussen … en …")."""
    if not _missing(hi) and 0 <= float(hi) < 1:
        return "minder dan 1"
    low = "0" if not _missing(lo) and 0 <= float(lo) < 1 else nl_about(lo)
    return f"{low}{sep}{nl_about(hi)}"


def nl_about_eur(x: Any, missing: str = "onbekend") -> str:
    """``377028`` -> ``"€ 380.000"``."""
    if _missing(x):
        return missing
    return "€ " + nl_about(x)


def nl_prob(x: Any, missing: str = "onbekend") -> str:
    """A probability from draws, never a certainty: ``"< 1%"``, ``"37%"``, ``"> 99%"``."""
    if _missing(x):
        return missing
    v = float(x)
    if v < 0.01:
        return "< 1%"
    if v > 0.99:
        return "> 99%"
    return nl_pct(v)


def nl_rate(rate: Any) -> str:
    """A card parameter (``value``, ``low``, ``high``) the Dutch way: ``0,55 (0,40–0,70)``."""
    central = nl_dec(rate.value, 2)
    if rate.high > rate.low:
        return f"{central} ({nl_dec(rate.low, 2)}–{nl_dec(rate.high, 2)})"
    return central
