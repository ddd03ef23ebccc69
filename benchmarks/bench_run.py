"""The whole run and a single call against the import floor, side by side in one run.

Reports, on the shared snapshot (``vib run --snapshot <statline>``):

- the warm run (the local store filled) against a bare
  ``python -c "import geopandas, folium, matplotlib"``, interleaved pair by pair so that a
  busy moment on the machine weighs on both alike (goal: the run at most 3 times the bare
  import);
- a cold ``vib estimate --snapshot`` in a fresh folder (nothing stored: every answer comes
  from the snapshot's replay server; goal: at most 2 s);
- the cold run (fetching from the local replay server), ``vib --help`` start-up;
- in the warm run (-v): CBS requests (goal 0), store reads and distinct extracts (goal:
  each read once).

    .venv/bin/python benchmarks/bench_run.py [--shared ../shared/data] [--repeat 5]

Python must be able to read compiled bytecode (``./dev`` writes it where
``PYTHONDONTWRITEBYTECODE`` stops Python from doing so): otherwise every process compiles
matplotlib, pandas and the rest again, the bare import as well as the run.
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


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - t0, proc.stderr


def spread(values: list[float]) -> str:
    mid, low, high = statistics.median(values), min(values), max(values)
    return f"median {mid:.2f} s (min {low:.2f}, max {high:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    statline = str((args.shared / "statline").resolve())
    vib = [sys.executable, "-m", "vluchtelingen_in_beeld"]
    bare_cmd = [sys.executable, "-c", "import geopandas, folium, matplotlib"]
    plain = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**plain, "VIB_DATA_DIR": str(Path(tmp) / "store")}
        out = Path(tmp) / "uit"
        run = [*vib, "run", "--snapshot", statline, "--out", str(out), "--force"]
        cold_run, _ = timed(run, env)
        warm, bare, cold = [], [], []
        for i in range(args.repeat):  # interleaved: warm run, bare import, cold call
            warm.append(timed(run, env)[0])
            bare.append(timed(bare_cmd, plain)[0])
            fresh = Path(tmp) / f"fresh{i}"
            fresh.mkdir()
            cold.append(timed([*vib, "estimate", "--snapshot", statline], plain, fresh)[0])
        _, log = timed([*run, "-v"], env)
        files = sum(1 for p in out.rglob("*") if p.is_file())
    requests = re.findall(r"GET \S*/ODataFeed/odata/\S+", log)
    pdok = re.findall(r"GET \S*/(?:wfs|ogc)/", log)
    reads = re.findall(r"STORE (\S+ .*) \(\d+ rows\)", log)
    helps = [timed([*vib, "--help"], plain)[0] for _ in range(max(5, args.repeat))]
    w, b = statistics.median(warm), statistics.median(bare)
    ratios = sorted(x / y for x, y in zip(warm, bare, strict=True))
    print(f"warm vib run:      {spread(warm)}, {files} files written")
    print(f"bare import:       {spread(bare)} (geopandas, folium, matplotlib)")
    print(f"warm run / import: {w / b:.1f}x of the medians, {ratios[0]:.1f}x to "
          f"{ratios[-1]:.1f}x pair by pair (goal at most 3x)")  # fmt: skip
    print(f"cold vib estimate: {spread(cold)} in a fresh folder (goal at most 2 s)")
    print(f"cold vib run:      {cold_run:.1f} s (store empty, fetching from the local server)")
    print(f"warm run requests: {len(requests)} to CBS, {len(pdok)} to PDOK (goal 0)")
    print(f"warm run store reads: {len(reads)} of {len(set(reads))} distinct extracts "
          "(goal: each read once)")  # fmt: skip
    print(f"vib --help:        median {statistics.median(helps) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
