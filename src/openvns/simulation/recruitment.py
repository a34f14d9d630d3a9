"""Recruitment for the simulation: a :class:`~openvns.nerve.recruitment.RecruitmentTable` as the
engine's ``recruitment(current_mA, pulse_width_us) -> (n, len(GROUPS))`` function.

The engine calls it once per day and course with the effective currents ``I / θ`` of the
patients (θ: each patient's nerve-interface threshold multiplier, :class:`~openvns.patients.
cohort.Cohort` ``coupling``), so a table of the ideal electrode serves every patient. Per pulse
width the fibres' thresholds are sorted once per table group and the fractions are cumulative
weights, so a day costs one ``searchsorted`` per table group.

**Group mapping.** A table's groups are anatomical; the physiology's groups
(:data:`~openvns.physiology.drive.GROUPS`) are linear combinations of them: ``out = F @ M.T``
with ``F`` the table groups' fractions and ``M`` a ``(len(GROUPS), len(table.groups))`` matrix.
For the cuff ``M`` is the identity on the six vagal groups and the skin groups
(``cutaneous_Abeta``, ``cutaneous_Adelta``, ``muscle_motor``) are 0; for a skin electrode ``M``
is :func:`openvns.nerve.transcutaneous.physiology_map` (e.g. at the cymba conchae
``A_afferent = N_ABVN_Abeta / N_cervical_A_afferent × frac(skin_Abeta)``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.device import catalogue
from openvns.errors import ValidationError
from openvns.nerve.recruitment import RecruitmentTable, build_recruitment_table
from openvns.nerve.transcutaneous import (
    canonical_lead,
    is_transcutaneous,
    physiology_map,
    sensory_threshold_mA,
)
from openvns.physiology.drive import GROUPS, SKIN_GROUPS

FloatArray = npt.NDArray[np.float64]
GroupMap = Mapping[str, Mapping[str, float]]

log = logging.getLogger(__name__)

__all__ = ["SkinTableRecruitment", "TableRecruitment", "default_recruitment", "table_lead"]


def _identity_map(table: RecruitmentTable) -> dict[str, dict[str, float]]:
    """Physiology groups that the table has, each its own group (the cuff)."""
    missing = [g for g in GROUPS if g not in table.groups and g not in SKIN_GROUPS]
    if missing:
        raise ValidationError("table.groups", list(table.groups), "all of " + ", ".join(GROUPS))
    return {g: {g: 1.0} for g in GROUPS if g in table.groups}


def table_lead_of(table: RecruitmentTable) -> str | None:
    """The lead a table was built for (``metadata["inputs"]["lead"]``), if recorded."""
    lead = table.metadata.get("inputs", {}).get("lead") if table.metadata else None
    return str(lead) if lead is not None else None


def _matrix(table: RecruitmentTable, mapping: GroupMap) -> FloatArray:
    m = np.zeros((len(GROUPS), len(table.groups)))
    for phys, parts in mapping.items():
        if phys not in GROUPS:
            raise ValidationError("mapping", phys, "a physiology group: " + ", ".join(GROUPS))
        for tg, w in parts.items():
            if tg not in table.groups:
                raise ValidationError(f"mapping[{phys}]", tg, "one of " + ", ".join(table.groups))
            if not (np.isfinite(w) and w >= 0):
                raise ValidationError(f"mapping[{phys}][{tg}]", w, "a finite weight ≥ 0")
            m[GROUPS.index(phys), table.groups.index(tg)] = float(w)
    return m


class TableRecruitment:
    """Fractions of every physiology group (:data:`~openvns.physiology.drive.GROUPS`) recruited.

    Parameters
    ----------
    table
        A recruitment table: the cuff's (the six vagal groups) or a skin electrode's.
    mapping
        Physiology group -> {table group: weight} (groups not named are 0). Default: the skin
        electrode's :func:`~openvns.nerve.transcutaneous.physiology_map` for a table built for a
        transcutaneous lead, else the identity on the vagal groups (skin groups 0).

    Attributes
    ----------
    identity
        ``"recruitment-table:<key>"`` (``":map-<sha12>"`` appended for a non-identity mapping):
        what the trial's configuration hash records.
    matrix
        ``(len(GROUPS), len(table.groups))`` weights.
    """

    def __init__(self, table: RecruitmentTable, mapping: GroupMap | None = None) -> None:
        if mapping is None:
            lead = table_lead_of(table)
            if lead is not None and is_transcutaneous(lead):
                mapping = physiology_map(lead)
            else:
                mapping = _identity_map(table)
        self.table = table
        self.mapping = {k: dict(v) for k, v in mapping.items()}
        self.matrix = _matrix(table, self.mapping)
        identity = all(v == {k: 1.0} for k, v in self.mapping.items())
        suffix = ""
        if not identity:
            text = json.dumps(self.mapping, sort_keys=True)
            suffix = ":map-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        self.identity = f"recruitment-table:{table.key}{suffix}"
        self._sorted: dict[float, list[tuple[FloatArray, FloatArray]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"table": self.table, "mapping": self.mapping}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["table"], state["mapping"])  # type: ignore[misc]

    def _curves(self, pulse_width_us: float) -> list[tuple[FloatArray, FloatArray]]:
        key = float(pulse_width_us)
        if key not in self._sorted:
            thr = self.table.thresholds_at(key)
            out = []
            for j in range(len(self.table.groups)):
                idx = np.flatnonzero(self.table.group_index == j)
                order = np.argsort(thr[idx], kind="stable")
                cum = np.concatenate(([0.0], np.cumsum(self.table.weight[idx][order])))
                frac = cum / cum[-1] if cum[-1] > 0 else cum
                out.append((np.ascontiguousarray(thr[idx][order]), frac))
            self._sorted[key] = out
        return self._sorted[key]

    def __call__(self, current_mA: FloatArray, pulse_width_us: float) -> FloatArray:
        """``(n, len(GROUPS))`` fractions at effective currents ``current_mA`` (mA, ≥ 0)."""
        cur = np.asarray(current_mA, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(cur)) or np.any(cur < 0):
            raise ValidationError("current_mA", current_mA, "finite currents ≥ 0 mA")
        curves = self._curves(pulse_width_us)
        out = np.zeros((cur.shape[0], len(GROUPS)))
        for j, (thr, frac) in enumerate(curves):
            col = self.matrix[:, j]
            rows = np.flatnonzero(col)
            if rows.size:
                f = frac[np.searchsorted(thr, cur, side="right")]
                out[:, rows] += f[:, None] * col[rows][None, :]
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.identity})"


class SkinTableRecruitment(TableRecruitment):
    """A skin electrode's table, which also knows its sensory threshold.

    ``sensory_threshold_mA(pulse_width_us)`` is the current at which a nominal patient (θ = 1)
    feels the stimulation (:func:`openvns.nerve.transcutaneous.sensory_threshold_mA`); the
    engine multiplies it by each patient's θ.
    """

    def __init__(self, table: RecruitmentTable, mapping: GroupMap | None = None) -> None:
        lead = table_lead_of(table)
        if lead is None or not is_transcutaneous(lead):
            raise ValidationError("table", table.key[:12], "a table built for a skin electrode")
        self.lead = canonical_lead(lead)
        super().__init__(table, mapping)

    def sensory_threshold_mA(self, pulse_width_us: float) -> float:
        """Perception threshold (mA) of a nominal patient at ``pulse_width_us``."""
        return float(sensory_threshold_mA(self.lead, pulse_width_us, 1.0, table=self.table))


def table_lead(lead: str) -> str:
    """The name a catalogue lead's recruitment table is built and cached under.

    Leads with the same helical geometry and inner diameter share one field and so one table:
    ``"302-20"``, ``"303-20"`` and ``"304-20"`` all use the ``"2mm"`` table. Skin electrodes of
    the non-invasive devices use their own tables: ``"gammacore-contacts"``,
    ``"ear-cymba-conchae"``, ``"ear-tragus"`` (``"ear-clip"``) and ``"ear-lobe"`` (by id or any
    catalogue alias). Other leads (percutaneous needles) have no model and are refused.
    """
    if is_transcutaneous(lead):
        return canonical_lead(lead)
    model = catalogue.lead(lead)
    if model.kind == "skin" or model.inner_diameter_mm is None or model.kind != "helical":
        for name in (model.id, *model.aliases):
            if is_transcutaneous(name):
                return canonical_lead(name)
        raise ValidationError(
            "lead", lead, "a helical cuff lead or a skin electrode with a recruitment model"
        )
    assert model.inner_diameter_mm is not None
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
    one per process and lead (a :class:`SkinTableRecruitment` for a skin electrode)."""
    name = table_lead(lead)
    table = build_recruitment_table(name)
    if is_transcutaneous(name):
        return SkinTableRecruitment(table)
    return TableRecruitment(table)
