"""The selection of voortrekkersgemeenten on the shared snapshot: time and peak memory.

Builds the 2025 estimate once (from the shared StatLine snapshot through the local replay
server), then times :func:`vluchtelingen_in_beeld.ranking.rank.rank`: the reach draws, the integer
programme, the price of every constraint, the swaps (each pick left out, the 20 best others
forced in, each re-solved), the picks at every parameter's bounds, and the re-solve per draw
for ``kans_geselecteerd`` and its two diagnostics (target: under 5 s on this machine).
Peak memory is the traced Python allocation during one ranking.

With ``--budget EUR --pilot-cost EUR`` it times the selection under a budget instead (as
``vib rank --budget 1500000 --pilot-cost 50000``; target for the whole command: under 10 s),
and ``--command`` also times that whole command once, on a filled store.

    .venv/bin/python benchmarks/bench_select.py [--shared ../shared/data] [--resolve 500]
    .venv/bin/python benchmarks/bench_select.py --budget 1500000 --pilot-cost 50000 --command
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
    from vluchtelingen_in_beeld.access.cbs import Session
    from vluchtelingen_in_beeld.access.snapshot import serving_snapshot
    from vluchtelingen_in_beeld.ranking.rank import rank
    from vluchtelingen_in_beeld.ranking.selection import Constraints
    from vluchtelingen_in_beeld.settings import Settings
    from vluchtelingen_in_beeld.workflow.pipeline import estimate_inputs, prepare_card

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--resolve", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--budget", type=float, default=None)
    ap.add_argument("--pilot-cost", type=float, default=None)
    ap.add_argument("--command", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        with serving_snapshot(settings, args.shared / "statline") as live:
            card = prepare_card(None)
            card = replace(card, selection=replace(card.selection, resolve_draws=args.resolve))
            est, _, regions = estimate_inputs(Session(live), 2025, card)
        if args.command:
            print(_command(args, Path(tmp)))
    over = {}
    if args.budget is not None:
        over = {"budget_eur": args.budget, "pilot_cost_eur": args.pilot_cost or 0.0}
    constraints = Constraints.from_card(card, **over)
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
        f"(living there: {share:.1%} of national job-seekers), {len(ranking.prices)} "
        "constraint prices, "
        f"{swaps} swaps, {len(ranking.sensitivity) if ranking.sensitivity is not None else 0} "
        "sensitivity rows, "
        f"{args.resolve} re-solved draws x 3 (of {card.draws}): "
        f"median {statistics.median(times):.2f} s, best {min(times):.2f} s over "
        f"{args.repeat} runs (target < 5 s); peak traced memory {peak / 2**20:.1f} MiB"
        + (
            f"; budget {args.budget:,.0f} euro, pilot {args.pilot_cost or 0:,.0f} euro"
            if args.budget is not None
            else ""
        )
    )


def _command(args: argparse.Namespace, store: Path) -> str:
    """``vib rank`` with the same budget, timed once as a user runs it (store filled)."""
    import os
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "vluchtelingen_in_beeld", "rank", "--snapshot",
           str(args.shared / "statline"), "--out", str(store / "r.csv"), "--force"]  # fmt: skip
    if args.budget is not None:
        cmd += ["--budget", f"{args.budget:.0f}", "--pilot-cost", f"{args.pilot_cost or 0:.0f}"]
    env = {**os.environ, "VIB_DATA_DIR": str(store)}
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # fills the store
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    return f"vib rank {' '.join(cmd[5:])}: {time.perf_counter() - t0:.1f} s (target < 10 s)"


if __name__ == "__main__":
    main()
