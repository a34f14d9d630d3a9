"""Metric functions by name: each measures one published quantity in a simulated cohort.

A metric is ``fn(ctx, **args) -> Measured`` in its target's unit (``%`` for shares, points for
differences of shares). Days in ``args`` count from the first treatment day. Side-effect
channels are looked up by name in :data:`openvns.physiology.side_effects.SIDE_EFFECTS`; a name
the model does not have raises :class:`NotSimulated`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import MissingRule, change_from_baseline, responders
from openvns.analysis.statistics import newcombe_difference, wilson_ci
from openvns.physiology.parameters import PhysiologyParameters
from openvns.simulation.courses import Recruitment
from openvns.trials.validation.cohorts import CohortData, CohortRunner
from openvns.trials.validation.stats import Measured, NotSimulated

__all__ = ["METRICS", "MetricContext", "channel", "metric"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MetricContext:
    """What a metric can read: its cohort (``None`` for model-level metrics), the runner for
    other cohorts, and the physiology parameters and recruitment of the run."""

    cohort: CohortData | None
    runner: CohortRunner
    params: PhysiologyParameters
    recruitment: Recruitment

    @property
    def data(self) -> CohortData:
        if self.cohort is None:
            raise ValueError("this metric needs a cohort")
        return self.cohort


Metric = Callable[..., Measured]
METRICS: dict[str, Metric] = {}


def metric(name: str) -> Callable[[Metric], Metric]:
    """Register a metric function under ``name``."""

    def deco(fn: Metric) -> Metric:
        METRICS[name] = fn
        return fn

    return deco


def channel(effect: str) -> int:
    """Index of side effect ``effect`` in the model's channels (:class:`NotSimulated` if none)."""
    from openvns.physiology import side_effects

    names = tuple(side_effects.SIDE_EFFECTS)
    if effect not in names:
        raise NotSimulated(f"side effect {effect!r} is not a channel of the model ({names})")
    return names.index(effect)


def _share(k: int, n: int, detail: str = "") -> Measured:
    ci = wilson_ci(k, n)
    return Measured(
        100.0 * float(ci.estimate), (100.0 * float(ci.lower), 100.0 * float(ci.upper)), n, detail
    )


def _diff(k1: int, n1: int, k2: int, n2: int, detail: str = "") -> Measured:
    d = newcombe_difference(k1, n1, k2, n2)
    return Measured(
        100.0 * float(d.estimate), (100.0 * float(d.lower), 100.0 * float(d.upper)), n1 + n2,
        detail,
    )  # fmt: skip


def _responders(
    c: CohortData, arm: str, threshold_pct: float, start: int, end: int, missing: MissingRule
) -> tuple[int, int]:
    sel = c.arm_mask(arm) & c["eligible"]
    ch = change_from_baseline(
        np.asarray(c["nrs"][sel], dtype=np.float64), c["observed"][sel], slice(0, c.base),
        slice(c.base + start, c.base + end),
    )  # fmt: skip
    r = responders(ch.change_pct, threshold_pct, missing=missing)
    return r.count, r.n


@metric("responders")
def _m_responders(
    ctx: MetricContext, *, arm: str, threshold_pct: float, start_day: int, end_day: int,
    missing: MissingRule = "non_responder",
) -> Measured:  # fmt: skip
    """Share of eligible patients with ≥ ``threshold_pct`` reduction of the window mean NRS."""
    k, n = _responders(ctx.data, arm, threshold_pct, start_day, end_day, missing)
    return _share(k, n, f"missing = {missing.replace('_', '-')}")


def _changes(c: CohortData, arm: str, start: int, end: int) -> FloatArray:
    """Per eligible patient with enough entries, mean NRS of the window minus the baseline's."""
    sel = c.arm_mask(arm) & c["eligible"]
    ch = change_from_baseline(
        np.asarray(c["nrs"][sel], dtype=np.float64), c["observed"][sel], slice(0, c.base),
        slice(c.base + start, c.base + end),
    )  # fmt: skip
    return np.asarray(ch.change_NRS[np.isfinite(ch.change_NRS)], dtype=np.float64)


def _mean_ci(x: FloatArray) -> tuple[float, tuple[float, float]]:
    m = float(x.mean())
    half = 1.96 * float(x.std(ddof=1)) / np.sqrt(max(x.size, 1))
    return m, (m - half, m + half)


@metric("mean_improvement")
def _m_mean_improvement(ctx: MetricContext, *, arm: str, start_day: int, end_day: int) -> Measured:
    """Mean NRS improvement (baseline minus window mean; > 0 better) of eligible completers."""
    x = -_changes(ctx.data, arm, start_day, end_day)
    m, ci = _mean_ci(x)
    return Measured(m, ci, int(x.size), "baseline − window mean, completers")


@metric("improvement_difference")
def _m_improvement_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, start_day: int, end_day: int
) -> Measured:
    """Mean NRS improvement of ``arm_a`` minus ``arm_b`` (NRS; normal interval)."""
    a = -_changes(ctx.data, arm_a, start_day, end_day)
    b = -_changes(ctx.data, arm_b, start_day, end_day)
    d = float(a.mean() - b.mean())
    half = 1.96 * float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    return Measured(d, (d - half, d + half), int(a.size + b.size),
                    f"{arm_a} {a.mean():.2f} vs {arm_b} {b.mean():.2f} NRS")  # fmt: skip


@metric("response_onset_week")
def _m_response_onset_week(
    ctx: MetricContext, *, arm: str, start_day: int, end_day: int, threshold_pct: float = 30.0
) -> Measured:
    """Median week in which the patients who are ≥ ``threshold_pct`` responders at the end
    window first had a weekly mean that far below their baseline (week 1 = first treatment
    week)."""
    c = ctx.data
    sel = c.arm_mask(arm) & c["eligible"]
    nrs = np.asarray(c["nrs"][sel], dtype=np.float64)
    seen = np.asarray(c["observed"][sel], dtype=bool)
    final = change_from_baseline(nrs, seen, slice(0, c.base),
                                 slice(c.base + start_day, c.base + end_day))  # fmt: skip
    responder = final.change_pct <= -threshold_pct
    weeks = (end_day + 6) // 7
    first = np.full(int(responder.sum()), np.nan)
    for w in range(weeks, 0, -1):  # the earliest week wins
        ch = change_from_baseline(nrs[responder], seen[responder], slice(0, c.base),
                                  slice(c.base + 7 * (w - 1), c.base + 7 * w))  # fmt: skip
        first = np.where(ch.change_pct <= -threshold_pct, float(w), first)
    first = first[np.isfinite(first)]
    if first.size == 0:
        return Measured(float("nan"), n=0, detail="no responders")
    q = np.percentile(first, [25, 50, 75])
    return Measured(float(q[1]), (float(q[0]), float(q[2])), int(first.size),
                    "median and quartiles of the first responding week")  # fmt: skip


@metric("responder_difference")
def _m_responder_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, threshold_pct: float, start_day: int,
    end_day: int,
) -> Measured:  # fmt: skip
    """Responder share of ``arm_a`` minus ``arm_b`` (points, Newcombe interval)."""
    c = ctx.data
    ka, na = _responders(c, arm_a, threshold_pct, start_day, end_day, "non_responder")
    kb, nb = _responders(c, arm_b, threshold_pct, start_day, end_day, "non_responder")
    return _diff(ka, na, kb, nb, f"{arm_a} {100 * ka / na:.1f} % vs {arm_b} {100 * kb / nb:.1f} %")


@metric("responder_change")
def _m_responder_change(
    ctx: MetricContext, *, arm: str, threshold_pct: float, early: list[int], late: list[int]
) -> Measured:
    """Responders among completers in window ``late`` minus in ``early`` (points)."""
    c = ctx.data
    k1, n1 = _responders(c, arm, threshold_pct, late[0], late[1], "exclude")
    k0, n0 = _responders(c, arm, threshold_pct, early[0], early[1], "exclude")
    return _diff(k1, n1, k0, n0, f"{100 * k0 / n0:.1f} % → {100 * k1 / n1:.1f} %")


@metric("placebo_effect_size")
def _m_effect_size(ctx: MetricContext, *, arm: str, start_day: int, end_day: int) -> Measured:
    """Mean change baseline → window over the SD of the change (completers): Chen 2017's
    definition of the placebo effect size (the same as ``patients.placebo.placebo_effect_size``)."""
    c = ctx.data
    sel = c.arm_mask(arm) & c["eligible"]
    nrs = np.where(c["observed"][sel], c["nrs"][sel].astype(np.float64), np.nan)
    b = _nanmean(nrs[:, : c.base])
    w = _nanmean(nrs[:, c.base + start_day : c.base + end_day])
    ok = np.isfinite(b) & np.isfinite(w)
    b, w = b[ok], w[ok]
    n = int(ok.sum())
    sd = float((b - w).std(ddof=1))
    es = float((b - w).mean() / sd)
    se = float(np.sqrt(1.0 / n + es**2 / (2.0 * n)))
    return Measured(es, (es - 1.96 * se, es + 1.96 * se), n,
                    f"change {float((b - w).mean()):.2f} NRS / SD of change {sd:.2f}")  # fmt: skip


def _nanmean(x: FloatArray) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows give NaN
        return np.asarray(np.nanmean(x, axis=1), dtype=np.float64)


def _rtm(
    c: CohortData, threshold: float, screen: list[int], follow: list[int]
) -> tuple[float, float, int]:
    """Mean of the screening window minus the follow-up window (diary days from the first
    baseline day) among patients whose screening mean is ≥ ``threshold``."""
    nrs = np.where(c["observed"], c["nrs"].astype(np.float64), np.nan)
    w1 = _nanmean(nrs[:, screen[0] : screen[1]])
    w4 = _nanmean(nrs[:, follow[0] : follow[1]])
    sel = np.isfinite(w1) & np.isfinite(w4) & (w1 >= threshold)
    d = w1[sel] - w4[sel]
    n = int(sel.sum())
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(max(n, 1))), n


@metric("regression_to_mean")
def _m_rtm(
    ctx: MetricContext, *, threshold: float, screen_days: list[int], follow_up_days: list[int]
) -> Measured:
    """RTM: screening-window mean minus follow-up mean of the screened patients (NRS)."""
    m, se, n = _rtm(ctx.data, threshold, screen_days, follow_up_days)
    return Measured(m, (m - 1.96 * se, m + 1.96 * se), n, f"screened ≥ {threshold}")


@metric("regression_to_mean_difference")
def _m_rtm_diff(
    ctx: MetricContext, *, threshold_high: float, threshold_low: float, screen_days: list[int],
    follow_up_days: list[int],
) -> Measured:  # fmt: skip
    """RTM at ``threshold_high`` minus at ``threshold_low`` (NRS)."""
    hi, se_hi, _ = _rtm(ctx.data, threshold_high, screen_days, follow_up_days)
    lo, se_lo, n_lo = _rtm(ctx.data, threshold_low, screen_days, follow_up_days)
    d, se = hi - lo, float(np.hypot(se_hi, se_lo))
    return Measured(d, (d - 1.96 * se, d + 1.96 * se), n_lo, f"{lo:.2f} → {hi:.2f} NRS")


@metric("within_person_sd")
def _m_within_sd(ctx: MetricContext, *, arm: str) -> Measured:
    """Mean over patients of the SD of their baseline daily diary (NRS)."""
    c = ctx.data
    sel = c.arm_mask(arm)
    nrs = np.where(c["observed"][sel], c["nrs"][sel].astype(np.float64), np.nan)[:, : c.base]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(nrs, axis=1, ddof=1)
    sd = sd[np.isfinite(sd)]
    m, se = float(sd.mean()), float(sd.std(ddof=1) / np.sqrt(sd.size))
    return Measured(m, (m - 1.96 * se, m + 1.96 * se), int(sd.size), "28-day baseline")


def _dropped(c: CohortData, sel: BoolArray, start: int, end: int) -> BoolArray:
    d = c["dropout_day"][sel]
    return np.asarray((d >= c.base + start) & (d < c.base + end))


@metric("discontinuation")
def _m_discontinuation(ctx: MetricContext, *, arm: str, start_day: int, end_day: int) -> Measured:
    """Share of the arm's patients who drop out between the two treatment days."""
    c = ctx.data
    sel = c.arm_mask(arm)
    return _share(int(_dropped(c, sel, start_day, end_day).sum()), int(sel.sum()))


@metric("attributable_discontinuation")
def _m_attributable(
    ctx: MetricContext, *, arm: str, without: str, start_day: int, end_day: int
) -> Measured:
    """Dropout in this cohort minus in cohort ``without`` (the same patients, one cause off)."""
    c, other = ctx.data, ctx.runner(without)
    sel, sel_o = c.arm_mask(arm), other.arm_mask(arm)
    k = int(_dropped(c, sel, start_day, end_day).sum())
    k0 = int(_dropped(other, sel_o, start_day, end_day).sum())
    return _share(max(k - k0, 0), int(sel.sum()), f"{k} all causes − {k0} without it")


@metric("continuation")
def _m_continuation(ctx: MetricContext, *, arm: str, day: int) -> Measured:
    """Share of the arm still in the study on treatment day ``day``."""
    c = ctx.data
    sel = c.arm_mask(arm)
    return _share(int((~_dropped(c, sel, 0, day)).sum()), int(sel.sum()))


@metric("continuation_ratio")
def _m_continuation_ratio(
    ctx: MetricContext, *, arm: str, day: int, relative_to_day: int
) -> Measured:
    """Still in at ``day`` among those still in at ``relative_to_day`` (%)."""
    c = ctx.data
    sel = c.arm_mask(arm)
    at_ref = ~_dropped(c, sel, 0, relative_to_day)
    at_day = ~_dropped(c, sel, 0, day)
    return _share(int(at_day.sum()), int(at_ref.sum()))


def _prevalence_window(
    c: CohortData, sel: BoolArray, effect: str, day: int, half: int
) -> tuple[float, int, BoolArray, BoolArray]:
    j = channel(effect)
    days = c["nrs"].shape[1]
    t = c.base + day
    w = slice(max(t - half, c.base), min(t + half + 1, days))
    if w.start >= w.stop:
        raise ValueError(f"day {day} lies outside the cohort's {days - c.base} treatment days")
    ae = np.asarray(c["ae_reported"][sel, w, j], dtype=bool)
    present = c.in_study(sel)[:, w]
    return (
        float((ae & present).sum() / max(present.sum(), 1)),
        int(present[:, 0].sum()),
        ae,
        present,
    )


@metric("point_prevalence")
def _m_point_prevalence(
    ctx: MetricContext, *, effect: str, day: int, arm: str | None = None, window_days: int = 14
) -> Measured:
    """Share of patients in the study reporting ``effect`` on a day, averaged over ±window."""
    c = ctx.data
    sel = c.arm_mask(arm) if arm else np.ones(c.arm.shape[0], dtype=bool)
    p, n, _, _ = _prevalence_window(c, sel, effect, day, window_days)
    half = 1.96 * float(np.sqrt(p * (1 - p) / max(n, 1)))  # patients are the sampling unit
    return Measured(100 * p, (100 * (p - half), 100 * (p + half)), n, f"±{window_days} days")


@metric("visit_prevalence")
def _m_visit_prevalence(
    ctx: MetricContext, *, effect: str, day: int, arm: str | None = None, recall_days: int = 28
) -> Measured:
    """Share of the patients seen at the visit on treatment day ``day`` (still in the study)
    who reported ``effect`` at least once in the ``recall_days`` before it: what a follow-up
    visit's side-effect table counts."""
    c = ctx.data
    sel = c.arm_mask(arm) if arm else np.ones(c.arm.shape[0], dtype=bool)
    j = channel(effect)
    t = c.base + day
    if not c.base + recall_days <= t < c["nrs"].shape[1]:
        raise ValueError(f"visit day {day} needs {recall_days} recall days inside the treatment")
    w = slice(t - recall_days, t)
    seen = c.in_study(sel)[:, t]
    ae = np.asarray(c["ae_reported"][sel, w, j], dtype=bool)[seen]
    return _share(int(ae.any(axis=1).sum()), int(seen.sum()), f"{recall_days}-day recall")


def _period_counts(c: CohortData, arm: str, effect: str, start: int, end: int) -> tuple[int, int]:
    sel = c.arm_mask(arm)
    j = channel(effect)
    w = slice(c.base + start, c.base + end)
    ae = np.asarray(c["ae_reported"][sel, w, j], dtype=bool)
    present = c.in_study(sel)[:, w]
    in_at_start = present[:, 0]
    ever = np.asarray((ae & present).any(axis=1), dtype=bool)
    return int(ever[in_at_start].sum()), int(in_at_start.sum())


@metric("period_prevalence")
def _m_period_prevalence(
    ctx: MetricContext, *, arm: str, effect: str, start_day: int, end_day: int
) -> Measured:
    """Share of patients (in the study at ``start_day``) reporting ``effect`` at least once."""
    k, n = _period_counts(ctx.data, arm, effect, start_day, end_day)
    return _share(k, n, f"days {start_day}–{end_day}")


@metric("prevalence_difference")
def _m_prevalence_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, effect: str, start_day: int, end_day: int
) -> Measured:
    """Period prevalence of ``effect`` in ``arm_a`` minus ``arm_b`` (points, Newcombe)."""
    ka, na = _period_counts(ctx.data, arm_a, effect, start_day, end_day)
    kb, nb = _period_counts(ctx.data, arm_b, effect, start_day, end_day)
    return _diff(ka, na, kb, nb, f"{arm_a} {100 * ka / na:.1f} % vs {arm_b} {100 * kb / nb:.1f} %")


def _final_current(c: CohortData, arm: str, day: int) -> FloatArray:
    sel = c.arm_mask(arm)
    still = ~_dropped(c, sel, 0, day + 1)
    return np.asarray(c["current_mA"][sel, c.base + day][still], dtype=np.float64)


@metric("final_current")
def _m_final_current(ctx: MetricContext, *, arm: str, day: int) -> Measured:
    """Mean programmed current on treatment day ``day`` of the patients still in (mA)."""
    cur = _final_current(ctx.data, arm, day)
    m, se = float(cur.mean()), float(cur.std(ddof=1) / np.sqrt(cur.size))
    q = np.percentile(cur, [10, 50, 90])
    return Measured(m, (m - 1.96 * se, m + 1.96 * se), int(cur.size),
                    f"10/50/90 %: {q[0]:.2f}/{q[1]:.2f}/{q[2]:.2f} mA")  # fmt: skip


@metric("final_current_spread")
def _m_final_current_spread(ctx: MetricContext, *, arms: list[str], day: int) -> Measured:
    """Largest minus smallest arm mean of the current on ``day`` (mA)."""
    means = {a: float(_final_current(ctx.data, a, day).mean()) for a in arms}
    spread = max(means.values()) - min(means.values())
    text = ", ".join(f"{a} {m:.2f}" for a, m in means.items())
    return Measured(spread, (spread, spread), ctx.data.arm.shape[0], text)


@metric("heart_rate_share_below")
def _m_hr_share(ctx: MetricContext, *, arm: str, limit_pct: float) -> Measured:
    """Share of stimulated patients whose HR change at their highest current is < the limit."""
    from openvns.trials.validation.mechanism import heart_rate_pct

    c = ctx.data
    sel = c.arm_mask(arm)
    top = c["current_mA"][sel].max(axis=1)
    hr = heart_rate_pct(top, c["coupling"][sel], ctx.params, ctx.recruitment)
    on = top > 0
    return _share(int((np.abs(hr[on]) < limit_pct).sum()), int(on.sum()))


def _register_mechanism() -> None:
    from openvns.trials.validation import mechanism

    METRICS.update(mechanism.METRICS)


def _register_noninvasive() -> None:
    # the modules register their metrics with @metric when imported (they import this module)
    from openvns.trials.validation import headache_metrics, noninvasive_metrics  # noqa: F401


def run_metric(name: str, ctx: MetricContext, args: dict[str, Any]) -> Measured:
    """Evaluate metric ``name`` with ``args``."""
    return METRICS[name](ctx, **args)


_register_mechanism()
_register_noninvasive()
