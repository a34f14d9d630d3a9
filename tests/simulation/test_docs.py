"""The README's and the guide's three-line runs work as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _simulation_blocks(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if "from openvns.simulation import Simulation\n" in b]


@pytest.mark.parametrize("doc", ["README.md", "docs/patient.md"])
def test_the_three_line_run_works(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib.use("Agg")
    block = _simulation_blocks(ROOT / doc)[0]
    lines = [ln for ln in block.strip().splitlines() if ln.strip()]
    statements = [ln for ln in lines if not ln.startswith((" ", ")"))]
    assert len(statements) == 3, statements  # import, run, plot
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(compile(block, doc, "exec"), scope)
    solution = scope["solution"]
    assert solution.days in (365, 393)
    assert solution["programmed_current_mA"].max() > 0
