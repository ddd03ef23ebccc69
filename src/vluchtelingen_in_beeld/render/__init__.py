"""Stage 6, render: every output a reader opens, each saying where its numbers come from.

- :mod:`.provenance`: sources, periods, card and snapshot warning of an output.
- :mod:`.templates`: the Jinja2 environment of the pages (``templates/``).
- :mod:`.sender`: who hands a pitch page out and what they ask (``Sender``).
- :mod:`.maps`: choropleth maps in HTML and PNG (``write_map``).
- :mod:`.pitch`: one A4 page per gemeente (``write_pitch``).
- :mod:`.index`: the overview page of a run.
- :mod:`.verkenner`: the selectieverkenner, which solves in the browser (``vendor/``).
- :mod:`.output`: every file written with its provenance, complete or not at all
  (``write_estimate``, ``write_ranking``, ``write_regions``).

Imports the base and the stages before it.
"""
