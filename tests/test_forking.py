"""Work on the second core while the caller goes on (``_impl/forking.forked``)."""

from __future__ import annotations

import os

import pytest

from vluchtelingen_in_beeld._impl import forking

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
