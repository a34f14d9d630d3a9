"""Helpers shared by the CLI command groups: unit parsing, errors, consoles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pydantic
import typer
from rich.console import Console

from openvns.errors import OpenVNSError
from openvns.units import parse_quantity

console = Console()
err_console = Console(stderr=True)

#: Exit code for input the command cannot use (as click does for usage errors).
EXIT_BAD_INPUT = 2
#: Exit code when a check finds a blocking problem.
EXIT_BLOCKED = 1


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``message`` in red on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def quantity(text: str | None, unit: str, field: str) -> float | None:
    """Parse an optional CLI quantity (``"1.5mA"``) into a float in ``unit``."""
    if text is None:
        return None
    return parse_quantity(text, unit, field=field)


def _pydantic_message(exc: pydantic.ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "input"
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(msg if loc in msg else f"{loc}: {msg}")
    return "; ".join(parts)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn OpenVNS and pydantic validation errors into a one-line message and exit code 2."""
    try:
        yield
    except pydantic.ValidationError as exc:
        fail(_pydantic_message(exc))
    except OpenVNSError as exc:
        fail(str(exc))


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of :func:`friendly_errors` that keeps typer's signature introspection."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with friendly_errors():
            return func(*args, **kwargs)

    return wrapper
