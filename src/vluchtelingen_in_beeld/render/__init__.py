"""Stage 6, render: every output a reader opens, each saying where its numbers come from.

- :mod:`.provenance`: sources, periods, card and snapshot warning of an output
  (``page_sources``).
- :mod:`.templates`: the Jinja2 environment of the pages in ``templates/`` (``render``).
- :mod:`.sender`: who hands a pitch page out and what they ask (``Sender``).
- :mod:`.maps`: choropleth maps in HTML and PNG (``map_for``).
- :mod:`.pitch`: one A4 page per gemeente (``render_page``).
- :mod:`.index`: the overview page of a run (``index_page``).
- :mod:`.verkenner`: the selectieverkenner, which solves in the browser with the HiGHS in
  ``vendor/`` (``render_verkenner``).
- :mod:`.output`: every file written with its provenance, complete or not at all
  (``write_estimate``, ``write_ranking``, ``write_regions``, ``write_map``, ``write_pitch``).

Imports the base and the stages before it.
"""
