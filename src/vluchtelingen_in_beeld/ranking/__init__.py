"""Stage 4, ranking: which gemeenten to ask first, and why, every claim re-solved.

- :mod:`.highs`: a 0/1 programme solved by HiGHS, limited in work, never in seconds
  (``Programme``).
- :mod:`.selection`: the selection programme and its constraints (``Problem``).
- :mod:`.explain`: prices, swaps and reasons as facts (``explain``).
- :mod:`.rank`: reach per pilot, the selection and its defence (``Ranking``, ``rank``).
- :mod:`.reference`: the 2009 voortrekkersgemeenten under today's data
  (``compare_reference``).

Imports the base and the stages before it.
"""
