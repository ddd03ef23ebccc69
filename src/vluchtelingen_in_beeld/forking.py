"""CPU-bound work on the second core while this process goes on: forked workers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

#: Seconds between a worker's looks at whether the process that forked it is still there.
PARENT_CHECK = 0.2


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: end this worker as soon as the process that forked it is gone.

    A parent that is killed (SIGKILL, or SIGTERM without clean-up) cannot shut its pool
    down; its workers would wait for ever on a pipe nobody reads, each holding a copy of
    the year in memory. On Linux the kernel sends the worker SIGKILL when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``); everywhere, a daemon thread also watches the parent and
    ends the worker (this covers a parent that died before the worker could ask).
    """
    _kill_with_parent()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="vib-parent-watch", daemon=True).start()


#: prctl(2) option: the signal this process gets when its parent dies (Linux).
PR_SET_PDEATHSIG = 1


def _kill_with_parent() -> None:
    """Ask the Linux kernel for SIGKILL when the parent dies; elsewhere, nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        # lazy: ctypes: only the Linux parent-death signal needs it
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the thread watches
        pass


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
    fork, ``fn`` included: it may be a closure or a :func:`functools.partial` over large
    data (only the items and the results are pickled). ``workers`` may be 1: one worker
    does the items in turn while this process goes on. Where the platform cannot fork, or
    there is one core or one item, nothing starts: the items are done here, in turn, when
    the results are asked for.
    Leaving the block early (an error, an interrupt) cancels what has not started and waits
    for what has; if this process is killed, the workers end by themselves
    (:func:`_exit_with_parent`).
    """
    if not can_fork() or len(items) < 2 or workers < 1:
        yield lambda: [fn(x) for x in items]
        return
    token = object()
    _JOBS[id(token)] = fn  # inherited by the workers through the fork, never pickled
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(items)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures = [pool.submit(_run_job, id(token), x) for x in items]
        yield lambda: [cast(R, f.result()) for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        del _JOBS[id(token)]


#: job id -> the function forked workers call (set before the fork; see :func:`forked`)
_JOBS: dict[int, Callable[[Any], Any]] = {}


def _run_job(job: int, item: object) -> object:
    """In a worker: the job's function on one item."""
    return _JOBS[job](item)
