"""The selectieverkenner on the shared snapshot: its size, and how soon it shows the selection.

Writes ``verkenner.html`` for 2025 (``vib verken`` on the shared snapshot, through the local
replay server), then opens it ``--repeat`` times in headless Chromium (a fresh browser each
time, every network request blocked) and measures, from navigation:

* **selectie**: the default selection is solved and drawn (the page's ``data-state``
  becomes ``selectie``; target: within 3 s on this machine);
* **klaar**: the prices of every constraint and every swap are solved too;
* **kans**: the ``kans_geselecteerd`` recount over the run's re-solved draws, on request.

The page's size is reported (target: under 8 MB), with the part that is the solver.

    .venv/bin/python benchmarks/bench_verkenner.py [--shared ../shared/data] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATE = "document.getElementById('resultaat').dataset.state"


def main() -> None:
    from click.testing import CliRunner
    from playwright.sync_api import sync_playwright

    from vluchtelingen_in_beeld.cli import main as vib

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--chromium", default=os.environ.get("VIB_CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "verkenner.html"
        t0 = time.perf_counter()
        r = CliRunner().invoke(
            vib,
            ["verken", "--year", "2025", "--snapshot", str(args.shared / "statline"),
             "--out", str(page)],
            env={"VIB_DATA_DIR": str(Path(tmp) / "store")},
        )  # fmt: skip
        if r.exit_code != 0:
            raise SystemExit(r.output)
        built = time.perf_counter() - t0
        size = page.stat().st_size
        text = page.read_text("utf-8")
        start = text.index('id="highs-wasm">') + len('id="highs-wasm">')
        wasm = text.index("</script>", start) - start
        shown, done, kans = [], [], []
        with sync_playwright() as p:
            for i in range(args.repeat):
                browser = p.chromium.launch(
                    executable_path=args.chromium, headless=True, args=FLAGS
                )
                context = browser.new_context(offline=True)
                context.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if route.request.url.startswith("file:")
                        else route.abort()
                    ),
                )
                tab = context.new_page()
                t0 = time.perf_counter()
                tab.goto(page.as_uri())
                tab.wait_for_function(f"['selectie', 'klaar'].includes({STATE})", timeout=60_000)
                shown.append(time.perf_counter() - t0)
                tab.wait_for_function(f"{STATE} === 'klaar'", timeout=60_000)
                done.append(time.perf_counter() - t0)
                if i == 0:
                    t0 = time.perf_counter()
                    tab.click("#kans-knop")
                    tab.wait_for_function(
                        "document.getElementById('kans-status').textContent.startsWith('klaar')",
                        timeout=300_000,
                    )
                    kans.append(time.perf_counter() - t0)
                browser.close()
    print(
        f"verkenner.html: {size / 1e6:.2f} MB ({wasm / 1e6:.2f} MB of it the solver's wasm, "
        f"gzipped and base64), written in {built:.1f} s (estimate, ranking and page)"
    )
    print(
        f"default selection shown: median {statistics.median(shown):.2f} s "
        f"(min {min(shown):.2f}, max {max(shown):.2f}) over {len(shown)} fresh browsers"
    )
    print(
        f"prices and swaps done:   median {statistics.median(done):.2f} s "
        f"(min {min(done):.2f}, max {max(done):.2f})"
    )
    print(f"kans_geselecteerd recount: {kans[0]:.1f} s")


if __name__ == "__main__":
    main()
