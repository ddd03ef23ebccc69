"""The whole run from a warm local store, what it asks for, and start-up times.

Reports, for `vib run --snapshot <shared statline>`:

- the cold run (fetching from the local replay server) and the warm run (store filled);
- in the warm run (-v): CBS requests (target 0), store reads, and distinct extracts
  (target: each read once);
- the warm run against a bare ``python -c "import geopandas, folium, matplotlib"``
  in the same process set-up (target: the run takes at most 4 times the bare import);
- ``vib --help`` start-up.

    .venv/bin/python benchmarks/bench_run.py [--shared ../shared/data] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    vib = [sys.executable, "-m", "vluchtelingen_in_beeld"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "VIB_DATA_DIR": str(Path(tmp) / "store")}
        out = Path(tmp) / "uit"
        run = [*vib, "run", "--snapshot", str(args.shared / "statline"), "--out", str(out)]
        cold, _ = timed(run, env)
        bare_cmd = [sys.executable, "-c", "import geopandas, folium, matplotlib"]
        # interleaved, so that a busy moment on the machine weighs on both alike
        warm, bare = [], []
        for _ in range(args.repeat):
            warm.append(timed(run, env)[0])
            bare.append(timed(bare_cmd, dict(os.environ))[0])
        _, log = timed([*run, "-v"], env)
        files = sum(1 for p in out.rglob("*") if p.is_file())
    requests = re.findall(r"GET \S*/ODataFeed/odata/\S+", log)
    pdok = re.findall(r"GET \S*/wfs/", log)
    reads = re.findall(r"STORE (\S+ .*) \(\d+ rows\)", log)
    helps = [timed([*vib, "--help"], dict(os.environ))[0] for _ in range(max(5, args.repeat))]
    w, b = statistics.median(warm), statistics.median(bare)
    print(f"vib run (cold store, incl. fetching from the local server): {cold:.1f} s")
    print(f"vib run (warm store): median {w:.1f} s of {args.repeat}, {files} files written")
    ratios = sorted(x / y for x, y in zip(warm, bare, strict=True))
    print(f"bare import of geopandas, folium, matplotlib: median {b:.2f} s of {args.repeat}")
    print(f"warm run / bare import: {w / b:.1f}x of the medians, {ratios[0]:.1f}x to "
          f"{ratios[-1]:.1f}x pair by pair (target at most 4x)")  # fmt: skip
    print(f"warm run requests: {len(requests)} to CBS, {len(pdok)} to PDOK (target 0)")
    print(f"warm run store reads: {len(reads)} of {len(set(reads))} distinct extracts "
          "(target: each read once)")  # fmt: skip
    print(f"vib --help: median {statistics.median(helps) * 1000:.0f} ms (process start included)")


if __name__ == "__main__":
    main()
