"""Titration policies: how a protocol's current plan becomes a current per patient per day.

A policy is a plug-in (:class:`TitrationPolicy`) registered under a name
(:func:`register_policy`, :func:`get_policy`); the built-in ones match the stop rules of
:class:`~openvns.protocol.text.Titration`:

``"fixed"``
    :class:`FixedSchedule`: step every interval up to the target, the same for every patient.
``"tolerance"``
    :class:`ToTolerance`: step every interval until the patient reports an intolerable side
    effect, then one step back and hold. Closed loop (:meth:`ToTolerance.start`,
    :meth:`ToTolerance.advance`) for a runner that makes side effects from the current, and open
    loop (:meth:`ToTolerance.currents`) from given daily reports. Vectorised over patients.
``"device"``
    :class:`DeviceScheduled`: the fixed schedule, as the step list that
    :meth:`openvns.device.generator.PulseGenerator.schedule_titration` accepts.
``"relative"``
    :class:`RelativeToThreshold`: each patient's current from their sensory threshold (a
    :class:`~openvns.protocol.plans.RelativeCurrent` or the 0 mA of a
    :class:`~openvns.protocol.plans.SensationMatchedSham`), held every day.

Arrays are ``(n_patients, n_days)``; day 0 is the first day of stimulation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from openvns.device.programs import titration_steps
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError
from openvns.protocol.plans import RelativeCurrent, SensationMatchedSham
from openvns.protocol.text import ConstantCurrent, Protocol, Titration

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _days(n_days: int) -> int:
    if isinstance(n_days, bool) or not isinstance(n_days, int) or n_days < 0:
        raise ValidationError("n_days", n_days, "a whole number of days ≥ 0")
    return n_days


def _patients(n_patients: int) -> int:
    if isinstance(n_patients, bool) or not isinstance(n_patients, int) or n_patients < 0:
        raise ValidationError("n_patients", n_patients, "a whole number of patients ≥ 0")
    return n_patients


def _needs_thresholds(protocol: Protocol) -> ValidationError:
    return ValidationError(
        "threshold_mA",
        None,
        "each patient's sensory threshold in mA, shape (n,): the protocol's current "
        f"'{protocol.current}' is relative to it (policy 'relative')",
    )


def scheduled_currents_mA(protocol: Protocol, n_days: int) -> FloatArray:
    """Current on each day of the fixed schedule (shape ``(n_days,)``).

    A plan relative to the sensory threshold has no schedule common to all patients and is
    refused (use :class:`RelativeToThreshold`).
    """
    n = _days(n_days)
    c = protocol.current
    if isinstance(c, ConstantCurrent):
        return np.full(n, c.current_mA)
    if not isinstance(c, Titration):
        raise _needs_thresholds(protocol)
    steps = np.array(protocol.step_currents_mA())
    k = np.minimum(np.arange(n) // c.interval_days, steps.size - 1)
    out: FloatArray = steps[k]
    return out


class TitrationPolicy(ABC):
    """A way to turn a protocol into currents per patient per day."""

    #: Registry name (the protocol's stop rule it implements).
    name: ClassVar[str]

    @abstractmethod
    def currents(
        self,
        protocol: Protocol,
        n_patients: int,
        n_days: int,
        side_effects: npt.ArrayLike | None = None,
        *,
        threshold_mA: npt.ArrayLike | None = None,
    ) -> FloatArray:
        """Current in mA, shape ``(n_patients, n_days)``.

        ``side_effects`` (same shape; bool, or severity compared with the policy's threshold) is
        the daily side-effect report; policies that do not react to it ignore it.
        ``threshold_mA`` (shape ``(n_patients,)``) is each patient's sensory threshold, needed
        by plans relative to it and ignored by the others.
        """


_REGISTRY: dict[str, type[TitrationPolicy]] = {}

P = TypeVar("P", bound=type[TitrationPolicy])


def register_policy(cls: P) -> P:
    """Class decorator: register a policy under ``cls.name`` (a later one replaces it)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValidationError("name", name, "a non-empty policy name on the class")
    _REGISTRY[name] = cls
    return cls


def available_policies() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_policy(name: str) -> type[TitrationPolicy]:
    """The policy class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValidationError(
            "titration_policy", name, "one of " + ", ".join(available_policies())
        ) from None


def policy_for(protocol: Protocol) -> TitrationPolicy:
    """Default-constructed policy of the protocol's current plan: the titration's stop rule,
    ``fixed`` for a constant current, ``relative`` for a plan relative to the sensory
    threshold."""
    c = protocol.current
    if isinstance(c, Titration):
        return get_policy(c.rule)()
    return get_policy("fixed" if isinstance(c, ConstantCurrent) else "relative")()


@register_policy
class FixedSchedule(TitrationPolicy):
    """Step every interval up to the target, regardless of side effects."""

    name: ClassVar[str] = "fixed"

    def currents(
        self,
        protocol: Protocol,
        n_patients: int,
        n_days: int,
        side_effects: npt.ArrayLike | None = None,
        *,
        threshold_mA: npt.ArrayLike | None = None,
    ) -> FloatArray:
        row = scheduled_currents_mA(protocol, n_days)
        return np.broadcast_to(row, (_patients(n_patients), row.size)).copy()


class ToleranceState:
    """Per-patient state of :class:`ToTolerance` (arrays of length ``n_patients``)."""

    __slots__ = ("current_mA", "held", "reached_max")

    def __init__(self, current_mA: FloatArray) -> None:
        self.current_mA = current_mA
        #: titration stopped by an intolerable report
        self.held = np.zeros(current_mA.shape, dtype=bool)
        #: titration finished at the ceiling
        self.reached_max = np.zeros(current_mA.shape, dtype=bool)


@register_policy
class ToTolerance(TitrationPolicy):
    """Step up until an intolerable side effect is reported, then one step back and hold.

    Parameters
    ----------
    threshold
        A report counts as intolerable when it is ``True`` or a severity ≥ ``threshold``.
    """

    name: ClassVar[str] = "tolerance"

    def __init__(self, threshold: float = 1.0) -> None:
        if isinstance(threshold, bool) or not np.isfinite(threshold) or threshold <= 0:
            raise ValidationError("threshold", threshold, "a finite severity > 0")
        self.threshold = float(threshold)

    @staticmethod
    def _titration(protocol: Protocol) -> Titration:
        c = protocol.current
        if isinstance(c, ConstantCurrent):
            # a constant current is a titration that starts at its target
            return Titration(
                start_mA=c.current_mA, step_mA=1.0, interval_days=1, max_mA=c.current_mA
            )
        if not isinstance(c, Titration):
            raise ValidationError(
                "protocol.current", str(c), "a constant or titrated current for 'tolerance'"
            )
        return c

    def start(self, protocol: Protocol, n_patients: int) -> ToleranceState:
        t = self._titration(protocol)
        state = ToleranceState(np.full(_patients(n_patients), t.start_mA))
        state.reached_max |= state.current_mA >= t.max_mA
        return state

    def advance(
        self, protocol: Protocol, state: ToleranceState, day: int, report: npt.ArrayLike
    ) -> FloatArray:
        """Update ``state`` with the reports of ``day`` (made at ``state.current_mA``).

        Returns the current for ``day + 1``.
        """
        t = self._titration(protocol)
        bad = np.asarray(report, dtype=float) >= self.threshold
        if bad.shape != state.current_mA.shape:
            raise ValidationError(
                "report", bad.shape, f"one report per patient, shape {state.current_mA.shape}"
            )
        back_off = bad & ~state.held
        state.current_mA = np.where(
            back_off, np.maximum(state.current_mA - t.step_mA, 0.0), state.current_mA
        )
        state.held |= back_off
        if (day + 1) % t.interval_days == 0:
            up = ~state.held & ~state.reached_max
            state.current_mA = np.where(
                up, np.minimum(state.current_mA + t.step_mA, t.max_mA), state.current_mA
            )
            state.reached_max |= state.current_mA >= t.max_mA
        return state.current_mA

    def currents(
        self,
        protocol: Protocol,
        n_patients: int,
        n_days: int,
        side_effects: npt.ArrayLike | None = None,
        *,
        threshold_mA: npt.ArrayLike | None = None,
    ) -> FloatArray:
        n, d = _patients(n_patients), _days(n_days)
        reports = (
            np.zeros((n, d)) if side_effects is None else np.asarray(side_effects, dtype=float)
        )
        if reports.shape != (n, d):
            raise ValidationError(
                "side_effects", reports.shape, f"an array of shape {(n, d)} (patients, days)"
            )
        out = np.empty((n, d))
        state = self.start(protocol, n)
        for day in range(d):
            out[:, day] = state.current_mA
            self.advance(protocol, state, day, reports[:, day])
        return out


@register_policy
class DeviceScheduled(FixedSchedule):
    """The fixed schedule, programmed into the generator's Scheduled Programming."""

    name: ClassVar[str] = "device"

    def initial_settings(self, protocol: Protocol) -> StimulationSettings:
        """Settings to program by hand on day 0 (the first current)."""
        return protocol.settings_at(protocol.step_currents_mA()[0])

    def steps(
        self, protocol: Protocol, start: datetime
    ) -> list[tuple[datetime, StimulationSettings]]:
        """Steps after day 0, in the form ``PulseGenerator.schedule_titration`` accepts.

        :func:`openvns.device.programs.titration_steps` of the protocol, less the first step.
        """
        c = protocol.current
        if not isinstance(c, Titration):
            return []
        target = protocol.settings_at(c.max_mA)
        return titration_steps(target, c.start_mA, c.step_mA, c.interval_days, start)[1:]


@register_policy
class RelativeToThreshold(TitrationPolicy):
    """Each patient's current from their sensory threshold, the same every day.

    Parameters
    ----------
    step_mA
        The device's current step: currents are rounded down to it (``None``: exact).
    """

    name: ClassVar[str] = "relative"

    def __init__(self, step_mA: float | None = None) -> None:
        if step_mA is not None and (
            isinstance(step_mA, bool) or not np.isfinite(step_mA) or step_mA <= 0
        ):
            raise ValidationError("step_mA", step_mA, "a finite current step > 0 mA, or None")
        self.step_mA = step_mA

    def patient_currents_mA(self, protocol: Protocol, threshold_mA: npt.ArrayLike) -> FloatArray:
        """Each patient's maintained current, shape ``(n,)``, from thresholds ``(n,)`` in mA.

        A :class:`~openvns.protocol.plans.RelativeCurrent` gives ``min(k × threshold, max)``; a
        :class:`~openvns.protocol.plans.SensationMatchedSham` 0 mA (its ramp to the threshold is
        :meth:`~openvns.protocol.plans.SensationMatchedSham.ramp_peak_mA`); a constant current
        the same for everyone.
        """
        c = protocol.current
        if isinstance(c, RelativeCurrent):
            return c.currents_mA(threshold_mA, step_mA=self.step_mA)
        if isinstance(c, SensationMatchedSham):
            return c.currents_mA(threshold_mA)
        if isinstance(c, ConstantCurrent):
            return np.full(np.shape(threshold_mA), c.current_mA)
        raise ValidationError(
            "protocol.current", str(c), "a current relative to the sensory threshold or constant"
        )

    def currents(
        self,
        protocol: Protocol,
        n_patients: int,
        n_days: int,
        side_effects: npt.ArrayLike | None = None,
        *,
        threshold_mA: npt.ArrayLike | None = None,
    ) -> FloatArray:
        n, d = _patients(n_patients), _days(n_days)
        if threshold_mA is None:
            raise _needs_thresholds(protocol)
        per_patient = self.patient_currents_mA(protocol, threshold_mA)
        if per_patient.shape != (n,):
            raise ValidationError(
                "threshold_mA", per_patient.shape, f"one threshold per patient, shape {(n,)}"
            )
        return np.repeat(per_patient[:, None], d, axis=1)


PolicyFactory = Callable[[], TitrationPolicy]

__all__ = [
    "DeviceScheduled",
    "FixedSchedule",
    "PolicyFactory",
    "RelativeToThreshold",
    "TitrationPolicy",
    "ToTolerance",
    "ToleranceState",
    "available_policies",
    "get_policy",
    "policy_for",
    "register_policy",
    "scheduled_currents_mA",
]
