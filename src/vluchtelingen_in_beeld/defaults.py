"""The defaults a caller gets when neither the method card nor the call says otherwise.

One place for each: the card loader, the selection's constraints and the command line's
help read them here. The selection's settings themselves are defined in
:mod:`.catalogue`.
"""

from __future__ import annotations

#: Pilot gemeenten in a selection: the 11 voortrekkersgemeenten of the 2005 plan.
PILOTS = 11
#: Inhabitants below which a gemeente counts as small (``min_klein``'s ``below``).
SMALL_BELOW = 100_000.0
#: Inhabitants above which a gemeente counts as large (``max_groot``'s ``above``).
LARGE_ABOVE = 200_000.0
