"""Safety check of stimulation settings against a generator and lead.

:func:`check` returns every problem at once in a :class:`SafetyReport`:

* **errors** block programming: a value out of range, a value that is not a selectable step,
  a mode the model does not have, a lead the generator does not take, Shannon k above the
  blocking limit, more doses per day than a dose-limited device allows;
* **warnings** do not: OFF time not longer than ON time, duty cycle above the warning limit,
  charge density or Shannon k above their warning limits (electrodes on the nerve), r.m.s.
  current density above its warning limit (skin electrodes of known area).

Each issue names the field, the value and what is allowed. The report also carries the derived
numbers (duty cycle with ramps, charge per phase, charge density, k, trains, pulses and charge
per day). The limits are configuration (:class:`SafetyLimits`), defaulting to
``data/safety.yaml``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from openvns.base import FrozenModel
from openvns.device import dose
from openvns.device.catalogue import GeneratorModel, LeadModel, default_catalogue, unit_of
from openvns.device.settings import StimulationSettings
from openvns.errors import OpenVNSError
from openvns.parameters import parse_set

#: Largest |k| a Shannon limit may be set to. k = log10(D) + log10(Q) with the density D in
#: µC/cm² per phase and the charge Q in µC per phase: every catalogue pulse lies within k ≈ −2 to
#: 2.5, and ±5 (D·Q = 10^5 µC²/cm²) is far beyond anything a stimulator delivers; 1e9 overflowed.
SHANNON_K_BOUND = 5.0


class SafetyLimits(FrozenModel):
    """Configurable limits of :func:`check` (defaults and sources in ``data/safety.yaml``).

    Attributes
    ----------
    shannon_k_block
        k above which programming is blocked (default 1.85, Shannon 1992).
    shannon_k_warn
        k above which a warning is given (default 1.5).
    charge_density_warn_uC_per_cm2
        Charge density per phase above which a warning is given, in µC/cm² (default 30).
    duty_cycle_warn
        Duty cycle (with ramps, 0–1) above which a warning is given (default 0.5).
    skin_current_density_warn_mA_per_cm2
        R.m.s. current density under a skin electrode, while a train runs, above which a
        warning is given, in mA/cm² (default 2, IEC 60601-2-10).
    """

    shannon_k_block: float = Field(ge=-SHANNON_K_BOUND, le=SHANNON_K_BOUND, allow_inf_nan=False)
    shannon_k_warn: float = Field(ge=-SHANNON_K_BOUND, le=SHANNON_K_BOUND, allow_inf_nan=False)
    charge_density_warn_uC_per_cm2: float = Field(gt=0, allow_inf_nan=False)
    duty_cycle_warn: float = Field(gt=0, le=1)
    skin_current_density_warn_mA_per_cm2: float = Field(gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> SafetyLimits:
        if self.shannon_k_warn > self.shannon_k_block:
            raise ValueError(
                f"shannon_k_warn = {self.shannon_k_warn} must not exceed "
                f"shannon_k_block = {self.shannon_k_block}"
            )
        return self

    @classmethod
    def default(cls) -> SafetyLimits:
        """The documented defaults of ``data/safety.yaml``."""
        return _default_limits()

    def with_(self, **changes: float | None) -> SafetyLimits:
        """A copy with the given (non-``None``) limits replaced."""
        given = {k: v for k, v in changes.items() if v is not None}
        return SafetyLimits.model_validate({**self.model_dump(), **given})


@lru_cache(maxsize=1)
def _default_limits() -> SafetyLimits:
    # every limit carries a status and a source, checked by the one provenance rule
    text = resources.files("openvns.device").joinpath("data/safety.yaml").read_text("utf-8")
    values = parse_set(text, "safety.yaml").values()
    return SafetyLimits.model_validate({k: values[k] for k in SafetyLimits.model_fields})


Severity = Literal["error", "warning", "note"]


class Issue(BaseModel):
    """One finding of :func:`check`."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: str
    field: str
    value: float | str
    allowed: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


class ChargeMetrics(BaseModel):
    """Per-phase charge numbers of one mode (normal, magnet or AutoStim).

    ``shannon_k`` and its current cap are for electrodes on neural tissue (helical leads);
    ``rms_current_density_mA_per_cm2`` is for skin electrodes. Each is ``None`` where it does
    not apply or the contact area is not known.
    """

    model_config = ConfigDict(frozen=True)

    output_current_mA: float
    pulse_width_us: float
    charge_per_phase_uC: float
    charge_density_uC_per_cm2: float | None
    shannon_k: float | None
    max_current_at_k_block_mA: float | None
    rms_current_density_mA_per_cm2: float | None = None


class DoseMetrics(BaseModel):
    """Derived numbers of the normal-mode program."""

    model_config = ConfigDict(frozen=True)

    duty_cycle: float
    duty_cycle_without_ramps: float
    ramp_s: float
    trains_per_day: float
    pulses_per_day: float
    charge_per_day_C: float
    stimulation_time_per_day_s: float


class SafetyReport(BaseModel):
    """Everything :func:`check` found, plus the derived numbers."""

    model_config = ConfigDict(frozen=True)

    generator_id: str
    lead_id: str | None
    settings: StimulationSettings
    limits: SafetyLimits
    issues: tuple[Issue, ...]
    normal: ChargeMetrics
    magnet: ChargeMetrics | None
    autostim: ChargeMetrics | None
    dose: DoseMetrics

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def notes(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "note")

    @property
    def ok(self) -> bool:
        """True when nothing blocks programming (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise :class:`UnsafeSettingsError` if any blocking error was found."""
        if self.errors:
            raise UnsafeSettingsError(self)


class UnsafeSettingsError(OpenVNSError):
    """Settings that :func:`check` blocks; ``report`` holds every issue."""

    def __init__(self, report: SafetyReport) -> None:
        self.report = report
        lines = "; ".join(i.message for i in report.errors)
        super().__init__(f"settings refused for generator {report.generator_id}: {lines}")


_MODE_FIELDS: dict[str, tuple[str, str]] = {
    # mode -> (feature, description)
    "magnet": ("magnet", "magnet mode"),
    "autostim": ("autostim", "AutoStim (heart-rate triggered) mode"),
}


def _fmt(x: float) -> str:
    return f"{x:g}"


def _range_issues(gen: GeneratorModel, flat: dict[str, float]) -> list[Issue]:
    issues: list[Issue] = []
    for field, value in flat.items():
        rng = gen.parameters.get(field)
        if rng is None:  # only possible for mode fields; reported once per mode below
            continue
        u = unit_of(field)
        if not rng.in_range(value):
            issues.append(
                Issue(
                    severity="error",
                    code="out_of_range",
                    field=field,
                    value=value,
                    allowed=rng.describe(),
                    message=f"{field} = {_fmt(value)} {u} is outside the range of generator "
                    f"{gen.id}; allowed: {rng.describe()}",
                )
            )
        elif not rng.allows(value):
            near = rng.nearest(value)
            issues.append(
                Issue(
                    severity="error",
                    code="not_selectable",
                    field=field,
                    value=value,
                    allowed=rng.describe(),
                    message=f"{field} = {_fmt(value)} {u} is not a selectable value of generator "
                    f"{gen.id} (nearest: {_fmt(near)} {u}); allowed: {rng.describe()}",
                )
            )
    return issues


def _rms_current_mA(
    current_mA: float, pulse_width_us: float, frequency_Hz: float, gen: GeneratorModel
) -> float:
    """R.m.s. current while a train runs: sine bursts, or symmetric biphasic pulses."""
    if gen.burst is not None:
        carrier = float(gen.burst.carrier_frequency_Hz.value)
        cycles = float(gen.burst.pulses_per_burst.value)
        return dose.sine_burst_rms_current_mA(current_mA, carrier, cycles, frequency_Hz)
    return dose.pulse_train_rms_current_mA(current_mA, pulse_width_us, frequency_Hz)


def _skin_charge(
    field: str,
    current_mA: float,
    pulse_width_us: float,
    frequency_Hz: float,
    q: float,
    area: float,
    gen: GeneratorModel,
    lead: LeadModel,
    limits: SafetyLimits,
    issues: list[Issue],
) -> ChargeMetrics:
    """Charge and r.m.s. current density under a skin electrode of known area."""
    density = _rms_current_mA(current_mA, pulse_width_us, frequency_Hz, gen) / area
    limit = limits.skin_current_density_warn_mA_per_cm2
    if density > limit:
        where = f"at {_fmt(pulse_width_us)} µs, {_fmt(frequency_Hz)} Hz on {lead.id}"
        issues.append(
            Issue(
                severity="warning",
                code="skin_current_density_warn",
                field=field,
                value=current_mA,
                allowed=f"r.m.s. current density ≤ {_fmt(limit)} mA/cm² under the electrode",
                message=f"{field} = {_fmt(current_mA)} mA gives {density:.2f} mA/cm² r.m.s. "
                f"{where} ({_fmt(area)} cm²), above the warning limit {_fmt(limit)} mA/cm²",
            )
        )
    return ChargeMetrics(
        output_current_mA=current_mA,
        pulse_width_us=pulse_width_us,
        charge_per_phase_uC=q,
        charge_density_uC_per_cm2=dose.charge_density_uC_per_cm2(q, area),
        shannon_k=None,
        max_current_at_k_block_mA=None,
        rms_current_density_mA_per_cm2=density,
    )


def _charge(
    field_prefix: str,
    current_mA: float,
    pulse_width_us: float,
    frequency_Hz: float,
    gen: GeneratorModel,
    lead: LeadModel | None,
    limits: SafetyLimits,
    issues: list[Issue],
) -> ChargeMetrics:
    if gen.burst is not None:
        carrier = float(gen.burst.carrier_frequency_Hz.value)
        q = dose.sine_charge_per_phase_uC(current_mA, carrier)
    else:
        q = dose.charge_per_phase_uC(current_mA, pulse_width_us)
    area = lead.contact_area_cm2 if lead is not None else None
    if area is not None and lead is not None and lead.kind == "skin":
        field = f"{field_prefix}output_current_mA"
        return _skin_charge(
            field, current_mA, pulse_width_us, frequency_Hz, q, area, gen, lead, limits, issues
        )
    if area is None:
        return ChargeMetrics(
            output_current_mA=current_mA,
            pulse_width_us=pulse_width_us,
            charge_per_phase_uC=q,
            charge_density_uC_per_cm2=None,
            shannon_k=None,
            max_current_at_k_block_mA=None,
        )
    d = dose.charge_density_uC_per_cm2(q, area)
    k = dose.shannon_k(q, d)
    i_max = None
    if gen.burst is None and pulse_width_us > 0:
        i_max = dose.max_current_for_k_mA(limits.shannon_k_block, pulse_width_us, area)
    field = f"{field_prefix}output_current_mA"
    where = f"at {_fmt(pulse_width_us)} µs on lead {lead.id if lead else '?'}"
    if k > limits.shannon_k_block:
        cap = f" (≤ {i_max:.2f} mA {where})" if i_max is not None else ""
        issues.append(
            Issue(
                severity="error",
                code="shannon_k_block",
                field=field,
                value=current_mA,
                allowed=f"Shannon k ≤ {_fmt(limits.shannon_k_block)}{cap}",
                message=f"{field} = {_fmt(current_mA)} mA gives Shannon k = {k:.2f} {where}, above "
                f"the blocking limit {_fmt(limits.shannon_k_block)}{cap}",
            )
        )
    elif k > limits.shannon_k_warn:
        issues.append(
            Issue(
                severity="warning",
                code="shannon_k_warn",
                field=field,
                value=current_mA,
                allowed=f"Shannon k ≤ {_fmt(limits.shannon_k_warn)} (warning limit)",
                message=f"{field} = {_fmt(current_mA)} mA gives Shannon k = {k:.2f} {where}, above "
                f"the warning limit {_fmt(limits.shannon_k_warn)}",
            )
        )
    if d > limits.charge_density_warn_uC_per_cm2:
        issues.append(
            Issue(
                severity="warning",
                code="charge_density_warn",
                field=field,
                value=current_mA,
                allowed=f"charge density ≤ {_fmt(limits.charge_density_warn_uC_per_cm2)} µC/cm²",
                message=f"{field} = {_fmt(current_mA)} mA gives {d:.1f} µC/cm² per phase {where}, "
                f"above the warning limit {_fmt(limits.charge_density_warn_uC_per_cm2)} µC/cm²",
            )
        )
    return ChargeMetrics(
        output_current_mA=current_mA,
        pulse_width_us=pulse_width_us,
        charge_per_phase_uC=q,
        charge_density_uC_per_cm2=d,
        shannon_k=k,
        max_current_at_k_block_mA=i_max,
    )


def _dose_metrics(s: StimulationSettings, gen: GeneratorModel, q_uC: float) -> DoseMetrics:
    ramp = gen.ramp_s
    period = s.period_s
    dc = dose.duty_cycle(s.on_time_s, s.off_time_min, ramp)
    dc0 = dose.duty_cycle(s.on_time_s, s.off_time_min, 0.0)
    integ = dose.cycle_integrals(s.on_time_s, s.off_time_min, ramp, 0.0, period)
    per_day = dose.SECONDS_PER_DAY / period if period > 0 else 0.0
    pulses_per_s = s.frequency_Hz
    if gen.burst is not None:
        pulses_per_s *= float(gen.burst.pulses_per_burst.value)
    return DoseMetrics(
        duty_cycle=dc,
        duty_cycle_without_ramps=dc0,
        ramp_s=ramp,
        trains_per_day=dose.trains_per_day(s.on_time_s, s.off_time_min),
        pulses_per_day=per_day * integ.active_s * pulses_per_s,
        charge_per_day_C=per_day * integ.amplitude_s * pulses_per_s * q_uC * 1e-6,
        stimulation_time_per_day_s=per_day * integ.active_s,
    )


def check(
    settings: StimulationSettings,
    generator: GeneratorModel | str,
    lead: LeadModel | str | None = None,
    *,
    limits: SafetyLimits | None = None,
) -> SafetyReport:
    """Check ``settings`` for ``generator`` with ``lead`` and report every problem at once.

    Parameters
    ----------
    settings
        The settings to check.
    generator
        Catalogue model or its id (``"1000"``).
    lead
        Lead model or id/alias (``"2mm"``); ``None`` takes the generator's default lead.
    limits
        Safety limits; ``None`` takes :meth:`SafetyLimits.default`.

    Returns
    -------
    SafetyReport
        ``report.ok`` is False when anything blocks programming.
    """
    cat = default_catalogue()
    gen = cat.generator(generator) if isinstance(generator, str) else generator
    if isinstance(lead, str):
        lead_model: LeadModel | None = cat.lead(lead)
    elif lead is None:
        lead_model = cat.default_lead(gen) if gen.leads else None
    else:
        lead_model = lead
    limits = limits or SafetyLimits.default()
    issues: list[Issue] = []

    if lead_model is not None and lead_model.id not in gen.leads:
        issues.append(
            Issue(
                severity="error",
                code="lead_incompatible",
                field="lead",
                value=lead_model.id,
                allowed="one of " + ", ".join(gen.leads),
                message=f"lead = {lead_model.id} cannot be used with generator {gen.id}; allowed: "
                + ", ".join(gen.leads),
            )
        )

    for mode, (feature, description) in _MODE_FIELDS.items():
        if getattr(settings, mode) is not None and not gen.has(feature):  # type: ignore[arg-type]
            issues.append(
                Issue(
                    severity="error",
                    code="feature_unavailable",
                    field=mode,
                    value="set",
                    allowed=f"no {description} on generator {gen.id} ({gen.name}); leave it unset",
                    message=f"{mode} settings given, but generator {gen.id} ({gen.name}) has no "
                    f"{description}",
                )
            )

    issues += _range_issues(gen, settings.flat())

    f = settings.frequency_Hz
    normal = _charge(
        "", settings.output_current_mA, settings.pulse_width_us, f, gen, lead_model, limits, issues
    )
    magnet = autostim = None
    if settings.magnet is not None and gen.has("magnet"):
        m = settings.magnet
        magnet = _charge(
            "magnet_", m.output_current_mA, m.pulse_width_us, f, gen, lead_model, limits, issues
        )
    if settings.autostim is not None and gen.has("autostim"):
        a = settings.autostim
        autostim = _charge(
            "autostim_", a.output_current_mA, a.pulse_width_us, f, gen, lead_model, limits, issues
        )

    metrics = _dose_metrics(settings, gen, normal.charge_per_phase_uC)

    if settings.output_current_mA > 0 and metrics.duty_cycle > limits.duty_cycle_warn:
        issues.append(
            Issue(
                severity="warning",
                code="duty_cycle_warn",
                field="off_time_min",
                value=settings.off_time_min,
                allowed=f"duty cycle ≤ {limits.duty_cycle_warn:.0%}",
                message=f"duty cycle {metrics.duty_cycle:.1%} "
                f"(ON {_fmt(settings.on_time_s)} s, OFF "
                f"{_fmt(settings.off_time_min)} min, ramps {_fmt(gen.ramp_s)} s) is above "
                f"{limits.duty_cycle_warn:.0%}",
            )
        )
    if bool(gen.output.off_greater_than_on_recommended.value) and (
        settings.off_time_s <= settings.on_time_s
    ):
        issues.append(
            Issue(
                severity="warning",
                code="off_not_greater_than_on",
                field="off_time_min",
                value=settings.off_time_min,
                allowed=f"OFF time > ON time ({_fmt(settings.on_time_s)} s = "
                f"{_fmt(settings.on_time_s / 60)} min) is recommended",
                message=f"off_time_min = {_fmt(settings.off_time_min)} min is not longer than "
                f"on_time_s = {_fmt(settings.on_time_s)} s; OFF > ON is recommended",
            )
        )
    if gen.dose is not None:
        max_doses = float(gen.dose.max_per_day.value)
        doses = metrics.trains_per_day if settings.off_time_min > 0 else math.inf
        if doses > max_doses:
            min_off = (dose.SECONDS_PER_DAY / max_doses - settings.on_time_s) / 60.0
            issues.append(
                Issue(
                    severity="error",
                    code="dose_limit",
                    field="off_time_min",
                    value=settings.off_time_min,
                    allowed=f"≥ {min_off:.0f} min, so that at most {max_doses:g} doses "
                    "a day are given",
                    message=f"off_time_min = {_fmt(settings.off_time_min)} min gives {doses:.1f} "
                    f"doses a day; generator {gen.id} allows at most {max_doses:g} "
                    f"(off_time_min ≥ {min_off:.0f} min)",
                )
            )
    if settings.output_current_mA == 0:
        issues.append(
            Issue(
                severity="note",
                code="output_off",
                field="output_current_mA",
                value=0.0,
                allowed="> 0 mA to stimulate",
                message="output_current_mA = 0: normal-mode stimulation is off",
            )
        )
    if lead_model is not None and lead_model.contact_area_cm2 is None:
        what = (
            "charge density and Shannon k"
            if lead_model.kind == "helical"
            else "charge density and r.m.s. current density"
        )
        issues.append(
            Issue(
                severity="note",
                code="area_unknown",
                field="lead",
                value=lead_model.id,
                allowed="a lead with a known contact area",
                message=f"contact area of {lead_model.id} is not known: {what} are not computed",
            )
        )

    return SafetyReport(
        generator_id=gen.id,
        lead_id=lead_model.id if lead_model else None,
        settings=settings,
        limits=limits,
        issues=tuple(issues),
        normal=normal,
        magnet=magnet,
        autostim=autostim,
        dose=metrics,
    )
