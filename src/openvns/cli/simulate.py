"""``openvns device simulate``: the progress bar and the summary tables.

The job itself is :func:`openvns.device.job.run_simulation`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from openvns.cli.common import console, fail, progress_bar
from openvns.device.job import run_simulation
from openvns.device.settings import StimulationSettings


def simulate_with_progress(
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
    """:func:`openvns.device.job.run_simulation` under a progress bar (unless hidden)."""
    if swipes_per_week and target.magnet is None:
        fail("--swipes-per-week needs --magnet-current (the magnet mode must be programmed)")
    with progress_bar("simulating", "days", enabled=show_progress) as tick:
        return run_simulation(
            generator=generator,
            lead=lead,
            target=target,
            days=days,
            start_current_mA=start_current_mA,
            step_mA=step_mA,
            every_days=every_days,
            swipes_per_week=swipes_per_week,
            start=start,
            state=state,
            progress=lambda done, total: tick(round(done), total),
        )


def print_summary(s: dict[str, Any]) -> None:
    """Render a :func:`openvns.device.job.run_simulation` summary as tables."""
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
