"""How much of CBS's table a fetch for one year asks for, and how many requests it takes.

Serves the shared snapshot locally (its metadata has the table's real dimension sizes for the
periods it holds) and runs ``vib fetch``'s code path on an empty store.

    .venv/bin/python benchmarks/bench_fetch.py [--year 2025] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vluchtelingen_in_beeld.access.cbs import Session
from vluchtelingen_in_beeld.access.server import ReplayServer
from vluchtelingen_in_beeld.clean.inputs import gather
from vluchtelingen_in_beeld.clean.method import load_card
from vluchtelingen_in_beeld.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--method", default=None)
    ap.add_argument(
        "--shared",
        type=Path,
        default=Path(__file__).resolve().parents[1].parent / "shared" / "data",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ReplayServer(args.shared / "statline") as server:
        settings = Settings(data_dir=Path(tmp), cbs_url=server.url, source="bench")
        session = Session(settings)
        t0 = time.perf_counter()
        gather(session, load_card(args.method), args.year)
        cold = time.perf_counter() - t0
        n_requests = len(server.requests)
        data_requests = sum("TypedDataSet" in r for r in server.requests)
        t0 = time.perf_counter()
        warm_session = Session(settings)
        gather(warm_session, load_card(args.method), args.year)
        warm = time.perf_counter() - t0
        print(f"year {args.year}, card {load_card(args.method).name}")
        for x in session.fetched:
            m = x.manifest
            print(
                f"  {m['table']}: {m['cells']:,} cells requested of {m['table_cells']:,} "
                f"({m['cells'] / m['table_cells']:.3%}), {m['rows']:,} rows"
            )
        cells = sum(x.manifest["cells"] for x in session.fetched)
        table_cells = session.fetched[0].manifest["table_cells"]
        print(f"  total: {cells:,} cells of {table_cells:,} ({cells / table_cells:.3%})")
        print(f"  HTTP requests: {n_requests} ({data_requests} data pages, rest metadata)")
        print(f"  requests after a warm store: {len(server.requests) - n_requests}")
        print(f"  time: cold {cold:.2f} s, from store {warm:.3f} s")
        print(
            "  note: the live 85458NED has more periods and keys, so its real fraction is smaller"
        )


if __name__ == "__main__":
    main()
