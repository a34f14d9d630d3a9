"""Helpers of the former single-module validation, kept for scripts that import them
(``tools/pain_course_check.py``). New code uses the registry (:mod:`.registry`, :mod:`.cohorts`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import MissingRule, change_from_baseline, responders
from openvns.protocol.text import STANDARD_TITRATION, Protocol
from openvns.trials.design import Arm, TrialDesign

_STANDARD = STANDARD_TITRATION
_SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


def _design(
    active: str, baseline: int, blinded: int, open_label: int, *, open_label_arm: bool = True
) -> TrialDesign:
    """Active (``active``) and sham arms with the given phase lengths."""
    return TrialDesign(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(active)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(_SHAM)),
        ),
        baseline_days=baseline,
        blinded_days=blinded,
        open_label_days=open_label,
        open_label_arm="active" if open_label_arm and open_label else None,
    )


def _responders(
    nrs: npt.NDArray[np.generic],
    observed: npt.NDArray[np.bool_],
    base: int,
    window: slice,
    threshold: float,
    *,
    missing: MissingRule = "non_responder",
) -> tuple[int, int]:
    """Responders (count, denominator): change from days ``0 … base − 1`` to ``window``."""
    ch = change_from_baseline(np.asarray(nrs, dtype=np.float64), observed, slice(0, base), window)
    r = responders(ch.change_pct, threshold, missing=missing)
    return r.count, r.n
