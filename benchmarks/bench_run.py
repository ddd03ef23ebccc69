"""The whole run from a warm local store (target: under 60 s) and the start-up time of
``vib --help`` (target: under 0.5 s). Reads the shared snapshot at run time.

    .venv/bin/python benchmarks/bench_run.py [--shared ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    vib = [sys.executable, "-m", "vluchtelingen_in_beeld"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "VIB_DATA_DIR": str(Path(tmp) / "store")}
        run = [
            *vib,
            "run",
            "--snapshot",
            str(args.shared / "statline"),
            "--out",
            str(Path(tmp) / "uit"),
        ]
        cold = timed(run, env)
        warm = [timed(run, env) for _ in range(args.repeat)]
        files = sum(1 for p in (Path(tmp) / "uit").rglob("*") if p.is_file())
    helps = [timed([*vib, "--help"], dict(os.environ)) for _ in range(max(5, args.repeat))]
    print(f"vib run (cold store, incl. fetching from the local server): {cold:.1f} s")
    print(
        f"vib run (warm store): median {statistics.median(warm):.1f} s of {args.repeat}, "
        f"{files} files written"
    )
    print(
        f"vib --help: median {statistics.median(helps) * 1000:.0f} ms of {len(helps)} "
        "(process start included)"
    )


if __name__ == "__main__":
    main()
