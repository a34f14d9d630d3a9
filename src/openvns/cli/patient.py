"""``openvns patient``: one virtual patient (or several) under a protocol, every state per day."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from openvns.cli.common import check_output_directory, console, fail, guarded
from openvns.errors import ValidationError
from openvns.protocol import STANDARD_TITRATION
from openvns.random import DEFAULT_ROOT_SEED
from openvns.trials.design import MAX_TRIAL_DAYS

app = typer.Typer(help="Virtual patients: simulate one and see every state.", no_args_is_help=True)

#: File formats of the states (``states.parquet``, ``states.csv``).
_SUMMARY_FORMATS = ("parquet", "csv")
#: Days simulated when neither --days nor the protocol's phases say (a year).
DAYS_WITHOUT_PHASES = 365


def _changes(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            fail(f"--set {item!r}: write NAME=VALUE (e.g. --set f_opt_Hz=10)")
        try:
            value: Any = float(text)
        except ValueError:
            value = text.strip()
        if isinstance(value, float) and not math.isfinite(value):
            fail(f"--set {item!r}: a finite number")
        out[name.strip()] = value
    return out


@app.command("simulate")
@guarded
def simulate(
    patient: Annotated[
        list[str], typer.Argument(help="Patient name(s), e.g. fibromyalgia#0042 (one condition).")
    ],
    protocol: Annotated[
        str, typer.Option("--protocol", "-p", help="Protocol text (openvns.protocol).")
    ] = STANDARD_TITRATION,
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Days to simulate (default: the protocol's phases, else 365)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("openvns-patient"),
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = DEFAULT_ROOT_SEED,
    generator: Annotated[
        str | None, typer.Option(help="Catalogue generator id (default: SenTiva, 1000).")
    ] = None,
    lead: Annotated[
        str | None, typer.Option(help="Catalogue lead id (default: the generator's).")
    ] = None,
    open_label: Annotated[
        str | None, typer.Option(help="Protocol after the protocol's blinded phase.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Parameter override NAME=VALUE (repeat); see openvns params."),
    ] = None,
    export: Annotated[
        list[str] | None, typer.Option("--export", help="States file format: parquet and/or csv.")
    ] = None,
    figure: Annotated[bool, typer.Option(help="Write figure.png (the first patient).")] = True,
) -> None:
    """Simulate PATIENT under --protocol for --days days; write the states, figure and summary."""
    from openvns.simulation import DEFAULT_GENERATOR, ModelParameters, Simulation

    check_output_directory(out)
    formats = tuple(export) if export else _SUMMARY_FORMATS
    for fmt in formats:
        if fmt not in _SUMMARY_FORMATS:
            fail(f"--export {fmt!r}: one of {', '.join(_SUMMARY_FORMATS)}")
    default = ModelParameters.for_patient(patient[0])
    parameters = default.with_(**_changes(set_ or []))
    sim = Simulation(
        patient, protocol, generator=generator or DEFAULT_GENERATOR, lead=lead,
        parameters=parameters, seed=seed,
        open_label=open_label,
    )  # fmt: skip
    p = sim.protocol
    phases = p.baseline_days + p.blinded_days + p.open_label_days
    n_days = days if days is not None else (phases or DAYS_WITHOUT_PHASES)
    if n_days > MAX_TRIAL_DAYS:  # each patient-day's states are kept: 10^9 days hit the OOM killer
        raise ValidationError(
            "days" if days is not None else "protocol phases", n_days,
            f"at most {MAX_TRIAL_DAYS} days (10 years) to simulate",
        )  # fmt: skip
    solution = sim.run(n_days)
    out.mkdir(parents=True, exist_ok=True)
    written = solution.write(out, formats=formats)
    if figure:
        solution.plot(0, path=out / "figure.png")
        written.append(out / "figure.png")
    decisions = [d.__dict__ for d in solution.decisions()]
    summary = {
        "patients": list(solution.patients),
        "days": solution.days,
        "protocol": list(solution.protocol),
        "provenance": solution.provenance,
        "parameters": parameters.to_dict(),
        "decisions": decisions,
    }
    from openvns.files import atomic_write_text

    atomic_write_text(out / "simulation.json", json.dumps(summary, indent=2, default=str))
    written.append(out / "simulation.json")
    _print(solution)
    for path in written:
        console.print(f"wrote {path}", highlight=False)


def _print(solution: Any) -> None:
    from openvns.analysis.endpoints import ENDPOINT_WINDOW_DAYS
    from openvns.simulation.courses import BACK_OFF

    table = Table(title=solution.protocol[0], title_justify="left")
    start_label = "baseline NRS" if solution.baseline_days else "first 4 wk NRS"
    for col in ("patient", start_label, "last 4 wk NRS", "final mA", "back-offs", "AE days",
                "dropout"):  # fmt: skip
        if col == "patient":
            table.add_column(col, no_wrap=True, min_width=len("fibromyalgia#0000"))
        else:
            table.add_column(col, justify="right")
    nrs = np.where(solution["observed"], solution["nrs"].astype(float), np.nan)
    base = solution.baseline_days
    end = solution.days
    for i, name in enumerate(solution.patients):
        before = nrs[i, :base] if base else nrs[i, :ENDPOINT_WINDOW_DAYS]
        after = nrs[i, max(base, end - ENDPOINT_WINDOW_DAYS) : end]
        drop = solution.provenance["dropout_day"][i]
        table.add_row(
            name,
            f"{np.nanmean(before):.1f}" if np.isfinite(before).any() else "—",
            f"{np.nanmean(after):.1f}" if np.isfinite(after).any() else "—",
            f"{solution['programmed_current_mA'][i, -1]:g}",
            str(int((solution["decision"][i] == BACK_OFF).sum())),
            str(int(solution["ae_reported"][i].any(axis=1).sum())),
            f"day {drop}" if drop >= 0 else "no",
        )
    console.print(table)
