"""The physiology parameter set: a frozen, validated view of ``data/vns_pain_model.yaml``.

Every number of reference §5.1–§5.5 and §5.7 is a field here (one flat namespace, units in the
names); the data file holds value, status, provisional flag and source of each. Change or sweep
any of them with :meth:`PhysiologyParameters.with_`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from openvns.errors import ValidationError
from openvns.parameters import ParameterSet, Provenance, load_set, parse_set, read_resource
from openvns.parameters.constraints import FRACTION, NON_NEGATIVE, POSITIVE

DATA_FILE = "vns_pain_model.yaml"
_STATUSES = ("V", "D", "R", "A")


class PhysiologyParameters(BaseModel):
    """Population parameters of the VNS → pain model (reference §5); sources in the data file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = "custom"
    # §5.1 drive
    w_A_afferent: float = NON_NEGATIVE
    w_Adelta_afferent: float = NON_NEGATIVE
    w_C_afferent: float = NON_NEGATIVE
    f_opt_Hz: float = POSITIVE
    frequency_filter_exponent: float = POSITIVE
    # §5.2 brainstem
    D50_N: float = POSITIVE
    n_N: float = POSITIVE
    NE_amplitude_at_full_drive_pct: float = NON_NEGATIVE
    NE_clearance_tau_s: float = POSITIVE
    tau_S_d: float = POSITIVE
    S50_fraction_of_standard: float = POSITIVE
    standard_on_time_s: float = POSITIVE
    standard_off_time_min: float = NON_NEGATIVE
    n_S: float = POSITIVE
    tau_5HT_d: float = POSITIVE
    # §5.3 modulation
    a_N: float = NON_NEGATIVE
    a_R: float = NON_NEGATIVE
    I_max: float = NON_NEGATIVE
    X50_I: float = POSITIVE
    n_I: float = POSITIVE
    F_max_over_I_max: float = NON_NEGATIVE
    X50_F_over_X50_I: float = POSITIVE
    n_F: float = POSITIVE
    F_max_over_I_max_pro_nociceptive: float = NON_NEGATIVE
    E_acute_max: float = Field(ge=0, lt=1)
    E_acute_max_ceiling: float = Field(gt=0, lt=1)
    X50_I_phasic: float = POSITIVE
    X50_F_phasic: float = POSITIVE
    F_max_over_I_max_tonic: float = NON_NEGATIVE
    tonic_persistence_h: float = POSITIVE
    # segmental modulation of head pain (openvns.physiology.segmental)
    segmental_relief_max: float = Field(ge=0, lt=1)
    segmental_f50_Hz: float = POSITIVE
    # §5.4 plasticity
    D50_up: float = POSITIVE
    D50_down_over_D50_up: float = Field(gt=1)
    n_G: float = POSITIVE
    descending_limb_input: Literal["drive", "small_fibre"] = "small_fibre"
    c_down_small_fibre: float = POSITIVE
    retraining_time_d: float = POSITIVE
    exposure50_plasticity_over_standard: float = POSITIVE
    tau_relapse_d: float = POSITIVE
    alpha_non_responder: float = FRACTION
    # §5.4 pain (baseline, fluctuation, diary and placebo: the condition's)
    circadian_amplitude: float = FRACTION
    # §5.5 heart rate during ON (side-effect channels: side_effect_parameters)
    c_aff_HR_pct: float = NON_NEGATIVE
    D50_tachy: float = POSITIVE
    n_tachy: float = POSITIVE
    c_eff_HR_pct: float = NON_NEGATIVE
    r50_B: float = POSITIVE
    n_B: float = POSITIVE
    f_ganglion_Hz: float = POSITIVE
    # dropout
    h0_per_d: float = NON_NEGATIVE
    h0_late_per_d: float = NON_NEGATIVE
    h0_decay_d: float = POSITIVE
    b_AE_per_d: float = NON_NEGATIVE
    b_ineffective_per_d: float = NON_NEGATIVE
    ineffective_after_d: float = NON_NEGATIVE
    improvement_threshold: float = FRACTION
    # §5.7 variability
    omega_D50_N: float = NON_NEGATIVE
    omega_E_acute_max: float = NON_NEGATIVE
    alpha_beta_a: float = POSITIVE
    alpha_beta_b: float = POSITIVE
    omega_k_ret: float = NON_NEGATIVE
    omega_tau_relapse: float = NON_NEGATIVE
    omega_tau_hab: float = NON_NEGATIVE
    coupling_median: float = POSITIVE
    omega_coupling: float = NON_NEGATIVE
    omega_tolerance: float = NON_NEGATIVE

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> PhysiologyParameters:
        """Validate ``values``; errors name the key, the value and what is allowed."""
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            raise ValidationError(
                unknown[0], values[unknown[0]], "one of " + ", ".join(cls.model_fields)
            )
        try:
            return cls.model_validate(values)
        except PydanticValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "parameters"
            raise ValidationError(key, err.get("input"), err["msg"]) from None

    def with_(self, **changes: Any) -> PhysiologyParameters:
        """A copy with ``changes`` applied and validated (``params.with_(f_opt_Hz=10.0)``).

        Refuses a name the daily model does not use (``used: false`` in the data file) and a
        name that is not in this set (pain, diary and placebo belong to the condition), so a
        parameter sweep either changes the run or fails.
        """
        unused = unused_parameters()
        allowed = [k for k in type(self).model_fields if k != "version" and k not in unused]
        for key, value in changes.items():
            if key in unused:
                raise ValidationError(
                    key, value, "a parameter the daily model uses; it is documented only"
                )
            if key not in allowed:
                raise ValidationError(
                    key,
                    value,
                    "a physiology parameter (baseline pain, its fluctuation, the diary and "
                    "placebo belong to the condition): " + ", ".join(allowed),
                )
        out = self.from_values({**self.model_dump(), **changes})
        for key, conditions in conditional_parameters().items():
            if key in changes:
                for other, needed in conditions.items():
                    if getattr(out, other) != needed:
                        raise ValidationError(
                            key, changes[key], f"only with {other} = {needed!r} (it is unused "
                            f"while {other} = {getattr(out, other)!r})",
                        )  # fmt: skip
        return out

    @property
    def S50(self) -> float:
        """LC-sensitisation half point: ``S50_fraction_of_standard × duty(standard schedule)``."""
        period_s = self.standard_on_time_s + 60.0 * self.standard_off_time_min
        return self.S50_fraction_of_standard * self.standard_on_time_s / period_s


@lru_cache(maxsize=4)
def parameter_set(name: str = DATA_FILE) -> ParameterSet:
    """The data file as a sourced set of the registry (its one parser and provenance rule)."""
    if name == DATA_FILE:
        return load_set("physiology")
    text = read_resource("openvns.physiology", f"data/{name}")
    return parse_set(text, "physiology", sections=True, statuses=_STATUSES)


@lru_cache(maxsize=4)
def load_parameters(name: str = DATA_FILE) -> PhysiologyParameters:
    """The parameter set shipped as ``openvns/physiology/data/<name>`` (checked, cached)."""
    s = parameter_set(name)
    return PhysiologyParameters.from_values({**s.values(), "version": s.version})


def provenance(name: str = DATA_FILE) -> dict[str, Provenance]:
    """Status, provisional flag and source of every parameter in the data file."""
    return {
        p.name: Provenance(status=p.status, provisional=p.provisional, source=p.source)
        for p in parameter_set(name)
    }


@lru_cache(maxsize=4)
def unused_parameters(name: str = DATA_FILE) -> frozenset[str]:
    """Names documented in the data file but not used by the daily model (``used: false``)."""
    return frozenset(p.name for p in parameter_set(name) if not p.used)


@lru_cache(maxsize=4)
def conditional_parameters(name: str = DATA_FILE) -> dict[str, dict[str, Any]]:
    """Names used only when other parameters have given values (``used_when`` in the file)."""
    return {p.name: dict(p.used_when) for p in parameter_set(name) if p.used_when}
