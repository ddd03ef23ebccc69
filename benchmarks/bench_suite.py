"""The test suite's time on a fresh clone, for two commits one after the other.

Each commit is cloned into its own temporary folder with ``../shared`` beside it (a symlink
to the shared data), and ``./dev test -q`` is timed there: the virtual environment and its
install included, as on a fresh machine. Reports the wall time of each, the time pytest
reports for its tests, and the ratio (issue 22's target: the second at most half the first).

    .venv/bin/python benchmarks/bench_suite.py --before 6cc63ca --after HEAD

Takes as long as both suites together (about 12 minutes here); run nothing else meanwhile.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_folder() -> Path:
    """The shared folder (``../shared``, or the parent of ``$VIB_SHARED_DATA``)."""
    given = os.environ.get("VIB_SHARED_DATA")
    folder = Path(given).parent if given else ROOT.parent / "shared"
    if not (folder / "data" / "statline").is_dir():
        raise SystemExit(f"No shared data at {folder}; set VIB_SHARED_DATA to its data folder.")
    return folder.resolve()


def timed_suite(rev: str, shared: Path) -> tuple[float, float | None, str]:
    """(wall seconds, pytest's seconds, pytest's summary line) of ``./dev test -q`` at ``rev``."""
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        work = Path(tmp) / "main"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(work)], check=True)
        subprocess.run(["git", "-C", str(work), "checkout", "-q", rev], check=True)
        (Path(tmp) / "shared").symlink_to(shared, target_is_directory=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIB_")}
        start = time.monotonic()
        done = subprocess.run(
            ["./dev", "test", "-q"], cwd=work, env=env, capture_output=True, text=True
        )
        wall = time.monotonic() - start
    lines = [ln for ln in done.stdout.splitlines() if re.search(r"\d+ passed", ln)]
    summary = lines[-1] if lines else done.stdout[-300:]
    m = re.search(r" in ([\d.]+)s", summary)
    if done.returncode != 0:
        raise SystemExit(f"{rev}: the suite failed ({summary.strip()})")
    return wall, float(m.group(1)) if m else None, summary.strip("= ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="6cc63ca", help="the commit to compare with")
    parser.add_argument("--after", default="HEAD", help="the commit measured second")
    args = parser.parse_args()
    shared = shared_folder()
    results = {}
    for label, rev in (("before", args.before), ("after", args.after)):
        wall, tests, summary = timed_suite(rev, shared)
        results[label] = wall
        shown = f"{tests:.0f} s of tests" if tests is not None else "tests: ?"
        print(f"{label} ({rev}): {wall:.0f} s on a fresh clone, {shown} ({summary})")
    ratio = results["after"] / results["before"]
    print(f"after / before: {ratio:.2f} (target at most 0.50)")


if __name__ == "__main__":
    main()
