"""Stage 8, the command line ``vib``: options in, one library call, messages out.

- :mod:`.commands`: the commands (``main``, the entry point).
- :mod:`.clikit`: shared options, the session, errors and reports.

Imports everything before it; nothing imports it.
"""
