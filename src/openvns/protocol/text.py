"""Stimulation protocols as typed steps with a string form that round-trips.

A :class:`Protocol` is a frozen value made of

* a current plan (:mod:`openvns.protocol.plans`): a constant current (``"1.5 mA"``), a titration
  (``"titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA"``), a multiple of
  each patient's sensory threshold (``"1.5 x sensory threshold, max 10.0 mA"``) or a
  sensation-matched sham (``"sensation-matched sham, 30 s ramp"``),
* the other stimulation parameters (:class:`~openvns.protocol.stimulation.Stimulation`:
  ``"20 Hz; 250 us; 30 s on / 5 min off"``; the schedule may instead be ``"continuous"``,
  ``"exhalation-gated"`` or ``"2 x 120 s doses, 3 times a day"``),
* optional acute use at attack onset (``"at attack onset: 3 x 120 s"``, with doses or alone),
* optional hours of stimulation a day (``"4 h per day"``; 24 when absent, the clause is then not
  written),
* optional phase lengths (``"baseline 28 days; blinded 84 days; open-label 280 days"``).

The canonical text joins the clauses with ``"; "`` in that order; ``Protocol.parse(str(p)) ==
p`` for every protocol and ``str(Protocol.parse(s)) == s`` for every canonical string. The parser
also accepts other units (``"0.25 ms"``, ``"300 s off"``, ``"2 x 2 min doses"``) through
:func:`openvns.units.parse_quantity`; such text parses but is printed back in canonical units.

Titration stop rules
--------------------
``"to tolerance, max M mA"``
    Step up until the patient reports an intolerable side effect, then one step back and hold;
    never above ``M`` (policy ``"tolerance"``).
``"to M mA"``
    A fixed schedule up to the target ``M`` (policy ``"fixed"``).
``"to M mA, device-scheduled"``
    The same schedule, programmed once into the generator's Scheduled Programming (policy
    ``"device"``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from pydantic import model_validator

from openvns.base import FrozenModel
from openvns.device import safety
from openvns.device.catalogue import GeneratorModel, LeadModel, default_catalogue
from openvns.device.programs import titration_currents_mA
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError
from openvns.protocol.plans import (
    CURRENT_FORMS,
    ConstantCurrent,
    CurrentPlan,
    RelativeCurrent,
    SensationMatchedSham,
    StopRule,
    Titration,
    parse_current,
)
from openvns.protocol.stimulation import (
    ACUTE_FORM,
    SCHEDULE_FORMS,
    AcuteUse,
    Doses,
    Stimulation,
    parse_acute,
    parse_schedule,
)
from openvns.protocol.syntax import NUM, QTY, ProtocolSyntaxError, quantity, unwrap

#: The standard implanted-VNS titration (reference device_and_clinic §1.5: 0.25 mA about every
#: two weeks to the highest tolerated current; 20 Hz, 250 µs, 30 s on / 5 min off).
STANDARD_TITRATION = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)

#: Allowed clause forms, quoted in parse errors.
CLAUSE_FORMS: dict[str, str] = {
    "current": CURRENT_FORMS,
    "frequency": "'<f> Hz'",
    "pulse width": "'<w> us'",
    "duty cycle": SCHEDULE_FORMS,
    "acute": ACUTE_FORM,
    "hours": "'<h> h per day' (0 < h ≤ 24; 24 when absent; not with doses or acute use)",
    "phase": "'baseline <N> days', 'blinded <N> days' or 'open-label <N> days'",
}

_PHASES = (
    ("baseline", "baseline_days"),
    ("blinded", "blinded_days"),
    ("open-label", "open_label_days"),
)

_UNIT_RE = re.compile(rf"^{QTY}$")
_FREQ_RE = re.compile(rf"^({NUM})\s*(Hz|kHz|hertz)$", re.I)
_PHASE_RE = re.compile(r"^(baseline|blinded|open-label)\s+(\d+)\s+days?$", re.I)
_HOURS_RE = re.compile(rf"^({NUM})\s*(?:h|hours?)\s+(?:per|a)\s+day$", re.I)
_TIME_UNITS = ("us", "µs", "ms", "s")


class Protocol(FrozenModel):
    """A stimulation protocol: current plan, stimulation parameters and phase lengths.

    Build one with :meth:`parse` or from its fields; ``str(protocol)`` is the canonical text.
    """

    current: CurrentPlan
    stimulation: Stimulation
    baseline_days: int = 0
    blinded_days: int = 0
    open_label_days: int = 0

    @model_validator(mode="after")
    def _phases(self) -> Protocol:
        for _, name in _PHASES:
            if getattr(self, name) < 0:
                raise ValidationError(name, getattr(self, name), "a whole number of days ≥ 0")
        return self

    # -- text -------------------------------------------------------------------------------
    def __str__(self) -> str:
        clauses = [str(self.current), *self.stimulation.clauses()]
        clauses += [
            f"{word} {getattr(self, name)} days" for word, name in _PHASES if getattr(self, name)
        ]
        return "; ".join(clauses)

    @classmethod
    def parse(cls, text: str) -> Protocol:
        """Read a protocol from its text; the clauses may come in any order.

        Raises
        ------
        ProtocolSyntaxError
            A clause that cannot be read, a missing or repeated clause; the message names the
            clause, the text and the allowed forms.
        ValidationError
            Values that parse but are not allowed (a step of 0 mA, max below start, hours a
            day with doses).
        """
        if not isinstance(text, str):
            raise ProtocolSyntaxError("protocol", repr(text), "a text of '; '-separated clauses")
        found: dict[str, Any] = {}
        try:
            for raw in text.split(";"):
                clause = " ".join(raw.split())
                if not clause:
                    raise ProtocolSyntaxError(
                        "empty", text, "clauses separated by '; ', none empty"
                    )
                _read_clause(clause, found)
            if "current" not in found:
                raise ProtocolSyntaxError("current", text, f"a current clause: {CURRENT_FORMS}")
            for key in ("frequency", "pulse width"):
                if key not in found:
                    raise ProtocolSyntaxError(key, text, f"a {key} clause: {CLAUSE_FORMS[key]}")
            if "duty cycle" not in found and "acute" not in found:
                raise ProtocolSyntaxError(
                    "duty cycle", text, f"a duty cycle clause: {SCHEDULE_FORMS}"
                )
            return cls._build(found)
        except PydanticValidationError as exc:
            raise unwrap(exc) from None

    @classmethod
    def _build(cls, found: dict[str, Any]) -> Protocol:
        pattern, on_s, off_min, doses = found.get(
            "duty cycle", ("acute-only", math.nan, math.nan, None)
        )
        return cls(
            current=found["current"],
            stimulation=Stimulation(
                frequency_Hz=found["frequency"],
                pulse_width_us=found["pulse width"],
                on_time_s=on_s,
                off_time_min=off_min,
                hours_per_day=found.get("hours", 24.0),
                pattern=pattern,
                doses=doses,
                acute=found.get("acute"),
            ),
            **{name: found[name] for _, name in _PHASES if name in found},
        )

    # -- settings and safety --------------------------------------------------------------
    @property
    def max_current_mA(self) -> float:
        """The highest maintained current the plan can program (a relative plan's cap)."""
        return self.current.max_mA

    @property
    def relative_to_threshold(self) -> bool:
        """Whether each patient's current follows from their sensory threshold."""
        return isinstance(self.current, RelativeCurrent | SensationMatchedSham)

    def settings_at(self, current_mA: float) -> StimulationSettings:
        """Generator settings of this protocol at ``current_mA``.

        Dose-based protocols give their doses evenly spaced over the day (with one attack's
        acute stimulations); see :meth:`~openvns.protocol.stimulation.Stimulation.device_cycle`.
        """
        s = self.stimulation
        on_s, off_min = s.device_cycle()
        return StimulationSettings(
            output_current_mA=current_mA,
            frequency_Hz=s.frequency_Hz,
            pulse_width_us=s.pulse_width_us,
            on_time_s=on_s,
            off_time_min=off_min,
        )

    @property
    def final_settings(self) -> StimulationSettings:
        """Settings at the maximum current the protocol can program."""
        return self.settings_at(self.max_current_mA)

    def step_currents_mA(self) -> tuple[float, ...]:
        """Every current the protocol can program, in order (start, steps, maximum).

        The steps of a titration are :func:`openvns.device.programs.titration_currents_mA`; a
        plan relative to the sensory threshold gives its cap (sham: 0 mA).
        """
        c = self.current
        if isinstance(c, Titration):
            return titration_currents_mA(c.start_mA, c.step_mA, c.max_mA)
        return (c.max_mA,)

    def check(
        self,
        generator: GeneratorModel | str,
        lead: LeadModel | str | None = None,
        *,
        limits: safety.SafetyLimits | None = None,
    ) -> safety.SafetyReport:
        """:func:`openvns.device.safety.check` of the final (maximum) settings.

        Every intermediate current is checked too; the first blocked report is returned, so an
        off-grid step (0.3 mA on a 0.25 mA grid) is refused even when the maximum is fine. An
        exhalation-gated schedule on a device without exhalation gating is an error as well.
        """
        gen = default_catalogue().generator(generator) if isinstance(generator, str) else generator
        final = self._with_schedule_issues(
            safety.check(self.final_settings, gen, lead, limits=limits), gen
        )
        if not final.ok:
            return final
        for current in self.step_currents_mA()[:-1]:
            report = safety.check(self.settings_at(current), gen, lead, limits=limits)
            if not report.ok:
                return report
        return final

    def _with_schedule_issues(
        self, report: safety.SafetyReport, gen: GeneratorModel
    ) -> safety.SafetyReport:
        """The report with the schedule's own findings: exhalation gating the device lacks,
        and for doses and acute use the daily limit in the protocol's terms."""
        s = self.stimulation
        issues = list(report.issues)
        if s.pattern == "exhalation-gated" and not gen.has("exhalation_gating"):
            issues.append(
                safety.Issue(
                    severity="error",
                    code="feature_unavailable",
                    field="schedule",
                    value="exhalation-gated",
                    allowed=f"a cycled or continuous schedule; generator {gen.id} ({gen.name}) "
                    "has no exhalation gating",
                    message=f"schedule = exhalation-gated, but generator {gen.id} ({gen.name}) "
                    "has no exhalation gating",
                )
            )
        if s.pattern in ("doses", "acute-only") and gen.dose is not None:
            issues = [i for i in issues if i.code != "dose_limit"]
            issues += _daily_limit_issues(s, float(gen.dose.max_per_day.value), gen.id)
        if issues == list(report.issues):
            return report
        return report.model_copy(update={"issues": tuple(issues)})

    def require_safe(
        self,
        generator: GeneratorModel | str,
        lead: LeadModel | str | None = None,
        *,
        limits: safety.SafetyLimits | None = None,
    ) -> safety.SafetyReport:
        """:meth:`check`, raising :class:`~openvns.device.safety.UnsafeSettingsError` if blocked."""
        report = self.check(generator, lead, limits=limits)
        report.raise_for_errors()
        return report


def _daily_limit_issues(s: Stimulation, max_per_day: float, gen_id: str) -> list[safety.Issue]:
    """Doses plus one attack's acute stimulations against the device's daily limit, and how
    many attacks a day the limit leaves room for."""
    used = s.stimulations_per_day(1.0 if s.acute is not None else 0.0)
    what = " + ".join(
        part
        for part in (
            f"{s.doses_per_day} doses" if s.doses is not None else "",
            f"{s.acute_stimulations_per_attack} at one attack" if s.acute is not None else "",
        )
        if part
    )
    field = "doses" if s.doses is not None else "acute"
    value = str(s.doses if s.doses is not None else s.acute)
    if used > max_per_day:
        return [
            safety.Issue(
                severity="error",
                code="dose_limit",
                field=field,
                value=value,
                allowed=f"at most {max_per_day:g} stimulations a day on generator {gen_id}",
                message=f"{field} = {value} gives {what} = {used:g} stimulations a day; "
                f"generator {gen_id} allows at most {max_per_day:g}",
            )
        ]
    if s.acute is None:
        return []
    attacks = math.floor((max_per_day - s.doses_per_day) / s.acute_stimulations_per_attack)
    return [
        safety.Issue(
            severity="note",
            code="attacks_per_day",
            field="acute",
            value=str(s.acute),
            allowed=f"at most {max_per_day:g} stimulations a day on generator {gen_id}",
            message=f"the daily limit of {max_per_day:g} stimulations leaves room for "
            f"{attacks} treated attacks a day besides {s.doses_per_day} doses",
        )
    ]


def _read_clause(clause: str, found: dict[str, Any]) -> None:
    """Read one clause into ``found`` (key → value), refusing a repeated clause."""

    def put(key: str, value: Any) -> None:
        if key in found:
            raise ProtocolSyntaxError(key, clause, f"a single {key} clause: {CLAUSE_FORMS[key]}")
        found[key] = value

    if m := _PHASE_RE.match(clause):
        key = dict(_PHASES)[m.group(1).lower()]
        if key in found:
            raise ProtocolSyntaxError("phase", clause, f"each phase once: {CLAUSE_FORMS['phase']}")
        found[key] = int(m.group(2))
    elif m := _HOURS_RE.match(clause):
        put("hours", float(m.group(1)))
    elif (plan := parse_current(clause)) is not None:
        put("current", plan)
    elif m := _FREQ_RE.match(clause):
        put("frequency", quantity(m[1], m[2], "Hz", clause="frequency", text=clause))
    elif (schedule := parse_schedule(clause)) is not None:
        put("duty cycle", schedule)
    elif (acute := parse_acute(clause)) is not None:
        put("acute", acute)
    elif (m := _UNIT_RE.match(clause)) and m[2] in _TIME_UNITS:
        put("pulse width", quantity(m[1], m[2], "us", clause="pulse width", text=clause))
    else:
        allowed = "; ".join(f"{k}: {v}" for k, v in CLAUSE_FORMS.items())
        raise ProtocolSyntaxError("unknown", clause, allowed)


__all__ = [
    "CLAUSE_FORMS",
    "STANDARD_TITRATION",
    "AcuteUse",
    "ConstantCurrent",
    "CurrentPlan",
    "Doses",
    "Protocol",
    "ProtocolSyntaxError",
    "RelativeCurrent",
    "SensationMatchedSham",
    "Stimulation",
    "StopRule",
    "Titration",
    "unwrap",
]
