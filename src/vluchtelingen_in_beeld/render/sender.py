"""The sender of a pitch page: who hands it out, how to reach them, and what they ask.

An outreach organisation hands the pages out as its own: a small TOML file (``--afzender``)
gives its name, a contact, the ask, and optionally a logo (a local image file, inlined into
the page so that it stays one offline file)::

    organisatie = "Stichting Voorbeeld"
    vraag = "Wilt u met ons verkennen of uw gemeente voortrekkersgemeente wordt?"
    contactpersoon = "Naam Achternaam"
    email = "naam@voorbeeld.nl"
    telefoon = "06 1234 5678"
    website = "https://voorbeeld.nl"
    logo = "logo.png"   # relative to this file
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from vluchtelingen_in_beeld.errors import ConfigError, did_you_mean
from vluchtelingen_in_beeld.files import load_toml, read_regular

FIELDS = ("organisatie", "vraag", "contactpersoon", "email", "telefoon", "website", "logo")
#: the longest text per field that still fits the ask block of an A4 page
LIMITS = {"organisatie": 80, "vraag": 400, "contactpersoon": 80, "email": 120,
          "telefoon": 40, "website": 120, "logo": 400}  # fmt: skip
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml"}  # fmt: skip
LOGO_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Sender:
    """Who hands the page out (every text as given; the logo as a ``data:`` URI)."""

    organisatie: str
    vraag: str
    contactpersoon: str = ""
    email: str = ""
    telefoon: str = ""
    website: str = ""
    logo: str = ""  # data: URI, or empty

    @property
    def contact(self) -> list[str]:
        """The contact lines that are given, in reading order."""
        return [x for x in (self.contactpersoon, self.email, self.telefoon, self.website) if x]


def load_sender(path: Path | str) -> Sender:
    """Read and check a sender file; every problem named with what to do."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise ConfigError(
            f"Sender file {path} does not exist. Write one (docs/outputs.md, 'The pitch page') "
            "or leave `sender` out."
        )
    raw, _ = load_toml(path, "sender file")
    problems = []
    for key in raw:
        if key not in FIELDS:
            problems.append(f"unknown key {key!r}.{did_you_mean(key, FIELDS)} Keys: "
                            f"{', '.join(FIELDS)}")  # fmt: skip
    values: dict[str, str] = {}
    for key in FIELDS:
        value = raw.get(key, "")
        if not isinstance(value, str):
            problems.append(f"{key} must be text in quotes, got {value!r:.40}")
            continue
        value = " ".join(value.split())
        if len(value) > LIMITS[key]:
            problems.append(f"{key} has {len(value)} characters; at most {LIMITS[key]} fit")
        values[key] = value
    for key in ("organisatie", "vraag"):
        if key in values and not values[key]:
            problems.append(f"{key} is required")
    if not problems and not any(values.get(k) for k in ("email", "telefoon", "website")):
        problems.append("give at least one way to reach you: email, telefoon or website")
    if values.get("website", "").lower().startswith(("javascript:", "data:")):
        problems.append("website must be an address (https://…)")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems) + ".")
    logo = values.pop("logo", "")
    return Sender(**values, logo=_logo(path.parent, logo) if logo else "")


def _logo(folder: Path, name: str) -> str:
    """The logo file as a ``data:`` URI (so the page needs no other file)."""
    path = (folder / name).expanduser()
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"Logo {name}: use a {', '.join(sorted(LOGO_TYPES))} file.")
    try:
        data = read_regular(path, "logo", LOGO_MAX_BYTES)
    except ConfigError as exc:
        kib = LOGO_MAX_BYTES // 1024
        raise ConfigError(
            f"{exc} A logo is an image file (PNG, JPEG, GIF, WebP or SVG) of at most {kib} KiB "
            "(the page carries it inline)."
        ) from None
    if not data:
        raise ConfigError(f"Logo {path} is empty.")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
