"""Outcomes in their own right: PGIC, BPI interference, FIQR and sleep as latent patient states.

Each outcome is a latent per patient that evolves over days from the patient's *felt* pain and
from random components of its own, so none of them is a function of the diary's pain change
(sources and status of every number: ``data/outcomes.yaml``, registry set ``outcomes``; the model
in ``docs/outcomes.md``). With ``x`` the felt pain ``(patients, days)``, ``B`` its baseline mean
and ``EMA_τ`` an exponential average with e-folding time ``τ`` (started at ``B``)::

    rel_τ(d)   = (EMA_τ(x)(d) − B) / max(B, floor)                 relative change, lag τ
    PGIC       : L(d) = w · 100 · rel_recall(d) + style_i + ε_i(d)  → 7 categories by cut points
    BPI        : I0_i · (1 + g_i · rel_bpi(d)) + AR(1)_i(d)         → mean of 7 items, 0–10
    FIQR (FM)  : per domain  max · f0_i · (1 + g · rel(d)) + AR(1)  → 0–30, 0–20, 0–50; total 0–100
    sleep      : S0_i · (1 + g_i · rel_sleep(d)) + AR(1)_i(d)       → integer 0 (best) – 10 (worst)

``style_i`` (a persistent response style), the baseline levels ``I0_i``, ``f0_i``, ``S0_i``
(each from the baseline felt pain plus its own between-patient deviation), the elasticities
``g_i`` (log-normal) and the day-to-day AR(1) fluctuations are the patient's own draws from
``rng_for(root_seed, "outcomes", condition, index)``: the patient's outcomes do not depend on the
other patients of the cohort. Function lags pain (``bpi_lag_d``, ``fiqr_function_lag_d`` longer
than ``recall_time_d``).

Arrays are ``(patients, days)``, like :class:`openvns.simulation.engine.CohortTrajectory`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from openvns import yamlio
from openvns.errors import ValidationError
from openvns.parameters import ParameterSet, Provenance, load_set, read_resource
from openvns.parameters.constraints import NON_NEGATIVE, POSITIVE
from openvns.patients.cohort import Cohort
from openvns.patients.filters import first_order
from openvns.random import kept_draws, rngs_for

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "FIQR_CONDITIONS",
    "MCID_NAMES",
    "PGIC_LABELS",
    "Mcid",
    "OutcomeParameters",
    "Outcomes",
    "load_outcome_parameters",
    "mcid",
    "mcid_references",
    "mcid_table",
    "outcome_parameter_set",
    "outcome_sources",
    "simulate_outcomes",
]

#: Conditions for which the FIQR is simulated (it is a fibromyalgia instrument).
FIQR_CONDITIONS = ("fibromyalgia",)
#: The 7-point PGIC, 1 … 7.
PGIC_LABELS = {
    1: "very much improved", 2: "much improved", 3: "minimally improved", 4: "no change",
    5: "minimally worse", 6: "much worse", 7: "very much worse",
}  # fmt: skip
#: Outcome → name of its MCID in the data file.
MCID_NAMES = {
    "pain": "mcid_pain_pct",
    "pgic": "mcid_pgic_category",
    "bpi_interference": "mcid_bpi_interference_points",
    "fiqr": "mcid_fiqr_pct",
    "sleep": "mcid_sleep_NRS",
}
_N_PATIENT = 7  # style, bpi0, bpi_gain, fiqr0, fiqr_gain, sleep0, sleep_gain
_N_DAILY = 4  # pgic rating noise, bpi AR, fiqr AR, sleep AR

_Phi = Field(ge=0, lt=1)


class OutcomeParameters(BaseModel):
    """The outcome model's parameters (``data/outcomes.yaml``; field names as in the file)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    recall_time_d: float = POSITIVE
    baseline_floor_NRS: float = POSITIVE
    perceived_weight: float = NON_NEGATIVE
    cut_very_much_improved_pct: float
    cut_much_improved_pct: float
    cut_minimally_improved_pct: float
    cut_minimally_worse_pct: float
    cut_much_worse_pct: float
    cut_very_much_worse_pct: float
    style_mean_pct: float
    style_sd_pct: float = NON_NEGATIVE
    visit_sd_pct: float = NON_NEGATIVE
    rank_correlation_low: float = Field(ge=-1, le=1)
    rank_correlation_high: float = Field(ge=-1, le=1)
    bpi_intercept_points: float
    bpi_slope_per_NRS: float = NON_NEGATIVE
    bpi_between_sd_points: float = NON_NEGATIVE
    bpi_elasticity: float = NON_NEGATIVE
    bpi_omega_elasticity: float = NON_NEGATIVE
    bpi_lag_d: float = POSITIVE
    bpi_day_sd_points: float = NON_NEGATIVE
    bpi_day_phi: float = _Phi
    bpi_items: int = Field(ge=1)
    fiqr_function_max: float = POSITIVE
    fiqr_overall_max: float = POSITIVE
    fiqr_symptoms_max: float = POSITIVE
    fiqr_function_step: float = POSITIVE
    fiqr_overall_step: float = POSITIVE
    fiqr_symptoms_step: float = POSITIVE
    fiqr_baseline_fraction: float = Field(ge=0, le=1)
    fiqr_fraction_per_NRS: float = NON_NEGATIVE
    fiqr_between_sd_fraction: float = NON_NEGATIVE
    fiqr_symptoms_elasticity: float = NON_NEGATIVE
    fiqr_function_elasticity: float = NON_NEGATIVE
    fiqr_omega_elasticity: float = NON_NEGATIVE
    fiqr_symptoms_lag_d: float = POSITIVE
    fiqr_function_lag_d: float = POSITIVE
    fiqr_day_sd_fraction: float = NON_NEGATIVE
    fiqr_day_phi: float = _Phi
    sleep_intercept_NRS: float
    sleep_slope_per_NRS: float = NON_NEGATIVE
    sleep_between_sd_NRS: float = NON_NEGATIVE
    sleep_elasticity: float = NON_NEGATIVE
    sleep_omega_elasticity: float = NON_NEGATIVE
    sleep_lag_d: float = POSITIVE
    sleep_day_sd_NRS: float = NON_NEGATIVE
    sleep_day_phi: float = _Phi
    mcid_pain_pct: float = POSITIVE
    mcid_pgic_category: int = Field(ge=1, le=7)
    mcid_bpi_interference_points: float = POSITIVE
    mcid_fiqr_pct: float = POSITIVE
    mcid_sleep_NRS: float = POSITIVE

    @property
    def pgic_cuts_pct(self) -> tuple[float, ...]:
        """The six cut points of the perceived change, from very much improved to very much
        worse (a perceived change ≤ the first is PGIC 1; ≥ the last is PGIC 7)."""
        return (
            self.cut_very_much_improved_pct, self.cut_much_improved_pct,
            self.cut_minimally_improved_pct, self.cut_minimally_worse_pct,
            self.cut_much_worse_pct, self.cut_very_much_worse_pct,
        )  # fmt: skip

    def with_(self, **changes: Any) -> OutcomeParameters:
        """A validated copy with ``changes`` applied."""
        return OutcomeParameters.model_validate({**self.model_dump(), **changes})


def outcome_parameter_set() -> ParameterSet:
    """The registry's ``outcomes`` set (values with status, provisional flag and source)."""
    return load_set("outcomes")


@lru_cache(maxsize=1)
def load_outcome_parameters() -> OutcomeParameters:
    """The shipped outcome parameters (checked, cached)."""
    s = outcome_parameter_set()
    cuts = [s[f"cut_{k}_pct"].value for k in ("very_much_improved", "much_improved",
            "minimally_improved", "minimally_worse", "much_worse", "very_much_worse")]  # fmt: skip
    if list(cuts) != sorted(cuts):  # type: ignore[type-var]
        raise ValueError(f"outcomes.yaml: PGIC cut points {cuts} must increase")
    return OutcomeParameters.model_validate(s.values())


@dataclass(frozen=True)
class Mcid:
    """A minimal clinically important difference and where it comes from.

    ``value`` is an improvement: a decrease of ``value`` (points or percent, per ``unit``) for
    pain, BPI, FIQR and sleep; for PGIC the highest category that counts (2: much improved).
    """

    outcome: str
    name: str
    value: float
    unit: str
    provenance: Provenance


def mcid(outcome: str) -> Mcid:
    """The MCID of ``outcome`` (``pain``, ``pgic``, ``bpi_interference``, ``fiqr``, ``sleep``)."""
    if outcome not in MCID_NAMES:
        raise ValidationError("outcome", outcome, "one of " + ", ".join(MCID_NAMES))
    s = outcome_parameter_set()
    p = s[MCID_NAMES[outcome]]
    unit = {"pgic": "category", "bpi_interference": "points"}.get(outcome, p.unit)
    return Mcid(outcome, p.name, float(p.value), unit, s.provenance(p.name))  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def outcome_sources() -> dict[str, str]:
    """The data file's references by code (``"O1"`` → ``"Farrar JT, … 2001 Pain 94:149 …"``)."""
    raw = yamlio.safe_load(read_resource("openvns.patients", "data/outcomes.yaml"))
    return {str(k): str(v) for k, v in (raw.get("sources") or {}).items()}


def mcid_references(outcome: str) -> tuple[str, ...]:
    """The references an MCID's source names (its ``O<n>`` codes spelled out), in order."""
    refs = outcome_sources()
    codes = dict.fromkeys(re.findall(r"\bO\d+\b", mcid(outcome).provenance.source))
    return tuple(refs[c] for c in codes if c in refs)


def mcid_table() -> dict[str, Mcid]:
    """Every outcome's MCID."""
    return {k: mcid(k) for k in MCID_NAMES}


@dataclass(frozen=True)
class Outcomes:
    """Simulated outcomes, arrays ``(patients, days)``: what the patient would answer that day
    (``(patients, len(days))`` at the visit days when :func:`simulate_outcomes` got them).

    Attributes
    ----------
    pgic
        PGIC 1 (very much improved) … 7 (very much worse); NaN on baseline days.
    perceived_change_pct
        The latent perceived change behind ``pgic`` (%, negative = better); NaN on baseline days.
    bpi_interference
        BPI-SF interference, the mean of 7 items (multiples of 1/7), 0–10.
    fiqr, fiqr_function, fiqr_overall, fiqr_symptoms
        FIQR total 0–100 and its domains 0–30, 0–20, 0–50; NaN for conditions not in
        :data:`FIQR_CONDITIONS`.
    sleep
        Sleep-quality NRS, integers 0 (best possible sleep) … 10 (worst possible sleep).
    baseline_pain_NRS
        ``(patients,)`` the felt pain's baseline mean the changes are relative to.
    baseline_days
        Number of baseline days.
    days
        The day index of each column (every day, or the visit days).
    """

    pgic: FloatArray
    perceived_change_pct: FloatArray
    bpi_interference: FloatArray
    fiqr: FloatArray
    fiqr_function: FloatArray
    fiqr_overall: FloatArray
    fiqr_symptoms: FloatArray
    sleep: FloatArray
    baseline_pain_NRS: FloatArray
    baseline_days: int
    days: NDArray[np.int64] | None = None


def _draws(cohort: Cohort, days: int, root_seed: int) -> tuple[FloatArray, FloatArray]:
    """Per-patient normals: ``(n, _N_PATIENT)`` constants, then ``(n, days, _N_DAILY)`` daily."""
    n = cohort.n
    name = cohort.condition.name

    def draw() -> tuple[FloatArray, FloatArray]:
        const = np.empty((n, _N_PATIENT))
        daily = np.empty((n, days, _N_DAILY))
        for row, rng in enumerate(rngs_for(root_seed, ("outcomes", name), cohort.indices)):
            const[row] = rng.standard_normal(_N_PATIENT)  # first: the same whatever the days
            daily[row] = rng.standard_normal((days, _N_DAILY))
        return const, daily

    const, daily = kept_draws(("outcomes", root_seed, name, days), cohort.indices, draw)
    return const, daily


def _ema(x: FloatArray, tau_d: float, start: FloatArray) -> FloatArray:
    """Exponential average along days (e-folding ``tau_d``), started at ``start`` ``(n,)``."""
    a = 1.0 - np.exp(-1.0 / tau_d)
    zi = ((1.0 - a) * start)[:, None]
    y, _ = first_order(a, -(1.0 - a), x, zi)
    return np.asarray(y, dtype=np.float64)


def _ar1(eps: FloatArray, phi: float, sd: float) -> FloatArray:
    """Stationary AR(1) with lag-1 correlation ``phi`` and SD ``sd`` from normals ``(n, days)``."""
    c = sd * np.sqrt(1.0 - phi**2)
    zi = ((sd - c) * eps[:, :1]) if eps.shape[1] else np.zeros((eps.shape[0], 1))
    y, _ = first_order(c, -phi, eps, zi)
    return np.asarray(y, dtype=np.float64)


def _report(latent: FloatArray, step: float, top: float) -> FloatArray:
    """A questionnaire score: the latent rounded to the scale's step and bounded to 0 … top."""
    return np.asarray(np.clip(np.round(latent / step) * step, 0.0, top), dtype=np.float64)


def simulate_outcomes(
    cohort: Cohort,
    pain_NRS: FloatArray,
    *,
    baseline_days: int,
    root_seed: int,
    params: OutcomeParameters | None = None,
    visit_days: npt.ArrayLike | None = None,
) -> Outcomes:
    """Simulate PGIC, BPI interference, FIQR (fibromyalgia) and sleep for every patient and day
    (or at the given visit days only).

    Parameters
    ----------
    cohort
        The patients (their condition and indices name the random streams).
    pain_NRS
        ``(patients, days)`` the pain each patient *feels*: the model's pain with placebo,
        fluctuation and flares but without the diary's reporting noise and rounding where the
        caller has it (the diary's pain before rounding is the next best). Not the diary mean:
        the outcomes share the patient's pain, not the diary's measurement of it.
    baseline_days
        Days ``0 … baseline_days − 1`` are the baseline (≥ 1); PGIC is NaN there.
    root_seed
        Root seed; patient ``i`` uses ``rng_for(root_seed, "outcomes", condition, i)``.
    params
        Outcome parameters (default: the shipped set).
    visit_days
        Increasing day indices at which to answer (default: every day). The returned arrays
        are then ``(patients, len(visit_days))``, each column the answer of that day of the daily
        run (the states and the noise are followed over every day; only the questionnaires are
        scored at the visits), so a trial's visit is the patient's answer on that day.
    """
    p = load_outcome_parameters() if params is None else params
    x = np.asarray(pain_NRS, dtype=np.float64)
    n = cohort.n
    if x.ndim != 2 or x.shape[0] != n:
        raise ValidationError("pain_NRS", x.shape, f"an array (patients = {n}, days)")
    days = x.shape[1]
    if isinstance(baseline_days, bool) or not 1 <= baseline_days <= days:
        raise ValidationError("baseline_days", baseline_days, f"a whole number in 1 … {days}")
    if not np.all(np.isfinite(x)):
        raise ValidationError("pain_NRS", "non-finite values", "finite pain on every day")
    visits = np.arange(days) if visit_days is None else np.asarray(visit_days, dtype=np.int64)
    if (
        visits.ndim != 1
        or (visits.size and (visits[0] < 0 or visits[-1] >= days))
        or np.any(np.diff(visits) <= 0)
    ):
        raise ValidationError("visit_days", visit_days, f"increasing days in 0 … {days - 1}")
    const, daily = _draws(cohort, days, root_seed)
    z = {k: const[:, j] for j, k in enumerate(
        ("style", "bpi0", "bpi_gain", "fiqr0", "fiqr_gain", "sleep0", "sleep_gain"))}  # fmt: skip
    B = x[:, :baseline_days].mean(axis=1)
    scale = np.maximum(B, p.baseline_floor_NRS)

    def rel(tau_d: float) -> FloatArray:
        ema = _ema(x, tau_d, B)[:, visits]
        return np.asarray((ema - B[:, None]) / scale[:, None], dtype=np.float64)

    # PGIC: perceived change = weighted felt change + persistent style + rating noise
    perceived = (
        p.perceived_weight * 100.0 * rel(p.recall_time_d)
        + (p.style_mean_pct + p.style_sd_pct * z["style"])[:, None]
        + p.visit_sd_pct * daily[:, visits, 0]
    )
    # ≤ cut1 → 1, ≤ cut2 → 2, ≤ cut3 → 3, < cut4 → 4, < cut5 → 5, < cut6 → 6, else 7
    cuts = p.pgic_cuts_pct
    score = 1.0 + np.sum(perceived[..., None] > np.asarray(cuts[:3]), axis=-1)
    score = score + np.sum(perceived[..., None] >= np.asarray(cuts[3:]), axis=-1)
    treated = visits[None, :] >= baseline_days
    pgic = np.where(treated, score, np.nan)
    perceived = np.where(treated, perceived, np.nan)

    # BPI interference: baseline level from baseline pain, own elasticity, slow lag, own noise
    I0 = np.maximum(
        p.bpi_intercept_points + p.bpi_slope_per_NRS * B + p.bpi_between_sd_points * z["bpi0"], 0
    )
    g = p.bpi_elasticity * np.exp(p.bpi_omega_elasticity * z["bpi_gain"])
    bpi_latent = (
        I0[:, None] * (1.0 + g[:, None] * rel(p.bpi_lag_d))
        + _ar1(daily[:, :, 1], p.bpi_day_phi, p.bpi_day_sd_points)[:, visits]
    )
    bpi = _report(bpi_latent, 1.0 / p.bpi_items, 10.0)

    # FIQR (fibromyalgia): symptoms follow pain quickly, function and overall impact slowly
    if cohort.condition.name in FIQR_CONDITIONS:
        f0 = np.clip(
            p.fiqr_baseline_fraction
            + p.fiqr_fraction_per_NRS * (B - cohort.condition.P0_NRS)
            + p.fiqr_between_sd_fraction * z["fiqr0"],
            0.0,
            1.0,
        )[:, None]
        spread = np.exp(p.fiqr_omega_elasticity * z["fiqr_gain"])[:, None]
        wobble = _ar1(daily[:, :, 2], p.fiqr_day_phi, p.fiqr_day_sd_fraction)[:, visits]
        slow = 1.0 + p.fiqr_function_elasticity * spread * rel(p.fiqr_function_lag_d) + wobble
        fast = 1.0 + p.fiqr_symptoms_elasticity * spread * rel(p.fiqr_symptoms_lag_d) + wobble
        function = _report(p.fiqr_function_max * f0 * slow, p.fiqr_function_step,
                           p.fiqr_function_max)  # fmt: skip
        overall = _report(p.fiqr_overall_max * f0 * slow, p.fiqr_overall_step, p.fiqr_overall_max)
        symptoms = _report(p.fiqr_symptoms_max * f0 * fast, p.fiqr_symptoms_step,
                           p.fiqr_symptoms_max)  # fmt: skip
        fiqr = function + overall + symptoms
    else:
        function = overall = symptoms = fiqr = np.full((n, visits.size), np.nan)

    # Sleep quality (0 best … 10 worst): baseline from pain, own elasticity, lag, nightly noise
    S0 = np.maximum(
        p.sleep_intercept_NRS + p.sleep_slope_per_NRS * B + p.sleep_between_sd_NRS * z["sleep0"],
        0.0,
    )
    gs = p.sleep_elasticity * np.exp(p.sleep_omega_elasticity * z["sleep_gain"])
    sleep_latent = (
        S0[:, None] * (1.0 + gs[:, None] * rel(p.sleep_lag_d))
        + _ar1(daily[:, :, 3], p.sleep_day_phi, p.sleep_day_sd_NRS)[:, visits]
    )
    sleep = _report(sleep_latent, 1.0, 10.0)
    return Outcomes(
        pgic=pgic,
        perceived_change_pct=perceived,
        bpi_interference=bpi,
        fiqr=fiqr,
        fiqr_function=function,
        fiqr_overall=overall,
        fiqr_symptoms=symptoms,
        sleep=sleep,
        baseline_pain_NRS=B,
        baseline_days=baseline_days,
        days=visits,
    )
