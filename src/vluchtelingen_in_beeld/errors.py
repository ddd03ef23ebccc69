"""The exceptions of vluchtelingen-in-beeld.

Every error the library raises on purpose is a :class:`VibError`. Its message says what was
wrong and what to do next; only the CLI turns it into an exit code. A message names the
library's parameters in backquotes (```draws` must be from 100 to 200000``); the CLI shows
its own flags there instead (:func:`for_cli`: ``--draws must be …``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping


class VibError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(VibError):
    """A setting, option or argument is not valid."""


class CbsError(VibError):
    """Something went wrong talking to CBS (or a server that speaks its protocol)."""


class CbsUnavailableError(CbsError):
    """CBS could not be reached, or kept failing, after every retry."""


class EmptyAnswerError(CbsError):
    """The server answered no rows at all for a question that must have some (never stored)."""


class UnknownTableError(CbsError):
    """The table id does not exist at the source."""


class TooManyRowsError(CbsError):
    """The server refused the request because the answer would exceed its row limit."""


class MetadataError(CbsError):
    """A table's metadata lacks a period, a dimension key or a measure we asked for."""


class SnapshotError(ConfigError):
    """A snapshot folder cannot be served: a file is missing, truncated or not JSON."""


class OfflineMissError(VibError):
    """Offline mode was asked for, but the local store does not hold what is needed."""


class Locked(VibError):
    """Another process that still runs holds a lock (``pid``; ``since``: when it took it)."""

    def __init__(self, path: object, pid: int, since: str) -> None:
        super().__init__(f"{path} is held by process {pid} since {since}")
        self.path, self.pid, self.since = path, pid, since


class StoreError(VibError):
    """The local store holds something unusable."""


class MethodCardError(VibError):
    """A method card is not valid."""


class DataCoverageError(VibError):
    """The data lacks what the method or a join needs."""


class BoundaryError(VibError):
    """Boundaries missing for a year, or not matching the data's gemeenten."""


class CrsMismatchError(BoundaryError):
    """A boundary source's coordinates do not fit the CRS it declares."""


class PdokError(CbsError):
    """PDOK answered, but not with gemeente features."""


class InfeasibleError(VibError):
    """No selection meets the constraints."""


class UnknownNameError(ConfigError):
    """A gemeente name or code that matches no gemeente of the year."""


class AmbiguousNameError(ConfigError):
    """A gemeente name that matches more than one gemeente (e.g. Bergen)."""


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates closest to ``word`` (for "did you mean" hints)."""
    pool = [str(c) for c in candidates]
    hits = difflib.get_close_matches(word, pool, n=n, cutoff=0.5)
    if not hits:
        lowered = {c.casefold(): c for c in pool}
        hits = [
            lowered[h] for h in difflib.get_close_matches(word.casefold(), lowered, n=n, cutoff=0.4)
        ]
    return hits


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A "did you mean …?" phrase, or an empty string when nothing is close."""
    hits = closest(word, candidates)
    if not hits:
        return ""
    return " Did you mean " + " or ".join(repr(h) for h in hits) + "?"


#: A parameter named in a message: ```draws```.
_PARAMETER = re.compile(r"`([a-z][a-z0-9_]*)`")


def for_cli(message: str, flags: Mapping[str, str]) -> str:
    """``message`` with each parameter the CLI has a flag for as that flag.

    ``flags``: parameter name -> flag (``{"draws": "--draws", "all_": "--all"}``). A name
    without a flag keeps its backquotes.
    """
    return _PARAMETER.sub(lambda m: flags.get(m[1], m[0]), message)


def plain(message: str) -> str:
    """``message`` for a reader of a page: parameter names without their backquotes."""
    return _PARAMETER.sub(lambda m: m[1], message)
