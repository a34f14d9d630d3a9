"""An implant's battery now, without running months of its clock when nothing can change.

Reading an implant lets its clock run to now (:func:`openvns.clinic.implants.device.load`), which
costs time in proportion to the days since the row last changed (the device simulates day by
day: about 0.4 ms a day). The worklist reads every active implant, so :func:`implant_now` first
reads the stored state and projects its battery with the device layer's own mean drain
(:meth:`~openvns.device.generator.PulseGenerator.longevity_years`: normal-mode stimulation at
the current program and true impedance, quiescent drain, compliance limit). Between two stored
changes nothing else drains the battery: magnet and AutoStim trains, titration and diagnostics
are all explicit operations that store the row.

The projection is used only where it cannot be wrong about the indicator: the implant is run to
now (exactly as the implant pages do) when its output is disabled (EOS: one cheap step), when a
titration step falls due or a day/night program switches in the gap (the program changes), or
when the projected percent comes within one day's drain of the next indicator's cut-off (the
mean drain differs from the delivered one by at most one train, far less than a day's). So the
indicator, and the event that dates it, are the implant's own; the percent shown is the
projection (within a train's drain of the simulated one).
"""

from __future__ import annotations

from datetime import datetime

from openvns.clinic.implants.device import to_device
from openvns.clinic.implants.models import Implant
from openvns.device.battery import SECONDS_PER_YEAR, BatteryModel
from openvns.device.generator import PulseGenerator

__all__ = ["implant_now"]

_DAYS_PER_YEAR = SECONDS_PER_YEAR / 86_400.0


def _run(generator: PulseGenerator, target: datetime) -> tuple[PulseGenerator, float]:
    generator.advance(target)
    return generator, generator.battery_percent


def implant_now(implant: Implant, now: datetime) -> tuple[PulseGenerator, float]:
    """The implant's state for the worklist and its battery percent at ``now`` (aware).

    The state is the stored one when no indicator can have changed since (then the percent is
    projected), else the implant run to ``now``. Its battery indicator, battery events, settings
    and last measured impedance are those of the implant at ``now`` either way. Nothing is
    written to ``implant``.
    """
    generator = PulseGenerator.from_json(implant.state_json, source=f"implant {implant.id}")
    target = to_device(now)
    if target <= generator.now:
        return generator, generator.battery_percent
    reading = generator.interrogate()
    changes = reading.day_night is not None or any(
        step.time <= target for step in reading.scheduled_steps
    )
    if changes or not generator.output_enabled:
        return _run(generator, target)
    cell = BatteryModel.for_generator(generator.model)
    percent = generator.battery_percent
    years = generator.longevity_years()
    if years <= 0 or percent <= cell.eos_percent:
        return _run(generator, target)
    per_year = (percent - cell.eos_percent) / years
    projected = percent - per_year * (target - generator.now).total_seconds() / SECONDS_PER_YEAR
    cuts = [c for c in (cell.ifi_percent, cell.neos_percent, cell.eos_percent) if c < percent]
    if cuts and projected - max(cuts) <= per_year / _DAYS_PER_YEAR:
        return _run(generator, target)
    return generator, projected
