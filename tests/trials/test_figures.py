"""Report figures: whole weeks, point prevalence as in the validation, legends clear of the data,
patients who crossed over labelled (matplotlib's Agg canvas)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from openvns.physiology.drive import GROUPS
from openvns.trials.export import final_current_mA, last_day
from openvns.trials.figures import (
    build_figures,
    recruitment_figure,
    side_effect_figure,
    weekly_pain_figure,
)
from openvns.trials.runner import TrialResult, run_trial
from tests.trials.test_runner import analytic_recruitment, small_design

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def result() -> TrialResult:
    # 7 + 14 + 8 = 29 days: the last week of the trial holds one day
    design = small_design(open_label_days=8)
    return run_trial(design, n_per_arm=12, root_seed=11, recruitment=analytic_recruitment)


def _series(ax: Any) -> list[Any]:
    """The plotted series of an axes (lines with markers; not the phase lines)."""
    return [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "")]


def _whole_weeks(x: npt.NDArray[np.float64], n_days: int) -> None:
    start = x * 7 - 3.5  # first day of the week whose centre is x
    np.testing.assert_allclose(start, np.round(start / 7) * 7, atol=1e-9)
    assert start.max() + 7 <= n_days


def test_weekly_pain_has_no_partial_last_week(result: TrialResult) -> None:
    assert result.n_days % 7 == 1
    ax = weekly_pain_figure(result).axes[0]
    lines = _series(ax)
    assert len(lines) == 2
    for line in lines:
        x = np.asarray(line.get_xdata(), dtype=np.float64)
        assert x.size == result.n_days // 7
        _whole_weeks(x, result.n_days)


def _point_prevalence(result: TrialResult, k: int) -> npt.NDArray[np.float64]:
    """Per whole week: reports of side effect ``k`` on stimulated patient-days over the
    stimulated patient-days (the validation's point prevalence over a week's window)."""
    stim = result.current_mA > 0
    ae = result.ae_reported[:, :, k] & stim
    weeks = result.n_days // 7
    out = np.full(weeks, np.nan)
    for w in range(weeks):
        days = slice(7 * w, 7 * w + 7)
        n = stim[:, days].sum()
        if n:
            out[w] = ae[:, days].sum() / n
    return out


def test_side_effects_are_point_prevalence_in_whole_weeks(result: TrialResult) -> None:
    fig = side_effect_figure(result)
    assert "point prevalence" in fig.get_suptitle()
    stim = result.current_mA > 0
    differs = False
    for k, name in enumerate(result.side_effects):
        ax = next(a for a in fig.axes if a.get_title() == name.replace("_", " "))
        (line,) = _series(ax)
        x = np.asarray(line.get_xdata(), dtype=np.float64)
        _whole_weeks(x, result.n_days)
        expected = _point_prevalence(result, k)
        np.testing.assert_allclose(np.asarray(line.get_ydata()), 100 * expected, atol=1e-9)
        # the former "any day of the week" (period) prevalence is higher where a report does
        # not last the whole week: make sure the data tell the two apart
        weeks = result.n_days // 7
        ae = result.ae_reported[:, : 7 * weeks, k].reshape(result.n_patients, weeks, 7)
        s = stim[:, : 7 * weeks].reshape(result.n_patients, weeks, 7)
        period = (ae & s).any(axis=2).sum(axis=0) / np.maximum(s.any(axis=2).sum(axis=0), 1)
        differs |= bool(np.any(np.abs(period - np.nan_to_num(expected)) > 1e-6))
    assert differs


def _overlaps_data(fig: Any) -> list[str]:
    """Legends whose box (window extent) holds a plotted point of their axes: line vertices,
    scatter points and bar corners, in display coordinates."""
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        points = [np.column_stack([line.get_xdata(), line.get_ydata()]) for line in _series(ax)]
        points += [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
        for patch in ax.patches:
            if isinstance(patch, Rectangle) and patch.get_height() != 0:
                x, y, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
                points.append(np.array([[x, y + h], [x + w, y + h], [x + w / 2, y + h]]))
        for xy in points:
            xy = np.asarray(xy, dtype=np.float64)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if not xy.size:
                continue
            shown = ax.transData.transform(xy)
            inside = (
                (shown[:, 0] >= box.x0)
                & (shown[:, 0] <= box.x1)
                & (shown[:, 1] >= box.y0)
                & (shown[:, 1] <= box.y1)
            )
            if inside.any():
                found.append(f"{ax.get_title()}: {int(inside.sum())} points under the legend")
    return found


def test_recruitment_legend_hides_no_data(result: TrialResult) -> None:
    fig = recruitment_figure(result, analytic_recruitment)
    assert _overlaps_data(fig) == []
    ax = fig.axes[0]
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert not legend_box.overlaps(ax.get_window_extent())  # outside the plotting area


def test_no_figure_legend_hides_data(result: TrialResult) -> None:
    for name, fig in build_figures(result, analytic_recruitment).items():
        assert _overlaps_data(fig) == [], name


def test_recruitment_labels_sham_patients_who_crossed_over(result: TrialResult) -> None:
    fig = recruitment_figure(result, analytic_recruitment)
    ax = fig.axes[0]
    end_blinded = result.design.baseline_days + result.design.blinded_days
    sham = result.arm == result.arm_names.index("sham")
    stimulated = final_current_mA(result) > 0
    crossed = sham & stimulated & (last_day(result) >= end_blinded)
    assert crossed.sum() > 0
    marked = [c for c in ax.collections if c.get_gid() == "crossed-over"]
    assert sum(len(c.get_offsets()) for c in marked) == int(crossed.sum()) * len(GROUPS)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("sham" in t and "crossed over" in t and "active" in t for t in labels), labels
    # the other stimulated patients are drawn apart from them
    others = [c for c in ax.collections if c.get_gid() == "stayed"]
    assert sum(len(c.get_offsets()) for c in others) == int((stimulated & ~crossed).sum()) * len(
        GROUPS
    )


def test_weekly_pain_labels_the_arm_that_crosses_over(result: TrialResult) -> None:
    ax = weekly_pain_figure(result).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    sham = next(t for t in labels if t.startswith("sham"))
    assert "active from week 3" in sham
    assert "open label" in sham
    active = next(t for t in labels if t.startswith("active"))
    assert "open label" not in active


def test_weekly_point_prevalence_by_hand() -> None:
    from openvns.trials.figure_data import weekly_point_prevalence, whole_weeks

    se = np.zeros((2, 8), dtype=bool)
    se[0, :3] = True  # 3 days of reports
    se[1, 0] = se[1, 5] = True  # the second report falls on a day not at risk
    risk = np.ones((2, 8), dtype=bool)
    risk[1, 4:] = False
    x, prev = weekly_point_prevalence(se, risk)
    np.testing.assert_allclose(x, [0.5])  # day 7 (an incomplete week) is left out
    assert float(prev.estimate[0]) == pytest.approx(4 / 11)
    assert float(prev.lower[0]) < 4 / 11 < float(prev.upper[0])
    windows, centres = whole_weeks(5)  # shorter than a week: its one partial week
    assert windows == [slice(0, 5)]
    np.testing.assert_allclose(centres, [2.5 / 7])
    with pytest.raises(ValueError, match="patients, days"):
        weekly_point_prevalence(se, risk[:, :7])
