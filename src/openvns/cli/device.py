"""``openvns device``: the catalogue, the safety check, battery longevity and a virtual implant."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from openvns.cli.common import (
    EXIT_BLOCKED,
    check_output_directory,
    console,
    fail,
    guarded,
    quantity,
)
from openvns.device.battery import BatteryModel
from openvns.device.catalogue import default_catalogue
from openvns.device.safety import SafetyLimits, SafetyReport, check
from openvns.device.settings import AutoStimSettings, MagnetSettings, StimulationSettings
from openvns.errors import ValidationError

app = typer.Typer(
    help="Stimulators and leads: catalogue, safety check, longevity, simulation.",
    no_args_is_help=True,
)

# --------------------------------------------------------------------------- shared options
Generator = Annotated[
    str,
    typer.Option(
        "--generator", "-g", help="Generator model id, e.g. 1000, 106, gammacore-sapphire-cv."
    ),
]
Lead = Annotated[
    str | None,
    typer.Option(
        "--lead",
        "-l",
        help="Lead id or alias (2mm, 3mm, 304-20); default: the generator's default lead.",
    ),
]
Current = Annotated[str, typer.Option("--current", help="Output current, e.g. 1.5mA.")]
Frequency = Annotated[str, typer.Option("--frequency", help="Frequency, e.g. 20Hz.")]
PulseWidth = Annotated[str, typer.Option("--pulse-width", help="Pulse width, e.g. 250us.")]
OnTime = Annotated[str, typer.Option("--on", help="Signal ON time, e.g. 30s.")]
OffTime = Annotated[str, typer.Option("--off", help="Signal OFF time, e.g. 5min.")]
MagnetCurrent = Annotated[
    str | None, typer.Option("--magnet-current", help="Magnet-mode current, e.g. 1.75mA.")
]
MagnetPW = Annotated[
    str | None,
    typer.Option("--magnet-pulse-width", help="Magnet-mode pulse width (default: --pulse-width)."),
]
MagnetOn = Annotated[
    str | None, typer.Option("--magnet-on", help="Magnet-mode ON time (default: 60s).")
]
AutoThreshold = Annotated[
    str | None,
    typer.Option("--autostim-threshold", help="AutoStim heart-rate threshold, e.g. 30 (%)."),
]
AutoCurrent = Annotated[
    str | None, typer.Option("--autostim-current", help="AutoStim current (default: --current).")
]
AutoPW = Annotated[
    str | None,
    typer.Option("--autostim-pulse-width", help="AutoStim pulse width (default: --pulse-width)."),
]
AutoOn = Annotated[
    str | None, typer.Option("--autostim-on", help="AutoStim ON time (default: --on).")
]
KBlock = Annotated[
    float | None, typer.Option("--k-block", help="Shannon k that blocks (default 1.85).")
]
KWarn = Annotated[
    float | None, typer.Option("--k-warn", help="Shannon k that warns (default 1.5).")
]
DensityWarn = Annotated[
    float | None,
    typer.Option("--density-warn", help="Charge density that warns, µC/cm² (default 30)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

DEFAULT_MAGNET_ON_S = 60.0  # the longest selectable magnet ON time of the catalogue tables


def build_settings(
    current: str,
    frequency: str,
    pulse_width: str,
    on: str,
    off: str,
    magnet_current: str | None = None,
    magnet_pulse_width: str | None = None,
    magnet_on: str | None = None,
    autostim_threshold: str | None = None,
    autostim_current: str | None = None,
    autostim_pulse_width: str | None = None,
    autostim_on: str | None = None,
) -> StimulationSettings:
    """Settings from CLI texts with units (errors name the field)."""
    base: dict[str, Any] = {
        "output_current_mA": quantity(current, "mA", "output_current_mA"),
        "frequency_Hz": quantity(frequency, "Hz", "frequency_Hz"),
        "pulse_width_us": quantity(pulse_width, "us", "pulse_width_us"),
        "on_time_s": quantity(on, "s", "on_time_s"),
        "off_time_min": quantity(off, "min", "off_time_min"),
    }
    if magnet_current is not None:
        base["magnet"] = MagnetSettings(
            output_current_mA=quantity(magnet_current, "mA", "magnet_output_current_mA"),
            pulse_width_us=quantity(magnet_pulse_width, "us", "magnet_pulse_width_us")
            or base["pulse_width_us"],
            on_time_s=quantity(magnet_on, "s", "magnet_on_time_s") or DEFAULT_MAGNET_ON_S,
        )
    elif magnet_pulse_width is not None or magnet_on is not None:
        fail("--magnet-pulse-width and --magnet-on need --magnet-current")
    if autostim_threshold is not None:
        base["autostim"] = AutoStimSettings(
            threshold_pct=quantity(autostim_threshold.rstrip("%"), "", "autostim_threshold_pct"),
            output_current_mA=quantity(autostim_current, "mA", "autostim_output_current_mA")
            or base["output_current_mA"],
            pulse_width_us=quantity(autostim_pulse_width, "us", "autostim_pulse_width_us")
            or base["pulse_width_us"],
            on_time_s=quantity(autostim_on, "s", "autostim_on_time_s") or base["on_time_s"],
        )
    elif any(x is not None for x in (autostim_current, autostim_pulse_width, autostim_on)):
        fail(
            "--autostim-current, --autostim-pulse-width and --autostim-on need --autostim-threshold"
        )
    return StimulationSettings(**base)


#: The Shannon k a user may set as a limit (``--k-block``, ``--k-warn``): k = log10 of charge
#: (µC) times charge density (µC/cm²), and every pulse of the catalogue's generators on its leads
#: lies between k ≈ −2 (0.25 mA, 130 µs) and 2.5 (3.5 mA, 1000 µs on the 2 mm lead), so limits
#: outside ±5 block or warn at nothing or everything; far beyond, 10**k overflows a float.
SHANNON_K_RANGE = (-5.0, 5.0)


def _limits(k_block: float | None, k_warn: float | None, density: float | None) -> SafetyLimits:
    lo, hi = SHANNON_K_RANGE
    for name, k in (("shannon_k_block", k_block), ("shannon_k_warn", k_warn)):
        if k is not None and not lo <= k <= hi:
            raise ValidationError(name, k, f"a Shannon k from {lo:g} to {hi:g}")
    return SafetyLimits.default().with_(
        shannon_k_block=k_block, shannon_k_warn=k_warn, charge_density_warn_uC_per_cm2=density
    )


def _num(x: float | None, fmt: str = ".3g") -> str:
    if x is None:
        return "—"
    if math.isinf(x):
        return "−∞" if x < 0 else "∞"
    return format(x, fmt)


# --------------------------------------------------------------------------- models
@app.command("models")
@guarded
def models(
    model_id: Annotated[
        str | None,
        typer.Argument(
            help="Show every programmable parameter of this model, with status and source."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the generators, non-invasive stimulators and leads of the catalogue."""
    cat = default_catalogue()
    if model_id is not None:
        _model_detail(model_id, as_json)
        return
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "catalogue_version": cat.version,
                    "generators": [g.model_dump(mode="json") for g in cat.generators.values()],
                    "leads": [
                        {**ld.model_dump(mode="json"), "contact_area_cm2": ld.contact_area_cm2}
                        for ld in cat.leads.values()
                    ],
                }
            )
        )
        return
    # the ids a user types back (--generator, --lead) are never wrapped or cut: their column is
    # as wide as the longest id, the others fold (tests/cli/test_cli_width.py: 80 columns)
    gens = Table(title=f"Stimulators (catalogue {cat.version})", box=box.SIMPLE_HEAD)
    gens.add_column("id", no_wrap=True, min_width=max(len(g) for g in cat.generators))
    for col in ("name", "kind", "features", "output current"):
        gens.add_column(col, overflow="fold")
    for g in cat.generators.values():
        gens.add_row(
            g.id,
            g.name,
            g.kind.replace("_", " "),
            ", ".join(sorted(g.features)) or "—",
            g.parameters["output_current_mA"].describe(),
        )
    console.print(gens)
    leads = Table(title="Leads and electrodes", box=box.SIMPLE_HEAD)
    leads.add_column("id", no_wrap=True, min_width=max(len(ld) for ld in cat.leads))
    for col in ("aliases", "inner diameter", "contact area"):
        leads.add_column(col, overflow="fold")
    for ld in cat.leads.values():
        area = ld.contact_area_cm2
        leads.add_row(
            ld.id,
            ", ".join(ld.aliases) or "—",
            f"{ld.inner_diameter_mm.value:g} mm" if ld.inner_diameter_mm else "—",
            f"{area:.4f} cm²" if area is not None else "not known",
        )
    console.print(leads)
    console.print("Details of one model: openvns device models MODEL_ID")


def _model_detail(model_id: str, as_json: bool) -> None:
    gen = default_catalogue().generator(model_id)
    if as_json:
        console.print_json(json.dumps(gen.model_dump(mode="json")))
        return
    table = Table(title=f"{gen.id} {gen.name} ({gen.family}, {gen.kind.replace('_', ' ')})")
    table.add_column("parameter", no_wrap=True, min_width=max(map(len, gen.parameters)))
    for col in ("selectable values", "status"):
        table.add_column(col, overflow="fold")
    for name, rng in gen.parameters.items():
        flag = f"{rng.status}{' (provisional)' if rng.provisional else ''}"
        table.add_row(name, rng.describe(), flag)
    console.print(table)
    console.print(
        f"features: {', '.join(sorted(gen.features)) or 'none'}; leads: "
        f"{', '.join(gen.leads)}; ramp {gen.ramp_s:g} s; compliance "
        f"{gen.compliance_voltage_V:g} V"
    )
    console.print(
        "Status: V seen in a source, D derived, R recalled, NF not found, A assumed "
        "(sources in openvns/device/data/catalogue.yaml)."
    )


# --------------------------------------------------------------------------- check
def _report_tables(report: SafetyReport) -> None:
    table = Table(title=f"Safety check: generator {report.generator_id}, lead {report.lead_id}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    d, n = report.dose, report.normal
    rows = [
        ("duty cycle (with ramps)", f"{d.duty_cycle:.1%}"),
        ("duty cycle (without ramps)", f"{d.duty_cycle_without_ramps:.1%}"),
        ("charge per phase", f"{n.charge_per_phase_uC:.3f} µC"),
        ("charge density", f"{_num(n.charge_density_uC_per_cm2)} µC/cm²"),
        (
            "Shannon k",
            f"{_num(n.shannon_k, '.2f')} (block > {report.limits.shannon_k_block:g}, "
            f"warn > {report.limits.shannon_k_warn:g})",
        ),
        ("max current at k block", f"{_num(n.max_current_at_k_block_mA)} mA"),
        ("trains per day", f"{d.trains_per_day:.1f}"),
        ("pulses per day", f"{d.pulses_per_day:,.0f}"),
        ("charge per day", f"{d.charge_per_day_C * 1e3:.2f} mC"),
        ("stimulation per day", f"{d.stimulation_time_per_day_s / 3600:.2f} h"),
    ]
    for mode, m in (("magnet", report.magnet), ("AutoStim", report.autostim)):
        if m is not None:
            rows.append(
                (
                    f"{mode}: charge / density / k",
                    f"{m.charge_per_phase_uC:.3f} µC / {_num(m.charge_density_uC_per_cm2)}"
                    f" µC/cm² / {_num(m.shannon_k, '.2f')}",
                )
            )
    for q, v in rows:
        table.add_row(q, v)
    console.print(table)
    if report.issues:
        issues = Table(title="Findings")
        issues.add_column("severity")
        issues.add_column("finding (field, value and what is allowed)", overflow="fold")
        colour = {"error": "bold red", "warning": "yellow", "note": "cyan"}
        for i in report.issues:
            issues.add_row(f"[{colour[i.severity]}]{i.severity}[/]", i.message)
        console.print(issues)
    verdict = "[bold green]OK[/]" if report.ok else "[bold red]BLOCKED[/]"
    console.print(f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")


@app.command("check")
@guarded
def check_cmd(
    current: Current = "1.5mA",
    frequency: Frequency = "20Hz",
    pulse_width: PulseWidth = "250us",
    on: OnTime = "30s",
    off: OffTime = "5min",
    generator: Generator = "1000",
    lead: Lead = None,
    magnet_current: MagnetCurrent = None,
    magnet_pulse_width: MagnetPW = None,
    magnet_on: MagnetOn = None,
    autostim_threshold: AutoThreshold = None,
    autostim_current: AutoCurrent = None,
    autostim_pulse_width: AutoPW = None,
    autostim_on: AutoOn = None,
    k_block: KBlock = None,
    k_warn: KWarn = None,
    density_warn: DensityWarn = None,
    as_json: AsJson = False,
) -> None:
    """Check settings against a generator and lead; exit 1 if anything blocks programming."""
    settings = build_settings(
        current,
        frequency,
        pulse_width,
        on,
        off,
        magnet_current,
        magnet_pulse_width,
        magnet_on,
        autostim_threshold,
        autostim_current,
        autostim_pulse_width,
        autostim_on,
    )
    report = check(settings, generator, lead, limits=_limits(k_block, k_warn, density_warn))
    if as_json:
        console.print_json(json.dumps({**report.model_dump(mode="json"), "ok": report.ok}))
    else:
        _report_tables(report)
    if not report.ok:
        raise typer.Exit(EXIT_BLOCKED)


# --------------------------------------------------------------------------- longevity
@app.command("longevity")
@guarded
def longevity(
    current: Current = "1.5mA",
    frequency: Frequency = "20Hz",
    pulse_width: PulseWidth = "250us",
    on: OnTime = "30s",
    off: OffTime = "5min",
    generator: Generator = "1000",
    lead: Lead = None,
    impedance: Annotated[
        str | None,
        typer.Option(
            "--impedance",
            help="Lead impedance, e.g. 3000ohm or 3kohm (default: the lead's nominal).",
        ),
    ] = None,
    battery: Annotated[
        float, typer.Option("--battery", help="Battery now, % (default 100).", min=0, max=100)
    ] = 100.0,
    as_json: AsJson = False,
) -> None:
    """Battery longevity to EOS at constant settings (calibrated to the labelled 3 and 8 years)."""
    cat = default_catalogue()
    gen = cat.generator(generator)
    settings = build_settings(current, frequency, pulse_width, on, off)
    report = check(settings, gen, lead)
    if not report.ok:
        for issue in report.errors:
            console.print(f"[bold red]error:[/] {issue.message}")
        raise typer.Exit(EXIT_BLOCKED)
    model = BatteryModel.for_generator(gen)
    lead_model = cat.lead(report.lead_id) if report.lead_id else cat.default_lead(gen)
    z = quantity(impedance, "ohm", "lead_impedance_ohm")
    if z is None:
        z = lead_model.nominal_impedance_ohm
    if z is None or not (z > 0 and math.isfinite(z)):
        fail(f"lead_impedance_ohm = {z!r} is not allowed; allowed: a finite number > 0 ohm")
    years = model.longevity_years(settings, z, ramp_s=gen.ramp_s, from_percent=battery)
    power_uW = model.power_W(settings, z, ramp_s=gen.ramp_s) * 1e6
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "generator": gen.id,
                    "lead": lead_model.id,
                    "lead_impedance_ohm": z,
                    "battery_percent": battery,
                    "longevity_years": years,
                    "battery_power_uW": power_uW,
                    "quiescent_current_uA": model.quiescent_current_uA,
                }
            )
        )
        return
    table = Table(title=f"Longevity: generator {gen.id}, {z:g} Ω")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("years to EOS", f"{years:.2f}")
    table.add_row("mean battery power", f"{power_uW:.1f} µW")
    table.add_row("quiescent current", f"{model.quiescent_current_uA:.2f} µA")
    table.add_row("charge per day", f"{report.dose.charge_per_day_C * 1e3:.2f} mC")
    console.print(table)


# --------------------------------------------------------------------------- simulate
@app.command("simulate")
@guarded
def simulate(
    days: Annotated[int, typer.Option("--days", help="Days to simulate.", min=1, max=36_500)] = 365,
    current: Annotated[str, typer.Option("--current", help="Target output current.")] = "1.5mA",
    frequency: Frequency = "20Hz",
    pulse_width: PulseWidth = "250us",
    on: OnTime = "30s",
    off: OffTime = "5min",
    generator: Generator = "1000",
    lead: Lead = None,
    start_current: Annotated[
        str,
        typer.Option(
            "--start-current",
            help="First current of the titration (0 = program the target at once).",
        ),
    ] = "0.25mA",
    step: Annotated[str, typer.Option("--step", help="Titration step.")] = "0.25mA",
    every: Annotated[
        int, typer.Option("--every", help="Days between titration steps.", min=1, max=36_500)
    ] = 14,
    magnet_current: MagnetCurrent = None,
    swipes_per_week: Annotated[
        int,
        typer.Option(
            "--swipes-per-week",
            help="Magnet swipes a week (needs --magnet-current).",
            min=0,
            max=700,
        ),
    ] = 0,
    start: Annotated[str, typer.Option("--start", help="Implant date (ISO).")] = "2026-01-05T09:00",
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Save the generator's state to this JSON file at the end."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Implant a virtual generator, titrate it and let it run: dose, battery and events."""
    from openvns.cli.simulate import simulate_with_progress

    target = build_settings(current, frequency, pulse_width, on, off, magnet_current)
    start_mA = quantity(start_current, "mA", "start_current_mA") or 0.0
    step_mA = quantity(step, "mA", "step_mA") or 0.0
    span_days = days
    if start_mA > 0 and step_mA > 0 and math.isfinite(start_mA) and math.isfinite(step_mA):
        # the titration's visits are dated up front, even those after the simulated days
        visits = math.ceil(max(target.output_current_mA - start_mA, 0.0) / step_mA)
        span_days = max(days, min(visits * every, _CALENDAR_DAYS))
    if state is not None:
        _check_state_path(state)
    summary = simulate_with_progress(
        generator=generator,
        lead=lead,
        target=target,
        days=days,
        start_current_mA=start_mA,
        step_mA=step_mA,
        every_days=every,
        swipes_per_week=swipes_per_week,
        start=_parse_datetime(start, span_days),
        state=state,
        show_progress=not as_json,
    )
    if as_json:
        console.print_json(json.dumps(summary, default=str))
    else:
        from openvns.cli.simulate import print_summary

        print_summary(summary)


#: Days from 0001-01-01 to 9999-12-31, the dates Python's calendar (``datetime``) holds.
_CALENDAR_DAYS = (datetime.max - datetime.min).days


def _parse_datetime(text: str, span_days: int = 0) -> datetime:
    """The implant date of ``--start``; the ``span_days`` simulated (and titration visits)
    after it must end by the calendar's last day, 9999-12-31 (:data:`datetime.max`)."""
    allowed = "an ISO date such as 2026-01-05T09:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError("start", text, allowed) from None
    span_days = min(span_days, _CALENDAR_DAYS - 1)
    last = datetime.max.replace(tzinfo=when.tzinfo) - timedelta(days=span_days + 1)
    if when > last:
        raise ValidationError(
            "start", text, f"{allowed}, no later than {last:%Y-%m-%d} (the {span_days} days "
            "simulated, with the titration's visits, must end by 9999-12-31)",
        )  # fmt: skip
    return when


def _check_state_path(path: Path) -> None:
    """Refuse, before simulating, a ``--state`` path that would overwrite something other
    than an implant state (an existing state file of OpenVNS is overwritten)."""
    from openvns.device.state import FORMAT

    if path.is_dir():
        raise ValidationError("state", str(path), "a file path (this is a directory)")
    if path.exists():
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            doc = None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValidationError(
                "state",
                str(path),
                "a new file or an implant state saved by OpenVNS (this existing file is not "
                "one, and is left as it is)",
            )
    check_output_directory(path.parent, "state")
