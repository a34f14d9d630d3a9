"""Recruitment for trials: a :class:`~openvns.nerve.recruitment.RecruitmentTable` as the runner's
``recruitment(current_mA, pulse_width_us) -> (n, len(GROUPS))`` function.

The runner calls it once per day and protocol with the effective currents ``I / θ`` of the
patients (θ: each patient's nerve-interface threshold multiplier, :class:`~openvns.patients.
cohort.Cohort` ``coupling``), so a table of the ideal cuff serves every patient. Per pulse width
the fibres' thresholds are sorted once per group and the fractions are cumulative weights, so a
day costs one ``searchsorted`` per group.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError
from openvns.nerve.recruitment import RecruitmentTable, build_recruitment_table
from openvns.physiology.drive import GROUPS

FloatArray = npt.NDArray[np.float64]

log = logging.getLogger(__name__)

__all__ = ["TableRecruitment", "default_recruitment"]


class TableRecruitment:
    """Fractions of every physiology group (:data:`~openvns.physiology.drive.GROUPS`) recruited.

    Parameters
    ----------
    table
        A recruitment table with (at least) the groups of the physiology model.

    Attributes
    ----------
    identity
        ``"recruitment-table:<key>"``: what the trial's configuration hash records.
    """

    def __init__(self, table: RecruitmentTable) -> None:
        missing = [g for g in GROUPS if g not in table.groups]
        if missing:
            raise ValidationError("table.groups", list(table.groups), "all of " + ", ".join(GROUPS))
        self.table = table
        self.identity = f"recruitment-table:{table.key}"
        self._sorted: dict[float, list[tuple[FloatArray, FloatArray]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"table": self.table, "identity": self.identity}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.table = state["table"]
        self.identity = state["identity"]
        self._sorted = {}

    def _curves(self, pulse_width_us: float) -> list[tuple[FloatArray, FloatArray]]:
        key = float(pulse_width_us)
        if key not in self._sorted:
            thr = self.table.thresholds_at(key)
            out = []
            for g in GROUPS:
                idx = np.flatnonzero(self.table.group_index == self.table.groups.index(g))
                order = np.argsort(thr[idx], kind="stable")
                cum = np.concatenate(([0.0], np.cumsum(self.table.weight[idx][order])))
                out.append((np.ascontiguousarray(thr[idx][order]), cum / cum[-1]))
            self._sorted[key] = out
        return self._sorted[key]

    def __call__(self, current_mA: FloatArray, pulse_width_us: float) -> FloatArray:
        """``(n, len(GROUPS))`` fractions at effective currents ``current_mA`` (mA, ≥ 0)."""
        cur = np.asarray(current_mA, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(cur)) or np.any(cur < 0):
            raise ValidationError("current_mA", current_mA, "finite currents ≥ 0 mA")
        out = np.empty((cur.shape[0], len(GROUPS)))
        for j, (thr, frac) in enumerate(self._curves(pulse_width_us)):
            out[:, j] = frac[np.searchsorted(thr, cur, side="right")]
        return out

    def __repr__(self) -> str:
        return f"TableRecruitment({self.identity})"


def default_recruitment(lead: str = "2mm") -> TableRecruitment:
    """The default table of ``lead`` (cache, shipped prebuilt table, or a build) as a function."""
    return TableRecruitment(build_recruitment_table(lead))
