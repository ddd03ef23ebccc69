"""The defaults a caller gets when neither the method card nor the call says otherwise.

One place for each: the card loader, the selection's constraints and the command line's
help read them here, and the selection settings whose flag is not their own name.

Stage: base.
"""

from __future__ import annotations

#: Pilot gemeenten in a selection: the 11 voortrekkersgemeenten of the 2005 plan.
PILOTS = 11
#: Inhabitants below which a gemeente counts as small (``min_klein``'s ``below``).
SMALL_BELOW = 100_000.0
#: Inhabitants above which a gemeente counts as large (``max_groot``'s ``above``).
LARGE_ABOVE = 200_000.0

#: Selection constraints (:class:`~.selection.Constraints` fields) whose setting, the CLI's
#: flag and the selectieverkenner's key, has another name; every other has its own.
SETTING_NAMES = {"budget_eur": "budget", "pilot_cost_eur": "pilot_cost"}


def setting_name(field: str) -> str:
    """The setting (flag without ``--``, dashes as underscores) of a constraint field."""
    return SETTING_NAMES.get(field, field)
