"""The assumed values a trial reads, and parameter sets with other values of them.

:func:`trial_assumptions` lists every numeric assumed value (status A) that a run of a design in
a condition reads, by the engine's rules, with the reason for each one it does not read;
:func:`ranged_assumptions` those with a plausible range (:mod:`openvns.parameters.ranges`),
which :mod:`openvns.trials.uncertainty` and :mod:`openvns.trials.sensitivity` vary.
:func:`scale` maps unit-cube points onto the ranges, :func:`apply_values` puts one point's
values into the parameter sets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from openvns.device.catalogue import generator
from openvns.errors import ValidationError
from openvns.parameters import ParameterRange, load_set
from openvns.patients.outcomes import OutcomeParameters
from openvns.physiology.side_effect_parameters import SKIN_ONLY
from openvns.simulation.parameters import ModelParameters
from openvns.trials.design import TrialDesign

FloatArray = npt.NDArray[np.float64]
log = logging.getLogger(__name__)

__all__ = ["Assumption", "apply_values", "ranged_assumptions", "scale", "trial_assumptions"]

#: Side-effect values that are structural zeros when 0 (the fibre class does not drive the
#: channel, it has no such hazard): a range would add a mechanism, not express uncertainty.
_STRUCTURAL_ZERO = ("w_", "background_per_d", "surgical_per_d")
#: Endpoint suffixes that read the questionnaires (only they depend on the outcomes set).
_OUTCOME_ENDPOINTS = (
    "pgic_much_improved",
    "bpi_interference_change",
    "fiqr_change",
    "sleep_change",
)


@dataclass(frozen=True)
class Assumption:
    """One assumed value a trial reads, with its plausible range.

    Attributes
    ----------
    key
        The name its owner's ``with_`` takes (``"f_opt_Hz"``, ``"voice.drive50"``).
    set_name, name
        Its parameter set and name there (``"side_effects"``, ``"channels.voice.drive50"``).
    owner
        ``"model"`` (:class:`~openvns.simulation.parameters.ModelParameters`) or ``"outcomes"``
        (:class:`~openvns.patients.outcomes.OutcomeParameters`).
    value, unit
        The shipped value and its unit.
    range
        The plausible range, ``None`` where the file has none yet.
    """

    key: str
    set_name: str
    name: str
    owner: Literal["model", "outcomes"]
    value: float
    unit: str
    range: ParameterRange | None


def _model_key(set_name: str, name: str) -> str:
    return name.removeprefix("channels.") if set_name == "side_effects" else name


def trial_assumptions(
    design: TrialDesign, condition: str = "fibromyalgia"
) -> tuple[tuple[Assumption, ...], dict[str, str]]:
    """Every numeric assumed value (status A) a run of ``design`` in ``condition`` reads, and the
    assumed values it does not read (or cannot vary), each with the reason.

    The sets a run reads are physiology, side effects, the condition, the diary and the
    outcomes. Left out, by the engine's rules: values documented but not used (``used: false``)
    or used only under other values (``used_when``); the segmental (head pain) values without a
    course of acute use; the skin-electrode channels without a non-invasive arm; adherence
    without a home-use device; FIQR outside fibromyalgia; side-effect weights and rates that
    are 0 (structural zeros: the fibre class does not drive the channel); and choices that are
    not numbers (fixed, reported as such).
    """
    home = any(generator(design.generator_for(a.name)).kind != "implanted" for a in design.arms)
    acute = any(
        design.protocol_for(a.name).stimulation.acute_stimulations_per_attack > 0
        for a in design.arms
    )
    sets = (
        ("physiology", "model"),
        ("side_effects", "model"),
        (f"conditions/{condition}", "model"),
        ("conditions/diary", "model"),
        ("outcomes", "outcomes"),
    )
    used: list[Assumption] = []
    left_out: dict[str, str] = {}
    for set_name, owner in sets:
        s = load_set(set_name)
        values = s.values()
        for p in s:
            if p.status != "A":
                continue
            where = f"{set_name}:{p.name}"
            leaf = p.name.rsplit(".", 1)[-1]
            reason = None
            if not p.used:
                reason = "documented, not used by the model"
            elif any(values.get(k) != v for k, v in p.used_when.items()):
                reason = f"used only when {p.used_when}"
            elif isinstance(p.value, bool) or not isinstance(p.value, int | float):
                reason = f"a choice ({p.value!r}), not a number: fixed"
            elif p.section == "segmental" and not acute:
                reason = "head pain of an acutely treated attack only (no course of acute use)"
            elif set_name == "side_effects" and p.name.split(".")[1] in SKIN_ONLY and not home:
                reason = "a skin-electrode channel (every arm is implanted)"
            elif set_name == "side_effects" and p.value == 0 and leaf.startswith(_STRUCTURAL_ZERO):
                reason = "a structural zero (the fibre class does not drive this channel)"
            elif leaf.startswith("adherence") and not home:
                reason = "adherence of a home-use device (none in this design)"
            elif leaf.startswith("fiqr") and condition != "fibromyalgia":
                reason = "the FIQR is asked in fibromyalgia only"
            if reason is not None or not isinstance(p.value, int | float):
                left_out[where] = reason or "not a number"
                continue
            used.append(
                Assumption(
                    key=_model_key(set_name, p.name),
                    set_name=set_name,
                    name=p.name,
                    owner=owner,  # type: ignore[arg-type]
                    value=float(p.value),
                    unit=p.unit,
                    range=p.range,
                )
            )
    return tuple(used), left_out


def ranged_assumptions(
    design: TrialDesign, condition: str = "fibromyalgia", endpoint: str | None = None
) -> tuple[Assumption, ...]:
    """The assumptions of :func:`trial_assumptions` that carry a range (those sampled).

    With ``endpoint``, the outcomes set's values are kept only for a questionnaire endpoint
    (every other endpoint is computed before the questionnaires: their indices are 0).

    Raises
    ------
    ValidationError
        No assumption of this trial has a range.
    """
    used, _ = trial_assumptions(design, condition)
    missing = [a.key for a in used if a.range is None]
    if missing:
        log.warning(
            "%d assumed values of %s have no range and stay fixed: %s",
            len(missing),
            condition,
            ", ".join(missing[:8]),
        )
    out = tuple(a for a in used if a.range is not None)
    if endpoint is not None and not endpoint.endswith(_OUTCOME_ENDPOINTS):
        out = tuple(a for a in out if a.owner != "outcomes")
    if not out:
        raise ValidationError(
            "condition", condition, "a condition whose assumed values carry ranges (fibromyalgia)"
        )
    return out


def scale(unit: FloatArray, assumptions: Sequence[Assumption]) -> FloatArray:
    """Unit-cube points mapped onto the ranges (uniform between ``low`` and ``high``)."""
    low = np.array([a.range.low for a in assumptions if a.range is not None])
    high = np.array([a.range.high for a in assumptions if a.range is not None])
    if low.shape[0] != len(assumptions):
        raise ValidationError("assumptions", "unranged", "assumptions that carry a range")
    return np.asarray(low + unit * (high - low), dtype=np.float64)


def apply_values(
    parameters: ModelParameters,
    outcomes: OutcomeParameters,
    assumptions: Sequence[Assumption],
    row: npt.ArrayLike,
) -> tuple[ModelParameters, OutcomeParameters]:
    """The parameter sets with the values of ``row`` (one per assumption) in place."""
    values = np.asarray(row, dtype=np.float64).reshape(-1)
    model = {
        a.key: float(v) for a, v in zip(assumptions, values, strict=True) if a.owner == "model"
    }
    out = {a.key: float(v) for a, v in zip(assumptions, values, strict=True) if a.owner != "model"}
    return (
        parameters.with_(**model) if model else parameters,
        outcomes.with_(**out) if out else outcomes,
    )
