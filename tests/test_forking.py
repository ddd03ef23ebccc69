"""Work on the second core while the caller goes on (``forking.forked``)."""

from __future__ import annotations

import os

import pytest

from vluchtelingen_in_beeld import forking

CALLS: list[int] = []


def _square_and_pid(x: int) -> tuple[int, int]:
    CALLS.append(x)
    return x * x, os.getpid()


def _fails(x: int) -> int:
    if x == 2:
        raise ValueError(f"item {x} is bad")
    return x


@pytest.mark.skipif(not forking.can_fork(), reason="needs fork and two cores")
def test_results_in_order_from_other_processes():
    with forking.forked(_square_and_pid, range(6)) as results:
        got = results()
    assert [v for v, _ in got] == [0, 1, 4, 9, 16, 25]
    assert os.getpid() not in {pid for _, pid in got}
    assert CALLS == []  # nothing ran in this process


@pytest.mark.skipif(not forking.can_fork(), reason="needs fork and two cores")
def test_a_worker_error_reaches_the_caller():
    with pytest.raises(ValueError, match="item 2 is bad"):
        with forking.forked(_fails, range(4)) as results:
            results()


def test_without_fork_the_work_waits_for_the_caller(monkeypatch):
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    CALLS.clear()
    with forking.forked(_square_and_pid, range(3)) as results:
        assert CALLS == []  # started nothing
        got = results()
    assert [v for v, _ in got] == [0, 1, 4] and CALLS == [0, 1, 2]
    assert {pid for _, pid in got} == {os.getpid()}


#: A process that starts two workers on slow items and is then killed (SIGKILL).
KILLED_PARENT = """
import os, signal, time
from vluchtelingen_in_beeld import forking

def slow(x):
    time.sleep(60)
    return x

with forking.forked(slow, range(2)):
    time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _state(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _children_of(pid: int) -> list[int]:
    found = [(int(e), _state(int(e))) for e in os.listdir("/proc") if e.isdigit()]
    return [child for child, st in found if st is not None and st[1] == pid]


@pytest.mark.skipif(
    not forking.can_fork() or not os.path.isdir("/proc"), reason="needs fork, two cores, /proc"
)
def test_workers_end_when_their_parent_is_killed():
    """SIGKILL of the process that forked the workers leaves none of them behind (they used
    to wait for ever on a pipe nobody reads, re-parented to init)."""
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT])
    deadline = time.monotonic() + 20
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2 and parent.poll() is None:
        workers = _children_of(parent.pid)
        time.sleep(0.02)
    assert len(workers) == 2, "the workers did not start"
    assert parent.wait(timeout=30) == -9
    deadline = time.monotonic() + 10
    alive = workers
    while time.monotonic() < deadline and alive:
        alive = [w for w in workers if (_state(w) or ("Z", 0))[0] != "Z"]
        time.sleep(0.05)
    for w in alive:  # leave nothing behind, even when the test fails
        os.kill(w, 9)
    assert not alive, f"workers {alive} outlived their killed parent"
