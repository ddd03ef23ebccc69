"""Headless Chromium for tests: Debian's chromium driven by Playwright, every network request
blocked (only ``file://`` pages load). Missing Chromium fails the test; it is never skipped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("VIB_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@dataclass
class PageLog:
    """What the page did: console errors, page errors, requests that were blocked."""

    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


@contextmanager
def offline_page(viewport: tuple[int, int] = (1280, 900)) -> Iterator[tuple[object, PageLog]]:
    """A page in a fresh browser context with all network blocked."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it (apt-get install chromium; ./dev "
            "does this when run as root) or set VIB_CHROMIUM."
        )
    log = PageLog()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}, offline=True
            )

            def route(r):  # type: ignore[no-untyped-def]
                if r.request.url.startswith(("file://", "data:", "about:")):
                    r.continue_()
                else:
                    log.blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: log.errors.append(str(e)))
            yield page, log
        finally:
            browser.close()


def artifact(name: str) -> Path:
    """Where a test keeps a screenshot or PDF for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
