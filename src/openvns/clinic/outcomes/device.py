"""The patient's device for the outcome page and the report: implant, lead, settings, battery and
the last measured lead impedance, as the implant is now.

The implant shown is the patient's active one, else the most recent (explanted or replaced,
with its last state). It is read as the implants API reads it (``implants.service.load``: the
implant's clock runs to ``now``, so scheduled titration steps due by then are in force); nothing
is stored.

Letting the clock run costs time in proportion to the time since the implant's last change
(about 0.2 s for a year). So the active implant's virtual generator is kept per process, per
implant and stored state (:data:`MAX_IMPLANTS` at most), and each read lets it run only from the
previous read on; a change of the implant (its ``version`` and stored state) replaces it, and a
``now`` earlier than its clock (a test's fixed clock) reads it afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from openvns.clinic.implants import service as implants
from openvns.clinic.implants.device import from_device, sync_to, to_device
from openvns.clinic.implants.models import Implant, ImplantStatus
from openvns.clinic.outcomes.schemas import DeviceSettings, DeviceSummary
from openvns.device.generator import PulseGenerator

__all__ = ["MAX_IMPLANTS", "device_summary", "settings_text"]

#: Active implants whose virtual generator is kept (per process).
MAX_IMPLANTS = 1024


@dataclass
class _Held:
    generator: PulseGenerator
    lock: threading.Lock = field(default_factory=threading.Lock)


_HELD: OrderedDict[Hashable, _Held] = OrderedDict()
_HELD_LOCK = threading.Lock()


def _held(session: Session, implant: Implant) -> _Held:
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    key = (database, implant.id, implant.version, hash(implant.state_json))
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is None:
            source = f"implant {implant.id}"
            held = _Held(PulseGenerator.from_json(implant.state_json, source=source))
            _HELD[key] = held
        _HELD.move_to_end(key)
        while len(_HELD) > MAX_IMPLANTS:
            _HELD.popitem(last=False)
        return held


def device_summary(session: Session, patient_id: int, now: datetime) -> DeviceSummary | None:
    """The patient's implant now (see the module documentation); ``None`` without one.

    No access check: callers check that the viewer may read the patient's outcomes.
    """
    active_first = case((Implant.status == ImplantStatus.ACTIVE.value, 0), else_=1)
    implant = session.scalars(
        select(Implant)
        .where(Implant.patient_id == patient_id)
        .order_by(active_first, Implant.id.desc())
        .limit(1)
    ).first()
    if implant is None:
        return None
    if implant.status != ImplantStatus.ACTIVE.value:
        return _summary(implant, implants.load(implant, now))
    held = _held(session, implant)
    with held.lock:
        if to_device(now) < held.generator.now:  # a clock set back: read the stored state
            return _summary(implant, implants.load(implant, now))
        return _summary(implant, sync_to(held.generator, now))


def _summary(implant: Implant, generator: PulseGenerator) -> DeviceSummary:
    seen = generator.interrogate()
    s = seen.settings
    return DeviceSummary(
        implant_id=implant.id,
        status=implant.status,
        generator_model=implant.generator_model,
        generator_name=generator.model.name,
        generator_serial=implant.generator_serial,
        implanted_at=implant.implanted_at.date(),
        lead_model=implant.lead_model,
        lead_name=generator.lead.name,
        device_time=from_device(generator.now),
        settings=DeviceSettings(
            output_current_mA=s.output_current_mA,
            frequency_Hz=s.frequency_Hz,
            pulse_width_us=s.pulse_width_us,
            on_time_s=s.on_time_s,
            off_time_min=s.off_time_min,
        ),
        battery_percent=seen.battery_percent,
        battery_indicator=str(seen.battery_indicator),
        lead_impedance_ohm=seen.lead_impedance_ohm,
        impedance_status=None if seen.impedance_status is None else str(seen.impedance_status),
    )


def settings_text(settings: DeviceSettings) -> str:
    """The settings in words: ``1.5 mA, 20 Hz, 250 µs, 30 s ON / 5 min OFF``."""
    return (
        f"{_n(settings.output_current_mA)} mA, {_n(settings.frequency_Hz)} Hz, "
        f"{_n(settings.pulse_width_us)} µs, {_n(settings.on_time_s)} s ON / "
        f"{_n(settings.off_time_min)} min OFF"
    )


def _n(value: float) -> str:
    """A number without a trailing ``.0`` (``20``, ``1.5``, ``0.25``)."""
    return f"{value:g}"
