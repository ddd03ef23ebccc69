"""The selectieverkenner on the shared snapshot: its size, and how soon it shows the selection.

Writes ``verkenner.html`` for 2025 (``vib verken`` on the shared snapshot, through the local
replay server), then opens it ``--repeat`` times in headless Chromium (a fresh browser each
time, every network request blocked) and measures, from navigation:

* **selectie**: the default selection is solved and drawn (the page's ``data-state``
  becomes ``selectie``; target: within 3 s on this machine);
* **klaar**: the prices of every constraint and every swap are solved too;
* **opnieuw**: one re-solve after a change in the page (the number of pilots typed as 12,
  until the new selection is shown);
* **budget**: the page opened with a budget (``--budget``, ``--pilot-cost``; default
  1.500.000 and 50.000, as ``vib rank --budget 1500000 --pilot-cost 50000``) until its full
  answer, prices and swaps, is shown (target: within 5 s on this machine);
* **kans**: the ``kans_geselecteerd`` recount over the run's re-solved draws, on request.

The page's size is reported (target: under 8 MB), with the part that is the solver.

    .venv/bin/python benchmarks/bench_verkenner.py [--shared ../shared/data] [--repeat 5]
        [--budget 1500000] [--pilot-cost 50000]
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

    from vluchtelingen_in_beeld.cli.commands import main as vib

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--budget", type=int, default=1_500_000)
    ap.add_argument("--pilot-cost", type=int, default=50_000)
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
        shown, done, again, budget, kans = [], [], [], [], []
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
                t0 = time.perf_counter()
                tab.fill("#n", "12")
                tab.dispatch_event("#n", "change")
                tab.wait_for_function(
                    f"['selectie', 'klaar'].includes({STATE}) && "
                    "document.getElementById('n').value === '12' && "
                    "window.verkenner.settings().n === 12",
                    timeout=60_000,
                )
                again.append(time.perf_counter() - t0)
                tab.wait_for_function(f"{STATE} === 'klaar'", timeout=60_000)
                tab = context.new_page()  # a fresh tab, opened at the budget's link
                t0 = time.perf_counter()
                tab.goto(page.as_uri() + f"#v=1&budget={args.budget}&pilot_cost={args.pilot_cost}")
                tab.wait_for_function(
                    f"{STATE} === 'klaar' && window.verkenner.settings().budget === {args.budget}",
                    timeout=300_000,
                )
                budget.append(time.perf_counter() - t0)
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
    print(
        f"one re-solve (n = 12):   median {statistics.median(again):.2f} s "
        f"(min {min(again):.2f}, max {max(again):.2f})"
    )
    print(
        f"with a budget of {args.budget:,} and {args.pilot_cost:,} per pilot, opened until "
        f"prices and swaps are done: median {statistics.median(budget):.2f} s "
        f"(min {min(budget):.2f}, max {max(budget):.2f})"
    )
    print(f"kans_geselecteerd recount: {kans[0]:.1f} s")


if __name__ == "__main__":
    main()
