"""Daily pain diary (NRS 0–10), vectorised over patients (PGIC, BPI interference, FIQR and sleep
are outcomes of their own: :mod:`openvns.patients.outcomes`).

Reported pain on day ``d`` (reference §5.4, restated with a bounded expectation and a bounded
scale; the pieces are in :mod:`openvns.patients.placebo`)::

    L_i(d)   = U_i(d) · (P0_i + s_i(d) + F_i(d)) / P0_i                  latent pain (NRS)
    μ_i(d)   = L_i(d) · (1 − E_i(d))                                     with expectation
    y_i(d)   = 11 · expit(logit((μ_i(d) + 0.5) / 11) + η_i(d) / g) − 0.5   on (−0.5, 10.5)
    NRS_i(d) = round(y_i(d)) ∈ 0 … 10, missing with probability m_i(d)

``U`` is the model's underlying (noise- and placebo-free) pain, ``P0`` by default — e.g. the
physiology model's ``P_true_NRS``, which holds no noise and no placebo, so neither is counted
twice. ``s`` is the slow disease fluctuation (AR(1), time constant ``tau_s_d``, started from its
stationary distribution, so selecting patients on a high baseline picks high ``s`` that then
regresses to the mean); ``F`` are flares (Bernoulli onsets at ``flare_rate_per_d``, log-normal
peak, exponential decay over ``flare_duration_d``); ``E`` the expectation (placebo) fraction,
built smoothly from the first day the placebo multiplier is non-zero (two first-order stages,
half-time ``t_half_placebo_d``), bounded in ``[0, 1)`` so that expectation alone cannot take the
pain to 0; ``η`` AR(1) diary noise (``phi``, ``sigma_w_NRS``) in NRS units, put on the logit
scale of the bounded report with ``g`` the scale's slope at the population's typical baseline:
near that baseline the daily SD is ``sigma_w_NRS``, and it shrinks towards 0 and 10 (floor and
ceiling without a pile of clipped values).

Missing entries: missing completely at random with ``missing_rate``; the simple MNAR option
multiplies the odds of a missing entry by ``mnar_odds_per_NRS`` per NRS point that the day's pain
lies above the patient's baseline ``P0`` (patients skip bad days). 1 (the default) is pure MCAR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri  # type: ignore[import-untyped]

from openvns.patients.cohort import Cohort
from openvns.patients.conditions import DiaryParameters, load_diary_parameters
from openvns.patients.placebo import bounded_report, expectation_course, reference_slope
from openvns.random import kept_draws, rngs_for

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_N_DRAWS = 5  # eps_eta, eps_s, u_flare, z_flare_size, u_missing


@dataclass(frozen=True)
class Diary:
    """A simulated diary, arrays ``(days, n_patients)``.

    Attributes
    ----------
    nrs
        Reported NRS, integers 0–10 (also filled on missing days; see ``observed``).
    observed
        Whether the entry was made.
    P_true_NRS
        The report before rounding, on the bounded scale ``(−0.5, 10.5)``.
    flare_NRS
        Flare contribution (to the latent pain, before the expectation).
    expectation
        Expectation (placebo) fraction ``E`` of the latent pain removed, in ``[0, 1)``
        (empty when the diary was built without it).
    """

    nrs: NDArray[np.int8]
    observed: BoolArray
    P_true_NRS: FloatArray
    flare_NRS: FloatArray
    expectation: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))

    def nrs_or_nan(self) -> FloatArray:
        """NRS as floats with NaN where the entry is missing."""
        return np.where(self.observed, self.nrs.astype(np.float64), np.nan)

    def mean_NRS(self, days: slice) -> FloatArray:
        """Per-patient mean of the observed entries over ``days`` (NaN when none observed)."""
        block = self.nrs_or_nan()[days]
        count = np.sum(~np.isnan(block), axis=0)
        total = np.nansum(block, axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _draws(cohort: Cohort, days: int, root_seed: int) -> tuple[FloatArray, FloatArray]:
    """Per-patient streams ``rng_for(root_seed, "diary", condition, index)``: two starting
    normals, then five standard normals per day, in day order, so a patient's first days are
    the same whatever the number of days simulated. Returned per patient, ``(n, days, 5)`` in the
    column order of ``_N_DRAWS`` (a day's values are gathered from it; the block is never
    transposed). The flare-onset and missing-entry columns stand for the uniforms ``Φ(z)``: an
    event with probability ``p`` happens when ``Φ(z) < p``, i.e. ``z < Φ⁻¹(p)``, so they are
    compared with thresholds instead of being transformed."""
    n = cohort.n
    name = cohort.condition.name

    def draw() -> tuple[FloatArray, FloatArray]:
        block = np.empty((n, days, _N_DRAWS))
        start = np.empty((2, n))
        for col, rng in enumerate(rngs_for(root_seed, ("diary", name), cohort.indices)):
            start[:, col] = rng.standard_normal(2)
            block[col] = rng.standard_normal((days, _N_DRAWS))
        return block, start

    # the same patients' draws, kept for the next parameter set of an analysis (read-only)
    block, start = kept_draws(("diary", root_seed, name, days), cohort.indices, draw)
    return block, start


def simulate_diary(
    cohort: Cohort,
    days: int,
    root_seed: int,
    *,
    underlying_pain_NRS: FloatArray | None = None,
    placebo_multiplier: float | FloatArray = 1.0,
    missing_rate: float | None = None,
    mnar_odds_per_NRS: float | None = None,
    diary_params: DiaryParameters | None = None,
) -> Diary:
    """Simulate ``days`` daily diary entries for every patient of ``cohort``.

    Parameters
    ----------
    cohort
        The patients (traits ``P0_NRS``, ``sigma_w_NRS``, ``placebo_fraction`` are used).
    days
        Number of days (day 1 is the first diary day).
    root_seed
        Root seed; patient ``i`` uses ``rng_for(root_seed, "diary", condition, i)``.
    underlying_pain_NRS
        ``(days, n)`` noise- and placebo-free pain from the model; default: baseline ``P0``.
    placebo_multiplier
        Scalar, ``(n,)`` or ``(days, n)`` non-negative expectation multiplier (0: no
        expectation; 1: a pill placebo; a device, active or sham: the diary parameter
        ``sham_device_placebo_multiplier``). The target fraction is
        :func:`~openvns.patients.placebo.expectation_target` (bounded whatever ``m``); the
        expectation follows it smoothly, from the first day it is non-zero.
    missing_rate, mnar_odds_per_NRS
        Override the data file's missing-entry model (see the module docstring).
    diary_params
        Reporting parameters (default: shipped ``diary`` section).
    """
    dp = load_diary_parameters() if diary_params is None else diary_params
    rate = dp.missing_rate if missing_rate is None else missing_rate
    odds_per = dp.mnar_odds_per_NRS if mnar_odds_per_NRS is None else mnar_odds_per_NRS
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"missing_rate {rate} must be in [0, 1)")
    if odds_per <= 0:
        raise ValueError(f"mnar_odds_per_NRS {odds_per} must be positive")
    c = cohort.condition
    n = cohort.n
    P0 = cohort.traits["P0_NRS"]
    sigma_w = cohort.traits["sigma_w_NRS"]
    U = np.broadcast_to(P0 if underlying_pain_NRS is None else underlying_pain_NRS, (days, n))
    mult = np.broadcast_to(np.asarray(placebo_multiplier, dtype=np.float64), (days, n))
    if np.any(mult < 0):
        raise ValueError("placebo_multiplier must be non-negative")
    E = expectation_course(
        cohort.traits["placebo_fraction"], mult, c.t_half_placebo_d,
        persistent=c.placebo_persistent_fraction,
        waning_half_life_d=c.placebo_waning_half_life_d,
        maximum=c.placebo_fraction_max, minimum=c.placebo_fraction_min,
    )  # fmt: skip
    block, start = _draws(cohort, days, root_seed)
    slope = reference_slope(c.P0_NRS)

    rho_s = np.exp(-1.0 / c.tau_s_d)
    decay = np.exp(-1.0 / c.flare_duration_d)
    s = c.sigma_s_NRS * start[0]
    eta = sigma_w * start[1]
    flare = np.zeros(n)
    z_flare = ndtri(c.flare_rate_per_d)
    P = np.empty((days, n))
    F = np.empty((days, n))
    for d in range(days):
        s = rho_s * s + c.sigma_s_NRS * np.sqrt(1.0 - rho_s**2) * block[:, d, 1]
        eta = c.phi * eta + sigma_w * np.sqrt(1.0 - c.phi**2) * block[:, d, 0]
        onset = block[:, d, 2] < z_flare  # Φ(z) < flare_rate_per_d
        size = c.flare_size_NRS * np.exp(dp.flare_size_omega * block[:, d, 3])
        flare = decay * flare + np.where(onset, size, 0.0)
        latent = U[d] * (P0 + s + flare) / np.maximum(P0, 1e-9)
        P[d] = bounded_report(latent * (1.0 - E[d]), eta, slope)
        F[d] = flare
    nrs = np.clip(np.round(P), 0, 10).astype(np.int8)
    # an entry is missing when Φ(z) < p_missing, i.e. z < Φ⁻¹(p_missing)
    if rate <= 0:
        observed = np.ones((days, n), dtype=bool)
    elif odds_per == 1.0:  # MCAR: one threshold
        observed = ndtri(rate) <= block[:, :, 4].T
    else:
        excess = np.maximum(P - P0, 0.0)
        odds = rate / (1.0 - rate) * odds_per**excess
        observed = ndtri(odds / (1.0 + odds)) <= block[:, :, 4].T
    return Diary(nrs=nrs, observed=observed, P_true_NRS=P, flare_NRS=F, expectation=E)
