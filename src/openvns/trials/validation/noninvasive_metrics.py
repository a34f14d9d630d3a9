"""Metrics of the non-invasive trials outside the headache diary (issue 11), registered in
:data:`~openvns.trials.validation.metrics.METRICS`: adverse events counted over several
side-effect channels (a trial's "adverse device effects", "any adverse event"), the
standardised mean difference of a pain trial (Costa 2024's Cohen's d), and the worst-pain
endpoints of Kovacic 2017 (:func:`openvns.patients.worst_pain.worst_pain`).

Adverse events: a patient counts when any of ``effects`` (names of
:data:`openvns.physiology.side_effects.SIDE_EFFECTS`; ``"all"`` for every channel) was reported
at least once between treatment days ``start_day`` and ``end_day`` while in the study, among the
arm's patients in the study on ``start_day`` (the safety population).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import ChangeFromBaseline, change_from_baseline, responders
from openvns.analysis.statistics import newcombe_difference, wilson_ci
from openvns.random import rng_for
from openvns.trials.validation.cohorts import CohortData
from openvns.trials.validation.metrics import MetricContext, channel, metric
from openvns.trials.validation.stats import Measured

__all__ = ["effect_counts", "standardised_difference"]

FloatArray = npt.NDArray[np.float64]
#: Bootstrap resamples of a difference of medians.
BOOTSTRAP = 400


def _channels(effects: list[str] | str) -> list[int]:
    from openvns.physiology import side_effects

    names = list(side_effects.SIDE_EFFECTS) if effects == "all" else list(effects)
    return [channel(e) for e in names]


def effect_counts(
    c: CohortData, arm: str, effects: list[str] | str, start: int, end: int
) -> tuple[int, int]:
    """``(patients reporting any of effects, patients in the study on start)`` in ``arm``."""
    sel = c.arm_mask(arm)
    w = slice(c.base + start, c.base + end)
    ae = np.asarray(c["ae_reported"][sel, w][..., _channels(effects)], dtype=bool).any(axis=-1)
    present = c.in_study(sel)[:, w]
    at_start = np.asarray(present[:, 0], dtype=bool)
    ever = np.asarray((ae & present).any(axis=1), dtype=bool)
    return int(ever[at_start].sum()), int(at_start.sum())


@metric("effect_prevalence")
def _m_effect_prevalence(
    ctx: MetricContext, *, arm: str, effects: list[str] | str, start_day: int, end_day: int
) -> Measured:
    """Share of the arm's patients reporting any of ``effects`` at least once (Wilson)."""
    k, n = effect_counts(ctx.data, arm, effects, start_day, end_day)
    ci = wilson_ci(k, n)
    return Measured(100 * float(ci.estimate), (100 * float(ci.lower), 100 * float(ci.upper)), n,
                    f"{k}/{n}, days {start_day}–{end_day}")  # fmt: skip


@metric("effect_prevalence_difference")
def _m_effect_prevalence_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, effects: list[str] | str, start_day: int,
    end_day: int,
) -> Measured:  # fmt: skip
    """Share reporting any of ``effects``, ``arm_a`` minus ``arm_b`` (points, Newcombe)."""
    ka, na = effect_counts(ctx.data, arm_a, effects, start_day, end_day)
    kb, nb = effect_counts(ctx.data, arm_b, effects, start_day, end_day)
    d = newcombe_difference(ka, na, kb, nb)
    return Measured(100 * d.estimate, (100 * d.lower, 100 * d.upper), na + nb,
                    f"{arm_a} {100 * ka / max(na, 1):.1f} % vs {arm_b} "
                    f"{100 * kb / max(nb, 1):.1f} %")  # fmt: skip


def _improvement(c: CohortData, arm: str, start: int, end: int) -> FloatArray:
    """Baseline mean NRS minus the window's (> 0 better), eligible patients with both."""
    sel = c.arm_mask(arm) & np.asarray(c["eligible"], dtype=bool)
    ch = change_from_baseline(
        np.asarray(c["nrs"][sel], dtype=np.float64), c["observed"][sel], slice(0, c.base),
        slice(c.base + start, c.base + end),
    )  # fmt: skip
    x = -np.asarray(ch.change_NRS, dtype=np.float64)
    return np.asarray(x[np.isfinite(x)], dtype=np.float64)


def standardised_difference(a: FloatArray, b: FloatArray) -> tuple[float, float]:
    """Cohen's d of ``a`` − ``b`` (pooled SD) and its large-sample standard error."""
    na, nb = a.size, b.size
    pooled = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    d = float((a.mean() - b.mean()) / pooled)
    se = math.sqrt((na + nb) / (na * nb) + d * d / (2.0 * (na + nb)))
    return d, se


@metric("standardised_difference")
def _m_standardised_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, start_day: int, end_day: int
) -> Measured:
    """Cohen's d of the NRS improvement (baseline − window mean), ``arm_a`` − ``arm_b``, over
    the pooled SD of the improvement (> 0: ``arm_a`` better)."""
    a = _improvement(ctx.data, arm_a, start_day, end_day)
    b = _improvement(ctx.data, arm_b, start_day, end_day)
    d, se = standardised_difference(a, b)
    return Measured(d, (d - 1.96 * se, d + 1.96 * se), int(a.size + b.size),
                    f"improvement {a.mean():.2f} vs {b.mean():.2f} NRS")  # fmt: skip


# --- worst pain (Kovacic 2017) -----------------------------------------------------------------
def _worst(ctx: MetricContext, arm: str, start: int, end: int) -> ChangeFromBaseline:
    """Per eligible patient of ``arm``: mean worst pain over the baseline and over treatment
    days ``start``–``end`` and its change (NaN with fewer than half a window observed)."""
    c = ctx.data
    w = ctx.runner.worst_pain(c.spec.name)
    sel = c.arm_mask(arm) & np.asarray(c["eligible"], dtype=bool)
    return change_from_baseline(
        np.asarray(w.nrs.T[sel], dtype=np.float64), w.observed.T[sel], slice(0, c.base),
        slice(c.base + start, c.base + end),
    )  # fmt: skip


def _window(ctx: MetricContext, arm: str, start: int, end: int) -> FloatArray:
    x = np.asarray(_worst(ctx, arm, start, end).endpoint_NRS, dtype=np.float64)
    return np.asarray(x[np.isfinite(x)], dtype=np.float64)


def _bootstrap_median_difference(
    a: FloatArray, b: FloatArray, key: str, root_seed: int
) -> tuple[float, float]:
    rng = rng_for(root_seed, "validation-bootstrap", key)
    da = np.median(rng.choice(a, (BOOTSTRAP, a.size)), axis=1)
    db = np.median(rng.choice(b, (BOOTSTRAP, b.size)), axis=1)
    lo, hi = np.percentile(da - db, [2.5, 97.5])
    return float(lo), float(hi)


@metric("worst_pain_median")
def _m_worst_pain_median(ctx: MetricContext, *, arm: str, start_day: int, end_day: int) -> Measured:
    """Median over the arm's patients of their mean worst pain over the window (NRS)."""
    w = _window(ctx, arm, start_day, end_day)
    q = np.percentile(w, [25, 50, 75])
    return Measured(float(q[1]), (float(q[0]), float(q[2])), int(w.size),
                    "median (interquartile range)")  # fmt: skip


@metric("worst_pain_median_difference")
def _m_worst_pain_median_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, start_day: int, end_day: int
) -> Measured:
    """Median worst pain over the window, ``arm_a`` minus ``arm_b`` (NRS; bootstrap interval)."""
    a = _window(ctx, arm_a, start_day, end_day)
    b = _window(ctx, arm_b, start_day, end_day)
    d = float(np.median(a) - np.median(b))
    ci = _bootstrap_median_difference(a, b, ctx.data.spec.name, ctx.data.root_seed)
    return Measured(d, ci, int(a.size + b.size),
                    f"{arm_a} {np.median(a):.2f} vs {arm_b} {np.median(b):.2f}")  # fmt: skip


@metric("worst_pain_responder_difference")
def _m_worst_pain_responder_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, threshold_pct: float, start_day: int,
    end_day: int,
) -> Measured:  # fmt: skip
    """Share with a mean worst pain ≥ ``threshold_pct`` % below baseline, ``arm_a`` minus
    ``arm_b`` (points, Newcombe; missing: non-responders)."""
    counts = []
    for arm in (arm_a, arm_b):
        pct = _worst(ctx, arm, start_day, end_day).change_pct
        r = responders(pct, threshold_pct, missing="non_responder")
        counts.append((r.count, r.n))
    (ka, na), (kb, nb) = counts
    d = newcombe_difference(ka, na, kb, nb)
    return Measured(100 * d.estimate, (100 * d.lower, 100 * d.upper), na + nb,
                    f"{arm_a} {ka}/{na} vs {arm_b} {kb}/{nb}")  # fmt: skip
