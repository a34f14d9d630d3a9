"""The CONSORT flow of a trial: enrolment, allocation, follow-up and analysis, with counts.

:func:`consort_flow` reads a :class:`~openvns.trials.runner.TrialResult`: the screening
(screened, screen failures by reason, randomised; :mod:`openvns.trials.screening`), then per
arm the patients allocated, those who discontinued in the blinded phase and in the open-label
extension by reason (adverse event, lack of efficacy, other: the result's
``dropout_reason``), and those analysed for the primary endpoint (a change of mean NRS from
baseline to the blinded phase's endpoint window) or not (no diary entry in the window). Every
randomised patient receives the allocated intervention (the simulation has no
allocation failures), and all randomised patients count in the responder analyses (missing
as non-responders); "analysed" is the change-of-mean-NRS analysis.

:class:`ConsortFlow` prints as the usual boxes in text, has a DataFrame (``to_frame``) and a
``summary.json`` entry (``to_dict``); :func:`openvns.trials.consort_figure.consort_figure`
draws the diagram (Schulz et al. 2010, CONSORT 2010 flow diagram).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from openvns.errors import ValidationError
from openvns.physiology.model import DROPOUT_REASONS

if TYPE_CHECKING:
    import pandas as pd

    from openvns.trials.runner import TrialResult

__all__ = ["ARM_FULL", "PHASE_LABELS", "ArmFlow", "ConsortFlow", "consort_flow"]

#: The exclusion of candidates who qualified after their arm had filled.
ARM_FULL = "qualified after their arm had filled"
#: Follow-up phases in which a discontinuation is counted.
PHASE_LABELS = ("blinded phase", "open-label extension")


@dataclass(frozen=True)
class ArmFlow:
    """One arm's column of the diagram.

    Attributes
    ----------
    arm
        The arm's name.
    allocated
        Patients randomised to it (all received it).
    discontinued
        Per phase of :data:`PHASE_LABELS`: reason → patients who discontinued then (only
        reasons that occurred).
    analysed, not_analysed
        Patients with, and without, the primary endpoint (change of mean NRS to the blinded
        phase's endpoint window).
    """

    arm: str
    allocated: int
    discontinued: dict[str, dict[str, int]]
    analysed: int
    not_analysed: int

    def discontinued_in(self, phase: str) -> int:
        """Patients who discontinued in ``phase`` (one of :data:`PHASE_LABELS`)."""
        return sum(self.discontinued.get(phase, {}).values())


@dataclass(frozen=True)
class ConsortFlow:
    """Enrolment, allocation, follow-up and analysis counts (see the module documentation)."""

    screened: int
    excluded: dict[str, int]
    randomised: int
    arms: tuple[ArmFlow, ...]

    @property
    def n_excluded(self) -> int:
        """Screen failures in all."""
        return sum(self.excluded.values())

    def lines(self) -> list[str]:
        """The flow as text, one box per line group."""
        out = [f"Assessed for eligibility (screened): {self.screened}"]
        out.append(f"  Excluded: {self.n_excluded}")
        out += [f"    {reason}: {n}" for reason, n in self.excluded.items()]
        out.append(f"Randomised: {self.randomised}")
        for a in self.arms:
            out.append(f"  {a.arm}: allocated {a.allocated}, received {a.allocated}")
            for phase in PHASE_LABELS:
                reasons = a.discontinued.get(phase, {})
                detail = ", ".join(f"{r} {n}" for r, n in reasons.items())
                total = a.discontinued_in(phase)
                out.append(f"    discontinued in the {phase}: {total}"
                           + (f" ({detail})" if detail else ""))  # fmt: skip
            out.append(
                f"    analysed (change of mean NRS): {a.analysed}; no endpoint: {a.not_analysed}"
            )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``summary.json``)."""
        return {
            "screened": self.screened,
            "excluded": self.n_excluded,
            "excluded_by_reason": dict(self.excluded),
            "randomised": self.randomised,
            "arms": {
                a.arm: {
                    "allocated": a.allocated,
                    "received": a.allocated,
                    "discontinued": {p: dict(a.discontinued.get(p, {})) for p in PHASE_LABELS},
                    "analysed": a.analysed,
                    "not_analysed": a.not_analysed,
                }
                for a in self.arms
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per count: ``stage`` (enrolment, allocation, follow-up, analysis), ``arm``
        (empty before allocation), ``item`` and ``n``."""
        import pandas as pd

        rows: list[tuple[str, str, str, int]] = [
            ("enrolment", "", "screened", self.screened),
            ("enrolment", "", "excluded", self.n_excluded),
            *(("enrolment", "", f"excluded: {r}", n) for r, n in self.excluded.items()),
            ("enrolment", "", "randomised", self.randomised),
        ]
        for a in self.arms:
            rows += [("allocation", a.arm, "allocated", a.allocated),
                     ("allocation", a.arm, "received", a.allocated)]  # fmt: skip
            for phase in PHASE_LABELS:
                rows.append(("follow-up", a.arm, f"discontinued in the {phase}",
                             a.discontinued_in(phase)))  # fmt: skip
                rows += [
                    ("follow-up", a.arm, f"discontinued in the {phase}: {r}", n)
                    for r, n in a.discontinued.get(phase, {}).items()
                ]
            rows += [("analysis", a.arm, "analysed", a.analysed),
                     ("analysis", a.arm, "not analysed (no endpoint)", a.not_analysed)]  # fmt: skip
        return pd.DataFrame(rows, columns=["stage", "arm", "item", "n"])


def consort_flow(result: TrialResult) -> ConsortFlow:
    """The CONSORT counts of ``result`` (it needs a baseline and a blinded phase)."""
    d = result.design
    if d.baseline_days == 0 or d.blinded_days == 0:
        raise ValidationError(
            "design", f"baseline {d.baseline_days} d, blinded {d.blinded_days} d",
            "a baseline and a blinded phase (the flow's analysis is the blinded endpoint)",
        )  # fmt: skip
    n = result.n_patients
    if result.screening is not None:
        screened, excluded = result.screening.screened, dict(result.screening.failures)
        if result.screening.arm_full:
            excluded[ARM_FULL] = result.screening.arm_full
    else:  # a result made without screening: who was eligible among the randomised
        screened, excluded = n, {}
    end_blinded = d.baseline_days + d.blinded_days
    reasons = (
        result.dropout_reason.astype(np.int64)
        if result.dropout_reason is not None
        else np.where(result.dropout_day >= 0, len(DROPOUT_REASONS) - 1, 0)
    )
    arms = []
    for i, name in enumerate(result.arm_names):
        mine = result.arm == i
        day, why = result.dropout_day[mine], reasons[mine]
        phases = ((day >= 0) & (day < end_blinded), day >= end_blinded)
        discontinued = {}
        for label, in_phase in zip(PHASE_LABELS, phases, strict=True):
            counts = np.bincount(why[in_phase], minlength=len(DROPOUT_REASONS))
            discontinued[label] = {
                DROPOUT_REASONS[k]: int(counts[k]) for k in range(1, len(DROPOUT_REASONS))
                if counts[k]
            }  # fmt: skip
        change = result.change(name).change_NRS
        analysed = int(np.isfinite(change).sum())
        arms.append(
            ArmFlow(
                arm=name,
                allocated=int(mine.sum()),
                discontinued=discontinued,
                analysed=analysed,
                not_analysed=int(mine.sum()) - analysed,
            )
        )
    return ConsortFlow(screened=screened, excluded=excluded, randomised=n, arms=tuple(arms))
