"""``openvns.nerve`` exports its public API lazily, and the documented examples run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import openvns.nerve

ROOT = Path(__file__).resolve().parents[2]


def _nerve_blocks(doc: Path) -> list[str]:
    """The ``python`` code blocks of ``doc`` that import from ``openvns.nerve``."""
    blocks = re.findall(r"^```python\n(.*?)^```", doc.read_text("utf-8"), re.M | re.S)
    return [b for b in blocks if "openvns.nerve" in b]


def test_every_public_name_resolves() -> None:
    assert openvns.nerve.__all__
    for name in openvns.nerve.__all__:
        assert getattr(openvns.nerve, name) is not None, name
    with pytest.raises(AttributeError):
        _ = openvns.nerve.no_such_name


def test_import_does_not_load_numba_or_scipy() -> None:
    code = (
        "import sys, openvns.nerve; "
        "print(sorted(m for m in ('numba', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_readme_nerve_example_runs() -> None:
    (block,) = _nerve_blocks(ROOT / "README.md")
    assert "from openvns.nerve import" in block
    scope: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), scope)
    threshold = float(scope["result"].threshold_mA[0])  # type: ignore[attr-defined]
    assert threshold == pytest.approx(0.175, rel=0.01)


def test_docs_nerve_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENVNS_CACHE_DIR", str(tmp_path))
    (block,) = _nerve_blocks(ROOT / "docs" / "nerve.md")
    assert "from openvns.nerve import" in block
    scope: dict[str, object] = {}
    exec(compile(block, "docs/nerve.md", "exec"), scope)
    table = scope["table"]
    assert table.fraction("cardiac_B", 1.0, 250.0) == pytest.approx(0.88, abs=0.01)  # type: ignore[attr-defined]
