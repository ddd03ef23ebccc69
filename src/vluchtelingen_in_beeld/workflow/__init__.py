"""Stage 7, workflow: the stages composed into a year and into a run.

- :mod:`.pipeline`: a session and a card to a year's result (``build_year``,
  ``estimate_year``, ``choose_year``).
- :mod:`.run`: the whole job into one folder (``run_all``, ``write_run``).

Imports the base and the stages before it.
"""
