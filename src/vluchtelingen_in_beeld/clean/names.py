"""Gemeente names as people type them, resolved to CBS codes.

Accepts a code (``GM0363``, ``0363``, ``363``) or a name in any case, with or without
accents and punctuation ("sudwest fryslan"), the CBS name with its qualifier
("Bergen (L.)"), or a common form ("Den Haag" for 's-Gravenhage). An unknown name raises
:class:`UnknownNameError` with the closest matches; a name that fits more than one
gemeente ("Bergen") raises :class:`AmbiguousNameError` listing them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from vluchtelingen_in_beeld.errors import AmbiguousNameError, UnknownNameError, VibError  # noqa: F401

#: Common forms -> the official CBS name (normalised with :func:`normalise`).
ALIASES: dict[str, str] = {
    "den haag": "s gravenhage",
    "the hague": "s gravenhage",
    "den bosch": "s hertogenbosch",
    "nuenen": "nuenen gerwen en nederwetten",
    "sudwest friesland": "sudwest fryslan",
    "de friese meren": "de fryske marren",
    "dantumadeel": "dantumadiel",
    "tietjerksteradeel": "tytsjerksteradiel",
    "ferwerderadeel": "ferwerderadiel",
}


def normalise(text: str) -> str:
    """Lower case, no accents or punctuation, single spaces: "'s-Gravenhage" -> "s gravenhage"."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^0-9a-z]+", " ", plain.casefold())
    return " ".join(plain.split())


def base_name(name: str) -> str:
    """CBS name without its qualifier: "Bergen (L.)" -> "Bergen"."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()


class GemeenteNames:
    """Resolve user input against the gemeenten of one year (code -> CBS name)."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = {str(k).strip(): str(v).strip() for k, v in names.items()}
        self._full: dict[str, set[str]] = {}
        self._base: dict[str, set[str]] = {}
        for code, name in self.names.items():
            self._full.setdefault(normalise(name), set()).add(code)
            self._base.setdefault(normalise(base_name(name)), set()).add(code)

    def _label(self, code: str) -> str:
        return f"{self.names[code]} ({code})"

    def resolve(self, text: str) -> str:
        """The gemeentecode for ``text``, or a clear error."""
        raw = str(text).strip()
        if not raw:
            raise UnknownNameError("An empty gemeente name was given; give a name or a code.")
        code = self._as_code(raw)
        if code is not None:
            return code
        key = normalise(raw)
        key = ALIASES.get(key, key)
        for index in (self._full, self._base):
            hits = index.get(key, set())
            if len(hits) == 1:
                return next(iter(hits))
            if len(hits) > 1:
                options = ", ".join(self._label(c) for c in sorted(hits))
                raise AmbiguousNameError(
                    f"{raw!r} fits {len(hits)} gemeenten: {options}. Give the full name or "
                    "the code."
                )
        close = self.closest(raw)
        hint = f" Closest matches: {', '.join(close)}." if close else ""
        raise UnknownNameError(
            f"No gemeente named {raw!r} in this year's list of {len(self.names)} gemeenten."
            f"{hint} A CBS code such as GM0363 also works."
        )

    def resolve_all(self, texts: Iterable[str]) -> list[str]:
        """Resolve several names; report every problem at once."""
        codes: list[str] = []
        problems: list[str] = []
        for t in texts:
            try:
                codes.append(self.resolve(t))
            except VibError as exc:
                problems.append(str(exc))
        if problems:
            raise UnknownNameError(" ".join(problems))
        return list(dict.fromkeys(codes))

    def closest(self, text: str, n: int = 3) -> list[str]:
        """The ``n`` gemeenten whose names are closest to ``text``."""
        key = normalise(text)
        by_norm: dict[str, str] = {}
        for code, name in sorted(self.names.items()):
            by_norm.setdefault(normalise(name), code)
            by_norm.setdefault(normalise(base_name(name)), code)
        hits = difflib.get_close_matches(key, list(by_norm), n=n * 2, cutoff=0.6)
        labels = list(dict.fromkeys(self._label(by_norm[h]) for h in hits))
        return labels[:n]

    def _as_code(self, raw: str) -> str | None:
        m = re.fullmatch(r"(?i)(gm)?\s*(\d{1,4})", raw)
        if not m:
            return None
        code = f"GM{int(m.group(2)):04d}"
        if code not in self.names:
            raise UnknownNameError(
                f"No gemeente with code {code} in this year's list ({len(self.names)} gemeenten)."
                " Gemeenten that merged have a new code; try the name instead."
            )
        return code
