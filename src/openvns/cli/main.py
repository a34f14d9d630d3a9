"""The ``openvns`` command: one typer app, one sub-app per layer."""

from __future__ import annotations

from typing import Annotated

import typer

import openvns.cli.trial_uncertainty  # noqa: F401  (adds trial uncertainty and sensitivity)
from openvns import __version__
from openvns.cli.clinic import app as clinic_app
from openvns.cli.device import app as device_app
from openvns.cli.nerve import app as nerve_app
from openvns.cli.params import app as params_app
from openvns.cli.patient import app as patient_app
from openvns.cli.trial import app as trial_app
from openvns.cli.trial_power import power as _trial_power  # noqa: F401  (trial power)
from openvns.cli.validate import validate

app = typer.Typer(
    name="openvns",
    help="OpenVNS: vagus nerve stimulation therapy for intractable pain, in software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(clinic_app, name="clinic")  # imports the clinic extra only when run
app.add_typer(device_app, name="device")
app.add_typer(nerve_app, name="nerve")
app.add_typer(params_app, name="params")
app.add_typer(patient_app, name="patient")
app.add_typer(trial_app, name="trial")
app.command("validate")(validate)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openvns {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """OpenVNS command line."""


if __name__ == "__main__":  # pragma: no cover
    app()
