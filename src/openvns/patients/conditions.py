"""Conditions as parameter sets: a frozen, validated view of ``data/conditions.yaml``.

Each condition (fibromyalgia, neuropathic pain, CRPS; the headache conditions, whose attacks
:mod:`openvns.patients.attacks` simulates; functional abdominal pain) fixes the baseline pain
distribution, the day-to-day variability and autocorrelation, placebo, flares and the responder
mixture; the ``diary`` section fixes missing entries, PGIC and BPI interference. Every number has a
status and a source in the data file (reference §3, §5.4, §5.7).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from openvns import yamlio
from openvns.errors import ValidationError
from openvns.parameters import Provenance, check_entry
from openvns.parameters.constraints import FRACTION, NON_NEGATIVE, POSITIVE

DATA_FILE = "conditions.yaml"
#: The table of a condition that overrides physiology values visibly (``overrides:``).
OVERRIDES = "overrides"
_STATUSES = ("V", "D", "R", "A")

_NRS = Field(ge=0, le=10)


class _Validated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def _from(cls, values: dict[str, Any], where: str) -> Any:
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            raise ValidationError(
                f"{where}.{unknown[0]}", values[unknown[0]], "one of " + ", ".join(cls.model_fields)
            )
        try:
            return cls.model_validate(values)
        except PydanticValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or where
            raise ValidationError(f"{where}.{key}", err.get("input"), err["msg"]) from None

    def with_(self, **changes: Any) -> Any:
        """A validated copy with ``changes`` applied."""
        return type(self)._from({**self.model_dump(), **changes}, type(self).__name__)


class Condition(_Validated):
    """Population parameters of one condition (reference §3, §5.4, §5.7)."""

    name: str
    label: str
    P0_NRS: float = _NRS
    P0_sd_NRS: float = NON_NEGATIVE
    P0_min_NRS: float = _NRS
    P0_max_NRS: float = _NRS
    sigma_w_NRS: float = NON_NEGATIVE
    omega_sigma_w: float = NON_NEGATIVE
    phi: float = Field(ge=0, lt=1)
    sigma_s_NRS: float = NON_NEGATIVE
    tau_s_d: float = POSITIVE
    placebo_fraction: float = Field(gt=-1, lt=1)
    placebo_fraction_max: float = Field(gt=0, le=1)
    placebo_fraction_min: float = Field(gt=-1, le=0)
    omega_placebo: float = NON_NEGATIVE
    t_half_placebo_d: float = POSITIVE
    placebo_persistent_fraction: float = FRACTION
    placebo_waning_half_life_d: float = POSITIVE
    corr_sigma_w_placebo: float = Field(ge=-1, le=1)
    flare_rate_per_d: float = FRACTION
    flare_size_NRS: float = NON_NEGATIVE
    flare_duration_d: float = POSITIVE
    p_pro_nociceptive: float = FRACTION
    p_responder: float = FRACTION
    #: Physiology values this condition sets differently from the population set, each with its
    #: own source in the condition's ``overrides`` table (shown by ``openvns params show
    #: conditions/<name>``); applied by :meth:`openvns.simulation.ModelParameters.default`.
    physiology_overrides: dict[str, Any] = Field(default_factory=dict)


class DiaryParameters(_Validated):
    """How patients report pain and use a home device: missing entries, flare spread, device
    placebo, adherence (PGIC and BPI are outcomes of their own,
    :mod:`openvns.patients.outcomes`)."""

    flare_size_omega: float = NON_NEGATIVE
    missing_rate: float = Field(ge=0, lt=1)
    mnar_odds_per_NRS: float = POSITIVE
    sham_device_placebo_multiplier: float = NON_NEGATIVE
    adherence_mean: float = Field(gt=0, le=1)
    adherence_concentration: float = POSITIVE


@lru_cache(maxsize=4)
def _raw(name: str) -> dict[str, Any]:
    text = resources.files("openvns.patients").joinpath(f"data/{name}").read_text("utf-8")
    raw = yamlio.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError(f"{name} must be a YAML mapping")
    return raw


def _entries(block: dict[str, Any], where: str) -> dict[str, tuple[Any, Provenance]]:
    out: dict[str, tuple[Any, Provenance]] = {}
    for key, entry in block.items():
        at = f"{where}.{key}"
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise ValueError(f"{at} must be a mapping with value, status, source")
        out[key] = (entry["value"], check_entry(entry, at, statuses=_STATUSES))  # the one rule
    return out


def condition_names(name: str = DATA_FILE) -> tuple[str, ...]:
    """Names of the shipped conditions (``fibromyalgia``, ``neuropathic_pain``, ``crps``, the
    headache conditions, ``functional_abdominal_pain``)."""
    return tuple(_raw(name)["conditions"])


@lru_cache(maxsize=16)
def load_condition(condition: str, name: str = DATA_FILE) -> Condition:
    """The parameter set of ``condition``; errors name the allowed conditions."""
    conditions = _raw(name)["conditions"]
    if condition not in conditions:
        raise ValidationError("condition", condition, "one of " + ", ".join(conditions))
    block = dict(conditions[condition])
    overrides = block.pop(OVERRIDES, None) or {}
    if not isinstance(overrides, dict):
        raise ValidationError(
            f"{condition}.{OVERRIDES}", overrides, "a table of sourced physiology values"
        )
    values = {k: v for k, (v, _) in _entries(block, condition).items()}
    changed = {k: v for k, (v, _) in _entries(overrides, f"{condition}.{OVERRIDES}").items()}
    clash = sorted(set(changed) & set(Condition.model_fields))
    if clash:
        raise ValidationError(
            f"{condition}.{OVERRIDES}.{clash[0]}",
            changed[clash[0]],
            "a physiology parameter (the condition's own values go in its table)",
        )
    result: Condition = Condition._from(
        {"name": condition, **values, "physiology_overrides": changed}, condition
    )
    return result


@lru_cache(maxsize=4)
def load_diary_parameters(name: str = DATA_FILE) -> DiaryParameters:
    """The reporting model shared by all conditions (``diary`` section of the data file)."""
    values = {k: v for k, (v, _) in _entries(_raw(name)["diary"], "diary").items()}
    result: DiaryParameters = DiaryParameters._from(values, "diary")
    return result


def conditions_version(name: str = DATA_FILE) -> str:
    """Version string of the conditions data file."""
    return str(_raw(name).get("version", "unknown"))


def provenance(condition: str, name: str = DATA_FILE) -> dict[str, Provenance]:
    """Status, provisional flag and source of every value of ``condition`` (or ``"diary"``)."""
    raw = _raw(name)
    block = dict(raw["diary"] if condition == "diary" else raw["conditions"][condition])
    overrides = block.pop(OVERRIDES, None) or {}
    out = {k: p for k, (_, p) in _entries(block, condition).items()}
    for k, (_, p) in _entries(overrides, f"{condition}.{OVERRIDES}").items():
        out[f"{OVERRIDES}.{k}"] = p
    return out
