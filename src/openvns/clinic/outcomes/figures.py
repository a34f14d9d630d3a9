"""Figures of a patient's outcomes (matplotlib on the Agg canvas, imported lazily).

Like the trial report's figures, each function returns a :class:`~matplotlib.figure.Figure`
built without :mod:`matplotlib.pyplot`. The x axis is weeks from the end of the baseline (the
baseline lies at x ≤ 0); dashed grey lines mark settings changes, a solid line the baseline's
end, and the weekly pain figure shows the programmed output current on the same time axis.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from openvns.analysis.endpoints import DAYS_PER_WEEK
from openvns.analysis.plotting import agg_figure, arm_colour
from openvns.clinic.diaries.models import SIDE_EFFECT_LABELS, SideEffectKind
from openvns.clinic.outcomes.schemas import PatientOutcomes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Side-effect kinds in a fixed order (a kind's bar colour).
KINDS = list(SideEffectKind)
#: Names of the figures of :func:`build_figures`, in report order.
FIGURE_NAMES: tuple[str, ...] = ("weekly_pain", "pgic_bpi", "side_effects")


def _figure(width_in: float = 7.0, height_in: float = 3.4) -> Figure:
    return agg_figure(width_in, height_in)


def _x(outcomes: PatientOutcomes, day: date) -> float:
    """Weeks from the end of the baseline (0 = the first day after it)."""
    assert outcomes.baseline is not None
    return ((day - outcomes.baseline.end_date).days - 1) / DAYS_PER_WEEK


def _marks(ax: Axes, outcomes: PatientOutcomes) -> None:
    ax.axvline(0.0, color="0.2", linewidth=0.9)
    for event in outcomes.settings_history:
        ax.axvline(_x(outcomes, event.at.date()), color="0.5", linestyle="--", linewidth=0.7)


def current_steps(outcomes: PatientOutcomes) -> list[tuple[float, float]]:
    """``(week, output_current_mA)`` at every settings change that records the programmed
    current (programming audited on the implant: ``values["settings"]["output_current_mA"]``)."""
    steps = []
    for event in outcomes.settings_history:
        settings = (event.values or {}).get("settings")
        if isinstance(settings, dict) and isinstance(
            settings.get("output_current_mA"), int | float
        ):
            steps.append((_x(outcomes, event.at.date()), float(settings["output_current_mA"])))
    return steps


def _current_axis(ax: Axes, outcomes: PatientOutcomes, x_end: float) -> None:
    """The programmed output current as a step line on a right-hand axis (same time axis)."""
    steps = current_steps(outcomes)
    if not steps:
        return
    right = ax.twinx()
    xs = [x for x, _ in steps] + [max(x_end, steps[-1][0])]
    ys = [y for _, y in steps] + [steps[-1][1]]
    right.step(xs, ys, where="post", color=arm_colour(1), linewidth=1.2, label="output current")
    right.set_ylabel("output current (mA)", color=arm_colour(1))
    right.set_ylim(0, max(3.5, max(ys) * 1.1))


def weekly_pain_figure(outcomes: PatientOutcomes) -> Figure:
    """Weekly mean pain with 95 % intervals, the baseline mean and the −30 %/−50 % levels."""
    fig = _figure()
    ax = fig.add_subplot()
    weeks = [w for w in outcomes.weekly_pain if w.mean_NRS is not None]
    x = [_x(outcomes, w.start_date) + 0.5 for w in weeks]
    y = [w.mean_NRS or 0.0 for w in weeks]
    low = [
        m - (w.lower_NRS if w.lower_NRS is not None else m) for m, w in zip(y, weeks, strict=True)
    ]
    high = [
        (w.upper_NRS if w.upper_NRS is not None else m) - m for m, w in zip(y, weeks, strict=True)
    ]
    ax.errorbar(x, y, yerr=[low, high], marker="o", markersize=3, color=arm_colour(0),
                linewidth=1.2, capsize=2, label="weekly mean (95 % CI)")  # fmt: skip
    base = outcomes.baseline.mean_NRS if outcomes.baseline else None
    if base is not None:
        for factor, style, label in ((1.0, "-", "baseline"), (0.7, ":", "−30 %"),
                                     (0.5, "-.", "−50 %")):  # fmt: skip
            ax.axhline(base * factor, color=arm_colour(2), linestyle=style, linewidth=0.9,
                       label=f"{label} ({base * factor:.1f})")  # fmt: skip
    _marks(ax, outcomes)
    _current_axis(ax, outcomes, max(x, default=0.0))
    ax.set_ylim(0, 10)
    ax.set_xlabel("weeks from end of baseline")
    ax.set_ylabel("pain (NRS 0–10)")
    ax.set_title("Weekly pain")
    ax.legend(fontsize=7, loc="upper right")
    return fig


def pgic_bpi_figure(outcomes: PatientOutcomes) -> Figure:
    """PGIC ratings (1 best … 7 worst) and BPI interference (0–10) over time."""
    fig = _figure()
    left, right = fig.subplots(1, 2)
    left.plot([_x(outcomes, p.entry_date) for p in outcomes.pgic],
              [p.score for p in outcomes.pgic], marker="s", color=arm_colour(3))  # fmt: skip
    left.set_ylim(7.5, 0.5)
    left.set_yticks(range(1, 8))
    left.set_ylabel("PGIC (1 very much improved)")
    left.set_title("PGIC")
    right.plot([_x(outcomes, p.entry_date) for p in outcomes.bpi],
               [p.interference for p in outcomes.bpi], marker="o", color=arm_colour(5))  # fmt: skip
    right.set_ylim(0, 10)
    right.set_ylabel("BPI interference (0–10)")
    right.set_title("BPI interference")
    for ax in (left, right):
        _marks(ax, outcomes)
        ax.set_xlabel("weeks from end of baseline")
    return fig


def side_effect_figure(outcomes: PatientOutcomes) -> Figure:
    """Days per week with each side effect that was reported (one bar per kind and week)."""
    fig = _figure()
    ax = fig.add_subplot()
    courses = [c for c in outcomes.side_effects if any(w.days for w in c.weeks)]
    n = max(len(courses), 1)
    for k, course in enumerate(courses):
        x = [_x(outcomes, w.start_date) + (k + 0.5) / n for w in course.weeks]
        colour = arm_colour(KINDS.index(course.kind) + 2)  # the same colour for a kind always
        ax.bar(x, [w.days for w in course.weeks], width=1.0 / n, color=colour,
               label=SIDE_EFFECT_LABELS[course.kind])  # fmt: skip
    _marks(ax, outcomes)
    ax.set_ylim(0, DAYS_PER_WEEK)
    ax.set_xlabel("weeks from end of baseline")
    ax.set_ylabel("days reported in the week")
    ax.set_title("Side effects")
    if courses:
        ax.legend(fontsize=7, loc="upper right")
    return fig


def build_figures(outcomes: PatientOutcomes) -> dict[str, Figure]:
    """Every figure by name (none without a baseline or weekly pain)."""
    if outcomes.baseline is None or not outcomes.weekly_pain:
        return {}
    return {
        "weekly_pain": weekly_pain_figure(outcomes),
        "pgic_bpi": pgic_bpi_figure(outcomes),
        "side_effects": side_effect_figure(outcomes),
    }
