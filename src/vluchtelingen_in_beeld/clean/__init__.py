"""Stage 2, clean: the method card, and the year's inputs in the shape the method needs.

- :mod:`.method`: method cards, their ranges and sources (``MethodCard``, ``load_card``).
- :mod:`.inputs`: one year's CBS inputs per gemeente (``YearInputs``, ``fetch_inputs``).
- :mod:`.names`: gemeente names as people type them, resolved to codes (``resolve``).
- :mod:`.regions`: provincie, arbeidsmarktregio, COROP and landsdeel (``RegionTable``).
- :mod:`.check`: whether the table registry still fits CBS (``check_tables``).
- :mod:`.localfiles`: the user's own figures, ``--opvang`` and ``--lokale-cijfers``
  (``LocalFiles``).

Imports the base and access.
"""
