"""``openvns params``: every parameter set, each value with its unit, status and source."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from openvns.cli.common import console, guarded
from openvns.parameters import Parameter, ParameterSet, available, describe, load_set

app = typer.Typer(
    help="Parameter sets: every number OpenVNS uses, with its status and source.",
    no_args_is_help=True,
)

STATUS_LEGEND = (
    "Status: V seen in a source, D derived, R recalled, NF not found, A assumed; "
    "R, NF and A are provisional."
)


@app.command("list")
@guarded
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the parameter sets with their version and number of values."""
    descriptions = describe()
    sets = [load_set(name) for name in available()]
    if as_json:
        console.print_json(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "version": s.version,
                        "schema": s.schema_id,
                        "parameters": len(s),
                        "provisional": len(s.provisional()),
                        "description": descriptions[s.name],
                    }
                    for s in sets
                ]
            )
        )
        return
    table = Table(title="Parameter sets")
    table.add_column("name", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("values", justify="right")
    table.add_column("provisional", justify="right")
    table.add_column("description", overflow="fold")
    for s in sets:
        table.add_row(
            s.name, s.version, str(len(s)), str(len(s.provisional())), descriptions[s.name]
        )
    console.print(table)
    console.print("Values of one set: openvns params show NAME")


def _json_row(p: Parameter) -> dict[str, object]:
    return {
        "name": p.name,
        "value": list(p.value) if isinstance(p.value, tuple) else p.value,
        "unit": p.unit,
        "status": p.status,
        "provisional": p.provisional,
        "source": p.source,
        "section": p.section,
    }


def _table(s: ParameterSet, chosen: list[Parameter], provisional_only: bool) -> Table:
    which = "provisional values" if provisional_only else "values"
    table = Table(title=f"{s.name} {s.version} ({s.schema_id}): {len(chosen)} {which}")
    table.add_column("parameter", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    table.add_column("unit")
    table.add_column("status")
    table.add_column("provisional")
    table.add_column("source", overflow="fold")
    for p in chosen:
        row = p.row()
        table.add_row(
            row["name"], row["value"], row["unit"], row["status"], row["provisional"], row["source"]
        )
    return table


@app.command("show")
@guarded
def show(
    name: Annotated[str, typer.Argument(help="Parameter set, e.g. physiology, safety.")],
    provisional_only: Annotated[
        bool, typer.Option("--provisional-only", help="Only values flagged provisional.")
    ] = False,
    match: Annotated[
        str | None,
        typer.Option("--match", help="Only parameters whose name contains this text."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show every value of a parameter set: value, unit, status, provisional flag and source."""
    s = load_set(name)
    chosen = list(s.provisional() if provisional_only else s.parameters)
    if match is not None:
        chosen = [p for p in chosen if match in p.name]
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "name": s.name,
                    "version": s.version,
                    "schema": s.schema_id,
                    "description": s.description,
                    "parameters": [_json_row(p) for p in chosen],
                }
            )
        )
        return
    console.print(_table(s, chosen, provisional_only))
    console.print(STATUS_LEGEND)
