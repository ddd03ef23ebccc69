"""One settings object: where data lives, which CBS to talk to, and how patiently.

Every value can be set by a CLI flag or an environment variable; flags win.

=================  =====================  =====================================
setting            environment variable   default
=================  =====================  =====================================
data_dir           ``VIB_DATA_DIR``       ``./data``
cbs_url            ``VIB_CBS_URL``        ``https://opendata.cbs.nl``
pdok_url           ``VIB_PDOK_URL``       ``https://service.pdok.nl`` (boundaries)
timeout            ``VIB_TIMEOUT``        120 seconds: the read timeout, how long to
                                          wait for the server's answer (CBS data pages
                                          can take a minute)
connect_timeout    ``VIB_CONNECT_TIMEOUT`` 10 seconds to open a connection
retries            ``VIB_RETRIES``        3 (attempts after the first; at most 10)
backoff            ``VIB_BACKOFF``        1.0 second (doubles each retry)
=================  =====================  =====================================
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from vluchtelingen_in_beeld.errors import ConfigError

DEFAULT_CBS_URL = "https://opendata.cbs.nl"
MAX_RETRIES = 10
DEFAULT_PDOK_URL = "https://service.pdok.nl"
#: PDOK's host for OGC APIs (boundaries' second route; the WFS is on service.pdok.nl).
DEFAULT_PDOK_API_URL = "https://api.pdok.nl"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. 30.") from None


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. 3.") from None


#: The public services' hosts: outputs name these; any other server is "the user's own".
PUBLIC_HOSTS = ("opendata.cbs.nl", "service.pdok.nl", "api.pdok.nl")


def public_source(source: str) -> str:
    """A source as outputs may state it: a public service by host, another server as "own".

    ``cbs:127.0.0.1:8087`` -> ``cbs:eigen server`` (no host or port of the user's server).
    Snapshots and files are named by name and checksum already (never by path).
    """
    kind, sep, rest = source.partition(":")
    if sep and kind in ("cbs", "pdok") and rest not in PUBLIC_HOSTS:
        return f"{kind}:eigen server"
    return source


def public_url(url: str) -> str:
    """An address as outputs may state it: a public service's in full, another's path only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.hostname in PUBLIC_HOSTS:
        return url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def snapshot_source(name: str, digest: str) -> str:
    """The source string of a snapshot: its name and checksum (store key, provenance)."""
    return f"snapshot:{name}@{digest}"


def snapshot_label(source: str) -> str:
    """What outputs call the snapshot of a :func:`snapshot_source`; ``""`` for live CBS."""
    if not source.startswith("snapshot:"):
        return ""
    name, _, digest = source.removeprefix("snapshot:").partition("@")
    return f"{name} (sha256 {digest})" if digest else name


def check_url(url: str, what: str, example: str) -> SplitResult:
    """``url`` split, or a :class:`ConfigError` saying what is wrong with it."""
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        problem = f"it cannot be read ({exc})"
    else:
        if parts.scheme not in ("http", "https"):
            problem = "it does not start with http:// or https://"
        elif not parts.hostname:
            problem = "it has no host name"
        elif any(c.isspace() for c in url):
            problem = "it holds a space"
        elif parts.query or parts.fragment:
            problem = "it has a query (?…) or a fragment (#…); give the base address only"
    if problem:
        raise ConfigError(
            f"{what} {url!r} is not usable: {problem}. Use e.g. {example} or "
            "http://127.0.0.1:8080 (what `vib serve` prints)."
        )
    return parts


@dataclass(frozen=True)
class Settings:
    """Everything that decides where data comes from and where it goes."""

    data_dir: Path = field(default_factory=lambda: Path("data"))
    cbs_url: str = DEFAULT_CBS_URL
    timeout: float = 120.0
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0
    offline: bool = False
    refresh: bool = False
    #: Identifies where rows come from, for the store key and provenance: ``cbs:<host>`` for
    #: a CBS-protocol server, ``snapshot:<path>`` when a snapshot folder is being served.
    source: str = ""
    #: The snapshot folder being read, if any. Never written into outputs: they name the
    #: snapshot by :attr:`snapshot_label`.
    snapshot_dir: Path | None = None
    #: What outputs call the snapshot: its folder name and checksum, e.g.
    #: ``statline (sha256 1a2b3c4d5e6f7a8b)``.
    snapshot_label: str = ""
    #: (table, ExplanatoryText) of every table of the snapshot: its own warning texts.
    snapshot_warnings: tuple[tuple[str, str], ...] = ()
    #: Base URL of PDOK (gemeente boundaries), or of a local server with PDOK's paths.
    pdok_url: str = DEFAULT_PDOK_URL
    #: Boundary years a locally served folder holds (``None``: ask PDOK).
    boundary_years: tuple[int, ...] | None = None
    #: Identifies where boundaries come from (store key, provenance); empty = PDOK's host.
    geo_source: str = ""
    #: The folder of boundary files being served or read, if any (never written to outputs).
    geo_dir: Path | None = None

    def __post_init__(self) -> None:
        parts = check_url(self.cbs_url, "CBS URL (`cbs_url`, $VIB_CBS_URL)", DEFAULT_CBS_URL)
        check_url(self.pdok_url, "PDOK URL (`pdok_url`, $VIB_PDOK_URL)", DEFAULT_PDOK_URL)
        for name, value, where in (
            ("timeout", self.timeout, "`timeout` or $VIB_TIMEOUT"),
            ("connect timeout", self.connect_timeout, "$VIB_CONNECT_TIMEOUT"),
            ("backoff", self.backoff, "$VIB_BACKOFF"),
        ):
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a number of seconds, got {value} ({where}).")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout}.")
        if self.connect_timeout <= 0:
            raise ConfigError(f"connect timeout must be positive, got {self.connect_timeout}.")
        if not 0 <= self.retries <= MAX_RETRIES:
            raise ConfigError(
                f"retries must be between 0 and {MAX_RETRIES}, got {self.retries} "
                "(`retries` or $VIB_RETRIES)."
            )
        if not 0 <= self.backoff <= 60:
            raise ConfigError(f"backoff must be between 0 and 60 seconds, got {self.backoff}.")
        if self.timeout > 3600:
            raise ConfigError(f"timeout must be at most 3600 seconds, got {self.timeout}.")
        if not self.source:
            object.__setattr__(self, "source", f"cbs:{parts.netloc}")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from the environment, with explicit ``overrides`` (``None`` = not given)."""
        values: dict[str, object] = {
            "data_dir": Path(os.environ.get("VIB_DATA_DIR") or "data"),
            "cbs_url": os.environ.get("VIB_CBS_URL") or DEFAULT_CBS_URL,
            "timeout": _env_float("VIB_TIMEOUT", 120.0),
            "connect_timeout": _env_float("VIB_CONNECT_TIMEOUT", 10.0),
            "retries": _env_int("VIB_RETRIES", 3),
            "backoff": _env_float("VIB_BACKOFF", 1.0),
            "pdok_url": os.environ.get("VIB_PDOK_URL") or DEFAULT_PDOK_URL,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values["data_dir"], str):
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)  # type: ignore[arg-type]

    @property
    def request_deadline(self) -> float:
        """Overall limit on one HTTP request (one page), headers and body together.

        A server that drips its answer a byte at a time never trips the read timeout;
        this bounds it: twice the read timeout.
        """
        return 2 * self.timeout

    @property
    def call_deadline(self) -> float:
        """Overall limit on one call of all its pages (an hour, or 20 slow pages)."""
        return max(3600.0, 20 * self.request_deadline)

    @property
    def request_timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeout as ``requests`` takes it."""
        return (min(self.connect_timeout, self.timeout), self.timeout)

    @property
    def pdok_api_url(self) -> str:
        """Base of PDOK's OGC APIs: api.pdok.nl for PDOK, else the same (local) server."""
        return (
            DEFAULT_PDOK_API_URL if self.pdok_url.rstrip("/") == DEFAULT_PDOK_URL else self.pdok_url
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
