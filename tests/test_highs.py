"""The HiGHS programme kept between solves (``ranking/highs.py``): every re-solve is the
optimum a brute force finds, near-ties included; infeasible and integer programmes."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from vluchtelingen_in_beeld.ranking.highs import Programme


def groups_problem(m: int = 12, n: int = 4, size: int = 3):
    """Pick ``n`` of ``m``: at most one per group of ``size``, at least one of the first 3."""
    rows = [np.ones(m)]
    lo, hi = [n], [n]
    for g in range(0, m, size):
        row = np.zeros(m)
        row[g : g + size] = 1
        rows.append(row)
        lo.append(0)
        hi.append(1)
    small = np.zeros(m)
    small[[1, 5, 9]] = 1
    rows.append(small)
    lo.append(1)
    hi.append(m)
    return np.vstack(rows), np.array(lo, float), np.array(hi, float)


def brute_force(rows, lo, hi, values, n):
    best = -np.inf
    for pick in combinations(range(len(values)), n):
        x = np.zeros(len(values))
        x[list(pick)] = 1
        a = rows @ x
        if np.all(a >= lo - 1e-9) and np.all(a <= hi + 1e-9):
            best = max(best, values[list(pick)].sum())
    return best


def test_kept_model_resolves_to_the_brute_force_optimum():
    """Many objectives through one kept model (a stale basis or cost would show)."""
    rows, lo, hi = groups_problem()
    m = rows.shape[1]
    kept = Programme(rows, lo, hi, np.zeros(m), np.ones(m))
    rng = np.random.default_rng(7)
    for _ in range(60):
        values = rng.gamma(2.0, 20.0, m)
        sol = kept.solve(values)
        assert sol.status == "optimal"
        assert np.allclose(sol.x, np.round(sol.x))
        assert values @ sol.x == pytest.approx(brute_force(rows, lo, hi, values, 4), abs=1e-9)


def test_near_ties_are_decided_by_value():
    """Values that differ in the eighth digit (as saturated pilots do: K·(1 − e^(−x)) close to
    K): the kept model still returns the exact optimum, not one a hair below it."""
    rows, lo, hi = groups_problem()
    m = rows.shape[1]
    kept = Programme(rows, lo, hi, np.zeros(m), np.ones(m))
    rng = np.random.default_rng(3)
    misses = 0
    for _ in range(200):
        values = 63.7 + rng.permutation(m) * 1e-8  # distinct, 1e-8 apart at least
        sol = kept.solve(values)
        best = brute_force(rows, lo, hi, values, 4)
        misses += values @ sol.x < best - 1e-9
    assert misses == 0


def test_infeasible_and_integer():
    rows = np.ones((1, 3))
    sol = Programme(rows, np.array([5.0]), np.array([5.0]), np.zeros(3), np.ones(3)).solve(
        np.ones(3)
    )
    assert sol.status == "infeasible" and sol.x is None
    # a knapsack whose relaxation is fractional: weights 3, 3, 4 under 6
    weights = np.array([[3.0, 3.0, 4.0]])
    values = np.array([5.0, 5.0, 9.0])
    relaxed = Programme(weights, np.array([0.0]), np.array([6.0]), np.zeros(3), np.ones(3))
    lp = relaxed.solve(values)
    assert lp.status == "optimal" and not np.allclose(lp.x, np.round(lp.x))
    integer = Programme(
        weights, np.array([0.0]), np.array([6.0]), np.zeros(3), np.ones(3), integer=True
    )
    mip = integer.solve(values)
    assert mip.status == "optimal" and mip.x.tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="expected 3 values"):
        integer.solve(np.ones(4))


def test_the_solver_is_not_one_whose_presolve_calls_a_worse_point_optimal():
    """HiGHS 1.14.0's MIP presolve returned a suboptimal point labelled optimal (HiGHS
    issues 2957 and 3043, fixed in 1.15.0; highs-js issue 53 has this model): minimise
    2x + 3z with x + z >= 4.5, x in [0, 10], z in [0, 10] integer. The optimum is 9
    (x = 4.5, z = 0); 1.14.0 says 15. Here as a maximum of -2x - 3z on our Programme."""
    from importlib.metadata import requires, version

    p = Programme(np.array([[1.0, 1.0]]), np.array([4.5]), np.array([np.inf]),
                  np.zeros(2), np.array([10.0, 10.0]), integer=np.array([False, True]))  # fmt: skip
    sol = p.solve(np.array([-2.0, -3.0]))
    assert sol.status == "optimal" and sol.objective == pytest.approx(-9.0)
    assert sol.x is not None and sol.x[1] == pytest.approx(0.0)
    installed = tuple(int(v) for v in version("highspy").split(".")[:2])
    assert installed >= (1, 15)
    floor = next(r for r in requires("vluchtelingen-in-beeld") or [] if r.startswith("highspy"))
    assert ">=1.15" in floor.replace(" ", ""), floor


def test_the_page_solver_is_past_that_regression_too():
    """The selectieverkenner's vendored HiGHS (highs-js) is the same solver in the browser."""
    from vluchtelingen_in_beeld.render.verkenner import vendored

    solver = str(vendored()["solver"])  # "HiGHS 1.15.1"
    major, minor = (int(v) for v in solver.split()[-1].split(".")[:2])
    assert (major, minor) >= (1, 15), solver
