"""Virtual patients: named, reproducible trait vectors with the correlations of reference §5.7.

Patient ``fibromyalgia#0042`` is drawn from ``rng_for(root_seed, "fibromyalgia", 42)`` alone, so it
is the same patient whatever the cohort size or the order of sampling. Traits are log-normal
around the population value (ω = SD of the log) unless stated; baseline pain is a truncated
normal; the stated correlations act on the underlying normals (a Gaussian copula via Cholesky).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.patients.conditions import Condition, load_condition
from openvns.patients.placebo import expectation_fraction
from openvns.physiology.parameters import PhysiologyParameters, load_parameters
from openvns.physiology.side_effect_parameters import N_LEGACY_CHANNELS, SIDE_EFFECTS
from openvns.random import kept_draws, rngs_for

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Order of the standard normals each patient draws (the copula acts on these).
LATENT = (
    "P0_NRS", "sigma_w_NRS", "placebo_fraction", "D50_N", "E_acute_max", "k_ret_per_d",
    "tau_relapse_d", "tau_hab_scale",
)  # fmt: skip
_N_UNIFORM = 2  # pro-nociceptive class, responder class
#: Traits of how a patient reports (used by the diary, not by the physiology).
DIARY_TRAITS = ("sigma_w_NRS", "placebo_fraction")


def patient_name(condition: str, index: int) -> str:
    """``"fibromyalgia#0042"``: the condition and the zero-padded patient index."""
    return f"{condition}#{index:04d}"


def parse_patient_name(name: str) -> tuple[str, int]:
    """Inverse of :func:`patient_name`; a :class:`ValidationError` (a ``ValueError``) names a
    malformed name."""
    condition, _, index = str(name).partition("#")
    if not condition or not index.isdigit():
        raise ValidationError(
            "patient", name, "a name 'condition#index' such as 'fibromyalgia#0042'"
        )
    return condition, int(index)


def correlation_matrix(condition: Condition) -> FloatArray:
    """Correlation of the latent normals in :data:`LATENT` (§5.7: only sigma_w–placebo stated)."""
    corr = np.eye(len(LATENT))
    i, j = LATENT.index("sigma_w_NRS"), LATENT.index("placebo_fraction")
    corr[i, j] = corr[j, i] = condition.corr_sigma_w_placebo
    return corr


@dataclass(frozen=True)
class Cohort:
    """A set of virtual patients of one condition.

    Attributes
    ----------
    condition
        The condition's parameter set.
    root_seed
        Root seed the patients were drawn under.
    indices
        Patient indices ``(n,)``; names are ``condition#index``.
    traits
        Trait arrays ``(n,)``: the physiology state's traits (pass
        :attr:`physiology_traits` as ``initial_state(params, n, **cohort.physiology_traits)``)
        and the diary's (``sigma_w_NRS``, ``placebo_fraction``: the expectation fraction of
        :mod:`openvns.patients.placebo`).
    pro_nociceptive, responder
        Class memberships ``(n,)`` behind ``F_max_over_I_max`` and ``alpha``.
    coupling
        Nerve-interface threshold multiplier θ ``(n,)`` (§5.7): the recruitment of a patient at
        current ``I`` is the table's at ``I / θ`` (:meth:`RecruitmentTable.fraction` coupling).
    tolerance
        Side-effect tolerance multiplier ``(n,)``: the burden a patient finds intolerable is the
        population's ``intolerable`` level of each side effect times this (log-normal, median 1,
        ``omega_tolerance``; :func:`openvns.physiology.side_effects.update_side_effects`).
    side_effect_z
        ``(n, len(SIDE_EFFECTS) + 1)`` standard normals behind each side-effect susceptibility
        and the background (nocebo) propensity; the side-effect parameter set gives their spread
        (:func:`openvns.patients.susceptibility.side_effect_traits`).
    """

    condition: Condition
    root_seed: int
    indices: NDArray[np.int64]
    traits: dict[str, FloatArray]
    pro_nociceptive: BoolArray
    responder: BoolArray
    coupling: FloatArray
    tolerance: FloatArray
    side_effect_z: FloatArray

    @property
    def physiology_traits(self) -> dict[str, FloatArray]:
        """The traits the physiology state takes (all but the diary's reporting traits)."""
        return {k: v for k, v in self.traits.items() if k not in DIARY_TRAITS}

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.indices.shape[0])

    @property
    def names(self) -> list[str]:
        """Patient names, ``["fibromyalgia#0000", ...]``."""
        return [patient_name(self.condition.name, int(i)) for i in self.indices]

    def select(self, index: slice | NDArray[np.intp] | NDArray[np.bool_]) -> Cohort:
        """The sub-cohort at ``index`` (any numpy index along the patient axis)."""
        return Cohort(
            condition=self.condition,
            root_seed=self.root_seed,
            indices=self.indices[index],
            traits={k: v[index] for k, v in self.traits.items()},
            pro_nociceptive=self.pro_nociceptive[index],
            responder=self.responder[index],
            coupling=self.coupling[index],
            tolerance=self.tolerance[index],
            side_effect_z=self.side_effect_z[index],
        )


def sample_patients(
    condition: str | Condition,
    indices: Sequence[int] | NDArray[np.integer],
    root_seed: int,
    params: PhysiologyParameters | None = None,
) -> Cohort:
    """Draw the patients with the given ``indices`` (each from its own seeded stream)."""
    cond = load_condition(condition) if isinstance(condition, str) else condition
    p = load_parameters() if params is None else params
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    n = idx.shape[0]
    k = len(LATENT)
    a_beta, b_beta = p.alpha_beta_a, p.alpha_beta_b

    def draw() -> tuple[NDArray[np.float64], ...]:
        z = np.empty((n, k))
        u = np.empty((n, _N_UNIFORM))
        beta = np.empty(n)
        z_coupling = np.empty(n)
        z_tolerance = np.empty(n)
        z_side = np.empty((n, len(SIDE_EFFECTS) + 1))
        for row, rng in enumerate(rngs_for(root_seed, (cond.name,), idx)):
            z[row] = rng.standard_normal(k)
            u[row] = rng.random(_N_UNIFORM)
            beta[row] = rng.beta(a_beta, b_beta)
            z_coupling[row] = rng.standard_normal()  # drawn after the traits: they keep theirs
            z_tolerance[row] = rng.standard_normal()  # drawn after them, for the same reason
            # and these last: the first channels' and the nocebo trait's, then the channels
            # added after them (so every earlier draw is kept)
            first = rng.standard_normal(N_LEGACY_CHANNELS + 1)
            z_side[row, :N_LEGACY_CHANNELS] = first[:N_LEGACY_CHANNELS]
            z_side[row, -1] = first[-1]
            z_side[row, N_LEGACY_CHANNELS:-1] = rng.standard_normal(
                len(SIDE_EFFECTS) - N_LEGACY_CHANNELS
            )
        return z, u, beta, z_coupling, z_tolerance, z_side

    # the same patients' draws are kept for the next parameter set (the beta draw reads two
    # parameters, so they are part of the key; everything after the draws is computed afresh)
    key = ("traits", root_seed, cond.name, k, a_beta, b_beta)
    z, u, beta, z_coupling, z_tolerance, z_side = kept_draws(key, idx, draw)
    z = z @ np.linalg.cholesky(correlation_matrix(cond)).T
    col = {name: z[:, j] for j, name in enumerate(LATENT)}

    # Baseline pain: normal truncated to [P0_min, P0_max] by inverse CDF of the latent normal.
    if cond.P0_sd_NRS > 0:
        lo = ndtr((cond.P0_min_NRS - cond.P0_NRS) / cond.P0_sd_NRS)
        hi = ndtr((cond.P0_max_NRS - cond.P0_NRS) / cond.P0_sd_NRS)
        P0 = cond.P0_NRS + cond.P0_sd_NRS * ndtri(lo + (hi - lo) * ndtr(col["P0_NRS"]))
    else:
        P0 = np.full(n, cond.P0_NRS)
    P0 = np.clip(P0, cond.P0_min_NRS, cond.P0_max_NRS)

    def lognormal(median: float, omega: float, name: str) -> FloatArray:
        return np.asarray(median * np.exp(omega * col[name]), dtype=np.float64)

    pro = u[:, 0] < cond.p_pro_nociceptive
    resp = u[:, 1] < cond.p_responder
    traits: dict[str, FloatArray] = {
        "P0_NRS": P0,
        "sigma_w_NRS": lognormal(cond.sigma_w_NRS, cond.omega_sigma_w, "sigma_w_NRS"),
        "placebo_fraction": expectation_fraction(
            cond.placebo_fraction,
            cond.omega_placebo,
            col["placebo_fraction"],
            cond.placebo_fraction_max,
            cond.placebo_fraction_min,
        ),
        "D50_N": lognormal(p.D50_N, p.omega_D50_N, "D50_N"),
        "F_max_over_I_max": np.where(pro, p.F_max_over_I_max_pro_nociceptive, p.F_max_over_I_max),
        "E_acute_max": np.minimum(
            lognormal(p.E_acute_max, p.omega_E_acute_max, "E_acute_max"), p.E_acute_max_ceiling
        ),
        "alpha": np.where(resp, beta, p.alpha_non_responder),
        "k_ret_per_d": lognormal(1.0 / p.retraining_time_d, p.omega_k_ret, "k_ret_per_d"),
        "tau_relapse_d": lognormal(p.tau_relapse_d, p.omega_tau_relapse, "tau_relapse_d"),
        "tau_hab_scale": lognormal(1.0, p.omega_tau_hab, "tau_hab_scale"),
    }
    coupling = p.coupling_median * np.exp(p.omega_coupling * z_coupling)
    tolerance = np.exp(p.omega_tolerance * z_tolerance)
    return Cohort(cond, root_seed, idx, traits, pro, resp, coupling, tolerance, z_side)


def sample_cohort(
    condition: str | Condition,
    n: int,
    root_seed: int,
    *,
    start: int = 0,
    params: PhysiologyParameters | None = None,
) -> Cohort:
    """Draw patients ``start … start + n − 1`` of ``condition`` under ``root_seed``.

    Parameters
    ----------
    condition
        A shipped condition name (``"fibromyalgia"``, ``"neuropathic_pain"``, ``"crps"``) or a
        :class:`Condition` (e.g. ``load_condition("fibromyalgia").with_(p_responder=0.2)``).
    n
        Number of patients.
    root_seed
        Root seed; each patient uses ``rng_for(root_seed, condition, index)``.
    start
        First patient index.
    params
        Physiology parameters for the traits a condition does not set (default: shipped set).
    """
    if n < 0 or start < 0:
        raise ValueError("n and start must be non-negative")
    return sample_patients(condition, np.arange(start, start + n), root_seed, params)


def typical_traits(
    condition: str | Condition, params: PhysiologyParameters | None = None
) -> dict[str, float]:
    """The population's typical patient: every trait at its median, ``alpha`` the mixture mean.

    The keyword arguments :func:`openvns.physiology.initial_state` takes for a patient with no
    between-patient variability (``initial_state(p, n, **typical_traits("fibromyalgia"))``).
    """
    cond = load_condition(condition) if isinstance(condition, str) else condition
    p = load_parameters() if params is None else params
    responder_mean = p.alpha_beta_a / (p.alpha_beta_a + p.alpha_beta_b)
    return {
        "P0_NRS": cond.P0_NRS,
        "alpha": cond.p_responder * responder_mean + (1 - cond.p_responder) * p.alpha_non_responder,
    }
