"""Stage 1, access: CBS's OData feed and PDOK's boundaries, reached, checked and kept.

- :mod:`.client`: CBS's feed read by our own pager, with timeouts, retries and errors that
  say what to do (``fetch_endpoint``, ``get_json``).
- :mod:`.odata_filter`: the OData v3 ``$filter`` language (``compile_filter``).
- :mod:`.pdok`: PDOK's WFS and OGC API routes (``download``).
- :mod:`.tables`: the registry of CBS tables, keys and measures (``REGISTRY``).
- :mod:`.store`: every extract on disk with its manifest (``Store``).
- :mod:`.cbs`: the session every later stage asks for data (``Session``).
- :mod:`.server`: a StatLine snapshot served as CBS's feed (``ReplayServer``).
- :mod:`.snapshot`: tables saved to a folder and served back (``serving_snapshot``).

Imports only the base (the package's root modules).
"""
