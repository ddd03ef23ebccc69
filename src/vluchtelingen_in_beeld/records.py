"""The shapes of what outputs record: a CBS source, a manifest, a value in JSON.

These are the typed seams between the stages that make records (CBS access, the estimate,
the ranking) and the stage that writes them (render).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, TypedDict

#: A value that ``json.dumps`` writes (numbers, text, and lists and objects of them).
JsonValue: TypeAlias = (
    str | int | float | bool | None | Sequence["JsonValue"] | Mapping[str, "JsonValue"]
)
#: A JSON object being built: a manifest, or one part of it.
Record: TypeAlias = dict[str, JsonValue]
#: A fact for the one renderer of words (:mod:`.words`): names and numbers, JSON-able, so
#: that the selectieverkenner can make and render the same facts. Its shape is the
#: template's (``phrases.j2``), read there and by the code that made it; typed loosely so
#: that reading a known key needs no cast.
Fact: TypeAlias = dict[str, Any]


class SourceRecord(TypedDict, total=False):
    """One CBS extract (or boundary file) an output's numbers come from."""

    table: str
    title: str
    modified: str | None
    filter: str | None
    rows: int | None
    fetched_at: str | None
    source: str | None
    explanatory_text: str
    checksum: str | None
    period: str | None
    #: "eigen bestand" for a file of the user's (``--opvang``, ``--lokale-cijfers``)
    kind: str
