"""Current plans of a protocol: how much current each patient gets.

* :class:`ConstantCurrent` — one current for everyone (``"1.5 mA"``; ``"0.0 mA"`` for a sham);
* :class:`Titration` — stepwise increase (``"titrate from 0.25 mA by 0.25 mA every 14 days to
  tolerance, max 2.0 mA"``);
* :class:`RelativeCurrent` — a multiple of each patient's sensory threshold, as taVNS is dosed
  (``"1.5 x sensory threshold, max 10.0 mA"``);
* :class:`SensationMatchedSham` — a brief ramp to each patient's sensory threshold, then 0 mA
  (``"sensation-matched sham, 30 s ramp"``).

The per-patient sensory threshold (mA) is not part of the protocol: the simulation supplies it
(:meth:`RelativeCurrent.currents_mA`, :meth:`SensationMatchedSham.ramp_peak_mA`).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from openvns.base import FrozenModel
from openvns.errors import ValidationError
from openvns.parameters import parse_set
from openvns.protocol.syntax import (
    NUM,
    QTY,
    TIMES,
    ProtocolSyntaxError,
    fmt,
    fmt_current,
    nonneg,
    positive,
    quantity,
    unwrap,
)

FloatArray = npt.NDArray[np.float64]
StopRule = Literal["fixed", "tolerance", "device"]

#: Allowed current clauses, quoted in parse errors.
CURRENT_FORMS = (
    "'<I> mA' or 'titrate from <I> mA by <I> mA every <N> days to tolerance, max <I> mA' or "
    "'... to <I> mA' or '... to <I> mA, device-scheduled' or "
    "'<k> x sensory threshold, max <I> mA' or 'sensation-matched sham[, <t> s ramp]'"
)


@lru_cache(maxsize=1)
def dosing_defaults() -> dict[str, float]:
    """The sourced constants of ``data/dosing.yaml`` (exhalation timing, sham ramp, ...)."""
    text = resources.files("openvns.protocol").joinpath("data/dosing.yaml").read_text("utf-8")
    values = parse_set(text, "dosing.yaml").values()
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}


def _thresholds(threshold_mA: npt.ArrayLike) -> FloatArray:
    thr = np.asarray(threshold_mA, dtype=np.float64)
    if thr.ndim != 1 or not np.all(np.isfinite(thr)) or np.any(thr < 0):
        raise ValidationError(
            "threshold_mA",
            thr.shape if thr.ndim != 1 else "non-finite or negative values",
            "one finite sensory threshold ≥ 0 mA per patient, shape (n,)",
        )
    return thr


class ConstantCurrent(FrozenModel):
    """A current programmed once and held (``"1.5 mA"``; ``"0.0 mA"`` for sham)."""

    kind: Literal["constant"] = "constant"
    current_mA: float

    @model_validator(mode="after")
    def _finite(self) -> ConstantCurrent:
        nonneg("current_mA", self.current_mA)
        return self

    @property
    def max_mA(self) -> float:
        return self.current_mA

    def __str__(self) -> str:
        return f"{fmt_current(self.current_mA)} mA"


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
            nonneg(name, getattr(self, name))
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
            f"titrate from {fmt_current(self.start_mA)} mA by {fmt_current(self.step_mA)} mA "
            f"every {self.interval_days} {'day' if self.interval_days == 1 else 'days'}"
        )
        top = f"{fmt_current(self.max_mA)} mA"
        if self.rule == "tolerance":
            return f"{head} to tolerance, max {top}"
        if self.rule == "device":
            return f"{head} to {top}, device-scheduled"
        return f"{head} to {top}"


class RelativeCurrent(FrozenModel):
    """A multiple of each patient's sensory threshold, capped (``"1.5 x sensory threshold, max
    10.0 mA"``): taVNS is dosed relative to the current the patient first feels.

    Attributes
    ----------
    multiple
        Current as a multiple of the sensory threshold (> 0).
    max_mA
        The cap: no patient gets more, whatever the threshold (> 0).
    """

    kind: Literal["relative"] = "relative"
    multiple: float
    max_mA: float

    @model_validator(mode="after")
    def _positive(self) -> RelativeCurrent:
        positive("multiple", self.multiple)
        positive("max_mA", self.max_mA)
        return self

    def currents_mA(
        self, threshold_mA: npt.ArrayLike, *, step_mA: float | None = None
    ) -> FloatArray:
        """Each patient's current: ``min(multiple × threshold, max_mA)``, in mA.

        Parameters
        ----------
        threshold_mA
            Each patient's sensory threshold at the electrode, in mA, shape ``(n,)``.
        step_mA
            The device's current step: currents are rounded down to it (never above the
            prescribed multiple), but never below one step (a patient dosed relative to a
            threshold gets a current; the device cannot give less than one step);
            ``None`` keeps them exact.
        """
        out = np.minimum(self.multiple * _thresholds(threshold_mA), self.max_mA)
        if step_mA is not None:
            positive("step_mA", step_mA)
            floor = np.round(np.floor(out / step_mA + 1e-9) * step_mA, 10)
            out = np.where(out > 0, np.maximum(floor, min(step_mA, self.max_mA)), 0.0)
        return np.asarray(out, dtype=np.float64)

    def __str__(self) -> str:
        return f"{fmt(self.multiple)} x sensory threshold, max {fmt_current(self.max_mA)} mA"


class SensationMatchedSham(FrozenModel):
    """Sham that feels like the start of stimulation: at the start of each session the current
    ramps up to the patient's sensory threshold over ``ramp_s``, then it is 0 mA
    (``"sensation-matched sham, 30 s ramp"``).

    The maintained current (:attr:`max_mA`) is 0 mA; the ramp's peak is each patient's
    threshold (:meth:`ramp_peak_mA`). The default ramp length is ``sham_ramp_s`` of
    ``data/dosing.yaml`` (an assumption).
    """

    kind: Literal["sensation_matched_sham"] = "sensation_matched_sham"
    ramp_s: float = Field(default_factory=lambda: dosing_defaults()["sham_ramp_s"])

    @model_validator(mode="after")
    def _positive(self) -> SensationMatchedSham:
        positive("ramp_s", self.ramp_s)
        return self

    @property
    def max_mA(self) -> float:
        """The maintained current, 0 mA (the ramp is the only current delivered)."""
        return 0.0

    def currents_mA(self, threshold_mA: npt.ArrayLike) -> FloatArray:
        """Each patient's maintained current: 0 mA, shape ``(n,)``."""
        return np.zeros_like(_thresholds(threshold_mA))

    def ramp_peak_mA(self, threshold_mA: npt.ArrayLike) -> FloatArray:
        """Current at the end of each patient's ramp: the sensory threshold, in mA."""
        return _thresholds(threshold_mA).copy()

    def __str__(self) -> str:
        return f"sensation-matched sham, {fmt(self.ramp_s)} s ramp"


CurrentPlan = Annotated[
    ConstantCurrent | Titration | RelativeCurrent | SensationMatchedSham,
    Field(discriminator="kind"),
]

_TITRATION_RE = re.compile(
    rf"titrate\s+from\s+{QTY}\s+by\s+{QTY}\s+every\s+(\d+)\s+days?\s+to\s+(.+)$", re.I
)
_RELATIVE_RE = re.compile(rf"^({NUM}){TIMES}sensory\s+threshold\s*,\s*max\s+{QTY}$", re.I)
_SHAM_RE = re.compile(rf"^sensation-matched\s+sham(?:\s*,\s*{QTY}\s+ramp)?$", re.I)
_CONSTANT_RE = re.compile(rf"^{QTY}$")
_CURRENT_UNITS = ("mA", "uA", "µA", "A")


Plan = ConstantCurrent | Titration | RelativeCurrent | SensationMatchedSham


def parse_current(clause: str) -> Plan | None:
    """The current plan written in ``clause``, or ``None`` if it is no current clause.

    Raises
    ------
    ProtocolSyntaxError
        A titration clause that cannot be read.
    ValidationError
        Values that parse but are not allowed.
    """
    try:
        if clause.lower().startswith("titrate"):
            return _parse_titration(clause)
        if m := _RELATIVE_RE.match(clause):
            multiple = float(m[1])
            top = quantity(m[2], m[3], "mA", clause="current", text=clause)
            return RelativeCurrent(multiple=multiple, max_mA=top)
        if m := _SHAM_RE.match(clause):
            if m[1] is None:
                return SensationMatchedSham()
            return SensationMatchedSham(
                ramp_s=quantity(m[1], m[2] or "s", "s", clause="current", text=clause)
            )
        if (m := _CONSTANT_RE.match(clause)) and m[2] in _CURRENT_UNITS:
            amps = quantity(m[1], m[2], "mA", clause="current", text=clause)
            return ConstantCurrent(current_mA=amps)
    except PydanticValidationError as exc:
        raise unwrap(exc) from None
    return None


def _parse_titration(clause: str) -> Titration:
    m = _TITRATION_RE.match(clause)
    if m is None:
        raise ProtocolSyntaxError("titration", clause, CURRENT_FORMS)
    start = quantity(m[1], m[2], "mA", clause="titration", text=clause)
    step = quantity(m[3], m[4], "mA", clause="titration", text=clause)
    interval = int(m[5])
    tail = m[6].strip()
    rule: StopRule
    if t := re.fullmatch(rf"tolerance\s*,\s*max\s+{QTY}", tail, re.I):
        rule, top = "tolerance", quantity(t[1], t[2], "mA", clause="titration", text=clause)
    elif t := re.fullmatch(rf"{QTY}\s*,\s*device-scheduled", tail, re.I):
        rule, top = "device", quantity(t[1], t[2], "mA", clause="titration", text=clause)
    elif t := re.fullmatch(QTY, tail):
        rule, top = "fixed", quantity(t[1], t[2], "mA", clause="titration", text=clause)
    else:
        raise ProtocolSyntaxError(
            "titration stop rule",
            clause,
            "'to tolerance, max <I> mA', 'to <I> mA' or 'to <I> mA, device-scheduled'",
        )
    return Titration(start_mA=start, step_mA=step, interval_days=interval, max_mA=top, rule=rule)


__all__ = [
    "CURRENT_FORMS",
    "ConstantCurrent",
    "CurrentPlan",
    "Plan",
    "RelativeCurrent",
    "SensationMatchedSham",
    "StopRule",
    "Titration",
    "dosing_defaults",
    "parse_current",
]
