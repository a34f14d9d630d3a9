"""The ``openvns`` command: one typer app, one sub-app per layer, each imported when it runs.

``openvns --version`` and ``openvns --help`` import no layer: a sub-app (``trial``, ``nerve``,
…) and the ``validate`` command are loaded from :data:`LAZY` when the command line names them
(start-up is issue 15's: ``openvns --version`` in about 0.2 s).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer import _click as click  # typer's own click (typer >= 0.2x vendors it)
from typer.core import TyperGroup

from openvns import __version__

#: Command name -> (module, attribute, the help line ``openvns --help`` shows). The attribute is
#: a ``typer.Typer`` sub-app or a command function; ``extra`` modules add commands to it when
#: imported (``trial power``, ``trial uncertainty``, ``trial sensitivity``).
LAZY: dict[str, tuple[str, str, str]] = {
    "clinic": (
        "openvns.cli.clinic", "app",
        "The pain clinic: a web app and JSON API over a SQLite or PostgreSQL database.",
    ),
    "device": (
        "openvns.cli.device", "app",
        "Stimulators and leads: catalogue, safety check, longevity, simulation.",
    ),
    "nerve": (
        "openvns.cli.nerve", "app",
        "The nerve: fibre thresholds and recruitment of the vagus.",
    ),
    "params": (
        "openvns.cli.params", "app",
        "Parameter sets: every number OpenVNS uses, with its status and source.",
    ),
    "patient": (
        "openvns.cli.patient", "app",
        "Virtual patients: simulate one and see every state.",
    ),
    "trial": (
        "openvns.cli.trial", "app",
        "In-silico trials: virtual patients on VNS protocols against sham.",
    ),
    "validate": (
        "openvns.cli.validate", "validate",
        "Run every calibration and held-out target; write DIR/validation.html and .json.",
    ),
}  # fmt: skip
#: Modules imported with a sub-app because they register more of its commands.
EXTRA: dict[str, tuple[str, ...]] = {
    "trial": ("openvns.cli.trial_power", "openvns.cli.trial_uncertainty"),
}


def load_command(name: str) -> click.Command:
    """The click command of ``name`` in :data:`LAZY`, importing its module (and :data:`EXTRA`)."""
    module, attr, _ = LAZY[name]
    target: Any = getattr(importlib.import_module(module), attr)
    for extra in EXTRA.get(name, ()):
        importlib.import_module(extra)
    command: click.Command
    if isinstance(target, typer.Typer):
        target._add_completion = False  # as when it was added to this app: no completion options
        command = typer.main.get_group(target)  # a group even with one command (patient)
    else:
        sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        sub.command(name)(target)
        command = typer.main.get_command(sub)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The top-level group: its sub-commands are imported when invoked (help from :data:`LAZY`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, LAZY[name][2]) for name in sorted(LAZY)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="openvns",
    help="OpenVNS: vagus nerve stimulation therapy for intractable pain, in software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
    rich_markup_mode=None,
)


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
