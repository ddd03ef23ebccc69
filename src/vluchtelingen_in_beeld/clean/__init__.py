"""Stage 2, clean: the method card, and the year's inputs in the shape the method needs.

- :mod:`.method`: method cards, their ranges and sources (``MethodCard``, ``load_card``).
- :mod:`.inputs`: one year's CBS inputs per gemeente (``Inputs``, ``gather``).
- :mod:`.names`: gemeente names as people type them, resolved to codes (``GemeenteNames``).
- :mod:`.regions`: provincie, arbeidsmarktregio, COROP and landsdeel (``Regions``,
  ``load_regions``).
- :mod:`.check`: whether the table registry still fits CBS (``check_registry``).
- :mod:`.localfiles`: the user's own figures, ``--opvang`` and ``--lokale-cijfers``
  (``LocalFiles``).

Imports the base and access.
"""
