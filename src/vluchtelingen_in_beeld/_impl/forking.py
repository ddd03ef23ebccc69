"""CPU-bound work on the second core while this process goes on: forked workers.

Stage: base.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def can_fork() -> bool:
    """Whether the platform forks and there is a second core to use."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2


@contextmanager
def forked(
    fn: Callable[[T], R], items: Sequence[T], workers: int = 2
) -> Iterator[Callable[[], list[R]]]:
    """Start ``[fn(x) for x in items]`` in forked workers; yield a function that waits.

    The function returns the results in order; the caller goes on with other work in the
    meantime. Forked workers start at once and share the parent's memory as it was at the
    fork, so ``fn`` (a module-level function) reads what it needs from a module global the
    caller sets before entering. Where the platform cannot fork, or there is one core or one
    item, nothing starts: the items are done here, in turn, when the results are asked for.
    Leaving the block early (an error, an interrupt) cancels what has not started and waits
    for what has.
    """
    if not can_fork() or len(items) < 2 or workers < 2:
        yield lambda: [fn(x) for x in items]
        return
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(items)), mp_context=multiprocessing.get_context("fork")
    )
    try:
        futures = [pool.submit(fn, x) for x in items]
        yield lambda: [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
