"""Recruitment for the simulation: a :class:`~openvns.nerve.recruitment.RecruitmentTable` as the
engine's ``recruitment(current_mA, pulse_width_us) -> (n, len(GROUPS))`` function.

The engine calls it once per day and course with the effective currents ``I / θ`` of the
patients (θ: each patient's nerve-interface threshold multiplier, :class:`~openvns.patients.
cohort.Cohort` ``coupling``), so a table of the ideal cuff serves every patient. Per pulse width
the fibres' thresholds are sorted once per group and the fractions are cumulative weights, so a
day costs one ``searchsorted`` per group.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.device import catalogue
from openvns.errors import ValidationError
from openvns.nerve.recruitment import RecruitmentTable, build_recruitment_table
from openvns.physiology.drive import GROUPS, SKIN_GROUPS

FloatArray = npt.NDArray[np.float64]

log = logging.getLogger(__name__)

__all__ = ["TableRecruitment", "default_recruitment", "table_lead"]


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
        missing = [g for g in GROUPS if g not in table.groups and g not in SKIN_GROUPS]
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
                if g not in self.table.groups:  # a skin group the electrode does not reach
                    out.append((np.empty(0), np.zeros(1)))
                    continue
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


def table_lead(lead: str) -> str:
    """The name a catalogue lead's recruitment table is built and cached under.

    Leads with the same helical geometry and inner diameter share one field and so one table:
    ``"302-20"``, ``"303-20"`` and ``"304-20"`` all use the ``"2mm"`` table. A skin electrode
    (a non-invasive device) has no table yet and is refused.
    """
    model = catalogue.lead(lead)
    if model.kind != "helical" or model.inner_diameter_mm is None:
        raise ValidationError(
            "lead", lead, "a helical cuff lead (skin electrodes have no recruitment model yet)"
        )
    for other in catalogue.default_catalogue().leads.values():
        same = (
            other.geometry == model.geometry
            and other.inner_diameter_mm is not None
            and other.inner_diameter_mm.value == model.inner_diameter_mm.value
        )
        for alias in other.aliases:
            if same and alias.endswith("mm") and " " not in alias:
                return alias
    return model.id


@lru_cache(maxsize=8)
def default_recruitment(lead: str = "2mm") -> TableRecruitment:
    """The default table of ``lead`` (cache, shipped prebuilt table, or a build) as a function;
    one per process and lead."""
    return TableRecruitment(build_recruitment_table(table_lead(lead)))
