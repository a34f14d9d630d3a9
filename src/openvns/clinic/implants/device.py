"""The bridge between an ``implants`` row and the virtual implant of the device layer.

The device clock is naive (:mod:`openvns.device.programs`); the clinic keeps it in UTC, so a
device time is the UTC wall time without its zone. :func:`load` restores the
:class:`~openvns.device.generator.PulseGenerator` from ``state_json`` and lets its clock run to
``now``: scheduled titration steps due by then are applied by the implant itself and the battery
drains by what was delivered. :func:`store` writes the state back. Reads load without storing,
so reading never changes the row (nor its ``version``); every change loads, changes and stores,
so the stored state is always that of the implant at the time of the last change.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from openvns.clinic.db.base import utcnow
from openvns.clinic.implants.models import Implant
from openvns.device.generator import PulseGenerator

log = logging.getLogger(__name__)


def to_device(when: datetime) -> datetime:
    """A timezone-aware clinic time as a device time (naive UTC)."""
    return when.astimezone(UTC).replace(tzinfo=None)


def from_device(when: datetime) -> datetime:
    """A device time (naive UTC) as a timezone-aware UTC time."""
    return when.replace(tzinfo=UTC)


def sync_to(generator: PulseGenerator, now: datetime) -> PulseGenerator:
    """Let the implant's clock run to ``now`` (aware); a clock already past ``now`` stays."""
    target = to_device(now)
    if target > generator.now:
        generator.advance(target)
    return generator


def load(implant: Implant, now: datetime | None = None) -> PulseGenerator:
    """The virtual implant of ``implant`` as it is at ``now`` (default: the current UTC time)."""
    generator = PulseGenerator.from_json(implant.state_json, source=f"implant {implant.id}")
    return sync_to(generator, now or utcnow())


def store(implant: Implant, generator: PulseGenerator) -> None:
    """Write the implant's state (and its device time) to the row."""
    implant.state_json = generator.to_json()
    implant.device_time = from_device(generator.now)
    log.debug("stored implant %s at device time %s", implant.id, generator.now)
