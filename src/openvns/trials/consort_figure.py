"""The CONSORT 2010 flow diagram of a trial, drawn with matplotlib (imported inside the function).

Four stages top to bottom, as in Schulz et al. 2010 (BMJ 340:c332, figure 1): enrolment
(assessed for eligibility, excluded with reasons, randomised), allocation (one column per
arm), follow-up (discontinued in the blinded phase and in the open-label extension, with
reasons) and analysis (analysed for the primary endpoint, without it). The counts are those of
:func:`openvns.trials.consort.consort_flow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openvns.analysis.plotting import agg_figure
from openvns.trials.consort import ARM_FULL, PHASE_LABELS, ArmFlow, ConsortFlow

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["consort_figure"]

_BOX = {"boxstyle": "square,pad=0.5", "facecolor": "white", "edgecolor": "black", "lw": 0.8}
_STAGE = {"boxstyle": "round,pad=0.3", "facecolor": "#dbe9f6", "edgecolor": "#4a78a8", "lw": 0.8}
_FONT = 7.5


def _box(ax: Axes, x: float, y: float, text: str, *, stage: bool = False) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=_FONT, multialignment="left",
            bbox=_STAGE if stage else _BOX, transform=ax.transAxes)  # fmt: skip


def _arrow(ax: Axes, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), xycoords="axes fraction",
                arrowprops={"arrowstyle": "->", "lw": 0.8})  # fmt: skip


def _follow_up_text(arm: ArmFlow) -> str:
    lines = []
    for phase in PHASE_LABELS:
        lines.append(f"Discontinued, {phase} (n = {arm.discontinued_in(phase)})")
        lines += [f"  {reason} (n = {n})" for reason, n in arm.discontinued.get(phase, {}).items()]
    return "\n".join(lines)


def consort_figure(flow: ConsortFlow, *, title: str | None = None) -> Figure:
    """The flow diagram of ``flow`` (a figure outside pyplot, on its own Agg canvas)."""
    n_arms = len(flow.arms)
    fig = agg_figure(max(8.0, 4.0 * n_arms), 7.5)
    ax = fig.add_subplot()
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    failed = {r: n for r, n in flow.excluded.items() if r != ARM_FULL}
    lines = [f"Excluded (n = {flow.n_excluded})"]
    if failed:
        lines.append(f"  not meeting inclusion criteria (n = {sum(failed.values())}):")
        lines += [f"    {reason} (n = {n})" for reason, n in failed.items()]
    if ARM_FULL in flow.excluded:
        lines.append(f"  {ARM_FULL} (n = {flow.excluded[ARM_FULL]})")
    excluded = "\n".join(lines)
    _box(ax, 0.5, 0.95, f"Assessed for eligibility (n = {flow.screened})")
    _box(ax, 0.82, 0.84, excluded)
    _arrow(ax, 0.5, 0.925, 0.5, 0.765)
    _arrow(ax, 0.5, 0.84, 0.66, 0.84)
    _box(ax, 0.5, 0.74, f"Randomised (n = {flow.randomised})")
    _box(ax, 0.06, 0.95, "Enrolment", stage=True)
    _box(ax, 0.06, 0.62, "Allocation", stage=True)
    _box(ax, 0.06, 0.40, "Follow-up", stage=True)
    _box(ax, 0.06, 0.12, "Analysis", stage=True)
    xs = [0.22 + 0.76 * (i + 0.5) / n_arms for i in range(n_arms)]
    for x, arm in zip(xs, flow.arms, strict=True):
        _arrow(ax, 0.5, 0.715, x, 0.665)
        _box(ax, x, 0.62, f"Allocated to {arm.arm} (n = {arm.allocated})\n"
                          f"  received allocated intervention (n = {arm.allocated})")  # fmt: skip
        _arrow(ax, x, 0.585, x, 0.50)
        _box(ax, x, 0.40, _follow_up_text(arm))
        _arrow(ax, x, 0.29, x, 0.19)
        _box(ax, x, 0.12, f"Analysed (n = {arm.analysed})\n"
                          f"  change of mean NRS, blinded phase\n"
                          f"Not analysed (n = {arm.not_analysed})\n"
                          f"  no diary in the endpoint window")  # fmt: skip
    return fig
