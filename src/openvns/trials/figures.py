"""Figures of a :class:`~openvns.trials.runner.TrialResult`, one function per figure.

Every function returns a :class:`matplotlib.figure.Figure` built on the Agg canvas without
:mod:`matplotlib.pyplot`, so nothing is registered in pyplot's figure manager (no "too many
figures" warnings, nothing to close) and the global backend is left alone; a notebook displays
the returned figure as it is. matplotlib is imported inside the functions only.

* :func:`weekly_pain_figure` — weekly mean NRS per arm with 95 % bands, phases marked.
* :func:`responder_figure` — ≥ 30 % and ≥ 50 % responders per arm with Wilson intervals.
* :func:`waterfall_figure` — percent change from baseline per patient, coloured by arm.
* :func:`side_effect_figure` — weekly point prevalence of each side effect among stimulated
  patients (:func:`weekly_point_prevalence`, the validation's definition).
* :func:`recruitment_figure` — fraction of each fibre group recruited at the final settings.
* :func:`headache_rate_figure` — headache conditions: attacks per week (cluster) or monthly
  migraine and headache days (migraine) per arm over the trial, with 95 % bands.
* :func:`crossover_figure` — crossover designs: each sequence's mean endpoint in each period.
* :func:`build_figures` — all of them by name (the last two where they apply).

Analyses use the eligible patients (the analysis population of
:meth:`~openvns.trials.runner.TrialResult.summary`) unless stated otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import DAYS_PER_WEEK, window_mean_NRS
from openvns.analysis.plotting import agg_figure, arm_colour
from openvns.analysis.statistics import mean_ci
from openvns.errors import ValidationError
from openvns.physiology.drive import GROUPS
from openvns.trials.export import final_current_mA, last_day
from openvns.trials.figure_data import weekly_point_prevalence
from openvns.trials.figure_data import whole_weeks as _weeks

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from openvns.simulation.courses import Recruitment
    from openvns.trials.runner import TrialResult

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Names of the figures of :func:`build_figures` for every trial, in report order.
FIGURE_NAMES: tuple[str, ...] = (
    "consort",
    "weekly_pain",
    "responders",
    "waterfall",
    "side_effects",
    "recruitment",
)
#: Figures added before ``"recruitment"`` for a headache condition and for a crossover design.
HEADACHE_FIGURE_NAMES: tuple[str, ...] = ("headache_rate",)
CROSSOVER_FIGURE_NAMES: tuple[str, ...] = ("crossover",)

__all__ = [
    "CROSSOVER_FIGURE_NAMES",
    "FIGURE_NAMES",
    "HEADACHE_FIGURE_NAMES",
    "build_figures",
    "crossover_figure",
    "headache_rate_figure",
    "recruitment_at_final_settings",
    "recruitment_figure",
    "responder_figure",
    "side_effect_figure",
    "waterfall_figure",
    "weekly_pain_figure",
    "weekly_point_prevalence",
]


def _mark_phases(ax: Axes, result: TrialResult) -> None:
    """Dashed lines at the start of the blinded and open-label phases (x in weeks); for a
    crossover, at the start of period 1, the washout (if any) and period 2."""
    d = result.design
    starts = [("blinded", d.baseline_days)]
    if d.crossover is not None:
        (_, e1), (s2, _) = d.crossover.periods()
        starts = [("period 1", d.baseline_days)]
        if s2 > e1:
            starts.append(("washout", d.baseline_days + e1))
        starts.append(("period 2", d.baseline_days + s2))
    if d.open_label_days:
        starts.append(("open label", d.baseline_days + d.blinded_days))
    for label, day in starts:
        x = day / DAYS_PER_WEEK
        ax.axvline(x, color="0.3", linestyle="--", linewidth=0.8)
        ax.annotate(
            label, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
            textcoords="offset points", fontsize=8, color="0.3",
        )  # fmt: skip


def _crossover_note(result: TrialResult, name: str) -> str:
    """``"; <open-label arm> from week w, open label"`` for an arm whose patients change to the
    open-label arm's protocol in the extension, else ``""``."""
    d = result.design
    if d.crossover is not None or not d.open_label_days or d.open_label_arm in (None, name):
        return ""
    week = (d.baseline_days + d.blinded_days) / DAYS_PER_WEEK
    return f"; {d.open_label_arm} from week {week:g}, open label"


def weekly_pain_figure(result: TrialResult) -> Figure:
    """Weekly mean pain (NRS 0–10) per arm over the whole trial with 95 % t bands.

    A patient's weekly value is the mean of the observed days of that week (missing with fewer
    than 4 of 7 days); the arm's value is the mean over its eligible patients with a value.
    Whole weeks only (an incomplete last week is left out); an arm whose patients start the
    open-label arm's protocol in the extension says so in the legend.
    """
    fig = agg_figure()
    ax = fig.add_subplot()
    windows, x = _weeks(result.n_days)
    nrs = result.nrs.astype(np.float64)
    for a, name in enumerate(result.arm_names):
        sel = (result.arm == a) & result.eligible
        if not sel.any():
            continue
        weekly = np.column_stack(
            [window_mean_NRS(nrs[sel], result.observed[sel], w) for w in windows]
        )
        ci = mean_ci(weekly, axis=0)
        colour = arm_colour(a)
        ax.plot(x, ci.estimate, marker="o", markersize=3, color=colour,
                label=f"{name} (n = {int(sel.sum())}{_crossover_note(result, name)})")  # fmt: skip
        ax.fill_between(x, ci.lower, ci.upper, color=colour, alpha=0.2, linewidth=0)
    _mark_phases(ax, result)
    ax.set_xlabel("week from start of baseline")
    ax.set_ylabel("mean pain (NRS 0–10)")
    ax.set_title("Weekly mean pain with 95 % confidence bands")
    ax.set_xlim(0, result.n_days / DAYS_PER_WEEK)
    ax.set_ylim(0, 10)
    ax.legend(loc="lower left", fontsize=8)
    return fig


def responder_figure(result: TrialResult) -> Figure:
    """≥ 30 % and ≥ 50 % responder proportions per arm with 95 % Wilson error bars."""
    summary = result.summary()
    fig = agg_figure()
    ax = fig.add_subplot()
    names = list(result.arm_names)
    width = 0.8 / max(len(names), 1)
    for a, name in enumerate(names):
        arm = summary.arms[name]
        est, low, high = [], [], []
        for r in (arm.responders_30, arm.responders_50):
            p = r.proportion()
            e = float(p.estimate)
            est.append(100.0 * e)
            low.append(100.0 * (e - float(p.lower)) if np.isfinite(e) else 0.0)
            high.append(100.0 * (float(p.upper) - e) if np.isfinite(e) else 0.0)
        pos = np.arange(2) - 0.4 + width * (a + 0.5)
        ax.bar(pos, est, width=width * 0.9, color=arm_colour(a),
               label=f"{name} (n = {arm.responders_30.n})")  # fmt: skip
        ax.errorbar(pos, est, yerr=[low, high], fmt="none", ecolor="black", capsize=3)
    ax.set_xticks([0, 1], ["≥ 30 % reduction", "≥ 50 % reduction"])
    ax.set_ylabel("responders (% of eligible patients)")
    ax.set_ylim(0, 100)
    ax.set_title("Responders at the end of the blinded phase (95 % Wilson intervals)")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def waterfall_figure(result: TrialResult) -> Figure:
    """Percent change of mean pain from baseline per eligible patient, sorted, coloured by arm.

    Patients without a change (missing baseline or endpoint) are left out; dotted lines mark
    the −30 % and −50 % responder thresholds.
    """
    from matplotlib.patches import Patch

    pct_all = np.full(result.n_patients, np.nan)
    for name in result.arm_names:
        sel = (result.arm == result.arm_names.index(name)) & result.eligible
        pct_all[sel] = result.change(name).change_pct
    keep = np.flatnonzero(~np.isnan(pct_all))
    order = keep[np.argsort(-pct_all[keep], kind="stable")]
    fig = agg_figure()
    ax = fig.add_subplot()
    colours = [arm_colour(int(a)) for a in result.arm[order]]
    ax.bar(np.arange(order.size), pct_all[order], width=0.9, color=colours)
    for threshold in (-30.0, -50.0):
        ax.axhline(threshold, color="0.3", linestyle=":", linewidth=0.8)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlabel("patients (sorted)")
    ax.set_ylabel("change of mean pain from baseline (%)")
    ax.set_title("Individual change at the end of the blinded phase")
    ax.set_xticks([])
    handles = [Patch(color=arm_colour(a), label=n) for a, n in enumerate(result.arm_names)]
    # an explicit place: "best" searches hundreds of bars (slow, and matplotlib warns under load)
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    return fig


def side_effect_figure(result: TrialResult) -> Figure:
    """Weekly point prevalence of each side effect among the patients stimulated that day.

    One panel per side effect (small multiples on a shared scale). A week's value is the
    validation's point prevalence (:func:`weekly_point_prevalence`): reports on the days a
    patient was stimulated (current above 0 mA: active arms, and every arm during the
    open-label extension) over those patient-days, i.e. the share of stimulated patients
    reporting it on a day, averaged over the week; bands are 95 % Wilson over the week's mean
    daily number of stimulated patients. Whole weeks only.
    """
    names = result.side_effects
    cols = 4
    rows = -(-len(names) // cols)
    fig = agg_figure(10.0, 2.0 * rows + 0.6)
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    stimulated = result.current_mA > 0
    for k, name in enumerate(names):
        ax = axes[k // cols][k % cols]
        x, prev = weekly_point_prevalence(result.ae_reported[:, :, k], stimulated)
        colour = arm_colour(0)
        ax.plot(x, 100.0 * prev.estimate, marker="o", markersize=2, color=colour)
        ax.fill_between(x, 100.0 * prev.lower, 100.0 * prev.upper,
                        color=colour, alpha=0.15, linewidth=0)  # fmt: skip
        _mark_phases(ax, result)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_xlim(0, result.n_days / DAYS_PER_WEEK)
        ax.set_ylim(0, 100)
    for k in range(len(names), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.supxlabel("week from start of baseline")
    fig.supylabel("stimulated patients reporting it on a day (%)")
    fig.suptitle("Side effects over time: weekly point prevalence (95 % Wilson bands)")
    return fig


def _final_arms(result: TrialResult) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``(protocol arm, device arm)`` indices per patient on the patient's last day: the arm
    whose protocol is in force and the arm whose device (lead) delivers it.

    A parallel trial: the patient's own arm, or in the extension the open-label arm's protocol
    through the own arm's device. A crossover: the other arm from the washout on (its protocol
    through its device), and in the extension the open-label arm's protocol through it.
    """
    d = result.design
    own = result.arm.astype(np.intp)
    protocol, device = own.copy(), own.copy()
    last = last_day(result)
    if d.crossover is not None:
        (_, e1), _ = d.crossover.periods()
        later = last >= d.baseline_days + e1
        protocol[later] = 1 - own[later]
        device[later] = 1 - own[later]
    if d.open_label_arm is not None and d.open_label_days:
        in_extension = last >= d.baseline_days + d.blinded_days
        protocol[in_extension] = result.arm_names.index(d.open_label_arm)
    return protocol, device


def _final_pulse_width_us(result: TrialResult) -> FloatArray:
    """Pulse width (µs) of the protocol in force on each patient's last day in the study."""
    d = result.design
    pw = [d.protocol_for(name).stimulation.pulse_width_us for name in result.arm_names]
    protocol, _ = _final_arms(result)
    return np.asarray(pw, dtype=np.float64)[protocol]


def recruitment_at_final_settings(
    result: TrialResult, recruitment: Recruitment | Sequence[Recruitment]
) -> tuple[FloatArray, BoolArray]:
    """Fraction of every fibre group recruited at each patient's final settings.

    Parameters
    ----------
    result
        A trial result.
    recruitment
        The trial's ``recruitment(current_mA, pulse_width_us) -> (n, len(GROUPS))``, or one per
        arm (each arm's lead's, :func:`openvns.trials.runner.arm_recruitment`): a patient is
        read on the table of the arm whose device is in force on the last day.

    Returns
    -------
    fractions, stimulated
        ``(patients, len(GROUPS))`` fractions at ``final_current_mA / coupling`` and the pulse
        width of the protocol in force on the patient's last day (the open-label arm's in the
        extension, the second period's in a crossover), and ``(patients,)`` whether that current
        is above 0 mA.
    """
    per_arm = (
        tuple(recruitment)
        if isinstance(recruitment, Sequence)
        else tuple(recruitment for _ in result.arm_names)
    )
    if len(per_arm) != len(result.arm_names):
        raise ValidationError(
            "recruitment", f"{len(per_arm)} functions", f"one per arm ({len(result.arm_names)})"
        )
    current = final_current_mA(result)
    pw = _final_pulse_width_us(result)
    _, device = _final_arms(result)
    effective = current / result.coupling
    out = np.zeros((result.n_patients, len(GROUPS)))
    # one call per distinct function and pulse width (arms sharing a table are read together)
    distinct: list[Recruitment] = []
    for rec in per_arm:
        if not any(rec is f for f in distinct):
            distinct.append(rec)
    for rec in distinct:
        uses = np.isin(device, [a for a, f in enumerate(per_arm) if f is rec])
        for width in np.unique(pw[uses]):
            sel = uses & (pw == width)
            out[sel] = np.asarray(rec(effective[sel], float(width)), dtype=np.float64)
    return out, current > 0


def recruitment_figure(
    result: TrialResult, recruitment: Recruitment | Sequence[Recruitment]
) -> Figure:
    """Distribution over stimulated patients of the fraction of each group recruited.

    One box per physiology group (:data:`~openvns.physiology.drive.GROUPS`) over the patients
    whose final current is above 0 mA, with each patient as a point coloured by the arm they
    were randomised to; patients on another arm's protocol at the end (a sham patient in the
    open-label extension, a crossover's second period) are triangles, labelled "crossed over"
    in the legend, which sits outside the axes so that it hides no point.
    """

    from matplotlib.lines import Line2D

    fractions, stimulated = recruitment_at_final_settings(result, recruitment)
    protocol, _ = _final_arms(result)
    own = result.arm[stimulated]
    crossed = (protocol != result.arm)[stimulated]
    fig = agg_figure(9.0, 4.0)
    ax = fig.add_subplot()
    data = fractions[stimulated] * 100.0
    positions = np.arange(1, len(GROUPS) + 1)
    if data.shape[0]:
        ax.boxplot(
            [data[:, j] for j in range(len(GROUPS))], positions=positions, widths=0.5,
            showfliers=False, medianprops={"color": "black"},
        )  # fmt: skip
        offsets = np.linspace(-0.18, 0.18, data.shape[0]) if data.shape[0] > 1 else np.zeros(1)
        colours = np.array([arm_colour(int(a)) for a in own])
        for j in range(len(GROUPS)):
            for gid, marker, sel in (("stayed", "o", ~crossed), ("crossed-over", "^", crossed)):
                if sel.any():
                    ax.scatter(positions[j] + offsets[sel], data[sel, j], s=12, c=colours[sel],
                               marker=marker, alpha=0.7, zorder=3, gid=gid)  # fmt: skip
    ax.set_xticks(positions, [g.replace("_", " ") for g in GROUPS], rotation=20)
    ax.set_xlim(0.4, len(GROUPS) + 0.6)
    ax.set_ylim(-2, 102)
    ax.set_ylabel("fibres recruited (%)")
    ax.set_title(f"Recruitment at the final settings ({int(stimulated.sum())} stimulated patients)")
    handles: list[Any] = [
        Line2D([], [], color=arm_colour(a), marker="o", linestyle="none", label=n)
        for a, n in enumerate(result.arm_names)
    ]
    names = result.arm_names
    pairs = np.unique(np.column_stack([own[crossed], protocol[stimulated][crossed]]), axis=0)
    for a, p in pairs.tolist():
        handles.append(
            Line2D([], [], color=arm_colour(a), marker="^", linestyle="none",
                   label=f"{names[a]}, crossed over to {names[p]}")
        )  # fmt: skip
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)  # fmt: skip
    return fig


_MEASURE_LABELS = {
    "attacks": "attacks per week",
    "migraine_days": "migraine days per 28 days",
    "headache_days": "headache days per 28 days",
}


def headache_rate_figure(result: TrialResult) -> Figure:
    """The prevention measure per arm over the whole trial, with 95 % t bands.

    One panel per measure of :func:`openvns.trials.headache.headache_measures`: attacks per
    week in weekly windows (cluster headache); monthly migraine days and monthly headache days
    in 28-day windows from the first baseline day (migraine). Each window's value of a patient
    is the events on its observed days per observed day, scaled (missing with fewer than half of
    the days observed); the arm's is the mean over its eligible patients with a value.
    """
    from openvns.trials.headache import headache_measures, prevention_course

    measures = headache_measures(result.condition)
    fig = agg_figure(7.5, 3.2 * len(measures) + 0.6)
    axes = fig.subplots(len(measures), 1, sharex=True, squeeze=False)
    for row, measure in enumerate(measures):
        ax = axes[row][0]
        for a, name in enumerate(result.arm_names):
            sel = (result.arm == a) & result.eligible
            if not sel.any():
                continue
            course = prevention_course(result, name, measure=measure)
            x = (course.start_day + course.end_day) / 2.0 / DAYS_PER_WEEK
            colour = arm_colour(a)
            ax.plot(x, course.rate.estimate, marker="o", markersize=3, color=colour,
                    label=f"{name} (n = {int(sel.sum())})")  # fmt: skip
            ax.fill_between(x, course.rate.lower, course.rate.upper, color=colour, alpha=0.2,
                            linewidth=0)  # fmt: skip
        _mark_phases(ax, result)
        ax.set_ylabel(_MEASURE_LABELS[measure])
        ax.set_xlim(0, result.n_days / DAYS_PER_WEEK)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1][0].set_xlabel("week from start of baseline")
    fig.suptitle("Headache frequency per arm with 95 % confidence bands")
    return fig


def crossover_figure(result: TrialResult) -> Figure:
    """Each sequence's mean endpoint in period 1 and period 2 (95 % t intervals), with every
    analysed patient's two values as thin lines: the classic picture of an AB/BA crossover.

    The endpoint is that of :func:`openvns.trials.crossover.crossover_periods` (mean pain, or
    the headache measure), over its default window at the end of each period.
    """
    from openvns.trials.crossover import crossover_periods

    p = crossover_periods(result)
    cells = p.cell_means()
    complete = ~np.isnan(p.period1) & ~np.isnan(p.period2)
    fig = agg_figure(6.0, 4.2)
    ax = fig.add_subplot()
    for k, (label, in_seq) in enumerate(
        zip(p.sequences, (p.sequence_ab, ~p.sequence_ab), strict=True)
    ):
        colour = arm_colour(k)
        offset = -0.04 if k == 0 else 0.04
        sel = complete & in_seq
        for y1, y2 in zip(p.period1[sel], p.period2[sel], strict=True):
            ax.plot([1 + offset, 2 + offset], [y1, y2], color=colour, alpha=0.25, linewidth=0.7)
        est = [float(cells[(label, j)].estimate) for j in (1, 2)]
        low = [float(cells[(label, j)].lower) for j in (1, 2)]
        high = [float(cells[(label, j)].upper) for j in (1, 2)]
        err = [
            [e - lo if np.isfinite(lo) else 0.0 for e, lo in zip(est, low, strict=True)],
            [hi - e if np.isfinite(hi) else 0.0 for e, hi in zip(est, high, strict=True)],
        ]
        ax.errorbar([1 + offset, 2 + offset], est, yerr=err, marker="o", color=colour,
                    capsize=3, linewidth=2, label=f"{label} (n = {int(sel.sum())})")  # fmt: skip
    ax.set_xticks([1, 2], ["period 1", "period 2"])
    ax.set_xlim(0.6, 2.4)
    ax.set_ylabel(p.unit)
    ax.set_title("Crossover: each sequence's endpoint by period (95 % t intervals)")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def build_figures(
    result: TrialResult, recruitment: Recruitment | Sequence[Recruitment] | None = None
) -> dict[str, Figure]:
    """All report figures by name: :data:`FIGURE_NAMES` in that order, with
    :data:`HEADACHE_FIGURE_NAMES` (a headache condition) and :data:`CROSSOVER_FIGURE_NAMES` (a
    crossover design) before ``"recruitment"``.

    Parameters
    ----------
    result
        A trial result with a baseline (the endpoints need one).
    recruitment
        The trial's recruitment function, or one per arm; without it ``"recruitment"`` is left
        out.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Figures not registered with pyplot: display or ``savefig`` them; nothing to close.
    """
    from openvns.trials.consort import consort_flow
    from openvns.trials.consort_figure import consort_figure

    figures: dict[str, Figure] = {
        "consort": consort_figure(consort_flow(result)),
        "weekly_pain": weekly_pain_figure(result),
        "responders": responder_figure(result),
        "waterfall": waterfall_figure(result),
        "side_effects": side_effect_figure(result),
    }
    if result.attacks is not None:
        figures["headache_rate"] = headache_rate_figure(result)
    if result.design.crossover is not None:
        figures["crossover"] = crossover_figure(result)
    if recruitment is not None:
        figures["recruitment"] = recruitment_figure(result, recruitment)
    log.debug("built figures %s", ", ".join(figures))
    return figures
