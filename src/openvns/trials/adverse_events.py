"""Adverse events and discontinuations by arm and phase, as a trial's safety tables report them.

For each arm and phase (``blinded``: from the first treatment day to the end of the blinded phase;
``open_label``: the extension), over the **safety population** — the eligible patients (those a
real trial would have randomised after screening) who were still in the study on the phase's
first day — :func:`adverse_events` counts:

* patients with at least one side-effect report in the phase (any effect), and by the worst
  severity they reported (mild, moderate, severe; the diary's 1–3);
* patients reporting each effect of :data:`~openvns.physiology.model.SIDE_EFFECTS` at least once;
* patients who discontinued during the phase, by reason (adverse event, lack of efficacy, other:
  the competing hazards of the day of dropout, :func:`~openvns.physiology.model.dropout_reasons`),
  so "adverse events leading to discontinuation" is the first of them.

The sham arm is counted like every other: its reports are the background and nocebo reports of
the side-effect model. Counts are patients, never events; percentages are of the arm's safety
population in the phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from openvns.errors import ValidationError
from openvns.physiology.model import (
    DROPOUT_ADVERSE_EVENT,
    DROPOUT_LACK_OF_EFFICACY,
    DROPOUT_OTHER,
    DROPOUT_REASONS,
)

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult

#: Phases the tables cover, as in :data:`openvns.trials.export.PHASES` (the baseline has no
#: treatment and is not a safety phase).
SAFETY_PHASES: tuple[str, ...] = ("blinded", "open_label")
#: Severity labels of the diary's codes 1–3.
SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")
_REASONS = {
    DROPOUT_ADVERSE_EVENT: DROPOUT_REASONS[DROPOUT_ADVERSE_EVENT],
    DROPOUT_LACK_OF_EFFICACY: DROPOUT_REASONS[DROPOUT_LACK_OF_EFFICACY],
    DROPOUT_OTHER: DROPOUT_REASONS[DROPOUT_OTHER],
}


@dataclass(frozen=True)
class ArmSafety:
    """One arm's safety table in one phase (counts of patients).

    Attributes
    ----------
    arm, phase
        The arm's name and the phase (``blinded`` or ``open_label``).
    n
        Safety population: eligible patients still in the study on the phase's first day.
    any_event
        Patients with at least one side-effect report in the phase.
    worst_severity
        Patients by the worst severity they reported (``mild``, ``moderate``, ``severe``).
    by_effect
        Patients reporting each side effect at least once.
    discontinued
        Patients who discontinued in the phase, by reason (``adverse event``, ``lack of
        efficacy``, ``other``); ``None`` for a result without recorded reasons.
    discontinued_total
        Patients who discontinued in the phase, whatever the reason.
    """

    arm: str
    phase: str
    n: int
    any_event: int
    worst_severity: dict[str, int]
    by_effect: dict[str, int]
    discontinued: dict[str, int] | None
    discontinued_total: int

    @property
    def leading_to_discontinuation(self) -> int | None:
        """Patients whose discontinuation was for an adverse event."""
        if self.discontinued is None:
            return None
        return self.discontinued[DROPOUT_REASONS[DROPOUT_ADVERSE_EVENT]]

    def share(self, count: int | None) -> float:
        """``count`` as a fraction of :attr:`n` (NaN when the phase has no patients)."""
        if count is None or self.n == 0:
            return float("nan")
        return count / self.n

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``summary.json``)."""
        return {
            "n": self.n,
            "any_event": self.any_event,
            "worst_severity": dict(self.worst_severity),
            "by_effect": dict(self.by_effect),
            "discontinued_total": self.discontinued_total,
            "discontinued": None if self.discontinued is None else dict(self.discontinued),
            "leading_to_discontinuation": self.leading_to_discontinuation,
        }


def phase_days(result: TrialResult, phase: str) -> slice:
    """The days of ``phase`` on the result's day axis."""
    d = result.design
    bounds = {
        "blinded": (d.baseline_days, d.baseline_days + d.blinded_days),
        "open_label": (d.baseline_days + d.blinded_days, result.n_days),
    }
    if phase not in bounds:
        raise ValidationError("phase", phase, "one of " + ", ".join(SAFETY_PHASES))
    start, stop = bounds[phase]
    return slice(start, stop)


def adverse_events(result: TrialResult, phase: str = "blinded") -> dict[str, ArmSafety]:
    """Each arm's safety table in ``phase`` (see the module documentation)."""
    days = phase_days(result, phase)
    start = days.start
    drop = result.dropout_day
    in_phase = result.eligible & ((drop < 0) | (drop >= start))
    reported = result.ae_reported[:, days, :]  # (patients, days, effects)
    severity = result.ae_severity[:, days, :]
    any_report = reported.any(axis=(1, 2))
    worst = severity.max(axis=(1, 2)) if severity.size else np.zeros(result.n_patients, np.int8)
    per_effect = np.asarray(reported.any(axis=1), dtype=bool)  # (patients, effects)
    left = (drop >= start) & (drop < days.stop)
    out: dict[str, ArmSafety] = {}
    for i, name in enumerate(result.arm_names):
        pop = in_phase & (result.arm == i)
        discontinued = None
        if result.dropout_reason is not None:
            why = result.dropout_reason
            discontinued = {
                label: int(np.sum(pop & left & (why == code))) for code, label in _REASONS.items()
            }
        out[name] = ArmSafety(
            arm=name,
            phase=phase,
            n=int(pop.sum()),
            any_event=int(np.sum(pop & any_report)),
            worst_severity={
                label: int(np.sum(pop & any_report & (worst == level)))
                for level, label in enumerate(SEVERITIES, start=1)
            },
            by_effect={
                effect: int(np.sum(pop & per_effect[:, k]))
                for k, effect in enumerate(result.side_effects)
            },
            discontinued=discontinued,
            discontinued_total=int(np.sum(pop & left)),
        )
    return out


def safety_document(result: TrialResult) -> dict[str, dict[str, Any]]:
    """``{phase: {arm: table}}`` as plain JSON, for every phase the trial has days in."""
    doc: dict[str, dict[str, Any]] = {}
    for phase in SAFETY_PHASES:
        days = phase_days(result, phase)
        if days.stop > days.start:
            doc[phase] = {a: t.to_dict() for a, t in adverse_events(result, phase).items()}
    return doc


def _row(label: str, tables: dict[str, ArmSafety], counts: dict[str, int | None]) -> str:
    import html

    cells = []
    for name, t in tables.items():
        count = counts[name]
        cells.append(
            "<td>—</td>" if count is None else f"<td>{count} ({100 * t.share(count):.1f} %)</td>"
        )
    return f"<tr><td class='label'>{html.escape(label)}</td>{''.join(cells)}</tr>"


def _phase_table(result: TrialResult, phase: str) -> str:
    import html

    tables = adverse_events(result, phase)
    head = "".join(f"<th>{html.escape(n)} (n = {t.n})</th>" for n, t in tables.items())
    rows = [f"<tr><th class='label'>{html.escape(phase.replace('_', ' '))}</th>{head}</tr>"]
    rows.append(_row("any adverse event", tables, {n: t.any_event for n, t in tables.items()}))
    for level in SEVERITIES:
        worst = {n: t.worst_severity[level] for n, t in tables.items()}
        rows.append(_row(f"worst severity {level}", tables, dict(worst)))
    stop = {n: t.leading_to_discontinuation for n, t in tables.items()}
    rows.append(_row("leading to discontinuation", tables, stop))
    total = {n: t.discontinued_total for n, t in tables.items()}
    rows.append(_row("discontinued, any reason", tables, dict(total)))
    for label in _REASONS.values():
        why = {n: None if t.discontinued is None else t.discontinued[label]
               for n, t in tables.items()}  # fmt: skip
        rows.append(_row(f"discontinued: {label}", tables, why))
    for effect in result.side_effects:
        counts = {n: t.by_effect[effect] for n, t in tables.items()}
        if any(counts.values()):
            rows.append(_row(effect.replace("_", " "), tables, dict(counts)))
    return f"<table class='safety'>{''.join(rows)}</table>"


def safety_html(result: TrialResult) -> str:
    """The report's section: one table per phase with the trial's days in it."""
    parts = [
        "<h2>Adverse events and discontinuations</h2>",
        "<p>Patients (not events) by arm: eligible patients still in the study on the phase's "
        "first day; at least one side-effect report in the phase, by the worst severity "
        "reported, and each effect; discontinuations in the phase by reason (the competing "
        "hazards of the day of dropout: adverse events, lack of efficacy, other). The sham "
        "arm's reports are its background and nocebo reports.</p>",
    ]
    for phase in SAFETY_PHASES:
        days = phase_days(result, phase)
        if days.stop > days.start:
            parts.append(_phase_table(result, phase))
    return "\n".join(parts)
