"""The selection's settings, defined once: what each is, its flag, its bounds, its words.

Every setting of the selection programme (:class:`~.selection.Constraints`) is one
:class:`Setting` here, and everything that shows or takes a setting reads it from this
catalogue: the command line's options and their help (``vib rank``, ``vib verken``), the
checks of :meth:`~.selection.Constraints.check` and of the method card's ``[selection]``,
and the selectieverkenner's controls and setting keys (the page receives the catalogue as
data and hard-codes none of it). What a setting *says* in Dutch (``hoogstens 2 per
provincie``) is the ``eis`` macro of ``phrases.j2``, the one renderer of words.

Adding a constraint: a :class:`Setting` here, a field in
:class:`~.selection.Constraints` with the same name, its rows in
:class:`~.selection.Problem` and in the page's ``programme.js``, and a branch of the ``eis``
macro; the golden cases of ``tests/test_golden.py`` then hold the two solvers to each other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

#: What a setting is: how it is given and checked.
Kind = Literal["count", "cap", "floor", "threshold", "amount", "share", "gemeenten"]


@dataclass(frozen=True)
class Setting:
    """One setting of the selection.

    ``field``: the :class:`~.selection.Constraints` field; ``name``: the setting's name, the
    command line's flag without ``--`` (dashes as underscores) and the page's key.
    ``limit``: a constraint of the card's ``[selection]`` that can be switched off (its
    ``value = false``), and one of the constraints a reason may name; ``optional``: may be
    off (``none``) at all. ``threshold``: the field of the number of inhabitants it
    counts against. ``suggest``: the value a control shows when the setting is switched on
    and the card has none.
    """

    field: str
    name: str
    kind: Kind
    group: str
    help: str
    #: Dutch: the setting as the selectieverkenner names it
    label: str = ""
    minimum: float = 0.0
    maximum: float = 400.0
    integer: bool = True
    optional: bool = True
    limit: bool = False
    threshold: str | None = None
    suggest: float | None = None
    #: English words of the constraint for the command line's errors ({v}: its value)
    english: str = ""

    @property
    def flag(self) -> str:
        """The command line's option: ``--max-per-provincie``."""
        return "--" + self.name.replace("_", "-")

    def record(self) -> dict[str, Any]:
        """The setting as data (for the selectieverkenner)."""
        out = asdict(self)
        out["flag"] = self.flag
        return out


#: The settings in the order outputs and controls list them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "n",
        "n",
        "count",
        "aantal",
        "Size of the selection (default: the card's n).",
        minimum=1,
        optional=False,
        english="{v} pilots",
        label="aantal: … voortrekkersgemeenten",
    ),
    Setting(
        "max_per_provincie",
        "max_per_provincie",
        "cap",
        "regio",
        "At most this many per provincie ('none': no cap).",
        minimum=1,
        limit=True,
        suggest=2,
        english="at most {v} per provincie",
        label="hoogstens … per provincie",
    ),
    Setting(
        "max_per_regio",
        "max_per_regio",
        "cap",
        "regio",
        "At most this many per arbeidsmarktregio ('none': no cap).",
        minimum=1,
        limit=True,
        suggest=1,
        english="at most {v} per arbeidsmarktregio",
        label="hoogstens … per arbeidsmarktregio",
    ),
    Setting(
        "min_per_landsdeel",
        "min_per_landsdeel",
        "floor",
        "regio",
        "At least this many per landsdeel ('none': off).",
        limit=True,
        suggest=1,
        english="at least {v} per landsdeel",
        label="minstens … per landsdeel",
    ),
    Setting(
        "min_klein",
        "min_klein",
        "floor",
        "grootte",
        "At least this many small gemeenten ('none': off).",
        limit=True,
        threshold="klein_onder",
        suggest=2,
        english="at least {v} below {t} inhabitants",
        label="minstens … kleine gemeenten",
    ),
    Setting(
        "klein_onder",
        "klein_onder",
        "threshold",
        "grootte",
        "Inhabitants below which a gemeente is small.",
        minimum=1,
        maximum=1e8,
        optional=False,
        english="small below {v} inhabitants",
        label="klein is onder … inwoners",
    ),
    Setting(
        "max_groot",
        "max_groot",
        "cap",
        "grootte",
        "At most this many large gemeenten ('none': off; 0: none at all).",
        minimum=0,
        limit=True,
        threshold="groot_boven",
        suggest=2,
        english="at most {v} above {t} inhabitants",
        label="hoogstens … grote gemeenten",
    ),
    Setting(
        "groot_boven",
        "groot_boven",
        "threshold",
        "grootte",
        "Inhabitants above which a gemeente is large.",
        minimum=1,
        maximum=1e8,
        optional=False,
        english="large above {v} inhabitants",
        label="groot is boven … inwoners",
    ),
    Setting(
        "min_pool",
        "min_pool",
        "floor",
        "grootte",
        "At least this many expected conversations per pilot in its first year ('none': off).",
        maximum=1e6,
        limit=True,
        suggest=10,
        english="at least {v} expected conversations per pilot in its first year",
        label="minstens … verwachte gesprekken per pilot in het eerste jaar",
    ),
    Setting(
        "budget_eur",
        "budget",
        "amount",
        "budget",
        "Budget in euro: a pilot costs its fixed cost plus its expected placements at the "
        "card's cost per placement ('none': off).",
        minimum=1,
        maximum=1e12,
        integer=False,
        limit=True,
        suggest=500_000,
        english="a budget of EUR {v}",
        label="budget € …",
    ),
    Setting(
        "pilot_cost_eur",
        "pilot_cost",
        "amount",
        "budget",
        "Fixed cost of one pilot in euro, with a budget (the EUR 1 m of 2009 was the whole "
        "project's subsidy).",
        maximum=1e9,
        integer=False,
        optional=False,
        english="EUR {v} per pilot",
        label="vaste kosten per pilot € …",
    ),
    Setting(
        "include",
        "include",
        "gemeenten",
        "gemeenten",
        "Gemeente (name or code) that must be selected; repeatable.",
        english="forced in: {v}",
        label="vastgezette gemeenten",
    ),
    Setting(
        "exclude",
        "exclude",
        "gemeenten",
        "gemeenten",
        "Gemeente (name or code) never to select; repeatable.",
        english="left out: {v}",
        label="uitgesloten gemeenten",
    ),
)

#: Setting by its :class:`~.selection.Constraints` field.
BY_FIELD = {s.field: s for s in SETTINGS}
#: Setting by its name (flag without ``--``, the page's key).
BY_NAME = {s.name: s for s in SETTINGS}
#: The card's switchable constraints, in the order outputs list them.
LIMITS = tuple(s.field for s in SETTINGS if s.limit)
#: ρ, the share of the rest of its arbeidsmarktregio a pilot reaches: not a constraint, a
#: setting of the reach (fixed in every draw when given); the page's and CLI's name.
REGION_REACH = "region_reach"


def setting_name(field: str) -> str:
    """The setting (flag without ``--``, dashes as underscores) of a constraint field."""
    return BY_FIELD[field].name if field in BY_FIELD else field


def field_of(name: str) -> str:
    """The :class:`~.selection.Constraints` field of a setting name (or flag)."""
    key = name.removeprefix("--").replace("-", "_")
    return BY_NAME[key].field if key in BY_NAME else key


def check_value(setting: Setting, value: Any) -> str | None:
    """What is wrong with ``value`` for ``setting`` (English), or ``None`` when it is fine.

    ``None`` is fine for an optional setting (off). The bounds are the catalogue's.
    """
    if setting.kind == "gemeenten":
        return None
    if value is None:
        return None if setting.optional else "cannot be switched off"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number, got {value!r}"
    v = float(value)
    if not math.isfinite(v):
        return f"must be a finite number, got {value!r}"
    if setting.integer and v != int(v):
        return f"must be a whole number, got {value!r}"
    if not setting.minimum <= v <= setting.maximum:
        lo, hi = _num(setting.minimum), _num(setting.maximum)
        return f"must be from {lo} to {hi}, got {_num(v)}"
    return None


def _num(v: float) -> str:
    return f"{v:,.0f}" if v == int(v) else f"{v:g}"


def catalogue_record() -> list[dict[str, Any]]:
    """Every setting as data, in order (the selectieverkenner reads this)."""
    return [s.record() for s in SETTINGS]
