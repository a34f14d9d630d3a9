"""The device catalogue: generators, leads and non-invasive stimulators with their ranges.

The catalogue is package data (``data/catalogue.yaml``), versioned, with a status and a source
for every value. Values that the reference marks as recalled (R), not found (NF) or that OpenVNS
assumes (A) are kept and flagged ``provisional``; nothing is hidden in code.

Examples
--------
>>> from openvns.device import catalogue
>>> gen = catalogue.generator("1000")
>>> gen.parameters["output_current_mA"].describe()
'0–3.5 mA in 0.125 mA steps'
>>> round(catalogue.lead("2mm").contact_area_cm2, 4)
0.0471
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from openvns import yamlio
from openvns.base import FrozenModel
from openvns.errors import UnknownModelError
from openvns.parameters import Provenance, Status, require_provisional
from openvns.parameters import unit_of as unit_of
from openvns.parameters.ranges import ParameterRange as PlausibleRange
from openvns.parameters.ranges import check_range

Feature = Literal[
    "magnet", "autostim", "scheduled_programming", "day_night", "dose_limit", "exhalation_gating"
]
DeviceKind = Literal[
    "implanted", "noninvasive_cervical", "transcutaneous_auricular", "percutaneous_auricular"
]
LeadKind = Literal["helical", "skin", "percutaneous"]
#: Where an electrode sits: the cervical vagus (helical cuff), the skin of the neck over it
#: (gammaCore), the cymba conchae, the tragus or the earlobe (auricular skin electrodes; the
#: earlobe is the usual sham site) or the auricle at large (percutaneous needles).
LeadSite = Literal["cervical_vagus", "neck", "cymba_conchae", "tragus", "earlobe", "auricle"]

#: Relative tolerance used to decide whether a value lies on a step grid.
GRID_RTOL = 1e-9


def _fmt(x: float) -> str:
    return f"{x:g}"


class Sourced(Provenance):
    """A single value with its provenance (the provisional rule is that of :class:`Provenance`)."""

    value: float | bool
    #: Plausible interval of an assumed value (checked against the value by ``load_set``).
    range: PlausibleRange | None = None


class ParameterRange(FrozenModel):
    """The programmable values of one parameter: a grid or an explicit list.

    Attributes
    ----------
    min, max
        Inclusive bounds, in the unit carried by the parameter's name.
    step
        Grid spacing from ``min``; ``None`` means a continuous range.
    values
        Explicit selectable values; when given, ``min``/``max``/``step`` are derived from it.
    ranges
        Plausible intervals of assumed bounds or steps, by member (``{"max": …}``).
    """

    name: str = ""
    min: float = math.nan
    max: float = math.nan
    step: float | None = None
    values: tuple[float, ...] | None = None
    status: Status
    provisional: bool
    source: str
    ranges: dict[Literal["min", "max", "step"], PlausibleRange] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ParameterRange:
        require_provisional(self.status, self.provisional, self.name)
        if self.values is not None:
            if not self.values:
                raise ValueError(f"{self.name}: empty list of values")
            vals = tuple(sorted(float(v) for v in self.values))
            object.__setattr__(self, "values", vals)
            object.__setattr__(self, "min", vals[0])
            object.__setattr__(self, "max", vals[-1])
        elif math.isnan(self.min) or math.isnan(self.max) or self.min > self.max:
            raise ValueError(f"{self.name}: a range needs min <= max or a list of values")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"{self.name}: step must be positive")
        for member, r in (self.ranges or {}).items():
            check_range(getattr(self, member), r, f"{self.name}.{member}")
        return self

    @property
    def unit(self) -> str:
        return unit_of(self.name)

    @property
    def provenance(self) -> Provenance:
        """Status, provisional flag and source of this range."""
        return Provenance(status=self.status, provisional=self.provisional, source=self.source)

    def in_range(self, x: float) -> bool:
        """Whether ``x`` lies between the bounds (inclusive, with rounding tolerance)."""
        tol = GRID_RTOL * max(1.0, abs(self.max))
        return self.min - tol <= x <= self.max + tol

    def allows(self, x: float) -> bool:
        """Whether ``x`` is a selectable value: in range and on the grid or in the list."""
        if not math.isfinite(x) or not self.in_range(x):
            return False
        if self.values is not None:
            return any(math.isclose(x, v, rel_tol=GRID_RTOL, abs_tol=1e-12) for v in self.values)
        if self.step is None:
            return True
        k = (x - self.min) / self.step
        return math.isclose(k, round(k), rel_tol=0, abs_tol=1e-6)

    def nearest(self, x: float) -> float:
        """The selectable value closest to ``x`` (ties go down)."""
        if self.values is not None:
            return min(self.values, key=lambda v: (abs(v - x), v))
        clipped = min(max(x, self.min), self.max)
        if self.step is None:
            return clipped
        k = math.floor((clipped - self.min) / self.step + 0.5 - 1e-9)
        return min(self.min + k * self.step, self.max)

    def selectable(self) -> tuple[float, ...]:
        """Every selectable value (raises for a continuous range)."""
        if self.values is not None:
            return self.values
        if self.step is None:
            raise ValueError(f"{self.name} is continuous; it has no finite list of values")
        n = math.floor((self.max - self.min) / self.step + 1e-9)
        return tuple(round(self.min + i * self.step, 10) for i in range(n + 1))

    def describe(self) -> str:
        """Human-readable description, e.g. ``'0–3.5 mA in 0.25 mA steps'``."""
        u = self.unit
        sp = "" if u in ("%", "") else " "
        if self.values is not None:
            if len(self.values) > 12:
                head = ", ".join(_fmt(v) for v in self.values[:8])
                shown = f"{head}, …, {_fmt(self.values[-1])}"
            else:
                shown = ", ".join(_fmt(v) for v in self.values)
            return f"one of {{{shown}}}{sp}{u}"
        text = f"{_fmt(self.min)}–{_fmt(self.max)}{sp}{u}"
        if self.step is not None:
            text += f" in {_fmt(self.step)}{sp}{u} steps"
        return text


class BurstSpec(FrozenModel):
    carrier_frequency_Hz: Sourced
    pulses_per_burst: Sourced


class DoseSpec(FrozenModel):
    duration_s: Sourced
    max_per_day: Sourced


class OutputStage(FrozenModel):
    compliance_voltage_V: Sourced
    ramp_s: Sourced
    magnet_ramp: bool
    off_greater_than_on_recommended: Sourced


class ZeroOutputTest(FrozenModel):
    output_current_mA: float
    pulse_width_us: float
    frequency_Hz: float


class DiagnosticsSpec(FrozenModel):
    test_current_mA: Sourced | None
    zero_output_test: ZeroOutputTest | None
    zero_output_test_status: Provenance


class CalibrationSettings(FrozenModel):
    output_current_mA: float
    frequency_Hz: float
    pulse_width_us: float
    on_time_s: float
    off_time_min: float


class BatteryAnchor(FrozenModel):
    label: str
    years: Sourced
    settings: CalibrationSettings
    settings_status: Provenance
    #: Plausible intervals of the assumed settings, by setting (``ranges`` of ``settings_status``
    #: in the data file).
    settings_ranges: dict[str, PlausibleRange] | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_ranges(cls, data: Any) -> Any:
        status = data.get("settings_status") if isinstance(data, dict) else None
        if isinstance(status, dict) and "ranges" in status:
            rest = {k: v for k, v in status.items() if k != "ranges"}
            return {**data, "settings_status": rest, "settings_ranges": status["ranges"]}
        return data

    @model_validator(mode="after")
    def _ranges_of_settings(self) -> BatteryAnchor:
        for member, r in (self.settings_ranges or {}).items():
            if member not in CalibrationSettings.model_fields:
                raise ValueError(f"{self.label}: settings_status.ranges.{member}: no such setting")
            check_range(getattr(self.settings, member), r, f"{self.label}: settings.{member}")
        return self


class BatterySpec(FrozenModel):
    nominal_voltage_V: Sourced
    output_efficiency: Sourced
    calibration_impedance_ohm: Sourced
    anchors: tuple[BatteryAnchor, BatteryAnchor]
    ifi_percent: Sourced
    neos_percent: Sourced
    eos_percent: Sourced


class GeneratorModel(FrozenModel):
    """One stimulator model of the catalogue (implanted generator or non-invasive device)."""

    id: str
    name: str
    family: str
    kind: DeviceKind
    features: frozenset[Feature]
    battery_indicator: Literal["percent", "near_eos_flag", "none"]
    leads: tuple[str, ...]
    source: str
    parameters: dict[str, ParameterRange]
    output: OutputStage
    diagnostics: DiagnosticsSpec | None = None
    battery: BatterySpec | None = None
    burst: BurstSpec | None = None
    dose: DoseSpec | None = None
    #: A sham device of a sham-controlled trial (it looks and feels like the active one and is
    #: meant not to stimulate the nerve): a sham arm may run it above 0 mA.
    sham: bool = False

    @field_validator("parameters", mode="before")
    @classmethod
    def _name_parameters(cls, v: dict[str, Any]) -> dict[str, Any]:
        return {k: {**p, "name": k} if isinstance(p, dict) else p for k, p in v.items()}

    @model_validator(mode="after")
    def _required(self) -> GeneratorModel:
        required = {
            "output_current_mA",
            "frequency_Hz",
            "pulse_width_us",
            "on_time_s",
            "off_time_min",
        }
        if "magnet" in self.features:
            required |= {"magnet_output_current_mA", "magnet_pulse_width_us", "magnet_on_time_s"}
        if "autostim" in self.features:
            required |= {
                "autostim_threshold_pct",
                "autostim_output_current_mA",
                "autostim_pulse_width_us",
                "autostim_on_time_s",
                "heartbeat_sensitivity",
            }
        missing = required - set(self.parameters)
        if missing:
            raise ValueError(f"generator {self.id}: missing parameter ranges {sorted(missing)}")
        if ("dose_limit" in self.features) != (self.dose is not None):
            raise ValueError(f"generator {self.id}: 'dose_limit' feature needs a dose block")
        return self

    @property
    def implanted(self) -> bool:
        return self.kind == "implanted"

    @property
    def ramp_s(self) -> float:
        """Ramp-up (and ramp-down) time of a normal-mode train, in s."""
        return float(self.output.ramp_s.value)

    @property
    def compliance_voltage_V(self) -> float:
        return float(self.output.compliance_voltage_V.value)

    def has(self, feature: Feature) -> bool:
        return feature in self.features


class HelicalGeometry(FrozenModel):
    contact_width_mm: Sourced
    contact_thickness_mm: Sourced
    turns_per_contact: Sourced
    helix_turns: Sourced
    silicone_ribbon_width_mm: Sourced
    silicone_ribbon_thickness_mm: Sourced
    contact_separation_mm: Sourced
    nominal_impedance_ohm: Sourced
    impedance_low_ohm: Sourced
    impedance_high_ohm: Sourced
    fault_break_impedance_ohm: Sourced
    fault_short_impedance_ohm: Sourced


class LeadModel(FrozenModel):
    """A lead (helical cuff), the skin electrodes of a non-invasive device or a needle array.

    Attributes
    ----------
    kind
        ``"helical"`` (cuff on the nerve), ``"skin"`` (transcutaneous) or ``"percutaneous"``.
    site
        Where the electrode sits (:data:`LeadSite`); ``None`` where the catalogue does not say.
    """

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    kind: LeadKind
    site: LeadSite | None = None
    inner_diameter_mm: Sourced | None
    geometry: HelicalGeometry | None
    contact_area_cm2_given: float | None = Field(default=None, alias="contact_area_cm2")
    source: str

    @property
    def contact_area_cm2(self) -> float | None:
        """Geometric area of one contact in cm², or ``None`` where it is not known.

        For a helical lead it is derived (status D) as the inner face of one turn of ribbon,
        ``pi * ID * w * turns_per_contact`` (reference §3.1: 0.0471 cm² for the 2 mm lead).
        """
        if self.contact_area_cm2_given is not None:
            return self.contact_area_cm2_given
        if self.geometry is None or self.inner_diameter_mm is None:
            return None
        id_cm = float(self.inner_diameter_mm.value) / 10.0
        w_cm = float(self.geometry.contact_width_mm.value) / 10.0
        return math.pi * id_cm * w_cm * float(self.geometry.turns_per_contact.value)

    @property
    def nominal_impedance_ohm(self) -> float | None:
        return None if self.geometry is None else float(self.geometry.nominal_impedance_ohm.value)


class Catalogue(FrozenModel):
    """The whole catalogue as loaded from a data file."""

    schema_: str = Field(alias="schema")
    version: str
    sources: dict[str, str]
    generators: dict[str, GeneratorModel]
    leads: dict[str, LeadModel]

    @field_validator("generators", "leads", mode="before")
    @classmethod
    def _index(cls, v: Any) -> Any:
        if isinstance(v, list):
            return {item["id"]: item for item in v}
        return v

    @model_validator(mode="after")
    def _cross_references(self) -> Catalogue:
        for gen in self.generators.values():
            unknown = [lid for lid in gen.leads if lid not in self.leads]
            if unknown:
                raise ValueError(f"generator {gen.id} lists unknown leads {unknown}")
        return self

    def generator(self, model_id: str) -> GeneratorModel:
        key = str(model_id).strip()
        for prefix in ("Model ", "model ", "M"):
            if key not in self.generators and key.startswith(prefix):
                key = key[len(prefix) :]
        if key in self.generators:
            return self.generators[key]
        by_name = {g.name.lower(): g for g in self.generators.values()}
        if key.lower() in by_name:
            return by_name[key.lower()]
        raise UnknownModelError("generator", model_id, "one of " + ", ".join(self.generators))

    def lead(self, lead_id: str) -> LeadModel:
        key = str(lead_id).strip()
        if key in self.leads:
            return self.leads[key]
        for lead in self.leads.values():
            if key.lower() in (a.lower() for a in lead.aliases):
                return lead
        names = list(self.leads) + [a for ld in self.leads.values() for a in ld.aliases]
        raise UnknownModelError("lead", lead_id, "one of " + ", ".join(names))

    def default_lead(self, generator: GeneratorModel) -> LeadModel:
        """The lead used when none is named: the 2 mm PerenniaFLEX for implanted generators."""
        preferred = "304-20" if "304-20" in generator.leads else generator.leads[0]
        return self.leads[preferred]


def load_catalogue(text: str) -> Catalogue:
    """Parse a catalogue from YAML text (anchors allowed; keys starting with ``_`` ignored)."""
    raw = yamlio.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError("catalogue must be a YAML mapping")
    data = {k: v for k, v in raw.items() if not k.startswith("_")}
    return Catalogue.model_validate(data)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped with OpenVNS (``openvns/device/data/catalogue.yaml``)."""
    text = resources.files("openvns.device").joinpath("data/catalogue.yaml").read_text("utf-8")
    return load_catalogue(text)


def generator(model_id: str) -> GeneratorModel:
    """Look up a generator or non-invasive device by id (``"1000"``, ``"Model 106"``, name)."""
    return default_catalogue().generator(model_id)


def lead(lead_id: str) -> LeadModel:
    """Look up a lead by id or alias (``"304-20"``, ``"2mm"``)."""
    return default_catalogue().lead(lead_id)
