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


def nl_eur(x: Any, missing: str = "onbekend") -> str:
    """``1234567`` -> ``"€ 1.234.567"``."""
    if _missing(x):
        return missing
    return "€ " + nl_int(x)


def nl_range(lo: Any, hi: Any) -> str:
    """``(1200, 3400)`` -> ``"1.200–3.400"``."""
    return f"{nl_int(lo)}–{nl_int(hi)}"
