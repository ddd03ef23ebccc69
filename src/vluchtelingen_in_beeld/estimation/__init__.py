"""Stage 3, estimation: job-seeking refugees per gemeente, with their uncertainty.

- :mod:`.estimate`: the funnel of the method card, in draws (``Estimate``, ``estimate``).
- :mod:`.totals`: the estimate summed per region (``region_totals``).
- :mod:`.peers`: comparable gemeenten and the reception-centre flag (``peers``,
  ``reception_flags``).
- :mod:`.trend`: the estimate over the years, on today's gemeenten (``Trend``).

Imports the base, access and clean.
"""
