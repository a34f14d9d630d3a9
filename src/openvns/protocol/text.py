"""Stimulation protocols as typed steps with a string form that round-trips.

A :class:`Protocol` is a frozen value made of

* a current plan: a constant current (:class:`ConstantCurrent`, ``"1.5 mA"``) or a titration
  (:class:`Titration`, ``"titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0
  mA"``),
* the other stimulation parameters (:class:`Stimulation`: ``"20 Hz; 250 us; 30 s on / 5 min
  off"``),
* optional hours of stimulation a day (``"4 h per day"``; 24 when absent, the clause is then not
  written),
* optional phase lengths (``"baseline 28 days; blinded 84 days; open-label 280 days"``).

The canonical text joins the clauses with ``"; "`` in that order; ``Protocol.parse(str(p)) ==
p`` for every protocol and ``str(Protocol.parse(s)) == s`` for every canonical string. The parser
also accepts other units (``"0.25 ms"``, ``"300 s off"``) through
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
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from openvns.base import FrozenModel
from openvns.device import safety
from openvns.device.catalogue import GeneratorModel, LeadModel
from openvns.device.programs import titration_currents_mA
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError
from openvns.units import parse_quantity

StopRule = Literal["fixed", "tolerance", "device"]

#: The standard implanted-VNS titration (reference device_and_clinic §1.5: 0.25 mA about every
#: two weeks to the highest tolerated current; 20 Hz, 250 µs, 30 s on / 5 min off).
STANDARD_TITRATION = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)

#: Allowed clause forms, quoted in parse errors.
CLAUSE_FORMS: dict[str, str] = {
    "current": "'<I> mA' or 'titrate from <I> mA by <I> mA every <N> days to tolerance, "
    "max <I> mA' or '... to <I> mA' or '... to <I> mA, device-scheduled'",
    "frequency": "'<f> Hz'",
    "pulse width": "'<w> us'",
    "duty cycle": "'<t> s on / <t> min off'",
    "hours": "'<h> h per day' (0 < h ≤ 24; 24 when absent)",
    "phase": "'baseline <N> days', 'blinded <N> days' or 'open-label <N> days'",
}


class ProtocolSyntaxError(ValidationError):
    """A protocol text that cannot be read; names the clause, the text and the allowed forms."""

    def __init__(self, clause: str, text: str, allowed: str) -> None:
        self.clause = clause
        self.text = text
        super().__init__(f"protocol {clause} clause", text, allowed)


def _fmt(x: float) -> str:
    """Shortest text that reads back as ``x`` exactly; integers without a decimal point."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _fmt_current(x: float) -> str:
    """Currents always show a decimal point (``2.0 mA``), as clinicians write them."""
    return repr(float(x))


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QTY = rf"({_NUM})\s*([^\s;,/]*)"


def _quantity(number: str, unit: str, canonical: str, *, clause: str, text: str) -> float:
    """``number unit`` in ``canonical``; exact float when the unit already is canonical."""
    unit = unit.strip()
    if unit in ("", canonical):
        value = float(number)
    else:
        try:
            value = parse_quantity(f"{number} {unit}", canonical, field=clause)
        except ValidationError as exc:
            raise ProtocolSyntaxError(clause, text, exc.allowed) from None
    if not math.isfinite(value) or value < 0:
        raise ProtocolSyntaxError(clause, text, f"a finite quantity ≥ 0 in {canonical}")
    return value


def unwrap(exc: PydanticValidationError, prefix: str = "") -> ValidationError:
    """The package's :class:`ValidationError` behind a pydantic one (key prefixed).

    Validators raise :class:`openvns.errors.ValidationError`; pydantic wraps it. Other pydantic
    errors (a wrong type) become one naming the key path and pydantic's message.
    """
    err = exc.errors()[0]
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, ValidationError):
        loc = ".".join(str(p) for p in err["loc"])
        field = f"{loc}.{inner.field}" if loc else inner.field
        return ValidationError(prefix + field, inner.value, inner.allowed)
    loc = ".".join(str(p) for p in err["loc"])
    return ValidationError(prefix + loc, err.get("input"), err["msg"])


def _nonneg(field: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValidationError(field, value, "a finite number ≥ 0")


class Stimulation(FrozenModel):
    """Stimulation parameters other than the current."""

    frequency_Hz: float
    pulse_width_us: float
    on_time_s: float
    off_time_min: float
    hours_per_day: float = 24.0

    @model_validator(mode="after")
    def _finite(self) -> Stimulation:
        for name in ("frequency_Hz", "pulse_width_us", "on_time_s", "off_time_min"):
            _nonneg(name, getattr(self, name))
        h = self.hours_per_day
        if not (math.isfinite(h) and 0.0 < h <= 24.0):
            raise ValidationError("hours_per_day", h, "hours of stimulation a day, 0 < h ≤ 24")
        return self

    def clauses(self) -> list[str]:
        out = [
            f"{_fmt(self.frequency_Hz)} Hz",
            f"{_fmt(self.pulse_width_us)} us",
            f"{_fmt(self.on_time_s)} s on / {_fmt(self.off_time_min)} min off",
        ]
        if self.hours_per_day != 24.0:
            out.append(f"{_fmt(self.hours_per_day)} h per day")
        return out


class ConstantCurrent(FrozenModel):
    """A current programmed once and held (``"1.5 mA"``; ``"0.0 mA"`` for sham)."""

    kind: Literal["constant"] = "constant"
    current_mA: float

    @model_validator(mode="after")
    def _finite(self) -> ConstantCurrent:
        _nonneg("current_mA", self.current_mA)
        return self

    @property
    def max_mA(self) -> float:
        return self.current_mA

    def __str__(self) -> str:
        return f"{_fmt_current(self.current_mA)} mA"


class Titration(FrozenModel):
    """Stepwise increase of the current.

    Attributes
    ----------
    start_mA, step_mA
        First current and increment.
    interval_days
        Days between steps (a whole number ≥ 1).
    max_mA
        Target (``fixed``/``device``) or ceiling (``tolerance``).
    rule
        Stop rule: ``"fixed"``, ``"tolerance"`` or ``"device"``.
    """

    kind: Literal["titration"] = "titration"
    start_mA: float
    step_mA: float
    interval_days: int
    max_mA: float
    rule: StopRule = "tolerance"

    @model_validator(mode="after")
    def _consistent(self) -> Titration:
        for name in ("start_mA", "step_mA", "max_mA"):
            _nonneg(name, getattr(self, name))
        if self.step_mA <= 0:
            raise ValidationError("step_mA", self.step_mA, "a step > 0 mA")
        if self.interval_days < 1:
            raise ValidationError("interval_days", self.interval_days, "a whole number ≥ 1")
        if self.max_mA < self.start_mA:
            raise ValidationError("max_mA", self.max_mA, f"≥ start_mA ({self.start_mA} mA)")
        return self

    @property
    def n_steps(self) -> int:
        """Number of increments from start to the maximum (the last one may be partial)."""
        return math.ceil((self.max_mA - self.start_mA) / self.step_mA - 1e-9)

    def __str__(self) -> str:
        head = (
            f"titrate from {_fmt_current(self.start_mA)} mA by {_fmt_current(self.step_mA)} mA "
            f"every {self.interval_days} {'day' if self.interval_days == 1 else 'days'}"
        )
        top = f"{_fmt_current(self.max_mA)} mA"
        if self.rule == "tolerance":
            return f"{head} to tolerance, max {top}"
        if self.rule == "device":
            return f"{head} to {top}, device-scheduled"
        return f"{head} to {top}"


CurrentPlan = Annotated[ConstantCurrent | Titration, Field(discriminator="kind")]

_PHASES = (
    ("baseline", "baseline_days"),
    ("blinded", "blinded_days"),
    ("open-label", "open_label_days"),
)

_TITRATION_RE = re.compile(
    rf"titrate\s+from\s+{_QTY}\s+by\s+{_QTY}\s+every\s+(\d+)\s+days?\s+to\s+(.+)$", re.I
)
_CONSTANT_RE = re.compile(rf"^{_QTY}$")
_FREQ_RE = re.compile(rf"^({_NUM})\s*(Hz|kHz|hertz)$", re.I)
_DUTY_RE = re.compile(rf"^{_QTY}\s+on\s*/\s*{_QTY}\s+off$", re.I)
_PHASE_RE = re.compile(r"^(baseline|blinded|open-label)\s+(\d+)\s+days?$", re.I)
_HOURS_RE = re.compile(rf"^({_NUM})\s*(?:h|hours?)\s+(?:per|a)\s+day$", re.I)


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
            Values that parse but are not allowed (a step of 0 mA, max below start).
        """
        if not isinstance(text, str):
            raise ProtocolSyntaxError("protocol", repr(text), "a text of '; '-separated clauses")
        found: dict[str, Any] = {}

        def put(key: str, value: Any, clause: str) -> None:
            if key in found:
                raise ProtocolSyntaxError(
                    key, clause, f"a single {key} clause: {CLAUSE_FORMS[key]}"
                )
            found[key] = value

        for raw in text.split(";"):
            clause = " ".join(raw.split())
            if not clause:
                raise ProtocolSyntaxError("empty", text, "clauses separated by '; ', none empty")
            if m := _PHASE_RE.match(clause):
                key = dict(_PHASES)[m.group(1).lower()]
                if key in found:
                    raise ProtocolSyntaxError(
                        "phase", clause, f"each phase once: {CLAUSE_FORMS['phase']}"
                    )
                found[key] = int(m.group(2))
            elif m := _HOURS_RE.match(clause):
                put("hours", float(m.group(1)), clause)
            elif clause.lower().startswith("titrate"):
                put("current", _parse_titration(clause), clause)
            elif m := _FREQ_RE.match(clause):
                put(
                    "frequency",
                    _quantity(m[1], m[2], "Hz", clause="frequency", text=clause),
                    clause,
                )
            elif m := _DUTY_RE.match(clause):
                on = _quantity(m[1], m[2] or "s", "s", clause="duty cycle", text=clause)
                off = _quantity(m[3], m[4] or "min", "min", clause="duty cycle", text=clause)
                put("duty cycle", (on, off), clause)
            elif (m := _CONSTANT_RE.match(clause)) and m[2] in ("mA", "uA", "µA", "A"):
                amps = _quantity(m[1], m[2], "mA", clause="current", text=clause)
                put("current", ConstantCurrent(current_mA=amps), clause)
            elif (m := _CONSTANT_RE.match(clause)) and m[2] in ("us", "µs", "ms", "s"):
                put(
                    "pulse width",
                    _quantity(m[1], m[2], "us", clause="pulse width", text=clause),
                    clause,
                )
            else:
                allowed = "; ".join(f"{k}: {v}" for k, v in CLAUSE_FORMS.items())
                raise ProtocolSyntaxError("unknown", clause, allowed)
        for key in ("current", "frequency", "pulse width", "duty cycle"):
            if key not in found:
                raise ProtocolSyntaxError(key, text, f"a {key} clause: {CLAUSE_FORMS[key]}")
        on_s, off_min = found["duty cycle"]
        try:
            return cls._build(found, on_s, off_min)
        except PydanticValidationError as exc:
            raise unwrap(exc) from None

    @classmethod
    def _build(cls, found: dict[str, Any], on_s: float, off_min: float) -> Protocol:
        return cls(
            current=found["current"],
            stimulation=Stimulation(
                frequency_Hz=found["frequency"],
                pulse_width_us=found["pulse width"],
                on_time_s=on_s,
                off_time_min=off_min,
                hours_per_day=found.get("hours", 24.0),
            ),
            **{name: found[name] for _, name in _PHASES if name in found},
        )

    # -- settings and safety --------------------------------------------------------------
    @property
    def max_current_mA(self) -> float:
        return self.current.max_mA

    def settings_at(self, current_mA: float) -> StimulationSettings:
        """Generator settings of this protocol at ``current_mA``."""
        s = self.stimulation
        return StimulationSettings(
            output_current_mA=current_mA,
            frequency_Hz=s.frequency_Hz,
            pulse_width_us=s.pulse_width_us,
            on_time_s=s.on_time_s,
            off_time_min=s.off_time_min,
        )

    @property
    def final_settings(self) -> StimulationSettings:
        """Settings at the maximum current the protocol can program."""
        return self.settings_at(self.max_current_mA)

    def step_currents_mA(self) -> tuple[float, ...]:
        """Every current the protocol can program, in order (start, steps, maximum).

        The steps of a titration are :func:`openvns.device.programs.titration_currents_mA`.
        """
        c = self.current
        if isinstance(c, ConstantCurrent):
            return (c.current_mA,)
        return titration_currents_mA(c.start_mA, c.step_mA, c.max_mA)

    def check(
        self,
        generator: GeneratorModel | str,
        lead: LeadModel | str | None = None,
        *,
        limits: safety.SafetyLimits | None = None,
    ) -> safety.SafetyReport:
        """:func:`openvns.device.safety.check` of the final (maximum) settings.

        Every intermediate current is checked too; the first blocked report is returned, so an
        off-grid step (0.3 mA on a 0.25 mA grid) is refused even when the maximum is fine.
        """
        final = safety.check(self.final_settings, generator, lead, limits=limits)
        if not final.ok:
            return final
        for current in self.step_currents_mA()[:-1]:
            report = safety.check(self.settings_at(current), generator, lead, limits=limits)
            if not report.ok:
                return report
        return final

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


def _parse_titration(clause: str) -> Titration:
    m = _TITRATION_RE.match(clause)
    if m is None:
        raise ProtocolSyntaxError("titration", clause, CLAUSE_FORMS["current"])
    start = _quantity(m[1], m[2], "mA", clause="titration", text=clause)
    step = _quantity(m[3], m[4], "mA", clause="titration", text=clause)
    interval = int(m[5])
    tail = m[6].strip()
    rule: StopRule
    if t := re.fullmatch(rf"tolerance\s*,\s*max\s+{_QTY}", tail, re.I):
        rule, top = "tolerance", _quantity(t[1], t[2], "mA", clause="titration", text=clause)
    elif t := re.fullmatch(rf"{_QTY}\s*,\s*device-scheduled", tail, re.I):
        rule, top = "device", _quantity(t[1], t[2], "mA", clause="titration", text=clause)
    elif t := re.fullmatch(_QTY, tail):
        rule, top = "fixed", _quantity(t[1], t[2], "mA", clause="titration", text=clause)
    else:
        raise ProtocolSyntaxError(
            "titration stop rule",
            clause,
            "'to tolerance, max <I> mA', 'to <I> mA' or 'to <I> mA, device-scheduled'",
        )
    try:
        return Titration(
            start_mA=start, step_mA=step, interval_days=interval, max_mA=top, rule=rule
        )
    except PydanticValidationError as exc:
        raise unwrap(exc) from None


__all__ = [
    "CLAUSE_FORMS",
    "STANDARD_TITRATION",
    "ConstantCurrent",
    "CurrentPlan",
    "Protocol",
    "ProtocolSyntaxError",
    "Stimulation",
    "StopRule",
    "Titration",
    "unwrap",
]
