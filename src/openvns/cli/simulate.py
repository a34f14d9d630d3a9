"""The ``openvns device simulate`` job: implant, titrate, run, summarise."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from openvns.cli.common import console, fail
from openvns.device.catalogue import default_catalogue
from openvns.device.generator import PulseGenerator
from openvns.device.safety import check
from openvns.device.settings import StimulationSettings

#: Days advanced between progress-bar updates.
_CHUNK_DAYS = 30
#: Clock time of the simulated magnet swipes.
_SWIPE_TIME = time(14, 0)


def titration_steps(
    target: StimulationSettings,
    start_current_mA: float,
    step_mA: float,
    every_days: int,
    start: datetime,
) -> list[tuple[datetime, StimulationSettings]]:
    """Visits from ``start``: ``start_current_mA`` raised by ``step_mA`` every ``every_days``
    until the target current (the last step lands exactly on the target)."""
    goal = target.output_current_mA
    if start_current_mA <= 0 or step_mA <= 0 or start_current_mA >= goal:
        return [(start, target)]
    steps: list[tuple[datetime, StimulationSettings]] = []
    n = math.ceil((goal - start_current_mA) / step_mA - 1e-9)
    for i in range(n + 1):
        current = min(goal, start_current_mA + i * step_mA)
        steps.append(
            (
                start + timedelta(days=i * every_days),
                target.with_(output_current_mA=round(current, 6)),
            )
        )
    return steps


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
    state: Path | None,
    show_progress: bool,
) -> dict[str, Any]:
    """Run the simulation and return a JSON-able summary."""
    gen = PulseGenerator(generator, lead, implanted_at=start)
    # The whole titration is checked up front, even steps that lie beyond the simulated days.
    check(target, gen.model, gen.lead).raise_for_errors()
    steps = titration_steps(target, start_current_mA, step_mA, every_days, start)
    gen.program(steps[0][1], by="openvns simulate")
    later = [s for s in steps[1:] if s[0] < start + timedelta(days=days)]
    visits = []
    if later and gen.model.has("scheduled_programming"):
        gen.schedule_titration(later)
    else:
        visits = later
    if swipes_per_week and target.magnet is None:
        fail("--swipes-per-week needs --magnet-current (the magnet mode must be programmed)")
    swipes: list[datetime] = []
    if swipes_per_week:
        spacing = timedelta(days=7) / swipes_per_week
        first = datetime.combine(start.date(), _SWIPE_TIME) + timedelta(days=1)
        t = first
        while t < start + timedelta(days=days):
            swipes.append(t)
            t += spacing
    end = start + timedelta(days=days)
    pct0 = gen.interrogate().battery_percent
    totals = {"pulses": 0.0, "charge_C": 0.0, "delivered_energy_J": 0.0, "battery_used_J": 0.0}
    trains: Counter[str] = Counter()
    actions = sorted(
        [(t, "visit", s) for t, s in visits] + [(t, "swipe", None) for t in swipes],
        key=lambda a: a[0],
    )

    def advance_to(until: datetime) -> None:
        summary = gen.advance(until)
        for k in totals:
            totals[k] += float(getattr(summary, k))
        trains.update(summary.trains_by_kind)

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} days"),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("simulating", total=days)
        t = start
        while t < end:
            chunk_end = min(end, t + timedelta(days=_CHUNK_DAYS))
            while actions and actions[0][0] < chunk_end:
                when, what, settings = actions.pop(0)
                advance_to(when)
                if what == "visit" and settings is not None:
                    gen.program(settings, by="titration visit")
                else:
                    gen.magnet_swipe(when)
            advance_to(chunk_end)
            t = chunk_end
            progress.update(task, completed=(t - start).total_seconds() / 86_400)
    diag = gen.run_diagnostics()
    info = gen.interrogate()
    if state is not None:
        gen.save(state)
    events = Counter(e.kind for e in info.history)
    cat = default_catalogue()
    return {
        "generator": gen.model.id,
        "lead": gen.lead.id,
        "catalogue_version": cat.version,
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


def print_summary(s: dict[str, Any]) -> None:
    """Render a :func:`run_simulation` summary as tables."""
    fs = s["final_settings"]
    head = Table(
        title=f"Generator {s['generator']} on lead {s['lead']}: {s['days']} days "
        f"({s['start'][:10]} → {s['end'][:10]})"
    )
    head.add_column("quantity")
    head.add_column("value", justify="right")
    d, b = s["dose"], s["battery"]
    rows = [
        (
            "final settings",
            f"{fs['output_current_mA']:g} mA, {fs['frequency_Hz']:g} Hz, "
            f"{fs['pulse_width_us']:g} µs, {fs['on_time_s']:g} s ON / "
            f"{fs['off_time_min']:g} min OFF",
        ),
        ("trains", ", ".join(f"{k} {v:,}" for k, v in sorted(d["trains"].items()) if v) or "0"),
        ("pulses", f"{d['pulses']:,.0f}"),
        ("charge delivered", f"{d['charge_C']:.2f} C"),
        ("stimulation time", f"{d['stimulation_h']:.1f} h"),
        ("energy into the lead", f"{d['delivered_energy_J']:.1f} J"),
        ("battery", f"{b['percent_start']:.1f} % → {b['percent_end']:.1f} % ({b['indicator']})"),
        ("longevity remaining", f"{b['longevity_years_remaining']:.1f} years"),
        (
            "lead impedance",
            f"{s['diagnostics']['lead_impedance_ohm']:.0f} Ω "
            f"({s['diagnostics']['impedance_status']}), output "
            f"{s['diagnostics']['output_status']}",
        ),
        ("events", ", ".join(f"{k} {v}" for k, v in sorted(s["events"].items()))),
    ]
    if s.get("state_file"):
        rows.append(("state saved to", s["state_file"]))
    for q, v in rows:
        head.add_row(q, v)
    console.print(head)
