"""Headache attacks: a daily attack diary and the course of acutely treated attacks.

For episodic and chronic migraine and episodic and chronic cluster headache (ICHD-3), vectorised
over patients; the parameters and their sources are ``data/headache.yaml`` (registry sets
``headache/<condition>``), the derived rates :mod:`openvns.patients.attack_parameters`, the model
in ``docs/patient.md`` ("Headache and abdominal pain"). Patient ``i`` on day ``d``::

    λ_i(d) = mu · G_i · S_i(d) · B_i(d) · rate_multiplier_i(d) · (1 − E_i(d))   attacks per day
    N_i(d) = min(Poisson(λ_i(d)), max_attacks_per_day)                         attack onsets

``G_i`` is the patient's rate (gamma, mean 1, CV ``between_patient_cv``: counts over a period are
negative binomial), ``S_i`` a slow log-normal fluctuation (AR(1) of the log, started stationary, so
patients selected on a high baseline window regress to the mean), ``B_i`` 1 in a bout and 0 in
remission (episodic cluster headache: bouts of ≥ 7 days and remissions of ≥ 3 months with
geometric extra lengths), ``rate_multiplier`` the engine's prevention effect and ``E_i`` the
patient's expectation (:func:`openvns.patients.placebo.expectation_course` of the arm's multiplier,
with the patient's own expectation trait). Each attack has a peak severity on the condition's scale
(ordinal from a latent normal, part patient part attack), a duration (log-normal truncated to
ICHD-3's range, part patient part attack; in cluster headache the lowest ``abortive_share`` of the
draws are abortive attacks that stop by themselves within minutes, Russell 1981), an onset time
uniform over the day (a migraine covers every day from its onset to its end) and whether the
patient takes acute (rescue) medication for it. Migraine conditions also have headache days
without a migraine (Poisson at ``κ λ``).

An acutely treated attack (every attack from ``treat_from_day``) is rated at :data:`TIMES_MIN`
after treatment at onset: its pain ``sev · g(t) · (1 − r · h(t)) · (1 − T · h_E(t)) + noise``,
rounded to the scale, where ``g`` is the untreated course (the peak, then a linear fall to 0 over
the last ``decline_fraction`` of the attack's duration), ``r`` the engine's ``acute_relief`` that
day (the stimulation's, with ``h(t) = 1 − exp(−t / relief_onset_min)``), ``T`` the patient's
expectation target for the day's multiplier times ``acute_expectation_multiplier``
(:func:`~openvns.patients.placebo.expectation_target`: an acute expectation acts within the
attack, it does not build over weeks) and ``h_E(t) = 1 − exp(−t / expectation_onset_min)``. A
rescuer whose pain is still ``≥ rescue_threshold`` at the first allowed rating takes rescue
medication then; later ratings are missing.

Randomness: patient ``i`` draws from ``rng_for(root_seed, "attacks", condition, i)`` (constants,
then a fixed block of normals per day and per attack slot, in day order, so an attack slot keeps
its severity and duration whatever the treatment and a patient's first days do not depend on how
many days are run) and, for the rating noise of treated attacks, from ``rng_for(root_seed,
"attacks-acute", condition, i)``: a patient's diary does not depend on who else is simulated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray
from scipy.special import expit, gammaincinv, logit, ndtr, ndtri  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.patients.attack_parameters import (
    DAY_MIN,
    AttackParameters,
    derived_rates,
    load_attack_parameters,
)
from openvns.patients.cohort import Cohort
from openvns.patients.conditions import load_diary_parameters
from openvns.patients.filters import first_order
from openvns.patients.placebo import expectation_course, expectation_target
from openvns.random import rng_for, rngs_for

__all__ = ["TIMES_MIN", "AttackDiary", "TreatedAttacks", "simulate_attacks"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Int8Array = NDArray[np.int8]
IntArray = NDArray[np.int64]

#: Minutes after treating an attack at which its pain is rated.
TIMES_MIN = (0, 15, 30, 60, 120)
_TIMES = np.asarray(TIMES_MIN, dtype=np.float64)
#: Days of normals drawn per patient at a time (values of one long draw, memory bounded).
_BLOCK_D = 64
_N_CONST = 7  # rate, fluctuation start, severity, duration, rescue, bout state, bout elapsed
_N_DAY = 5  # onset count, fluctuation innovation, extra headache, missing entry, bout change
_N_SLOT = 4  # severity, duration, onset time, rescue
_MAX_SPAN_D = 4  # a migraine (≤ 72 h from an onset inside a day) touches at most 4 days


@dataclass(frozen=True)
class AttackDiary:
    """A headache diary, arrays ``(patients, days)``; values are filled on missing days too.

    Attributes
    ----------
    attacks
        Attack onsets that day (0, 1, 2, …).
    headache_day
        Any headache that day (a migraine, an attack, or a headache without a migraine).
    migraine_day
        A day with a migraine (migraine conditions); for cluster headache an attack day.
    peak_severity
        Worst severity of the attacks present that day on the condition's scale, −1 = none.
    duration_min
        Mean (untreated) duration of the attacks that started that day (minutes), NaN = none.
    rescue
        Acute rescue medication taken that day.
    observed
        Whether the diary entry exists (missing days are False).
    scale_max
        3 (migraine, 0–3) or 4 (cluster headache, 0–4).
    """

    attacks: Int8Array
    headache_day: BoolArray
    migraine_day: BoolArray
    peak_severity: Int8Array
    duration_min: FloatArray
    rescue: BoolArray
    observed: BoolArray
    scale_max: int


@dataclass(frozen=True)
class TreatedAttacks:
    """Acutely treated attacks, arrays ``(patients, K)``, ``K`` the most any patient treated.

    Attributes
    ----------
    day
        Day of the attack (in order per patient), −1 = no attack in this slot.
    pain
        ``(patients, K, len(TIMES_MIN))`` pain on the condition's scale at :data:`TIMES_MIN`
        after treatment (at onset), −1 = missing (after rescue, an empty slot, a missing diary
        day).
    rescue_min
        Minutes after treatment when rescue medication was taken, NaN = none (or a missing day).
    scale_max
        3 or 4, as the diary.
    """

    day: IntArray
    pain: Int8Array
    rescue_min: FloatArray
    scale_max: int


def _array(
    name: str, value: npt.ArrayLike, n: int, days: int, hi: float | None = None
) -> FloatArray:
    """``value`` as a finite ``(n, days)`` float array in ``[0, hi]`` (errors name ``name``)."""
    shape = f"a scalar or an array broadcastable to (patients = {n}, days = {days})"
    try:
        x = np.broadcast_to(np.asarray(value, dtype=np.float64), (n, days))
    except (ValueError, TypeError):
        raise ValidationError(name, np.shape(value), shape) from None
    bound = "finite values ≥ 0" + ("" if hi is None else f" and ≤ {hi}")
    if not np.all(np.isfinite(x)) or (x.size and x.min() < 0):
        raise ValidationError(name, float(np.nanmin(x)) if x.size else x, bound)
    if hi is not None and x.size and x.max() > hi:
        raise ValidationError(name, float(x.max()), bound)
    return np.asarray(x, dtype=np.float64)


def _treat_from(value: int | npt.ArrayLike | None, n: int, days: int) -> IntArray:
    """First day of acute treatment per patient (``days``: never)."""
    if value is None:
        return np.full(n, days, dtype=np.int64)
    x = np.asarray(value)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.integer) or np.any(x < 0):
        raise ValidationError("treat_from_day", value, "a day ≥ 0, or one per patient")
    try:
        return np.broadcast_to(x.astype(np.int64), (n,)).copy()
    except ValueError:
        raise ValidationError("treat_from_day", x.shape, f"a day or ({n},) days") from None


def _poisson_capped(u: FloatArray, lam: FloatArray, cap: int) -> Int8Array:
    """``min(F⁻¹(u), cap)`` for Poisson CDFs ``F`` of rates ``lam`` (monotone in ``lam``)."""
    count = np.zeros(u.shape, dtype=np.int8)
    pk = np.exp(-lam)
    cdf = pk.copy()
    for k in range(cap):
        count += u > cdf  # N > k  ⇔  u > F(k)
        if k + 1 < cap:
            pk = pk * lam / (k + 1)
            cdf = cdf + pk
    return count


def _durations(
    p: AttackParameters, log_median: float, lo: float, hi: float, u: FloatArray
) -> FloatArray:
    """Untreated attack durations (minutes) from their draws ``u`` (uniform on ``(0, 1)``).

    The lowest ``abortive_share`` of the draws are abortive attacks, spread evenly from
    ``abortive_lower_min`` to ``duration_lower_min``; the others map onto the log-normal truncated
    to ``[duration_lower_min, duration_upper_min]``. An attack keeps its draw whatever the share.
    """
    s = p.abortive_share
    v = lo + (hi - lo) * np.clip((u - s) / (1.0 - s), 0.0, 1.0)
    dur = np.exp(log_median + p.duration_omega * ndtri(v))
    if s > 0 and p.abortive_lower_min is not None:
        short = p.abortive_lower_min + (p.duration_lower_min - p.abortive_lower_min) * u / s
        dur = np.where(u < s, short, dur)
    return np.asarray(dur, dtype=np.float64)


def _patients(cohort: Cohort, root_seed: int) -> tuple[list[np.random.Generator], FloatArray]:
    gens = rngs_for(root_seed, ("attacks", cohort.condition.name), cohort.indices)
    const = np.empty((cohort.n, _N_CONST))
    for row, g in enumerate(gens):
        const[row] = g.standard_normal(_N_CONST)
    return gens, const


class _Bouts:
    """Bout/remission state of episodic cluster headache, stepped day by day."""

    def __init__(self, p: AttackParameters, const: FloatArray) -> None:
        assert p.bout_lower_d is not None
        assert p.bout_mean_extra_d is not None
        assert p.remission_lower_d is not None
        assert p.remission_mean_extra_d is not None
        assert p.in_bout_at_start is not None
        self.lower = (p.bout_lower_d, p.remission_lower_d)
        # a day ends the state (once past its minimum) when z < Φ⁻¹(1 − e^(−1/mean extra))
        self.z_end = ndtri(-np.expm1(-1.0 / p.bout_mean_extra_d))
        self.z_start = ndtri(-np.expm1(-1.0 / p.remission_mean_extra_d))
        self.in_bout = ndtr(const[:, 5]) < p.in_bout_at_start
        elapsed = ndtr(const[:, 6]) * (p.remission_lower_d + p.remission_mean_extra_d)
        self.t = np.where(self.in_bout, p.bout_lower_d, elapsed)  # days in the current state

    def step(self, z: FloatArray) -> BoolArray:
        """The state of a block's days (``z``: ``(n, days)`` normals) and the state after it."""
        out = np.empty(z.shape, dtype=bool)
        for d in range(z.shape[1]):
            out[:, d] = self.in_bout
            self.t = self.t + 1.0
            ends = np.where(
                self.in_bout,
                (self.t >= self.lower[0]) & (z[:, d] < self.z_end),
                (self.t >= self.lower[1]) & (z[:, d] < self.z_start),
            )
            self.in_bout = self.in_bout ^ ends
            self.t = np.where(ends, 0.0, self.t)
        return out


def simulate_attacks(
    cohort: Cohort,
    days: int,
    root_seed: int,
    *,
    rate_multiplier: npt.ArrayLike,
    expectation: npt.ArrayLike,
    acute_relief: npt.ArrayLike | None = None,
    treat_from_day: int | npt.ArrayLike | None = None,
    treat_days: npt.ArrayLike | None = None,
    missing_rate: float | None = None,
    params: AttackParameters | None = None,
) -> tuple[AttackDiary, TreatedAttacks]:
    """Simulate ``days`` of headache diary (and the acutely treated attacks) for ``cohort``.

    Parameters
    ----------
    cohort
        Patients of a headache condition (``episodic_migraine``, ``chronic_migraine``,
        ``episodic_cluster``, ``chronic_cluster``); their expectation trait is used.
    days
        Number of days (day 0 is the first).
    root_seed
        Root seed; patient ``i`` uses ``rng_for(root_seed, "attacks", condition, i)``.
    rate_multiplier
        ``(patients, days)`` (or broadcastable) ≥ 0: the prevention effect on the attack rate
        (1 = no change), from the physiology's modulation of pain.
    expectation
        ``(patients, days)`` ≥ 0: the arm's placebo multiplier per day, as the pain diary takes
        it (0 none, 1 a pill, ``sham_device_placebo_multiplier`` a device).
    acute_relief
        ``(patients, days)`` in ``[0, 1]``: the relief fraction the stimulation at an attack's
        onset gives that day (default 0: a sham or no device effect).
    treat_from_day
        Every attack from this day on (one day, or one per patient) is treated acutely; None:
        no acute treatment (no treated attacks).
    treat_days
        ``(patients, days)`` booleans: the attacks of exactly these days are treated (instead
        of ``treat_from_day``; e.g. a course with acute use that ends, or a dropout).
    missing_rate
        Fraction of diary days missing completely at random (default: the ``diary`` section's).
    params
        Attack parameters (default: the shipped set of the cohort's condition).

    Returns
    -------
    (AttackDiary, TreatedAttacks)
    """
    name = cohort.condition.name
    p = load_attack_parameters(name) if params is None else params
    if p.condition != name:
        raise ValidationError("params", p.condition, f"the attack parameters of {name!r}")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise ValidationError("days", days, "a whole number ≥ 1")
    days = int(days)
    rate = load_diary_parameters().missing_rate if missing_rate is None else missing_rate
    if not 0.0 <= rate < 1.0:
        raise ValidationError("missing_rate", rate, "a fraction in [0, 1)")
    n, c, r = cohort.n, cohort.condition, derived_rates(p)
    drive = _array("rate_multiplier", rate_multiplier, n, days)
    m = _array("expectation", expectation, n, days)
    relief = np.zeros((n, days)) if acute_relief is None else _array(
        "acute_relief", acute_relief, n, days, hi=1.0)  # fmt: skip
    start = _treat_from(treat_from_day, n, days)
    if treat_days is not None:
        if treat_from_day is not None:
            raise ValidationError("treat_days", "given", "either treat_days or treat_from_day")
        mask = np.asarray(treat_days)
        if mask.dtype != np.bool_ or mask.shape != (n, days):
            raise ValidationError(
                "treat_days", mask.shape, f"booleans of shape (patients = {n}, days = {days})"
            )
    else:
        mask = np.arange(days)[None, :] >= start[:, None]

    e = cohort.traits["placebo_fraction"]
    E = expectation_course(
        e, m.T, c.t_half_placebo_d, persistent=c.placebo_persistent_fraction,
        waning_half_life_d=c.placebo_waning_half_life_d, maximum=c.placebo_fraction_max,
        minimum=c.placebo_fraction_min,
    ).T  # fmt: skip
    drive = drive * (1.0 - E)
    T_acute = expectation_target(e[:, None], p.acute_expectation_multiplier * m,
                                 c.placebo_fraction_max, c.placebo_fraction_min)  # fmt: skip

    gens, const = _patients(cohort, root_seed)
    cv = p.between_patient_cv
    G = gammaincinv(1.0 / cv**2, ndtr(const[:, 0])) * cv**2 if cv > 0 else np.ones(n)
    x = const[:, 1]  # stationary start of the log-rate fluctuation (in SDs)
    rho = np.exp(-1.0 / p.fluctuation_tau_d)
    bouts = _Bouts(p, const) if p.episodic_bouts else None
    z_rescue = ndtri(expit(logit(p.rescue_probability) + p.rescue_omega * const[:, 4]))
    z_missing = ndtri(rate) if rate > 0 else -np.inf
    cuts = ndtri(np.cumsum(p.severity_probabilities)[:-1])
    a_sev, b_sev = np.sqrt(p.severity_icc), np.sqrt(1.0 - p.severity_icc)
    a_dur, b_dur = np.sqrt(p.duration_icc), np.sqrt(1.0 - p.duration_icc)
    lo = ndtr((np.log(p.duration_lower_min) - r.log_duration_median_min) / p.duration_omega)
    hi = ndtr((np.log(p.duration_upper_min) - r.log_duration_median_min) / p.duration_omega)
    migraine = p.kind == "migraine"
    slots = p.max_attacks_per_day
    per_slot = _N_SLOT if migraine else _N_SLOT - 1  # a cluster attack needs no onset time
    # a migraine that started up to 3 days before day 0 may still be present on day 0: run-in
    burn = _MAX_SPAN_D - 1 if migraine else 0
    total_d = days + burn
    drive = np.concatenate([np.repeat(drive[:, :1], burn, axis=1), drive], axis=1)
    pad = _MAX_SPAN_D if migraine else 1

    attacks = np.zeros((n, total_d), dtype=np.int8)
    present_day = np.zeros((n, total_d + pad), dtype=bool)
    peak = np.full((n, total_d + pad), -1, dtype=np.int8)
    duration = np.full((n, total_d), np.nan)
    rescue = np.zeros((n, total_d), dtype=bool)
    extra = np.zeros((n, total_d), dtype=bool)
    observed = np.ones((n, total_d), dtype=bool)
    acute = _Acute(p, cohort, root_seed, relief, T_acute, burn)
    treat_mask = np.zeros((n, total_d), dtype=bool)  # on the run's day axis (run-in included)
    treat_mask[:, burn:] = mask

    for b0 in range(0, total_d, _BLOCK_D):
        b1 = min(total_d, b0 + _BLOCK_D)
        nb = b1 - b0
        blk = np.empty((n, nb, _N_DAY + slots * per_slot))
        for row, g in enumerate(gens):
            g.standard_normal(out=blk[row])
        xs, _ = first_order(np.sqrt(1.0 - rho**2), -rho, blk[:, :, 1], (rho * x)[:, None])
        x = xs[:, -1]
        lam = (
            r.mean_rate_per_d
            * G[:, None]
            * np.exp(p.fluctuation_sd * xs - 0.5 * p.fluctuation_sd**2)
            * drive[:, b0:b1]
        )
        if bouts is not None:
            lam = lam * bouts.step(blk[:, :, 4])
        count = _poisson_capped(ndtr(blk[:, :, 0]), lam, slots)
        attacks[:, b0:b1] = count
        observed[:, b0:b1] = blk[:, :, 3] >= z_missing
        if r.extra_per_attack > 0:
            extra[:, b0:b1] = ndtr(blk[:, :, 2]) < -np.expm1(-r.extra_per_attack * lam)

        # the attacks: slot j of a day is used when j < that day's count (patient, day, slot order)
        who, d, j = np.nonzero(np.arange(slots) < count[..., None])
        cell = who * nb + d  # the attack's (patient, block day), increasing
        base = cell * blk.shape[2] + _N_DAY + j * per_slot
        flat_blk = blk.reshape(-1)
        sev = np.ones(who.size, dtype=np.int8)
        latent = a_sev * const[who, 2] + b_sev * flat_blk[base]
        for cut in cuts:
            sev += latent > cut
        dur = _durations(p, r.log_duration_median_min, lo, hi,
                         ndtr(a_dur * const[who, 3] + b_dur * flat_blk[base + 1]))  # fmt: skip
        rescuer = flat_blk[base + per_slot - 1] < z_rescue[who]
        day = b0 + d
        treated = treat_mask[who, day]

        flat = (slice(None), slice(b0, b1))
        sums = np.asarray(np.bincount(cell, dur, n * nb), dtype=np.float64)
        duration[flat] = _per_day(sums, count, n, nb)
        took = np.zeros(n * nb, dtype=bool)
        took[cell[~treated & rescuer]] = True
        if treated.any():
            took[cell[treated]] |= acute.rate(who[treated], day[treated], sev[treated],
                                              dur[treated], rescuer[treated], observed)  # fmt: skip
        rescue[flat] = took.reshape(n, nb)
        if migraine:  # an attack touches its onset day and the next ⌊u + D / 1 d⌋ days
            span = np.floor(ndtr(flat_blk[base + 2]) + dur / DAY_MIN)
            width = total_d + pad
            for k in range(_MAX_SPAN_D):
                on = span >= k
                at = who[on] * width + day[on] + k
                present_day.ravel()[at] = True
                np.maximum.at(peak.ravel(), at, sev[on])
        elif who.size:
            present_day[flat] = count > 0
            firsts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
            worst = np.full(n * nb, -1, dtype=np.int8)
            worst[cell[firsts]] = np.maximum.reduceat(sev, firsts)
            peak[flat] = worst.reshape(n, nb)

    keep = (slice(None), slice(burn, total_d))
    attack_day = present_day[keep]
    diary = AttackDiary(
        attacks=np.ascontiguousarray(attacks[keep]),
        headache_day=attack_day | extra[keep],
        migraine_day=np.ascontiguousarray(attack_day),
        peak_severity=np.ascontiguousarray(peak[keep]),
        duration_min=np.ascontiguousarray(duration[keep]),
        rescue=np.ascontiguousarray(rescue[keep]),
        observed=np.ascontiguousarray(observed[keep]),
        scale_max=p.scale_max,
    )
    return diary, acute.result(n)


def _per_day(total: FloatArray, count: Int8Array, n: int, nb: int) -> FloatArray:
    """Mean per (patient, day) of a per-attack quantity summed per cell; NaN without attacks."""
    c = count.reshape(-1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, total / c, np.nan).reshape(n, nb)


class _Acute:
    """The course of acutely treated attacks, gathered block by block in day order."""

    def __init__(
        self,
        p: AttackParameters,
        cohort: Cohort,
        root_seed: int,
        relief: FloatArray,
        target: FloatArray,
        burn: int,
    ) -> None:
        self.p = p
        self.cohort = cohort
        self.root_seed = root_seed
        self.relief = relief
        self.target = target
        self.burn = burn
        self.gens: dict[int, np.random.Generator] = {}
        self.parts: list[tuple[IntArray, IntArray, Int8Array, FloatArray]] = []
        self.h = -np.expm1(-_TIMES[1:] / p.relief_onset_min)
        self.h_expect = -np.expm1(-_TIMES[1:] / p.expectation_onset_min)
        self.allowed = p.rescue_allowed_min <= _TIMES

    def _noise(self, who: IntArray) -> FloatArray:
        """Rating normals ``(len(who), 4)``, each patient's from its own stream, in order."""
        out = np.empty((who.size, _TIMES.size - 1))
        rows, first = np.unique(who, return_index=True)
        ends = np.append(first[1:], who.size)
        for row, a, b in zip(rows, first, ends, strict=True):
            g = self.gens.get(int(row))
            if g is None:
                index = int(self.cohort.indices[row])
                g = rng_for(self.root_seed, "attacks-acute", self.cohort.condition.name, index)
                self.gens[int(row)] = g
            out[a:b] = g.standard_normal((b - a, _TIMES.size - 1))
        return out

    def rate(
        self,
        who: IntArray,
        day: IntArray,
        sev: Int8Array,
        dur: FloatArray,
        rescuer: BoolArray,
        observed: BoolArray,
    ) -> BoolArray:
        """Rate treated attacks (in patient, day order); returns whether rescue was taken."""
        p = self.p
        t = _TIMES[1:]
        D = dur[:, None]
        g = np.clip((D - t) / (p.decline_fraction * D), 0.0, 1.0)
        relief = self.relief[who, day - self.burn][:, None]
        target = self.target[who, day - self.burn][:, None]
        latent = sev[:, None] * g * (1.0 - relief * self.h) * (1.0 - target * self.h_expect)
        rated = np.rint(latent + p.rating_sd * self._noise(who))
        pain = np.empty((who.size, _TIMES.size), dtype=np.int8)
        pain[:, 0] = sev
        pain[:, 1:] = np.clip(rated, 0, p.scale_max)
        due = self.allowed[None, :] & (pain >= p.rescue_threshold)
        took = rescuer & due.any(axis=1)
        at = np.where(took, _TIMES[np.argmax(due, axis=1)], np.nan)
        pain[_TIMES[None, :] > np.where(took, at, np.inf)[:, None]] = -1
        seen = observed[who, day]
        pain[~seen] = -1
        self.parts.append((who.astype(np.int64), (day - self.burn).astype(np.int64), pain,
                           np.where(seen, at, np.nan)))  # fmt: skip
        return np.asarray(took, dtype=bool)

    def result(self, n: int) -> TreatedAttacks:
        """The treated attacks of every patient, ``(n, K)`` in day order."""
        width = _TIMES.size
        if not self.parts:
            return TreatedAttacks(
                day=np.full((n, 0), -1, dtype=np.int64),
                pain=np.full((n, 0, width), -1, dtype=np.int8),
                rescue_min=np.full((n, 0), np.nan),
                scale_max=self.p.scale_max,
            )
        who, day, pain, at = (np.concatenate(v) for v in zip(*self.parts, strict=True))
        order = np.argsort(who, kind="stable")  # blocks were appended in day order
        who, day, pain, at = who[order], day[order], pain[order], at[order]
        counts = np.bincount(who, minlength=n)
        k = np.arange(who.size) - (np.cumsum(counts) - counts)[who]
        K = int(counts.max())
        out_day = np.full((n, K), -1, dtype=np.int64)
        out_pain = np.full((n, K, width), -1, dtype=np.int8)
        out_at = np.full((n, K), np.nan)
        out_day[who, k] = day
        out_pain[who, k] = pain
        out_at[who, k] = at
        return TreatedAttacks(day=out_day, pain=out_pain, rescue_min=out_at,
                              scale_max=self.p.scale_max)  # fmt: skip
