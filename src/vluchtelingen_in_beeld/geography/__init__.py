"""Stage 5, geography: the year's boundaries, and the year's result that joins them.

- :mod:`.geo`: gemeente boundaries from PDOK, kept in the store, joined on codes
  (``fetch_boundaries``).
- :mod:`.result`: one year's result, what every output is made from (``YearResult``,
  ``Origin``).

Imports the base and the stages before it.
"""
