"""Stage 1, access: CBS's OData feed and PDOK's boundaries, reached, checked and kept.

- :mod:`.client`: calls to CBS with timeouts, retries and errors that say what to do
  (``fetch_data``, ``fetch_metadata``, ``CbsError``).
- :mod:`.odata_filter`: the OData v3 ``$filter`` language (``compile_filter``).
- :mod:`.pdok`: PDOK's WFS and OGC API routes (``fetch_boundaries``).
- :mod:`.tables`: the registry of CBS tables, keys and measures (``TABLES``).
- :mod:`.store`: every extract on disk with its manifest (``Store``).
- :mod:`.cbs`: the session every later stage asks for data (``Session``).
- :mod:`.server`: a StatLine snapshot served as CBS's feed (``ReplayServer``).
- :mod:`.snapshot`: tables saved to a folder and served back (``serving_snapshot``).

Imports only the base (the package's root modules).
"""
