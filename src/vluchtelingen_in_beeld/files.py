"""Reading what a user gives: regular files of bounded size, TOML of bounded depth.

Every file the tool reads on a user's word (a method card, a sender file, a logo, a boundary
file) goes through :func:`read_regular`: a FIFO, a device (``/dev/zero``), a folder or a file
larger than the limit is refused with a message before anything is read, and nothing is read
beyond the limit even if the file grows meanwhile. :func:`load_toml` adds limits on nesting
(a card nested 100,000 deep would exhaust the parser's recursion).
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from vluchtelingen_in_beeld.errors import ConfigError

#: A TOML the tool reads (card, sender file) is small; this is a hundred times the largest.
MAX_TOML_BYTES = 1_000_000
#: Tables and arrays inside each other; the shipped cards use 3.
MAX_TOML_DEPTH = 16


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | Path, what: str, limit: int) -> Path:
    """``path`` if it is a regular file of at most ``limit`` bytes (for a reader of its own)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"The {what} {path} does not exist.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} {path}: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"The {what} {path} is {_kind(info.st_mode)}; give a regular file.")
    if info.st_size > limit:
        raise ConfigError(
            f"The {what} {path} is {info.st_size:,} bytes; at most {limit:,} are read. "
            "Give a smaller file."
        )
    return path


def read_regular(path: str | Path, what: str, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    ``what`` names it in messages ("method card", "logo"). Checked before opening (a FIFO
    would block ``open``), opened without blocking, checked again on the open file, and
    read to at most ``limit + 1`` bytes.
    """
    path = check_regular(path, what, limit)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} {path}: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as fh:
        now = os.fstat(fh.fileno())
        if not stat.S_ISREG(now.st_mode):  # swapped for something else since the check
            raise ConfigError(f"The {what} {path} is {_kind(now.st_mode)}; give a regular file.")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(f"The {what} {path} grew beyond {limit:,} bytes while being read.")
    return data


def _depth(value: Any) -> int:
    """How deep tables and arrays nest in a parsed TOML value (iteratively: no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_toml(text: str, origin: str, error: type[Exception] = ConfigError) -> dict[str, Any]:
    """Parse TOML ``text`` (from ``origin``, for messages) within the nesting limit.

    Raises ``error`` for invalid TOML, nesting beyond :data:`MAX_TOML_DEPTH` and text beyond
    :data:`MAX_TOML_BYTES`.
    """
    if len(text) > MAX_TOML_BYTES:
        raise error(f"{origin} is {len(text):,} characters; a TOML here is at most "
                    f"{MAX_TOML_BYTES:,}.")  # fmt: skip
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{origin} is not valid TOML ({exc}).") from None
    except RecursionError:
        raise error(
            f"{origin} nests tables or arrays too deeply to read (at most {MAX_TOML_DEPTH} levels)."
        ) from None
    if _depth(data) > MAX_TOML_DEPTH:
        raise error(
            f"{origin} nests tables or arrays {_depth(data)} levels deep; at most {MAX_TOML_DEPTH}."
        )
    return data


def load_toml(
    path: str | Path, what: str, error: type[Exception] = ConfigError
) -> tuple[dict[str, Any], str]:
    """(parsed TOML, its text) of the file ``path``: a regular file within the limits."""
    data = read_regular(path, what, MAX_TOML_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"The {what} {path} is not UTF-8 text ({exc}).") from None
    return parse_toml(text, f"The {what} {path}", error), text
