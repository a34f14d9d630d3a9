"""The numbers behind the trial figures that are not endpoints of their own: whole-week windows
and the weekly point prevalence of a side effect (:mod:`openvns.trials.figures` draws them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import DAYS_PER_WEEK
from openvns.analysis.statistics import Interval, wilson_ci

FloatArray = npt.NDArray[np.float64]

__all__ = ["weekly_point_prevalence", "whole_weeks"]


def whole_weeks(n_days: int) -> tuple[list[slice], FloatArray]:
    """Whole-week windows over the days and their centres in weeks from the first baseline day.

    An incomplete last week is left out (a trial of 393 days would otherwise end on a "week" of
    one day, its value resting on a seventh of the data); a trial shorter than a week keeps its
    one partial week.
    """
    whole = max(n_days // DAYS_PER_WEEK, 0)
    if whole == 0:
        windows = [slice(0, n_days)] if n_days > 0 else []
    else:
        windows = [slice(w * DAYS_PER_WEEK, (w + 1) * DAYS_PER_WEEK) for w in range(whole)]
    centres = np.array([(w.start + w.stop) / 2.0 / DAYS_PER_WEEK for w in windows])
    return windows, centres


def weekly_point_prevalence(
    side_effect: npt.ArrayLike, at_risk: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, Interval]:
    """Weekly point prevalence of a side effect: the share of the patients at risk on a day who
    report it that day, over each whole week's days.

    This is the validation's ``point_prevalence`` (:mod:`openvns.trials.validation.metrics`:
    reporting patient-days over patient-days present in a window) with a week as the window:
    ``Σ_days reports / Σ_days patients at risk``.

    Parameters
    ----------
    side_effect, at_risk
        ``(patients, days)`` bool: the side effect reported; the patient at risk that day (e.g.
        stimulated). Reports on days not at risk are not counted.
    confidence
        Level of the Wilson band, over the week's mean daily number at risk (patients are the
        sampling unit).

    Returns
    -------
    centres, prevalence
        Week centres (weeks from day 0) and the prevalence (fraction 0–1) with its band; NaN
        where nobody is at risk.
    """
    se = np.asarray(side_effect, dtype=np.bool_)
    risk = np.asarray(at_risk, dtype=np.bool_)
    if se.shape != risk.shape or se.ndim != 2:
        raise ValueError(f"expected two (patients, days) arrays, got {se.shape} and {risk.shape}")
    windows, centres = whole_weeks(se.shape[1])
    reports = np.array([(se[:, w] & risk[:, w]).sum() for w in windows], dtype=np.float64)
    exposed = np.array([risk[:, w].sum() for w in windows], dtype=np.float64)
    days = np.array([w.stop - w.start for w in windows], dtype=np.float64)
    share = np.divide(reports, exposed, out=np.zeros_like(reports), where=exposed > 0)
    mean_at_risk = exposed / np.maximum(days, 1)
    band = wilson_ci(share * mean_at_risk, mean_at_risk, confidence=confidence)
    return centres, band
