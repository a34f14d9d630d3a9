"""Shared pieces of the protocol text: number formats, quantity patterns and parse errors.

Every clause class prints itself with :func:`fmt` (the shortest text that reads back as the same
float; whole numbers without a decimal point) or :func:`fmt_current` (currents always with a
decimal point, ``2.0 mA``), and reads quantities with :func:`quantity`, which accepts other units
through :func:`openvns.units.parse_quantity`.
"""

from __future__ import annotations

import math

from pydantic import ValidationError as PydanticValidationError

from openvns.errors import ValidationError
from openvns.units import parse_quantity

#: A decimal number as written in a protocol.
NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
#: A number and its unit (two groups), e.g. ``120 s`` or ``0.25mA``.
QTY = rf"({NUM})\s*([^\s;,/]*)"
#: The multiplication sign of ``2 x 120 s`` and ``1.5 x sensory threshold``.
TIMES = r"\s*[x×]\s*"


class ProtocolSyntaxError(ValidationError):
    """A protocol text that cannot be read; names the clause, the text and the allowed forms."""

    def __init__(self, clause: str, text: str, allowed: str) -> None:
        self.clause = clause
        self.text = text
        super().__init__(f"protocol {clause} clause", text, allowed)


def fmt(x: float) -> str:
    """Shortest text that reads back as ``x`` exactly; integers without a decimal point."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def fmt_current(x: float) -> str:
    """Currents always show a decimal point (``2.0 mA``), as clinicians write them."""
    return repr(float(x))


def quantity(number: str, unit: str, canonical: str, *, clause: str, text: str) -> float:
    """``number unit`` in ``canonical``; exact float when the unit already is canonical."""
    unit = unit.strip()
    if unit in ("", canonical):
        value = float(number)
    else:
        try:
            value = parse_quantity(f"{number} {unit}", canonical, field=clause)
        except ValidationError as exc:
            raise ProtocolSyntaxError(clause, text, exc.allowed) from None
    if not math.isfinite(value) or value < 0:
        raise ProtocolSyntaxError(clause, text, f"a finite quantity ≥ 0 in {canonical}")
    return value


def unwrap(exc: PydanticValidationError, prefix: str = "") -> ValidationError:
    """The package's :class:`ValidationError` behind a pydantic one (key prefixed).

    Validators raise :class:`openvns.errors.ValidationError`; pydantic wraps it. Other pydantic
    errors (a wrong type) become one naming the key path and pydantic's message.
    """
    err = exc.errors()[0]
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, ValidationError):
        loc = ".".join(str(p) for p in err["loc"])
        field = f"{loc}.{inner.field}" if loc else inner.field
        return ValidationError(prefix + field, inner.value, inner.allowed)
    loc = ".".join(str(p) for p in err["loc"])
    return ValidationError(prefix + loc, err.get("input"), err["msg"])


def nonneg(field: str, value: float) -> None:
    """Refuse a value that is not a finite number ≥ 0, naming ``field``."""
    if not math.isfinite(value) or value < 0:
        raise ValidationError(field, value, "a finite number ≥ 0")


def positive(field: str, value: float) -> None:
    """Refuse a value that is not a finite number > 0, naming ``field``."""
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(field, value, "a finite number > 0")


def whole(field: str, value: int, minimum: int = 1) -> None:
    """Refuse a value that is not a whole number ≥ ``minimum``, naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(field, value, f"a whole number ≥ {minimum}")


__all__ = [
    "NUM",
    "QTY",
    "TIMES",
    "ProtocolSyntaxError",
    "fmt",
    "fmt_current",
    "nonneg",
    "positive",
    "quantity",
    "unwrap",
    "whole",
]
