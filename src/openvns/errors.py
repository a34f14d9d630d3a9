"""Exceptions shared by every layer.

Every error that comes from bad input names the field, the value that was given and what
would have been allowed, so a user (or the clinic UI) can show it without guessing.
"""

from __future__ import annotations

from typing import Any


class OpenVNSError(Exception):
    """Base class of every error raised by OpenVNS on purpose."""


class ValidationError(OpenVNSError, ValueError):
    """A value given by a user is not allowed.

    Parameters
    ----------
    field
        Name of the offending field, with its unit in the name (``output_current_mA``).
    value
        The value that was given.
    allowed
        Human-readable description of what is allowed (``"0–3.5 mA in 0.25 mA steps"``).
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {value!r} is not allowed; allowed: {allowed}")


class UnknownModelError(ValidationError):
    """A catalogue identifier (generator, lead, device) does not exist."""


class StateFileError(OpenVNSError):
    """A saved state file is missing, corrupt, foreign or of an unsupported version."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"cannot load state from {path}: {problem}")
