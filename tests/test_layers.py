"""The layer rule of DESIGN.md, checked on the source with :mod:`ast`: no layer imports a layer
above it, and the clinic imports nothing from the trials.

Every ``import`` and ``from … import`` in every module under ``src/openvns`` counts, wherever it
stands: at the top, inside a function, or under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "openvns"

#: Foundation modules and packages: anything may import these, and they import only each other.
FOUNDATION = frozenset(
    {"errors", "units", "random", "base", "files", "yamlio", "parameters", "provenance"}
)

#: The layers above the foundation, bottom to top. A layer may import itself, the foundation and
#: the layers before it. ``openvns/__init__.py`` may import anything.
LAYERS: tuple[str, ...] = (
    "device",
    "nerve",
    "physiology",
    "patients",
    "protocol",
    "analysis",
    "simulation",
    "trials",
    "twin",
    "clinic",
    "cli",
)

#: Imports forbidden even though the order above allows them: (importer, imported) top levels.
FORBIDDEN: frozenset[tuple[str, str]] = frozenset({("clinic", "trials")})


def _rank(top: str) -> int:
    return 0 if top in FOUNDATION else LAYERS.index(top) + 1


def _layer_name(top: str) -> str:
    return f"foundation ({top})" if top in FOUNDATION else top


@dataclass(frozen=True)
class Import:
    file: str  # relative to src/, e.g. "openvns/clinic/demo.py"
    line: int
    module: str  # the imported module, absolute, e.g. "openvns.trials.runner"

    @property
    def importer_top(self) -> str | None:
        """Top-level package of the importing file (``None`` for ``openvns/__init__.py``)."""
        parts = Path(self.file).with_suffix("").parts
        return None if len(parts) == 2 and parts[1] == "__init__" else parts[1]

    @property
    def imported_top(self) -> str:
        return self.module.split(".")[1]


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted module name of a source file and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_init = parts[-1] == "__init__"
    if is_init:
        parts.pop()
    return ".".join(parts), is_init


@cache
def _top_levels() -> frozenset[str]:
    return frozenset(
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.is_file() and p.suffix == ".py" and p.stem != "__init__")
        or (p.is_dir() and (p / "__init__.py").exists())
    )


def _imports(path: Path, root: Path = SRC) -> list[Import]:
    """The ``openvns`` imports of one source file under ``root``, relative imports resolved."""
    name, is_init = _module_name(path, root)
    package = name if is_init else name.rpartition(".")[0]
    file = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(file, node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module == "openvns":
                # ``from openvns import trials`` imports a layer; ``from openvns import
                # __version__`` only the root package
                found += [
                    Import(file, node.lineno, f"openvns.{a.name}")
                    for a in node.names
                    if a.name in _top_levels()
                ]
            else:
                found.append(Import(file, node.lineno, module))
    return [i for i in found if i.module.startswith("openvns.")]


@cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(i for path in sorted(PACKAGE.rglob("*.py")) for i in _imports(path))


def _violations(imports: tuple[Import, ...] | None = None) -> dict[tuple[str, str], list[str]]:
    """Every violation, as ``{(file, "openvns.<top>"): [message, ...]}``."""
    out: dict[tuple[str, str], list[str]] = {}
    for imp in _all_imports() if imports is None else imports:
        src, dst = imp.importer_top, imp.imported_top
        if src is None or src == dst:
            continue
        if _rank(dst) > _rank(src):
            reason = f"layer {_layer_name(dst)} above {_layer_name(src)}"
        elif (src, dst) in FORBIDDEN:
            reason = f"{dst} is forbidden to {src}"
        else:
            continue
        out.setdefault((imp.file, f"openvns.{dst}"), []).append(
            f"{imp.file}:{imp.line} imports {imp.module} ({reason})"
        )
    return out


def test_every_top_level_module_has_a_layer() -> None:
    unplaced = sorted(_top_levels() - FOUNDATION - set(LAYERS))
    assert not unplaced, f"place these in FOUNDATION or LAYERS of {__file__}: {unplaced}"


def test_the_walk_sees_imports_everywhere() -> None:
    """Relative, function-local and TYPE_CHECKING imports are all found."""
    imports = _all_imports()
    assert len({i.file for i in imports}) > 20
    trials_report = [i.module for i in imports if i.file == "openvns/trials/report.py"]
    assert "openvns.trials.runner" in trials_report  # under TYPE_CHECKING and inside functions


def test_the_checker_finds_upward_and_forbidden_imports(tmp_path: Path) -> None:
    device = tmp_path / "openvns" / "device"
    device.mkdir(parents=True)
    (device / "__init__.py").write_text("")
    (device / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from openvns import errors, __version__\n"
        "from . import schedule\n"
        "if TYPE_CHECKING:\n"
        "    from openvns.trials.runner import TrialResult\n"
        "def f():\n"
        "    from .. import nerve\n"
    )
    clinic = tmp_path / "openvns" / "clinic"
    clinic.mkdir()
    (clinic / "y.py").write_text("import openvns.trials.design\nimport openvns.analysis\n")
    found = (
        *_imports(device / "x.py", tmp_path),
        *_imports(clinic / "y.py", tmp_path),
    )
    assert [(i.line, i.module) for i in found] == [
        (2, "openvns.errors"),
        (3, "openvns.device"),
        (5, "openvns.trials.runner"),
        (7, "openvns.nerve"),
        (1, "openvns.trials.design"),
        (2, "openvns.analysis"),
    ]
    assert _violations(found) == {
        ("openvns/device/x.py", "openvns.trials"): [
            "openvns/device/x.py:5 imports openvns.trials.runner (layer trials above device)"
        ],
        ("openvns/device/x.py", "openvns.nerve"): [
            "openvns/device/x.py:7 imports openvns.nerve (layer nerve above device)"
        ],
        ("openvns/clinic/y.py", "openvns.trials"): [
            "openvns/clinic/y.py:1 imports openvns.trials.design (trials is forbidden to clinic)"
        ],
    }


def test_no_layer_imports_a_layer_above_it() -> None:
    found = _violations()
    new = sorted(m for messages in found.values() for m in messages)
    assert not new, "layer violations:\n" + "\n".join(new)


def test_the_clinic_imports_nothing_from_the_trials() -> None:
    offending = sorted(
        f"{i.file}:{i.line} imports {i.module}"
        for i in _all_imports()
        if i.importer_top == "clinic" and i.imported_top == "trials"
    )
    assert not offending, "the clinic imports the trials:\n" + "\n".join(offending)
