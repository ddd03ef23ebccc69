"""A linear or mixed 0/1 programme ``max v·x, lo ≤ A·x ≤ hi, lb ≤ x ≤ ub`` solved by HiGHS.

The model is passed to HiGHS once and kept: solving it again with other values only changes
the objective, and HiGHS starts from the previous optimal basis, so a re-solve costs a few
simplex steps (about 0.5 ms for the selection's 342 gemeenten, against 5 ms through
``scipy.optimize.linprog``, which builds the model anew on every call). ``highspy`` is
HiGHS's own Python interface and imports in milliseconds.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

#: Reduced costs below this count as zero. HiGHS's default (1e-7) can return a selection a
#: hair below the optimum when two values differ by less than that; the values here are
#: trajectories (tens), so a tighter tolerance costs nothing and keeps near-ties exact.
DUAL_TOLERANCE = 1e-10


_banner_said = False


def _quiet_highs() -> Any:
    """A HiGHS instance (``highspy.Highs``) that prints nothing, not even its banner.

    ``highspy.Highs()`` logs the "Running HiGHS …" banner to the C-level stdout the first
    time an instance is made in a process, before any option can be set
    (ERGO-Code/HiGHS#2749). That first instance is made with file descriptor 1 pointed at
    the null device; later ones print nothing until they run, by which time
    ``output_flag`` is off.
    """
    global _banner_said
    if not _banner_said:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_said = True
    return highspy.Highs()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Solution:
    """What one solve gave.

    ``status`` is ``optimal``, ``infeasible``, ``node_limit`` or another HiGHS model status
    (lower case); ``x`` is set when a solution exists. A linear programme solved to its
    optimum also gives its objective and the reduced costs of its columns (``dual``): for a
    maximum, forcing a column at its lower bound up by one lowers the optimum by at least
    ``-dual`` (a bound the selection uses to find its near alternatives).
    """

    status: str
    x: np.ndarray | None
    objective: float = float("nan")
    dual: np.ndarray | None = None


class Programme:
    """One programme, kept in HiGHS between solves with different objectives."""

    def __init__(
        self,
        rows: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        lb: np.ndarray,
        ub: np.ndarray,
        *,
        integer: bool | np.ndarray = False,
        node_limit: int | None = None,
        gap: float = 0.0,
    ) -> None:
        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        n_rows, n_cols = rows.shape
        self.n = n_cols
        self._cols = np.arange(n_cols, dtype=np.int32)
        h = _quiet_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("dual_feasibility_tolerance", DUAL_TOLERANCE)
        h.setOptionValue("mip_rel_gap", float(gap))  # 0: exact (the default stops at 0.01%)
        h.setOptionValue("mip_abs_gap", 1e-7)
        if node_limit is not None:  # a limit in work, never in seconds (no load dependence)
            h.setOptionValue("mip_max_nodes", int(node_limit))
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = n_rows
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.zeros(n_cols)
        lp.col_lower_ = np.asarray(lb, dtype=float)
        lp.col_upper_ = np.asarray(ub, dtype=float)
        lp.row_lower_ = np.asarray(lo, dtype=float)
        lp.row_upper_ = np.asarray(hi, dtype=float)
        nonzero = rows != 0
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.r_[0, np.cumsum(nonzero.sum(axis=1))].astype(np.int32)
        lp.a_matrix_.index_ = np.nonzero(nonzero)[1].astype(np.int32)
        lp.a_matrix_.value_ = rows[nonzero]
        mask = np.broadcast_to(np.asarray(integer, dtype=bool), (n_cols,))
        if mask.any():
            kinds = highspy.HighsVarType
            lp.integrality_ = [kinds.kInteger if i else kinds.kContinuous for i in mask]
        h.passModel(lp)
        self._lb, self._ub = np.array(lp.col_lower_), np.array(lp.col_upper_)
        self._h: Any = h
        self._status = highspy.HighsModelStatus

    def option(self, name: str) -> Any:
        """The value of one HiGHS option of this programme (``time_limit``, …)."""
        got = self._h.getOptionValue(name)
        return got[1] if isinstance(got, tuple) else got  # (status, value) in highspy 1.15

    def solve(
        self,
        values: np.ndarray,
        lb: np.ndarray | None = None,
        ub: np.ndarray | None = None,
        *,
        start: np.ndarray | None = None,
    ) -> Solution:
        """Maximise ``values · x`` (a vector of ``n``), with other column bounds if given.

        ``lb``/``ub`` hold for this solve only; the model's own bounds are put back after.
        ``start``: a feasible ``x`` that branch and bound takes as its first incumbent.
        """
        values = np.asarray(values, dtype=float)
        if values.shape != (self.n,):
            raise ValueError(f"expected {self.n} values, got shape {values.shape}")
        h = self._h
        h.changeColsCost(self.n, self._cols, values)
        moved = lb is not None or ub is not None
        if moved:
            old_lb, old_ub = self._lb, self._ub
            new_lb = old_lb if lb is None else np.asarray(lb, dtype=float)
            new_ub = old_ub if ub is None else np.asarray(ub, dtype=float)
            h.changeColsBounds(self.n, self._cols, new_lb, new_ub)
        try:
            if start is not None:  # after the costs: changing them drops a given solution
                given = highspy.HighsSolution()
                given.col_value = np.asarray(start, dtype=float).tolist()
                given.value_valid = True
                h.setSolution(given)
            h.run()
            return self._read()
        finally:
            if moved:
                h.changeColsBounds(self.n, self._cols, old_lb, old_ub)

    def _read(self) -> Solution:
        h = self._h
        status = h.getModelStatus()
        if status == self._status.kOptimal:
            sol = h.getSolution()
            dual = np.array(sol.col_dual) if sol.dual_valid else None
            return Solution(
                "optimal",
                np.array(sol.col_value),
                float(h.getInfo().objective_function_value),
                dual,
            )
        name = h.modelStatusToString(status).lower().replace(" ", "_")
        if status == self._status.kInfeasible:
            name = "infeasible"
        elif status in (self._status.kSolutionLimit, self._status.kIterationLimit):
            name = "node_limit"
        x = None
        if h.getInfo().primal_solution_status == 2:  # a feasible point exists
            x = np.array(h.getSolution().col_value)
        return Solution(name, x)
