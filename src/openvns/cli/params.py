"""``openvns params``: every parameter set, each value with its unit, status and source."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from openvns.cli.common import console, guarded
from openvns.parameters import Parameter, ParameterSet, available, describe, load_set

#: Columns beside the names that a table needs to be readable with its descriptions or sources;
#: a narrower terminal gets them on lines of their own, under each name.
_TABLE_ROOM = 50
#: Further columns the plausible-range column needs (``0.152–0.723``).
_RANGE_ROOM = 14

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
    # the names a user types back (params show NAME) are never wrapped or cut; on a narrow
    # terminal (80 columns) each set is a line, its description on the next
    longest = max(len(s.name) for s in sets)
    if longest + _TABLE_ROOM > console.width:
        console.print(Text("Parameter sets", style="italic"))
        for s in sets:
            console.print(
                Text.assemble(
                    (s.name, "bold"),
                    f" {s.version} · {len(s)} values, {len(s.provisional())} provisional",
                )
            )
            console.print(Text(f"    {descriptions[s.name]}"))
        console.print("Values of one set: openvns params show NAME")
        return
    table = Table(title="Parameter sets")
    table.add_column("name", width=longest, overflow="fold")
    table.add_column("version", no_wrap=True)
    table.add_column("values", justify="right")
    table.add_column("provisional", justify="right")
    table.add_column("description", overflow="fold", ratio=1)
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
        "range": None
        if p.range is None
        else {"low": p.range.low, "high": p.range.high, "reason": p.range.reason},
    }


def _table(
    s: ParameterSet, chosen: list[Parameter], provisional_only: bool, width: int
) -> Table | Group:
    """The values of ``params show``: a table, or (where the names leave too little room in
    ``width`` columns) a list, each name on a line of its own; names are never cut."""
    which = "provisional values" if provisional_only else "values"
    title = f"{s.name} {s.version} ({s.schema_id}): {len(chosen)} {which}"
    longest = max([len("parameter"), *(len(p.name) for p in chosen)])
    ranged = any(p.range is not None for p in chosen)
    if longest + _TABLE_ROOM + (_RANGE_ROOM if ranged else 0) > width:
        lines: list[Text] = [Text(title, style="italic")]
        for p in chosen:
            row = p.row()
            lines.append(Text(row["name"], style="bold"))
            flag = " (provisional)" if p.provisional else ""
            value = f"{row['value']} {row['unit']}".rstrip()
            plausible = f" · range {row['range']}" if row["range"] else ""
            lines.append(Text(f"    {value}{plausible} · {row['status']}{flag} · {row['source']}"))
        return Group(*lines)
    table = Table(title=title)
    table.add_column("parameter", width=longest, overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    table.add_column("unit")
    if ranged:
        table.add_column("range", overflow="fold")
    table.add_column("status")
    table.add_column("prov.")
    table.add_column("source", overflow="fold", ratio=1)
    for p in chosen:
        row = p.row()
        cells = [row["name"], row["value"], row["unit"]]
        cells += [row["range"]] if ranged else []
        table.add_row(*cells, row["status"], row["provisional"], row["source"])
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
    console.print(_table(s, chosen, provisional_only, console.width))
    console.print(STATUS_LEGEND)
