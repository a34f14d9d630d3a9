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
from openvns.errors import ValidationError
from openvns.protocol.plans import SensationMatchedSham
from openvns.protocol.text import Protocol
from openvns.protocol.titration import (
    RelativeToThreshold,
    TitrationPolicy,
    ToleranceState,
    ToTolerance,
    policy_for,
)

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
    "MODELLED_SITES",
    "NONE",
    "REACHED_MAX",
    "START",
    "STEP_UP",
    "Controller",
    "Course",
    "Recruitment",
    "check_implanted",
    "check_modelled",
]

#: Electrode sites with a field and recruitment model: the helical cuff on the cervical vagus,
#: the gammaCore contacts on the neck and the auricular skin electrodes (cymba conchae, tragus,
#: earlobe). Percutaneous needles (IB-Stim) have none.
MODELLED_SITES: frozenset[str] = frozenset(
    {"cervical_vagus", "neck", "cymba_conchae", "tragus", "earlobe"}
)


def _modelled(lead: catalogue.LeadModel) -> bool:
    if lead.kind == "helical":
        return True
    return lead.kind == "skin" and lead.site in MODELLED_SITES


def check_modelled(generator: str, lead: str | None = None) -> catalogue.GeneratorModel:
    """The catalogue generator, refused unless its lead has a recruitment model.

    Parameters
    ----------
    generator
        Catalogue id or name of the generator or non-invasive device.
    lead
        The lead or electrode used (id or alias); ``None`` takes the generator's default lead.

    Raises
    ------
    ValidationError
        An unknown generator or lead (field ``generator``/``lead``), or a lead without a field
        and recruitment model: only helical cuffs and the skin electrodes at the sites of
        :data:`MODELLED_SITES` have one (field ``lead`` when a lead was named, else
        ``generator``).
    """
    cat = catalogue.default_catalogue()
    gen = cat.generator(generator)
    chosen = cat.lead(lead) if lead is not None else cat.default_lead(gen)
    if not _modelled(chosen):
        sites = ", ".join(sorted(MODELLED_SITES))
        raise ValidationError(
            "lead" if lead is not None else "generator",
            lead if lead is not None else generator,
            f"a device whose lead has a recruitment model (a helical cuff, or a skin electrode "
            f"at {sites}); {gen.id} with {chosen.id} ({chosen.kind} at "
            f"{chosen.site or 'an unknown site'}) has none",
        )
    return gen


def check_implanted(generator: str) -> catalogue.GeneratorModel:
    """Former name of :func:`check_modelled` (default lead), kept for its remaining callers."""
    return check_modelled(generator)


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
        a pill, an untreated control or a non-invasive device.
    home_use
        A device the patient applies at home (non-invasive): the daily exposure is scaled by
        each patient's adherence (:func:`openvns.patients.adherence.adherence`).
    threshold_mA
        ``(n,)`` each patient's sensory threshold at the course's electrode, in mA, for a
        protocol dosed relative to it (``"1.5 x sensory threshold, max 10.0 mA"``, the
        sensation-matched sham); ``None`` otherwise. Only the entries of ``mask`` are read.
    current_step_mA
        The device's current step: relative currents are rounded down to it (``None``: exact).
    """

    protocol: Protocol
    mask: BoolArray
    start_day: int
    end_day: int
    recruitment: Recruitment
    ramp_s: float = 0.0
    expectation: float | None = None
    implanted: bool = True
    threshold_mA: FloatArray | None = None
    current_step_mA: float | None = None
    home_use: bool = False

    def __post_init__(self) -> None:
        if self.expectation is not None and not (
            np.isfinite(self.expectation) and self.expectation >= 0
        ):
            raise ValidationError("expectation", self.expectation, "a finite multiplier ≥ 0")
        if self.threshold_mA is None:  # the engine gives it from the electrode when needed
            return
        thr = np.asarray(self.threshold_mA, dtype=np.float64)
        if thr.shape != np.shape(self.mask):
            raise ValidationError(
                "threshold_mA", thr.shape, f"one threshold per patient, shape {np.shape(self.mask)}"
            )
        if not np.all(np.isfinite(thr[self.mask])) or np.any(thr[self.mask] < 0):
            raise ValidationError(
                "threshold_mA", "non-finite or negative", "finite sensory thresholds ≥ 0 mA"
            )

    @property
    def duty_cycle(self) -> float:
        """Fraction of the exposure with a train, ramps included (see
        :meth:`~openvns.protocol.stimulation.Stimulation.duty_cycle`)."""
        return self.protocol.stimulation.duty_cycle(self.ramp_s)

    @property
    def exposure_hours_per_day(self) -> float:
        """Hours a day the course's schedule runs (doses: doses × length)."""
        return self.protocol.stimulation.exposure_hours_per_day


class Controller:
    """A course's titration for its patients: the current per day and each decision."""

    def __init__(self, course: Course) -> None:
        self.course = course
        self.mask = course.mask
        protocol = course.protocol
        self.policy: TitrationPolicy = (
            RelativeToThreshold(step_mA=course.current_step_mA)
            if protocol.relative_to_threshold
            else policy_for(protocol)
        )
        n = int(course.mask.sum())
        thr = None if course.threshold_mA is None else np.asarray(course.threshold_mA)[self.mask]
        self.state: ToleranceState | None = None
        self.plan: FloatArray | None = None
        if isinstance(self.policy, ToTolerance):
            self.state = self.policy.start(protocol, n)
        else:
            days = max(course.end_day - course.start_day, 0)
            self.plan = self.policy.currents(protocol, n, days, threshold_mA=thr)
        s = protocol.stimulation
        self.frequency_Hz = s.frequency_Hz
        self.pulse_width_us = s.pulse_width_us
        #: fraction of the exposure with a train, and the exposure in hours a day
        self.duty = course.duty_cycle
        self.hours_per_day = s.exposure_hours_per_day
        #: stimulations (and their length, s) at each attack's onset; 0 without acute use
        self.acute_stimulations_per_attack = s.acute_stimulations_per_attack
        self.acute_dose_s = s.acute_dose_s
        #: sensation-matched sham: each patient's ramp peak (their threshold, mA) and its length
        self.sham_ramp_peak_mA: FloatArray | None = None
        self.sham_ramp_s = 0.0
        if isinstance(protocol.current, SensationMatchedSham) and thr is not None:
            self.sham_ramp_peak_mA = protocol.current.ramp_peak_mA(thr)
            self.sham_ramp_s = protocol.current.ramp_s
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
