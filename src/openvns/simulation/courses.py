"""Courses of stimulation and the titration controllers that run them, with their decisions.

A :class:`Course` is one protocol given through one device (generator and lead) to some of the
patients of a run, over a range of treatment days (day 0 is the first day after the baseline).
A trial arm is a course; an open-label extension is a second course that starts where the
blinded phase ends. A :class:`Controller` turns a course's titration policy into each patient's
programmed current per day and records every change with its reason as a decision code
(:data:`DECISIONS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openvns.device import catalogue
from openvns.device.dose import duty_cycle
from openvns.errors import ValidationError
from openvns.protocol.text import Protocol
from openvns.protocol.titration import TitrationPolicy, ToleranceState, ToTolerance, policy_for

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]

#: ``recruitment(current_mA (n,), pulse_width_us) -> (n, len(GROUPS))`` recruited fractions.
Recruitment = Callable[[FloatArray, float], FloatArray]

#: Titration decision codes per patient and day (0: nothing changed), and what they mean.
DECISIONS: dict[int, str] = {
    0: "none",
    1: "start",
    2: "step up",
    3: "step up to the maximum",
    4: "back off and hold",
    5: "device off (dropped out)",
}
NONE, START, STEP_UP, REACHED_MAX, BACK_OFF, DEVICE_OFF = range(6)

__all__ = [
    "BACK_OFF",
    "DECISIONS",
    "DEVICE_OFF",
    "NONE",
    "REACHED_MAX",
    "START",
    "STEP_UP",
    "Controller",
    "Course",
    "Recruitment",
    "check_implanted",
]


def check_implanted(generator: str) -> catalogue.GeneratorModel:
    """The catalogue generator, refused unless it is an implanted cervical stimulator.

    The recruitment tables model the helical cuff on the cervical vagus; a non-invasive
    cervical or auricular device would be run through the cuff's table and recruit fibres it
    cannot reach, so it is refused until those devices get their own field and recruitment.
    """
    gen = catalogue.generator(generator)
    if gen.kind != "implanted":
        raise ValidationError(
            "generator",
            generator,
            "an implanted generator (the helical-cuff recruitment tables model the cuff only; "
            f"{gen.id} is {gen.kind.replace('_', ' ')}, which has no recruitment model yet)",
        )
    return gen


@dataclass(frozen=True)
class Course:
    """One protocol, through one device, for the patients in ``mask``, on treatment days
    ``start_day <= t < end_day``.

    Attributes
    ----------
    protocol
        The stimulation protocol (current plan and the other settings).
    mask
        ``(n,)`` which patients of the run receive it.
    start_day, end_day
        Treatment days (0 = first day after the baseline) the course covers.
    recruitment
        Recruited fractions of the device's lead (``recruitment(I / θ, pulse_width_us)``).
    ramp_s
        The generator's ramp-up (and ramp-down) per train, in s: the delivered duty cycle is
        the device's own, ramps included (:func:`openvns.device.dose.duty_cycle`).
    expectation
        Multiplier on each patient's expectation (placebo) fraction while the course runs: what
        the patient is told and sees (``None``: a device, active or sham — the diary's
        ``sham_device_placebo_multiplier``; 1: a pill-like expectation; 0: none, e.g. an
        untreated control). The diary follows a change smoothly (two first-order stages).
    implanted
        Whether the course's patients had an operation (post-operative side effects); false for
        a pill or an untreated control.
    """

    protocol: Protocol
    mask: BoolArray
    start_day: int
    end_day: int
    recruitment: Recruitment
    ramp_s: float = 0.0
    expectation: float | None = None
    implanted: bool = True

    def __post_init__(self) -> None:
        if self.expectation is not None and not (
            np.isfinite(self.expectation) and self.expectation >= 0
        ):
            raise ValidationError("expectation", self.expectation, "a finite multiplier ≥ 0")

    @property
    def duty_cycle(self) -> float:
        s = self.protocol.stimulation
        return duty_cycle(s.on_time_s, s.off_time_min, self.ramp_s)


class Controller:
    """A course's titration for its patients: the current per day and each decision."""

    def __init__(self, course: Course) -> None:
        self.course = course
        self.mask = course.mask
        self.policy: TitrationPolicy = policy_for(course.protocol)
        n = int(course.mask.sum())
        self.state: ToleranceState | None = None
        self.plan: FloatArray | None = None
        if isinstance(self.policy, ToTolerance):
            self.state = self.policy.start(course.protocol, n)
        else:
            days = max(course.end_day - course.start_day, 0)
            self.plan = self.policy.currents(course.protocol, n, days)
        s = course.protocol.stimulation
        self.frequency_Hz = s.frequency_Hz
        self.pulse_width_us = s.pulse_width_us
        self.duty = course.duty_cycle
        self.hours_per_day = s.hours_per_day
        self._any = bool(course.mask.any())

    def active(self, t: int) -> bool:
        """Whether the course runs on treatment day ``t`` for any patient."""
        return self.course.start_day <= t < self.course.end_day and self._any

    def current(self, t: int) -> FloatArray:
        """Programmed current of the course's patients on treatment day ``t``, in mA."""
        if self.state is not None:
            return np.asarray(self.state.current_mA, dtype=np.float64)
        assert self.plan is not None
        return self.plan[:, t - self.course.start_day]

    def report(self, t: int, severity: FloatArray) -> None:
        """Give the titration the day's intolerance severity (``(n,)`` of the whole run)."""
        if self.state is not None:
            assert isinstance(self.policy, ToTolerance)
            self.policy.advance(self.course.protocol, self.state, t - self.course.start_day,
                                severity[self.mask])  # fmt: skip

    def decisions(self, t: int, before: FloatArray, after: FloatArray) -> Int8Array:
        """Decision codes of day ``t`` for the course's patients from the current before and
        after the day's titration step (``before`` is day ``t − 1``'s, NaN on the first day)."""
        top = self.course.protocol.max_current_mA
        code = np.zeros(before.shape, dtype=np.int8)
        if t == self.course.start_day:
            code[:] = START
            return code
        code[after > before] = STEP_UP
        code[(after > before) & (after >= top)] = REACHED_MAX
        code[after < before] = BACK_OFF
        return code
