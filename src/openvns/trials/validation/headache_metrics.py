"""Metrics of the headache trials of the non-invasive devices (issue 11): prevention endpoints
of the attack diary and acute endpoints of the treated attacks, registered in
:data:`~openvns.trials.validation.metrics.METRICS`.

Prevention (PREVA, PREMIUM, EVENT, Straube) reads the attack diary with
:func:`openvns.analysis.headache.diary_frequency_change`: the rate of ``measure`` (attacks per
week, migraine or headache days per 28 days) over the observed days of the whole baseline and of
the last ``window_days`` before treatment day ``end_day`` (default: 14 days for attacks, as
PREVA; 28 days for days, one month as PREMIUM, EVENT and Straube; ``end_day`` the end of the
blinded phase). Eligible patients (the design's inclusion criteria) only; a patient whose window
has fewer than half its days observed (dropout) has no change and is left out of means and counted
a non-responder.

Acute (ACT1, ACT2, PRESTO) reads the attacks treated in the blinded phase through
:func:`openvns.trials.headache.acute_outcome` (``response``: ACT1's pain 0–1 on 0–4 at 15 min
without rescue before 60 min; ``pain_free``; ``pain_relief``). A trial that enrolled two
conditions (episodic and chronic cluster headache) is two cohorts; the trial's overall value is
the weighted mean of the two (``parts``: each a cohort, an arm and the trial's count of that
subgroup), with the variance of a weighted mean.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.analysis.acute import AttackOutcome, mean_pain
from openvns.analysis.headache import (
    FrequencyChange,
    Measure,
    compare_changes,
    diary_frequency_change,
)
from openvns.analysis.statistics import mean_ci, newcombe_difference, wilson_ci
from openvns.errors import ValidationError
from openvns.trials.headache import AcuteEndpoint, acute_outcome
from openvns.trials.validation.cohorts import CohortData
from openvns.trials.validation.metrics import MetricContext, metric
from openvns.trials.validation.stats import Measured

__all__ = ["frequency_change", "outcome_of"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_DIARY = ("attacks", "headache_day", "migraine_day", "peak_severity", "duration_min", "rescue",
          "observed")  # fmt: skip


def _patients(
    c: CohortData, arm: str, *, adherent_at: float | None = None, completers: bool = False,
    end: int | None = None,
) -> BoolArray:  # fmt: skip
    """Eligible patients of ``arm``; optionally those whose adherence is ≥ ``adherent_at`` and
    those still in the study on diary day ``end − 1``."""
    sel = c.arm_mask(arm) & np.asarray(c["eligible"], dtype=bool)
    if adherent_at is not None:
        adh = c.adherence
        if adh is None:
            raise ValidationError("adherent_at", adherent_at, "a cohort with a home-use device")
        sel &= np.asarray(adh) >= adherent_at
    if completers:
        drop = np.asarray(c["dropout_day"])
        last = (c["nrs"].shape[1] if end is None else end) - 1
        sel &= (drop < 0) | (drop >= last)
    return np.asarray(sel)


def frequency_change(
    c: CohortData, arm: str, measure: Measure, *, window_days: int | None = None,
    end_day: int | None = None, adherent_at: float | None = None, completers: bool = False,
) -> FrequencyChange:  # fmt: skip
    """``arm``'s change of ``measure`` from the baseline to the ``window_days`` before treatment
    day ``end_day`` (defaults in the module docstring)."""
    a = c.attacks
    if a is None:
        raise ValidationError("cohort", c.spec.name, "a cohort of a headache condition")
    spec = c.spec
    end = spec.blinded_days if end_day is None else int(end_day)
    w = (14 if measure == "attacks" else 28) if window_days is None else int(window_days)
    if not 1 <= w <= end <= spec.treatment_days:
        raise ValidationError(
            "window_days/end_day", (w, end), f"1 ≤ window ≤ end ≤ {spec.treatment_days}"
        )
    stop = c.base + end
    sel = _patients(c, arm, adherent_at=adherent_at, completers=completers, end=stop)
    diary = type(a)(**{k: getattr(a, k)[sel] for k in _DIARY}, scale_max=a.scale_max)
    return diary_frequency_change(diary, measure, slice(0, c.base), slice(stop - w, stop))


def _finite(x: FloatArray) -> FloatArray:
    return np.asarray(x[np.isfinite(x)], dtype=np.float64)


def _mean(x: FloatArray, detail: str) -> Measured:
    v = _finite(x)
    ci = mean_ci(v)
    return Measured(float(ci.estimate), (float(ci.lower), float(ci.upper)), int(v.size), detail)


def _window_text(ch: FrequencyChange) -> str:
    base = float(np.nanmean(ch.baseline.rate)) if ch.baseline.rate.size else math.nan
    end = float(np.nanmean(ch.endpoint.rate)) if ch.endpoint.rate.size else math.nan
    return f"baseline {base:.2f} → {end:.2f}"


@metric("frequency_change")
def _m_frequency_change(ctx: MetricContext, *, arm: str, measure: Measure, **kw: Any) -> Measured:
    """Mean change of ``measure`` (attacks/week or days/28 d; < 0 better), t interval."""
    ch = frequency_change(ctx.data, arm, measure, **kw)
    return _mean(ch.change, _window_text(ch))


@metric("frequency_change_difference")
def _m_frequency_change_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, measure: Measure, **kw: Any
) -> Measured:
    """Mean change of ``arm_a`` minus ``arm_b`` (Welch interval): PREVA's 'therapeutic gain'
    is control − active, PREMIUM's sham − active."""
    a = frequency_change(ctx.data, arm_a, measure, **kw)
    b = frequency_change(ctx.data, arm_b, measure, **kw)
    d = compare_changes(a.change, b.change, test="welch")
    ma, mb = float(np.nanmean(a.change)), float(np.nanmean(b.change))
    n = int(np.isfinite(a.change).sum() + np.isfinite(b.change).sum())
    return Measured(d.estimate, (d.lower, d.upper), n, f"{arm_a} {ma:.2f} vs {arm_b} {mb:.2f}")


@metric("frequency_responders")
def _m_frequency_responders(
    ctx: MetricContext, *, arm: str, measure: Measure, threshold_pct: float, **kw: Any
) -> Measured:
    """Share with a rate ≥ ``threshold_pct`` % below baseline (missing: non-responders)."""
    r = frequency_change(ctx.data, arm, measure, **kw).responders(threshold_pct)
    ci = wilson_ci(r.count, r.n)
    return Measured(100 * float(ci.estimate), (100 * float(ci.lower), 100 * float(ci.upper)),
                    r.n, f"{r.count}/{r.n}")  # fmt: skip


@metric("frequency_responder_difference")
def _m_frequency_responder_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, measure: Measure, threshold_pct: float,
    **kw: Any,
) -> Measured:  # fmt: skip
    """Responder share of ``arm_a`` minus ``arm_b`` (points, Newcombe interval)."""
    ra = frequency_change(ctx.data, arm_a, measure, **kw).responders(threshold_pct)
    rb = frequency_change(ctx.data, arm_b, measure, **kw).responders(threshold_pct)
    d = newcombe_difference(ra.count, ra.n, rb.count, rb.n)
    return Measured(100 * d.estimate, (100 * d.lower, 100 * d.upper), ra.n + rb.n,
                    f"{arm_a} {100 * ra.count / max(ra.n, 1):.1f} % vs "
                    f"{arm_b} {100 * rb.count / max(rb.n, 1):.1f} %")  # fmt: skip


@metric("baseline_frequency")
def _m_baseline_frequency(
    ctx: MetricContext, *, measure: Measure, arm: str | None = None
) -> Measured:
    """Mean baseline rate of ``measure`` of the eligible patients (of ``arm``, or all)."""
    c = ctx.data
    arms = [arm] if arm else [a.name for a in c.spec.arms]
    rates = np.concatenate([frequency_change(c, a, measure).baseline.rate for a in arms])
    v = _finite(rates)
    return _mean(rates, f"SD {float(v.std(ddof=1)):.1f}" if v.size > 1 else "")


@metric("adherent_share")
def _m_adherent_share(ctx: MetricContext, *, arm: str, threshold: float) -> Measured:
    """Share of the arm's eligible patients taking ≥ ``threshold`` of the prescribed doses."""
    c = ctx.data
    adh = c.adherence
    if adh is None:
        raise ValidationError("cohort", c.spec.name, "a cohort with a home-use device")
    sel = c.arm_mask(arm) & np.asarray(c["eligible"], dtype=bool)
    x = np.asarray(adh)[sel]
    k, n = int((x >= threshold).sum()), int(x.size)
    ci = wilson_ci(k, n)
    return Measured(100 * float(ci.estimate), (100 * float(ci.lower), 100 * float(ci.upper)), n,
                    f"mean adherence {float(x.mean()):.2f}")  # fmt: skip


# --- acute treatment ---------------------------------------------------------------------------
Part = tuple[CohortData, str, float]


def outcome_of(
    c: CohortData, arm: str, endpoint: AcuteEndpoint, at_min: int | None = None
) -> AttackOutcome:
    """The blinded phase's treated attacks of ``arm`` judged by ``endpoint``."""
    return acute_outcome(c.trial(), arm, endpoint, at_min=at_min)


def _parts(ctx: MetricContext, arm: str | None, parts: list[dict[str, Any]] | None) -> list[Part]:
    if (arm is None) == (parts is None):
        raise ValidationError("arm/parts", (arm, parts), "either an arm or a list of parts")
    if arm is not None:
        return [(ctx.data, arm, 1.0)]
    assert parts is not None
    out = []
    for i, p in enumerate(parts):
        if set(p) != {"cohort", "arm", "weight"} or not float(p["weight"]) > 0:
            raise ValidationError(f"parts[{i}]", p, "{cohort, arm, weight > 0}")
        out.append((ctx.runner(str(p["cohort"])), str(p["arm"]), float(p["weight"])))
    return out


def _pooled(values: list[tuple[float, float, int, float]], detail: str) -> Measured:
    """Weighted mean (%) of ``(estimate, standard error, n, weight)`` with the variance of a
    weighted mean of independent estimates; a single part keeps its own interval."""
    w = np.array([v[3] for v in values])
    w = w / w.sum()
    est = float(sum(wi * v[0] for wi, v in zip(w, values, strict=True)))
    se = float(math.sqrt(sum((wi * v[1]) ** 2 for wi, v in zip(w, values, strict=True))))
    n = sum(v[2] for v in values)
    return Measured(100 * est, (100 * (est - 1.96 * se), 100 * (est + 1.96 * se)), n, detail)


@metric("first_attack_share")
def _m_first_attack_share(
    ctx: MetricContext, *, endpoint: AcuteEndpoint, at_min: int | None = None,
    arm: str | None = None, parts: list[dict[str, Any]] | None = None,
) -> Measured:  # fmt: skip
    """Share of patients whose first treated attack met ``endpoint`` (%; Wilson interval for
    one arm, the weighted mean of ``parts`` otherwise)."""
    vals, texts = [], []
    for c, a, wt in _parts(ctx, arm, parts):
        r = outcome_of(c, a, endpoint, at_min).first_attack()
        p = r.count / max(r.n, 1)
        vals.append((p, math.sqrt(p * (1 - p) / max(r.n, 1)), r.n, wt))
        texts.append(f"{c.spec.name}/{a} {r.count}/{r.n}")
        if arm is not None:
            ci = r.proportion()
            lo, hi = 100 * float(ci.lower), 100 * float(ci.upper)
            return Measured(100 * float(ci.estimate), (lo, hi), r.n, texts[0])
    return _pooled(vals, "; ".join(texts))


@metric("attack_share")
def _m_attack_share(
    ctx: MetricContext, *, endpoint: AcuteEndpoint, at_min: int | None = None,
    arm: str | None = None, parts: list[dict[str, Any]] | None = None,
) -> Measured:  # fmt: skip
    """Mean over patients of the share of their treated attacks that met ``endpoint`` (%; t
    interval, or the weighted mean of ``parts``)."""
    vals, texts = [], []
    for c, a, wt in _parts(ctx, arm, parts):
        iv = outcome_of(c, a, endpoint, at_min).per_patient().mean()
        est, half = float(iv.estimate), float(iv.upper - iv.estimate)
        vals.append((est, half / 1.96, int(iv.n), wt))
        texts.append(f"{c.spec.name}/{a} {100 * est:.1f} % of {int(iv.n)}")
    return _pooled(vals, "; ".join(texts))


@metric("attack_consistency_difference")
def _m_attack_consistency_difference(
    ctx: MetricContext, *, arm_a: str, arm_b: str, endpoint: AcuteEndpoint,
    at_min: int | None = None, share: float = 0.5,
) -> Measured:  # fmt: skip
    """Share of patients whose treated attacks met ``endpoint`` in ≥ ``share`` of them,
    ``arm_a`` minus ``arm_b`` (points, Newcombe): ACT1/ACT2's 'in ≥ 50 % of attacks'."""
    counts = []
    for a in (arm_a, arm_b):
        pp = outcome_of(ctx.data, a, endpoint, at_min).per_patient()
        ok = np.isfinite(pp.proportion)
        counts.append((int((pp.proportion[ok] >= share).sum()), int(ok.sum())))
    (ka, na), (kb, nb) = counts
    d = newcombe_difference(ka, na, kb, nb)
    return Measured(100 * d.estimate, (100 * d.lower, 100 * d.upper), na + nb,
                    f"{arm_a} {ka}/{na} vs {arm_b} {kb}/{nb}")  # fmt: skip


@metric("attack_mean_pain")
def _m_attack_mean_pain(ctx: MetricContext, *, arm: str, at_min: int) -> Measured:
    """Mean over patients of their mean pain at ``at_min`` over the treated attacks of the
    blinded phase rated then (ACT1's mean pain at 15 min, 0–4)."""
    c = ctx.data
    t = c.trial()
    treated = t.treated
    if treated is None:
        raise ValidationError("cohort", c.spec.name, "a cohort of a headache condition")
    sel = (t.arm == t.arm_names.index(arm)) & t.eligible
    d = c.spec
    day = treated.day[sel]
    blinded = (day >= d.baseline_days) & (day < d.baseline_days + d.blinded_days)
    sub = type(treated)(day=np.where(blinded, day, -1),
                        pain=np.where(blinded[..., None], treated.pain[sel], -1).astype(np.int8),
                        rescue_min=np.where(blinded, treated.rescue_min[sel], np.nan),
                        scale_max=treated.scale_max)  # fmt: skip
    return _mean(mean_pain(sub, at_min), f"0–{treated.scale_max} scale")
