"""CPU-bound work over two cores: forked workers where the platform allows it.

Stage: base.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def fork_map(fn: Callable[[T], R], items: Sequence[T], workers: int = 2) -> list[R]:
    """``[fn(x) for x in items]``, in ``workers`` forked processes where that helps.

    Forked workers start at once and share the parent's memory, so ``fn`` (a module-level
    function) reads what it needs from a module global the caller sets before the call.
    Where the platform cannot fork, there is one core, or there is one item, the items
    are done here in turn.
    """
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if not can_fork or (os.cpu_count() or 1) < 2 or len(items) < 2 or workers < 2:
        return [fn(x) for x in items]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(fn, items))
