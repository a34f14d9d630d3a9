"""A simulation's :class:`Solution`: every state of every day, by name, as a tidy frame, plotted.

States are arrays ``(patients, days)`` (``(patients, days, k)`` for per-group and per-side-effect
states); ``solution["delivered_current_mA"]`` gives one, ``solution.to_frame()`` all of them in
one tidy table (one row per patient-day, units in the column names), ``solution.decisions()``
every titration decision with its reason, ``solution.plot()`` one figure from settings to pain.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError
from openvns.files import atomic_write
from openvns.physiology.drive import GROUPS
from openvns.physiology.model import SIDE_EFFECTS
from openvns.physiology.side_effect_parameters import load_side_effect_parameters
from openvns.simulation.courses import (
    BACK_OFF,
    DECISIONS,
    DEVICE_OFF,
    REACHED_MAX,
    START,
    STEP_UP,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

__all__ = ["MINUTE_PREFIX", "STATE_UNITS", "Decision", "Solution"]

#: Prefix of the per-minute states (arrays ``(patients, days, minutes)``).
MINUTE_PREFIX = "minute_"

#: Column names (units in the name) of the states whose array name carries no unit.
STATE_UNITS: dict[str, str] = {
    "S": "LC_sensitisation",
    "R1": "serotonin_stage1",
    "R": "serotonin",
    "C": "central_sensitisation",
    "D_on": "afferent_drive",
    "N_on": "noradrenaline_on",
    "Nbar": "noradrenaline_daily",
    "inhibition": "inhibition",
    "facilitation": "facilitation",
    "M": "net_modulation",
    "E_acute": "acute_effect_fraction",
    "G": "plasticity_gain",
    "E_slow": "retraining_effect_fraction",
    "HR_change_pct": "heart_rate_change_pct",
    "P_true_NRS": "latent_pain_NRS",
    "NRS": "latent_pain_rounded_NRS",
    "hazard_per_d": "dropout_hazard_per_d",
    "dropped_out": "dropped_out",
    "nrs": "diary_NRS",
    "observed": "diary_entered",
}
#: Side effects as a decision reason names them ("voice alteration / hoarseness").
_LABELS = tuple(
    (label := load_side_effect_parameters().channels[k].label)[:1].lower() + label[1:]
    for k in SIDE_EFFECTS
)
#: Per-side-effect states and the column prefix of each.
_PER_SIDE_EFFECT = {
    "T": "tolerance",
    "B": "burden",
    "p_ae": "onset_probability",
    "present": "present",
    "intensity": "intensity",
    "ae_reported": "reported",
    "ae_severity": "severity",
}


@dataclass(frozen=True)
class Decision:
    """One titration decision of one patient."""

    patient: str
    day: int
    decision: str
    current_before_mA: float
    current_after_mA: float
    reason: str


@dataclass(frozen=True)
class Solution:
    """What a :class:`~openvns.simulation.Simulation` produced.

    Attributes
    ----------
    patients
        Patient names (``"fibromyalgia#0042"``), one per row of every state.
    days
        Number of days (day 0 is the first baseline day, or the first treatment day).
    baseline_days
        Days before the first treatment day.
    states
        Every state by name (see :meth:`names`).
    protocol
        The protocol text (and the open-label protocol, if any).
    provenance
        Root seed, package version, RNG scheme, parameter versions and device.
    """

    patients: tuple[str, ...]
    days: int
    baseline_days: int
    states: Mapping[str, npt.NDArray[Any]]
    protocol: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    # -- access ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Names of every state (``solution[name]``)."""
        return sorted(self.states)

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        """The state ``name`` as an array ``(patients, days[, k])``."""
        if name not in self.states:
            raise ValidationError("state", name, "one of " + ", ".join(self.names()))
        return self.states[name]

    def __contains__(self, name: object) -> bool:
        return name in self.states

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.states)

    @property
    def day(self) -> npt.NDArray[np.int64]:
        """Day numbers ``0 … days − 1``."""
        return np.arange(self.days, dtype=np.int64)

    @property
    def treatment_day(self) -> npt.NDArray[np.int64]:
        """Days since the first treatment day (negative during the baseline)."""
        return self.day - self.baseline_days

    # -- tidy table ------------------------------------------------------------------------
    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """Every state as a flat column over patient-days (row-major: patient, then day)."""
        n, d = len(self.patients), self.days
        out: dict[str, npt.NDArray[Any]] = {
            "patient": np.repeat(np.asarray(self.patients, dtype=object), d),
            "day": np.tile(self.day, n),
            "treatment_day": np.tile(self.treatment_day, n),
        }
        for name in self.names():
            arr = self.states[name]
            if name.startswith(MINUTE_PREFIX):
                continue  # per minute: minute_frame()
            if name == "recruited_fraction":
                for j, g in enumerate(GROUPS):
                    out[f"recruited_{g}_fraction"] = arr[:, :, j].reshape(-1)
            elif name in _PER_SIDE_EFFECT:
                for j, se in enumerate(SIDE_EFFECTS):
                    out[f"{_PER_SIDE_EFFECT[name]}_{se}"] = arr[:, :, j].reshape(-1)
            elif name == "decision":
                out["decision"] = np.asarray(
                    [DECISIONS[int(c)] for c in arr.reshape(-1)], dtype=object
                )
            elif name == "limiting_side_effect":
                labels = np.asarray(("", *SIDE_EFFECTS), dtype=object)
                out["limiting_side_effect"] = labels[arr.reshape(-1).astype(np.int64) + 1]
            else:
                out[STATE_UNITS.get(name, name)] = arr.reshape(-1)
        return out

    @property
    def has_minutes(self) -> bool:
        """Whether the run kept per-minute states (``Simulation.run(days, minutes=True)``)."""
        return any(k.startswith(MINUTE_PREFIX) for k in self.states)

    def minute_frame(self, patient: int | str = 0) -> pd.DataFrame:
        """One patient's per-minute states, a row per minute of every day (``minutes=True``)."""
        import pandas as pd

        if not self.has_minutes:
            raise ValidationError(
                "minutes", False, "a solution of Simulation.run(days, minutes=True)"
            )
        i = self.patient_index(patient)
        per_day = self.states[f"{MINUTE_PREFIX}on_fraction"].shape[2]
        cols: dict[str, npt.NDArray[Any]] = {
            "day": np.repeat(self.day, per_day),
            "minute": np.tile(np.arange(per_day), self.days),
        }
        for name in self.names():
            if name.startswith(MINUTE_PREFIX):
                cols[name.removeprefix(MINUTE_PREFIX)] = self.states[name][i].reshape(-1)
        return pd.DataFrame(cols)

    def to_frame(self) -> pd.DataFrame:
        """A tidy :class:`pandas.DataFrame`: one row per patient-day, units in column names."""
        import pandas as pd

        return pd.DataFrame(self.columns())

    def to_arrow(self) -> Any:
        """The tidy table as a :class:`pyarrow.Table`."""
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        return pa.table(self.columns())

    def write(
        self, directory: str | Path, *, formats: tuple[str, ...] = ("parquet", "csv")
    ) -> list[Path]:
        """Write ``states.parquet`` / ``states.csv`` (atomically) and return their paths."""
        import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        allowed = ("parquet", "csv")
        for fmt in formats:
            if fmt not in allowed:
                raise ValidationError("formats", fmt, "one of " + ", ".join(allowed))
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        table = self.to_arrow()
        written = []
        for fmt in formats:
            target = folder / f"states.{fmt}"
            if fmt == "parquet":
                atomic_write(target, lambda tmp: pq.write_table(table, tmp))
            else:
                atomic_write(target, lambda tmp: pacsv.write_csv(table, tmp))
            written.append(target)
        return written

    # -- decisions -------------------------------------------------------------------------
    def decisions(self) -> list[Decision]:
        """Every titration decision (start, step, back-off, device off) with its reason."""
        code = self["decision"]
        programmed = self["programmed_current_mA"]
        severity = self["severity"]
        limiting = self["limiting_side_effect"]
        course = self["course"]
        rules = [self._rule(k) for k in range(len(self.protocol))]
        out: list[Decision] = []
        for i, name in enumerate(self.patients):
            for d in np.flatnonzero(code[i]):
                c = int(code[i, d])
                now = float(programmed[i, d])
                before = float(programmed[i, d - 1]) if d > 0 else 0.0
                k = int(course[i, d]) if c != DEVICE_OFF else -1
                reason = _reason(c, k, rules[k] if k >= 0 else "", now,
                                 float(severity[i, d - 1]) if d > 0 else 0.0,
                                 int(limiting[i, d - 1]) if d > 0 else -1)  # fmt: skip
                out.append(Decision(name, int(d), DECISIONS[c], before, now, reason))
        return out

    def _rule(self, course: int) -> str:
        """Stop rule of course ``course`` (``"tolerance"``, ``"fixed"``, ``"device"``)."""
        from openvns.protocol import Protocol, Titration

        plan = Protocol.parse(self.protocol[course]).current
        return plan.rule if isinstance(plan, Titration) else "fixed"

    # -- figure ----------------------------------------------------------------------------
    def plot(self, patient: int | str = 0, *, path: str | Path | None = None) -> Figure:
        """One multi-panel figure of one patient, from settings to pain (matplotlib, lazily).

        Panels: programmed and delivered current; recruitment per group; afferent drive,
        noradrenaline and serotonin; inhibition, facilitation and net modulation; plasticity and
        retraining; side-effect burdens and reports with heart rate; latent and diary pain.
        """
        from openvns.simulation.plotting import plot_solution

        return plot_solution(self, patient, path=path)

    def patient_index(self, patient: int | str) -> int:
        """Row of ``patient`` (its index among :attr:`patients`, or its name)."""
        if isinstance(patient, str):
            if patient not in self.patients:
                raise ValidationError("patient", patient, "one of " + ", ".join(self.patients))
            return self.patients.index(patient)
        if not 0 <= patient < len(self.patients):
            raise ValidationError("patient", patient, f"an index in 0–{len(self.patients) - 1}")
        return int(patient)


def _reason(code: int, course: int, rule: str, now: float, severity: float, limiting: int) -> str:
    """The reason of a decision of ``course`` (stop rule ``rule``), from the day before."""
    if code == START:
        what = "first treatment day" if course == 0 else "the open-label protocol starts"
        return f"{what}: programmed {now:g} mA"
    if code in (STEP_UP, REACHED_MAX):
        tail = " (the protocol's maximum)" if code == REACHED_MAX else ""
        why = {
            "tolerance": "no intolerable side effect the day before",
            "fixed": "fixed schedule, whatever the side effects",
            "device": "programmed into the generator's Scheduled Programming",
        }[rule]
        return f"scheduled titration step to {now:g} mA{tail}; {why}"
    if code == BACK_OFF:
        what = _LABELS[limiting] if limiting >= 0 else "side effect"
        return (
            f"intolerable {what} the day before (severity {severity:.2f} ≥ 1): one step "
            f"back to {now:g} mA and hold"
        )
    if code == DEVICE_OFF:
        return "the patient dropped out the day before: the device is switched off"
    return ""
