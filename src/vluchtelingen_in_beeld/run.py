"""The whole job in one call: build the year, then write every output into one folder.

:func:`run_all` checks the output folder first (a folder the tool did not write is never
replaced), builds the year once (:func:`~.year.build_year`, with shapes) and hands it to
:func:`~.output.write_run`, which builds the folder beside its destination and swaps it in at
the end. The CBS rows are in the local store, so a rerun does not fetch them again.

Stage: orchestration (after render).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vluchtelingen_in_beeld.cbs import Session
from vluchtelingen_in_beeld.output import RUN_STEPS, check_output_folder, write_run
from vluchtelingen_in_beeld.sender import Sender
from vluchtelingen_in_beeld.year import YearResult, build_year

STEPS = RUN_STEPS


@dataclass
class RunResult:
    """Where the outputs went and what they were made from."""

    out: Path
    outputs: dict[str, str]  # relative path -> sha256
    result: YearResult


def run_all(
    session: Session,
    year: int | None,
    out: Path,
    *,
    card: Any = None,
    n: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    boundaries: Path | None = None,
    boundary_year: int | None = None,
    progress: Callable[[int, str], None] = lambda i, s: None,
    hook: Callable[[str], None] = lambda step: None,
    force: bool = False,
    sender: Sender | None = None,
    inputs: Sequence[Path] = (),
) -> RunResult:
    """Run every step for ``year`` (``None``: the latest) and put the outputs in ``out``.

    ``out`` must be new, empty, or an earlier run's folder (see
    :func:`~.output.check_output_folder`); ``force`` replaces any other folder except the
    working folder, the store and the snapshot. ``progress(i, text)`` is called at the
    start of each step, ``hook(name)`` after each (tests use it to interrupt a run).
    ``sender``: who hands the pitch pages out (their ask block); ``inputs``: more files the
    run reads (the sender file), which ``out`` may not hold, like the boundaries and card.
    """
    out = Path(out)
    files = [Path(p) for p in (boundaries, *inputs) if p is not None]
    if isinstance(card, (str, Path)) and Path(card).suffix == ".toml":
        files.append(Path(card))
    check_output_folder(out, session.settings, force=force, inputs=files)
    progress(1, STEPS[0])
    result = build_year(
        session,
        year,
        card,
        draws=draws,
        seed=seed,
        n=n,
        shapes=True,
        boundaries=boundaries,
        boundary_year=boundary_year,
    )
    outputs = write_run(result, out, progress=progress, hook=hook, sender=sender)
    return RunResult(out, outputs, result)
