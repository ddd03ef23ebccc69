"""A linear or mixed 0/1 programme ``max v·x, lo ≤ A·x ≤ hi, lb ≤ x ≤ ub`` solved by HiGHS.

The model is passed to HiGHS once and kept: solving it again with other values only changes
the objective, and HiGHS starts from the previous optimal basis, so a re-solve costs a few
simplex steps (about 0.5 ms for the selection's 342 gemeenten, against 5 ms through
``scipy.optimize.linprog``, which builds the model anew on every call). ``highspy`` is
HiGHS's own Python interface and imports in milliseconds.

Stage: base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Reduced costs below this count as zero. HiGHS's default (1e-7) can return a selection a
#: hair below the optimum when two values differ by less than that; the values here are
#: trajectories (tens), so a tighter tolerance costs nothing and keeps near-ties exact.
DUAL_TOLERANCE = 1e-10


def _quiet_highs() -> Any:
    """A HiGHS instance that prints nothing, not even its banner.

    ``highspy.Highs()`` enables its Python callbacks in ``__init__``, and that logs the
    "Running HiGHS …" banner to the C-level stdout before any option can be set
    (ERGO-Code/HiGHS#2749, open). Its base class, the compiled ``_Highs``, has every method
    used here and logs nothing until it runs, by which time ``output_flag`` is off. Fall
    back to the public class if a future highspy moves the base.
    """
    try:
        from highspy._core import _Highs
    except ImportError:  # pragma: no cover - depends on highspy's layout
        import highspy

        return highspy.Highs()  # type: ignore[no-untyped-call]
    return _Highs()


@dataclass(frozen=True)
class Solution:
    """What one solve gave.

    ``status`` is ``optimal``, ``infeasible``, ``time_limit`` or another HiGHS model status
    (lower case); ``x`` is set when a solution exists.
    """

    status: str
    x: np.ndarray | None


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
        time_limit: float | None = None,
    ) -> None:
        import highspy

        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        n_rows, n_cols = rows.shape
        self.n = n_cols
        self._cols = np.arange(n_cols, dtype=np.int32)
        h = _quiet_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("dual_feasibility_tolerance", DUAL_TOLERANCE)
        h.setOptionValue("mip_rel_gap", 0.0)  # exact: the default stops within 0.01%
        h.setOptionValue("mip_abs_gap", 1e-7)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
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
        self._h: Any = h
        self._status = highspy.HighsModelStatus

    def solve(self, values: np.ndarray) -> Solution:
        """Maximise ``values · x`` (a vector of ``n``)."""
        values = np.asarray(values, dtype=float)
        if values.shape != (self.n,):
            raise ValueError(f"expected {self.n} values, got shape {values.shape}")
        h = self._h
        h.changeColsCost(self.n, self._cols, values)
        h.run()
        status = h.getModelStatus()
        if status == self._status.kOptimal:
            return Solution("optimal", np.array(h.getSolution().col_value))
        name = h.modelStatusToString(status).lower().replace(" ", "_")
        if status == self._status.kInfeasible:
            name = "infeasible"
        elif status == self._status.kTimeLimit:
            name = "time_limit"
        x = None
        if h.getInfo().primal_solution_status == 2:  # a feasible point exists
            x = np.array(h.getSolution().col_value)
        return Solution(name, x)
