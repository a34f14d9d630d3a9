"""A device simulation job: implant a virtual generator, titrate it, let it run, summarise.

:func:`run_simulation` is what ``openvns device simulate`` runs; it logs and reports progress
through a callback (the CLI draws the progress bar) and returns a JSON-able summary.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from openvns.device.catalogue import default_catalogue
from openvns.device.generator import PulseGenerator
from openvns.device.programs import titration_steps
from openvns.device.safety import check
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

#: ``progress(days_done, days_total)``, called after each chunk of simulated days.
SimulationProgress = Callable[[float, int], None]

#: Days advanced between progress reports.
CHUNK_DAYS = 30
#: Clock time of the simulated magnet swipes.
SWIPE_TIME = time(14, 0)
#: Seconds in a day (for the progress report).
_SECONDS_PER_DAY = 86_400.0

__all__ = ["CHUNK_DAYS", "SWIPE_TIME", "SimulationProgress", "run_simulation", "swipe_times"]


def swipe_times(start: datetime, days: int, swipes_per_week: int) -> list[datetime]:
    """Magnet swipes at :data:`SWIPE_TIME` from the day after ``start``, evenly spaced."""
    if swipes_per_week <= 0:
        return []
    spacing = timedelta(days=7) / swipes_per_week
    end = start + timedelta(days=days)
    out: list[datetime] = []
    t = datetime.combine(start.date(), SWIPE_TIME) + timedelta(days=1)
    while t < end:
        out.append(t)
        t += spacing
    return out


def _check_whole(name: str, value: int, low: int, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(name, value, f"a whole number of {unit} ≥ {low}")


def run_simulation(
    *,
    generator: str,
    lead: str | None,
    target: StimulationSettings,
    days: int,
    start_current_mA: float,
    step_mA: float,
    every_days: int,
    swipes_per_week: int,
    start: datetime,
    state: Path | None = None,
    progress: SimulationProgress | None = None,
) -> dict[str, Any]:
    """Implant ``generator`` on ``lead`` at ``start``, titrate to ``target`` and run ``days``.

    Parameters
    ----------
    generator, lead
        Catalogue ids (``lead=None``: the generator's default lead).
    target
        Settings reached at the end of the titration. Checked up front (every error at once).
    days
        Days to simulate (≥ 1).
    start_current_mA, step_mA, every_days
        Titration: ``start_current_mA`` raised by ``step_mA`` every ``every_days`` up to the
        target (:func:`openvns.device.programs.titration_steps`). A start current of 0 or a
        step of 0 programs the target at once. Steps are applied by the generator's Scheduled
        Programming where the model has it, otherwise programmed at visits on their dates.
    swipes_per_week
        Magnet swipes a week (needs the magnet mode programmed in ``target``).
    state
        Save the generator's state to this file at the end.
    progress
        Called as ``progress(days_done, days)`` every :data:`CHUNK_DAYS` days.

    Returns
    -------
    dict
        JSON-able summary: generator, lead, catalogue version, dates, final settings, dose,
        battery, diagnostics, event counts and the state file.
    """
    _check_whole("days", days, 1, "days")
    _check_whole("swipes_per_week", swipes_per_week, 0, "swipes a week")
    if swipes_per_week and target.magnet is None:
        raise ValidationError(
            "swipes_per_week", swipes_per_week, "0 unless the magnet mode is programmed"
        )
    gen = PulseGenerator(generator, lead, implanted_at=start)
    # The whole titration is checked up front, even steps that lie beyond the simulated days.
    check(target, gen.model, gen.lead).raise_for_errors()
    if start_current_mA <= 0 or step_mA <= 0:
        steps = [(start, target)]
    else:
        steps = titration_steps(target, start_current_mA, step_mA, every_days, start)
    end = start + timedelta(days=days)
    gen.program(steps[0][1], by="openvns simulate")
    later = [s for s in steps[1:] if s[0] < end]
    visits: list[tuple[datetime, StimulationSettings]] = []
    if later and gen.model.has("scheduled_programming"):
        gen.schedule_titration(later)
    else:
        visits = later
    log.info(
        "simulating generator %s on lead %s for %d days: %d titration steps, %d visits",
        gen.model.id,
        gen.lead.id,
        days,
        len(steps),
        len(visits),
    )
    pct0 = gen.interrogate().battery_percent
    totals = {"pulses": 0.0, "charge_C": 0.0, "delivered_energy_J": 0.0, "battery_used_J": 0.0}
    trains: Counter[str] = Counter()
    swipes = swipe_times(start, days, swipes_per_week)
    actions: list[tuple[datetime, StimulationSettings | None]] = sorted(
        [*visits, *((t, None) for t in swipes)], key=lambda a: a[0]
    )

    def advance_to(until: datetime) -> None:
        summary = gen.advance(until)
        for k in totals:
            totals[k] += float(getattr(summary, k))
        trains.update(summary.trains_by_kind)

    t = start
    while t < end:
        chunk_end = min(end, t + timedelta(days=CHUNK_DAYS))
        while actions and actions[0][0] < chunk_end:
            when, settings = actions.pop(0)
            advance_to(when)
            if settings is not None:
                gen.program(settings, by="titration visit")
            else:
                gen.magnet_swipe(when)
        advance_to(chunk_end)
        t = chunk_end
        if progress is not None:
            progress((t - start).total_seconds() / _SECONDS_PER_DAY, days)
    diag = gen.run_diagnostics()
    info = gen.interrogate()
    if state is not None:
        gen.save(state)
        log.info("generator state saved to %s", state)
    events = Counter(e.kind for e in info.history)
    return {
        "generator": gen.model.id,
        "lead": gen.lead.id,
        "catalogue_version": default_catalogue().version,
        "start": start.isoformat(),
        "end": info.time.isoformat(),
        "days": days,
        "final_settings": info.settings.model_dump(),
        "dose": {
            "trains": dict(trains),
            "pulses": totals["pulses"],
            "charge_C": totals["charge_C"],
            "stimulation_h": info.counters.stimulation_s / 3600.0,
            "delivered_energy_J": totals["delivered_energy_J"],
        },
        "battery": {
            "percent_start": pct0,
            "percent_end": info.battery_percent,
            "indicator": info.battery_indicator,
            "used_J": totals["battery_used_J"],
            "longevity_years_remaining": gen.longevity_years(),
        },
        "diagnostics": diag.model_dump(mode="json"),
        "events": dict(events),
        "state_file": str(state) if state is not None else None,
    }
