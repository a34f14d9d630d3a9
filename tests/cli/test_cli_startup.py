"""Start-up: ``openvns --version`` and ``--help`` import no layer; a command imports its own."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from openvns import __version__
from openvns.cli.main import LAZY, app, load_command

HEAVY = ("openvns.trials", "openvns.nerve", "openvns.simulation", "openvns.clinic", "scipy",
         "numba", "matplotlib", "pandas")  # fmt: skip


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from openvns.cli.main import app\n"
        "try:\n"
        f"    app({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_version_and_help_import_no_layer() -> None:
    for args in (["--version"], ["--help"]):
        loaded = _modules_after(args)
        heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
        assert not heavy, (args, heavy[:10])


def test_a_command_imports_its_layer_and_not_the_others() -> None:
    loaded = _modules_after(["params", "list"])
    assert "openvns.cli.params" in loaded
    assert "openvns.cli.trial" not in loaded
    assert "openvns.clinic" not in loaded


def test_the_help_lists_every_command_and_each_loads() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in LAZY:
        assert name in result.output
        assert load_command(name).name == name
    assert CliRunner().invoke(app, ["--version"]).output.strip() == f"openvns {__version__}"
    # the trial group has the commands its extra modules register
    trial = load_command("trial")
    assert {"run", "init", "power", "uncertainty", "sensitivity"} <= set(trial.commands)  # type: ignore[attr-defined]
    # a sub-app with a single command stays a group: `openvns patient simulate ...`
    assert "simulate" in load_command("patient").commands  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, ["nope"])
    assert result.exit_code == 2
    assert "No such command" in result.output
