"""Helpers shared by the CLI command groups: unit parsing, errors, consoles, progress."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pydantic
import typer
from rich.console import Console
from rich.markup import escape

from openvns.errors import OpenVNSError, ValidationError
from openvns.units import parse_quantity

console = Console()
err_console = Console(stderr=True)
log = logging.getLogger(__name__)

#: Exit code for input the command cannot use (as click does for usage errors).
EXIT_BAD_INPUT = 2
#: Exit code when a check finds a blocking problem.
EXIT_BLOCKED = 1

#: Top-level modules of the optional extras (pyproject.toml ``[project.optional-dependencies]``)
#: by extra: a command that imports a missing one says which extra to install.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "dask": ("dask", "distributed"),
    "sensitivity": ("SALib",),
    "clinic": (
        "fastapi", "sqlalchemy", "alembic", "argon2", "jinja2", "itsdangerous", "multipart",
        "python_multipart", "uvicorn", "httpx", "pg8000", "platformdirs", "swagger_ui_bundle",
        "starlette",
    ),
}  # fmt: skip
#: Distribution names of core dependencies whose module is named otherwise.
PIP_NAMES: dict[str, str] = {"yaml": "pyyaml"}


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``message`` in red on stderr and exit with ``code``.

    The message is printed as text (``[dask]`` in ``pip install 'openvns[dask]'`` is not read as
    rich markup).
    """
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def missing_module_message(exc: ImportError) -> str:
    """One line for an import that failed: the missing module and how to install it.

    ``pip install 'openvns[EXTRA]'`` for a module of an optional extra (:data:`EXTRA_MODULES`),
    ``pip install NAME`` for a core dependency that is missing from the environment.
    """
    cause: BaseException | None = exc
    while isinstance(cause, ImportError) and not cause.name:  # a re-raise with a hint
        cause = cause.__cause__
    name = cause.name if isinstance(cause, ImportError) and cause.name else ""
    top = name.split(".")[0]
    for extra, modules in EXTRA_MODULES.items():
        if top in modules:
            return (
                f"this command needs the '{extra}' extra ({top} is not installed); "
                f"install it with pip install 'openvns[{extra}]'"
            )
    if top:
        return (
            f"this command needs {top}, which is not installed; install it with "
            f"pip install {PIP_NAMES.get(top, top)}"
        )
    return f"{exc}; reinstall openvns (pip install --force-reinstall openvns)"


def quantity(text: str | None, unit: str, field: str) -> float | None:
    """Parse an optional CLI quantity (``"1.5mA"``) into a float in ``unit``.

    A decimal comma is refused rather than misread (pint reads ``1,5mA`` as 15 mA): write
    ``1.5mA``.
    """
    if text is None:
        return None
    if "," in text:
        raise ValidationError(
            field, text, f"a number with a decimal point, not a comma (e.g. '1.5{unit}')"
        )
    return parse_quantity(text, unit, field=field)


def check_output_directory(path: Path, field: str = "--out") -> Path:
    """Refuse, before any work is done, an output directory that cannot be one.

    ``path`` must be a directory or not exist yet; its nearest existing ancestor must be a
    writable directory (it is created when the results are written).

    Raises
    ------
    ValidationError
        Naming ``field``, the path and the problem (an existing file, a file on the way, no
        write permission).
    """
    if path.exists() and not path.is_dir():
        raise ValidationError(
            field, str(path), "a directory to write into (this path is an existing file)"
        )
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValidationError(
            field, str(path), f"a directory path ({parent} on the way is an existing file)"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValidationError(field, str(path), f"a directory you can write to ({parent} is not)")
    return path


def _pydantic_message(exc: pydantic.ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "input"
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(msg if loc in msg else f"{loc}: {msg}")
    return "; ".join(parts)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn OpenVNS and pydantic validation errors, and a missing optional package, into a
    one-line message and exit code 2 (the traceback goes to the debug log)."""
    try:
        yield
    except pydantic.ValidationError as exc:
        fail(_pydantic_message(exc))
    except OpenVNSError as exc:
        fail(str(exc))
    except ImportError as exc:
        log.debug("import failed", exc_info=True)
        fail(missing_module_message(exc))


#: A non-terminal stderr (a log file, CI) gets a progress line at the start and after each
#: tenth of the work.
PLAIN_PROGRESS_LINES = 10


@contextmanager
def progress_bar(
    description: str, unit: str, *, enabled: bool = True
) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawn on stderr while the block runs.

    On a terminal: a rich progress bar (done/total ``unit``, elapsed and remaining time), removed
    when the block ends. Elsewhere (stderr piped to a file, CI), where rich draws nothing: a
    plain line at the first call and after each 1/:data:`PLAIN_PROGRESS_LINES` of the work, so
    a long job is never silent. ``enabled=False`` draws nothing.
    """
    if not enabled:
        yield lambda done, total: None
        return
    if not err_console.is_terminal:
        last = [-1]

        def plain(done: int, total: int) -> None:
            step = done * PLAIN_PROGRESS_LINES // total if total > 0 else 0
            if step > last[0]:
                last[0] = step
                err_console.print(
                    f"{escape(description)}: {done}/{total} {unit}",
                    highlight=False,
                    soft_wrap=True,
                )

        yield plain
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn(f"{{task.completed}}/{{task.total}} {unit}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(escape(description), total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of :func:`friendly_errors` that keeps typer's signature introspection."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with friendly_errors():
            return func(*args, **kwargs)

    return wrapper
