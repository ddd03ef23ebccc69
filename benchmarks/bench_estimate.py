"""Time and peak memory of the Monte Carlo: 2,000 draws over 342 gemeenten and the card's
groups (target: under 2 s on this machine).

    .venv/bin/python benchmarks/bench_estimate.py [--draws 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from dataclasses import replace

import numpy as np
import pandas as pd

from vluchtelingen_in_beeld.clean.method import load_card
from vluchtelingen_in_beeld.estimation.estimate import simulate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--gemeenten", type=int, default=342)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--method", default="cbs6+ethiopie")
    args = ap.parse_args()
    card = replace(load_card(args.method), draws=args.draws)
    rng = np.random.default_rng(1)
    codes = [f"GM{i:04d}" for i in range(args.gemeenten)]
    w = pd.DataFrame(
        rng.integers(0, 5000, (args.gemeenten, len(card.groups))).astype(float),
        index=codes,
        columns=[g.name for g in card.groups],
    )
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        d, _ = simulate(w, card)
        d.percentiles()
        d.region_sums(
            pd.Series([f"R{i % 12}" for i in range(args.gemeenten)], index=codes, name="r")
        )
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    d, _ = simulate(w, card)
    d.percentiles()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{args.draws} draws x {args.gemeenten} gemeenten x {len(card.groups)} groups "
        f"(card {card.name}): median {statistics.median(times):.3f} s, "
        f"best {min(times):.3f} s over {args.repeat} runs; "
        f"peak traced memory {peak / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
