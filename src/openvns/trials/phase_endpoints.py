"""Pain endpoints at the end of each phase: the blinded phase, the open-label extension and 12
months of treatment.

The blinded-phase comparison (:meth:`~openvns.trials.runner.TrialResult.summary`) answers the
trial's question; the extension and the 12-month visit show what the patients had later, as VNS
papers report them (open-label follow-ups at 12 months and beyond). Each endpoint is the change
from the baseline window to the last :data:`~openvns.analysis.endpoints.ENDPOINT_WINDOW_DAYS`
days before the phase's end (the endpoint rule of the blinded phase), per **randomised arm** of
the eligible patients: in the extension a sham arm that crossed over to the active protocol is
still reported under its own name; a patient without an endpoint (dropped out, too few diary
days) counts as a non-responder and is left out of the mean change. The 12-month endpoint ends
365 days after the first treatment day, when the trial runs that long; where it is the end of
the extension it is reported once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from openvns.analysis.endpoints import (
    ArmSummary,
    change_from_baseline,
    endpoint_window,
    summarise_arm,
)

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult

#: Days of treatment at the 12-month endpoint.
DAYS_IN_A_YEAR = 365


@dataclass(frozen=True)
class PhaseEndpoint:
    """One endpoint time: its name, label, window and each arm's summary.

    Attributes
    ----------
    name
        ``end_of_blinded``, ``end_of_open_label`` or ``month_12``.
    label
        Words for tables ("end of the open-label extension (12 months)").
    start_day, end_day
        The endpoint window on the trial's day axis (end excluded).
    arms
        Per randomised arm: eligible patients' change from baseline and responders.
    """

    name: str
    label: str
    start_day: int
    end_day: int
    arms: dict[str, ArmSummary]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``summary.json``): window and, per arm, n, change [CI], responders."""

        def share(r: Any) -> list[float]:
            iv = r.proportion()
            return [float(iv.estimate), float(iv.lower), float(iv.upper)]

        return {
            "label": self.label,
            "window_days": [self.start_day, self.end_day],
            "arms": {
                name: {
                    "eligible": a.n,
                    "analysed": int(a.change_NRS.n),
                    "change_NRS": [
                        _finite(a.change_NRS.estimate),
                        _finite(a.change_NRS.lower),
                        _finite(a.change_NRS.upper),
                    ],
                    "responders_30": share(a.responders_30),
                    "responders_50": share(a.responders_50),
                }
                for name, a in self.arms.items()
            },
        }


def _finite(x: Any) -> float | None:
    value = float(x)
    return value if np.isfinite(value) else None


def phase_endpoints(result: TrialResult) -> list[PhaseEndpoint]:
    """The endpoints the trial's phases allow, in time order (see the module documentation)."""
    d = result.design
    if d.baseline_days == 0:
        return []
    first = d.baseline_days
    blinded_end = first + d.blinded_days
    open_end = blinded_end + d.open_label_days
    year_end = first + DAYS_IN_A_YEAR
    times: list[tuple[str, str, int, int]] = []
    if d.blinded_days:
        times.append(("end_of_blinded", "end of the blinded phase", first, blinded_end))
    if d.open_label_days:
        label = "end of the open-label extension"
        if open_end == year_end:
            label += " (12 months)"
        times.append(("end_of_open_label", label, blinded_end, open_end))
    if year_end <= result.n_days and year_end not in (blinded_end, open_end):
        times.append(("month_12", "12 months of treatment", first, year_end))
    times.sort(key=lambda t: t[3])
    out = []
    for name, label, start, end in times:
        window = endpoint_window(end, start)
        arms = {}
        for i, arm in enumerate(result.arm_names):
            sel = (result.arm == i) & result.eligible
            change = change_from_baseline(
                result.nrs[sel].astype(np.float64),
                result.observed[sel],
                slice(0, d.baseline_days),
                window,
            )
            arms[arm] = summarise_arm(change)
        out.append(PhaseEndpoint(name, label, window.start, window.stop, arms))
    return out


def phase_endpoints_document(result: TrialResult) -> dict[str, Any]:
    """``{name: endpoint}`` as plain JSON."""
    return {e.name: e.to_dict() for e in phase_endpoints(result)}


def phase_endpoints_html(result: TrialResult) -> str:
    """The report's section: one row per endpoint time and arm."""
    import html

    ends = phase_endpoints(result)
    if len(ends) < 2:
        return ""
    head = (
        "<tr><th class='label'>Endpoint</th><th class='label'>Arm</th><th>Analysed</th>"
        "<th>Change of mean NRS (95 % CI)</th><th>≥ 30 % responders</th>"
        "<th>≥ 50 % responders</th></tr>"
    )
    rows = []
    for e in ends:
        for arm, a in e.arms.items():
            iv = a.change_NRS
            shares = []
            for r in (a.responders_30, a.responders_50):
                p = r.proportion()
                shares.append(
                    f"{100 * float(p.estimate):.0f} % ({100 * float(p.lower):.0f}–"
                    f"{100 * float(p.upper):.0f})"
                )
            rows.append(
                f"<tr><td class='label'>{html.escape(e.label)}</td>"
                f"<td class='label'>{html.escape(arm)}</td><td>{int(iv.n)}</td>"
                f"<td>{float(iv.estimate):+.2f} ({float(iv.lower):+.2f} to "
                f"{float(iv.upper):+.2f})</td><td>{shares[0]}</td><td>{shares[1]}</td></tr>"
            )
    return (
        "<h2>Pain at the end of each phase</h2>"
        "<p>Change from the baseline to the last 4 weeks before each phase's end, by randomised "
        "arm (a sham arm that crossed over to the active protocol keeps its name), eligible "
        "patients; a patient without an endpoint counts as a non-responder.</p>"
        f"<table class='phases'>{head}{''.join(rows)}</table>"
    )
