"""Stimulation parameters of a protocol other than the current, and their daily exposure.

A :class:`Stimulation` has a frequency, a pulse width and one schedule (its ``pattern``):

``"cycled"``
    ``"30 s on / 5 min off"`` — trains of ON time every ON + OFF (implanted VNS, taVNS 30 s/30 s).
``"continuous"``
    ``"continuous"`` — pulses without pause (Parasym, IB-Stim).
``"exhalation-gated"``
    ``"exhalation-gated"`` — a short train in each exhalation (RAVANS); its train length and the
    breathing rate are the sourced constants of ``data/dosing.yaml``.
``"doses"``
    ``"2 x 120 s doses, 3 times a day"`` — prophylactic doses of a dose-based device (gammaCore).
``"acute-only"``
    no scheduled stimulation, only ``"at attack onset: 3 x 120 s"``.

Acute use at attack onset (:class:`AcuteUse`) may come alone or on top of prophylactic doses (as
in PREVA). Cycled, continuous and exhalation-gated schedules may run for ``"<h> h per day"``.

For the engine: :attr:`Stimulation.exposure_hours_per_day` (hours of the day the schedule runs),
:meth:`Stimulation.duty_cycle` (fraction of that time a train is delivered) and
:attr:`Stimulation.acute_stimulations_per_attack`. Every pattern also keeps an equivalent
``on_time_s`` / ``off_time_min`` (doses evenly spread over the day, one train per breath), so a
minute-by-minute schedule and the device settings follow from the same two numbers.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import model_validator

from openvns.base import FrozenModel
from openvns.device import dose
from openvns.errors import ValidationError
from openvns.protocol.plans import dosing_defaults
from openvns.protocol.syntax import QTY, TIMES, fmt, nonneg, positive, quantity, whole

Pattern = Literal["cycled", "continuous", "exhalation-gated", "doses", "acute-only"]

#: Allowed schedule clauses (the ``duty cycle`` clause of a protocol), quoted in parse errors.
SCHEDULE_FORMS = (
    "'<t> s on / <t> min off', 'continuous', 'exhalation-gated' or "
    "'<n> x <t> s doses, <k> times a day' (or only 'at attack onset: <n> x <t> s')"
)
ACUTE_FORM = "'at attack onset: <n> x <t> s' (with doses or alone)"

SECONDS_PER_DAY = 86_400.0


def _times_a_day(n: int) -> str:
    return {1: "once a day", 2: "twice a day"}.get(n, f"{n} times a day")


class Doses(FrozenModel):
    """Prophylactic doses: ``per_session`` doses of ``dose_s`` each, ``sessions_per_day`` times
    a day (``"2 x 120 s doses, 3 times a day"``)."""

    per_session: int
    dose_s: float
    sessions_per_day: int

    @model_validator(mode="after")
    def _valid(self) -> Doses:
        whole("per_session", self.per_session)
        whole("sessions_per_day", self.sessions_per_day)
        positive("dose_s", self.dose_s)
        if self.doses_per_day * self.dose_s > SECONDS_PER_DAY:
            raise ValidationError(
                "dose_s", self.dose_s, "doses that fit in a day (doses a day × length ≤ 24 h)"
            )
        return self

    @property
    def doses_per_day(self) -> int:
        return self.per_session * self.sessions_per_day

    @property
    def exposure_s_per_day(self) -> float:
        """Stimulation time a day: doses × length, in s."""
        return self.doses_per_day * self.dose_s

    def __str__(self) -> str:
        noun = "dose" if self.per_session == 1 else "doses"
        return (
            f"{self.per_session} x {fmt(self.dose_s)} s {noun}, "
            f"{_times_a_day(self.sessions_per_day)}"
        )


class AcuteUse(FrozenModel):
    """Stimulations at the onset of each attack (``"at attack onset: 3 x 120 s"``)."""

    stimulations: int
    dose_s: float

    @model_validator(mode="after")
    def _valid(self) -> AcuteUse:
        whole("stimulations", self.stimulations)
        positive("dose_s", self.dose_s)
        return self

    def __str__(self) -> str:
        return f"at attack onset: {self.stimulations} x {fmt(self.dose_s)} s"


class Stimulation(FrozenModel):
    """Stimulation parameters other than the current.

    Attributes
    ----------
    frequency_Hz, pulse_width_us
        Pulse (or burst) frequency and pulse width.
    on_time_s, off_time_min
        The ON/OFF cycle. Given for ``"cycled"``; derived for the other patterns (continuous:
        ``continuous_on_time_s`` on, 0 off; exhalation-gated: one train per breath; doses: the
        day's doses evenly spread; acute-only: 0 and 0).
    hours_per_day
        Hours a day the schedule runs (0 < h ≤ 24; 24 for doses and acute use).
    pattern
        The schedule (:data:`Pattern`); inferred from ``doses``/``acute`` when not given.
    doses
        Prophylactic doses (pattern ``"doses"``).
    acute
        Stimulations at each attack's onset (with doses or alone).
    """

    frequency_Hz: float
    pulse_width_us: float
    on_time_s: float = math.nan
    off_time_min: float = math.nan
    hours_per_day: float = 24.0
    pattern: Pattern = "cycled"
    doses: Doses | None = None
    acute: AcuteUse | None = None

    @model_validator(mode="after")
    def _valid(self) -> Stimulation:
        for name in ("frequency_Hz", "pulse_width_us"):
            nonneg(name, getattr(self, name))
        if "pattern" not in self.model_fields_set:
            inferred: Pattern = self.pattern
            if self.doses is not None:
                inferred = "doses"
            elif self.acute is not None and math.isnan(self.on_time_s):
                inferred = "acute-only"
            object.__setattr__(self, "pattern", inferred)
        self._check_parts()
        h = self.hours_per_day
        if not (math.isfinite(h) and 0.0 < h <= 24.0):
            raise ValidationError("hours_per_day", h, "hours of stimulation a day, 0 < h ≤ 24")
        if self.pattern in ("doses", "acute-only") and h != 24.0:
            raise ValidationError(
                "hours_per_day",
                h,
                "24 (not written) with doses or acute use: they set the exposure",
            )
        if self.pattern == "cycled":
            for name in ("on_time_s", "off_time_min"):
                nonneg(name, getattr(self, name))
            return self
        on, off = self._derived_cycle()
        for name, derived in (("on_time_s", on), ("off_time_min", off)):
            given = getattr(self, name)
            if not math.isnan(given) and not math.isclose(given, derived, rel_tol=1e-9):
                raise ValidationError(
                    name, given, f"{fmt(derived)} for a {self.pattern} schedule (leave it out)"
                )
            object.__setattr__(self, name, derived)
        return self

    def _check_parts(self) -> None:
        if (self.pattern == "doses") != (self.doses is not None):
            raise ValidationError(
                "doses", str(self.doses), "doses exactly when the pattern is 'doses'"
            )
        if self.acute is not None and self.pattern not in ("doses", "acute-only"):
            raise ValidationError(
                "acute", str(self.acute), f"acute use with doses or alone, not {self.pattern}"
            )
        if self.pattern == "acute-only" and self.acute is None:
            raise ValidationError("acute", None, f"an acute-use clause: {ACUTE_FORM}")
        if (
            self.acute is not None
            and self.doses is not None
            and self.acute.dose_s != self.doses.dose_s
        ):
            raise ValidationError(
                "acute.dose_s",
                self.acute.dose_s,
                f"the prophylactic dose length, {fmt(self.doses.dose_s)} s (one device)",
            )

    def _derived_cycle(self) -> tuple[float, float]:
        """``(on_time_s, off_time_min)`` that the pattern stands for."""
        d = dosing_defaults()
        if self.pattern == "continuous":
            return d["continuous_on_time_s"], 0.0
        if self.pattern == "exhalation-gated":
            train = d["exhalation_train_s"]
            breath_s = 60.0 / d["breathing_rate_per_min"]
            return train, max(breath_s - train, 0.0) / 60.0
        if self.pattern == "doses":
            assert self.doses is not None
            return self.doses.dose_s, _spacing_min(self.doses.doses_per_day, self.doses.dose_s)
        return 0.0, 0.0  # acute-only: nothing scheduled

    # -- exposure (what the engine needs) -----------------------------------------------
    @property
    def exposure_hours_per_day(self) -> float:
        """Hours a day the schedule runs: ``hours_per_day`` for cycled, continuous and
        exhalation-gated schedules; doses × length for doses; 0 for acute use alone."""
        if self.pattern == "doses":
            assert self.doses is not None
            return self.doses.exposure_s_per_day / 3600.0
        if self.pattern == "acute-only":
            return 0.0
        return self.hours_per_day

    def duty_cycle(self, ramp_s: float = 0.0) -> float:
        """Fraction of the exposure during which a train is delivered (0–1).

        Cycled: ``(ON + 2 ramp) / (ON + OFF)``; continuous: 1; exhalation-gated: train × breaths
        a minute / 60 s; doses: 1 (each dose is stimulation throughout); acute use alone: 0.
        """
        if self.pattern == "doses":
            return 1.0
        if self.pattern == "acute-only":
            return 0.0
        return dose.duty_cycle(self.on_time_s, self.off_time_min, ramp_s)

    def mean_on_fraction(self, ramp_s: float = 0.0) -> float:
        """Fraction of the whole day with a train: ``exposure / 24 h × duty cycle``."""
        return self.exposure_hours_per_day / 24.0 * self.duty_cycle(ramp_s)

    @property
    def doses_per_day(self) -> int:
        """Prophylactic doses a day (0 without doses)."""
        return 0 if self.doses is None else self.doses.doses_per_day

    @property
    def acute_stimulations_per_attack(self) -> int:
        """Stimulations given at each attack's onset (0 without acute use)."""
        return 0 if self.acute is None else self.acute.stimulations

    @property
    def acute_dose_s(self) -> float:
        """Length of one acute stimulation, in s (0 without acute use)."""
        return 0.0 if self.acute is None else self.acute.dose_s

    def stimulations_per_day(self, attacks_per_day: float = 0.0) -> float:
        """Doses a day plus the acute stimulations of ``attacks_per_day`` attacks."""
        if not math.isfinite(attacks_per_day) or attacks_per_day < 0:
            raise ValidationError("attacks_per_day", attacks_per_day, "a finite number ≥ 0")
        return self.doses_per_day + self.acute_stimulations_per_attack * attacks_per_day

    def device_cycle(self) -> tuple[float, float]:
        """``(on_time_s, off_time_min)`` for the device settings and their check.

        A dose-based protocol is checked as evenly spaced stimulations: its daily doses plus
        one attack's acute stimulations (the least a patient with attacks uses a day).
        """
        if self.pattern not in ("doses", "acute-only"):
            return self.on_time_s, self.off_time_min
        n = self.stimulations_per_day(1.0)
        length = self.doses.dose_s if self.doses is not None else self.acute_dose_s
        return length, _spacing_min(n, length)

    # -- text -----------------------------------------------------------------------------
    def schedule_clause(self) -> str | None:
        """The schedule's clause (``None`` for acute use alone)."""
        if self.pattern == "cycled":
            return f"{fmt(self.on_time_s)} s on / {fmt(self.off_time_min)} min off"
        if self.pattern == "doses":
            return str(self.doses)
        if self.pattern == "acute-only":
            return None
        return self.pattern

    def clauses(self) -> list[str]:
        out = [f"{fmt(self.frequency_Hz)} Hz", f"{fmt(self.pulse_width_us)} us"]
        schedule = self.schedule_clause()
        if schedule is not None:
            out.append(schedule)
        if self.acute is not None:
            out.append(str(self.acute))
        if self.hours_per_day != 24.0:
            out.append(f"{fmt(self.hours_per_day)} h per day")
        return out


def _spacing_min(n_per_day: float, length_s: float) -> float:
    """OFF time between ``n_per_day`` evenly spaced trains of ``length_s``, in min."""
    return max(SECONDS_PER_DAY / n_per_day - length_s, 0.0) / 60.0


# ------------------------------------------------------------------------------- parsing
_DUTY_RE = re.compile(rf"^{QTY}\s+on\s*/\s*{QTY}\s+off$", re.I)
_DOSES_RE = re.compile(
    rf"^(\d+){TIMES}{QTY}\s+doses?\s*,\s*(once|twice|\d+\s+times)\s+(?:a|per)\s+day$", re.I
)
_ACUTE_RE = re.compile(rf"^at\s+(?:attack\s+)?onset\s*:\s*(\d+){TIMES}{QTY}$", re.I)
_WORDS = {"continuous": "continuous", "exhalation-gated": "exhalation-gated"}


def parse_schedule(clause: str) -> tuple[Pattern, float, float, Doses | None] | None:
    """``(pattern, on_time_s, off_time_min, doses)`` of a schedule clause, or ``None``.

    ``on_time_s``/``off_time_min`` are NaN where the pattern derives them.
    """
    if m := _DUTY_RE.match(clause):
        on = quantity(m[1], m[2] or "s", "s", clause="duty cycle", text=clause)
        off = quantity(m[3], m[4] or "min", "min", clause="duty cycle", text=clause)
        return "cycled", on, off, None
    word = clause.lower().replace(" ", "-")
    if word in _WORDS:
        pattern: Pattern = "continuous" if word == "continuous" else "exhalation-gated"
        return pattern, math.nan, math.nan, None
    if m := _DOSES_RE.match(clause):
        length = quantity(m[2], m[3] or "s", "s", clause="duty cycle", text=clause)
        times = m[4].lower()
        sessions = {"once": 1, "twice": 2}.get(times) or int(times.split()[0])
        doses = Doses(per_session=int(m[1]), dose_s=length, sessions_per_day=sessions)
        return "doses", math.nan, math.nan, doses
    return None


def parse_acute(clause: str) -> AcuteUse | None:
    """The acute use written in ``clause`` (``"at attack onset: 3 x 120 s"``), or ``None``."""
    if m := _ACUTE_RE.match(clause):
        length = quantity(m[2], m[3] or "s", "s", clause="acute", text=clause)
        return AcuteUse(stimulations=int(m[1]), dose_s=length)
    return None


__all__ = [
    "ACUTE_FORM",
    "SCHEDULE_FORMS",
    "AcuteUse",
    "Doses",
    "Pattern",
    "Stimulation",
    "parse_acute",
    "parse_schedule",
]
