"""The selection of voortrekkersgemeenten on the shared snapshot: time and peak memory.

Builds the 2025 estimate once (from the shared StatLine snapshot through the local replay
server), then times :func:`vluchtelingen_in_beeld.rank.rank`: the reach draws, the integer
programme, the price of every constraint, the swaps (each pick left out, the 20 best others
forced in, each re-solved), the picks at every parameter's bounds, and the re-solve per draw
for ``kans_geselecteerd`` and its two diagnostics (target: under 5 s on this machine).
Peak memory is the traced Python allocation during one ranking.

    .venv/bin/python benchmarks/bench_select.py [--shared ../shared/data] [--resolve 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path


def main() -> None:
    from vluchtelingen_in_beeld.cbs import Session
    from vluchtelingen_in_beeld.pipeline import estimate_inputs, prepare_card
    from vluchtelingen_in_beeld.rank import rank
    from vluchtelingen_in_beeld.selection import Constraints
    from vluchtelingen_in_beeld.settings import Settings
    from vluchtelingen_in_beeld.snapshot import serving_snapshot

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--resolve", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        with serving_snapshot(settings, args.shared / "statline") as live:
            card = prepare_card(None)
            card = replace(card, selection=replace(card.selection, resolve_draws=args.resolve))
            est, _, regions = estimate_inputs(Session(live), 2025, card)
    constraints = Constraints.from_card(card)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ranking = rank(est, regions.frame, None, constraints=constraints)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    rank(est, regions.frame, None, constraints=constraints)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    swaps = int(ranking.table["verlies_als_eruit"].notna().sum()) + int(
        ranking.table["verlies_als_erin"].notna().sum()
    )
    share = ranking.held["aandeel_nl"]
    print(
        f"selection of {constraints.n} from {len(ranking.table)} gemeenten "
        f"({share:.0%} of national job-seekers), {len(ranking.prices)} constraint prices, "
        f"{swaps} swaps, {len(ranking.sensitivity) if ranking.sensitivity is not None else 0} "
        "sensitivity rows, "
        f"{args.resolve} re-solved draws x 3 (of {card.draws}): "
        f"median {statistics.median(times):.2f} s, best {min(times):.2f} s over "
        f"{args.repeat} runs (target < 5 s); peak traced memory {peak / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
