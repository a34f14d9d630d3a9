"""Parsing quantities with units at the edges (CLI, config files, API).

Inside the package every quantity is a plain ``float`` in the canonical unit carried by its name
(``current_mA``, ``pulse_width_us``, ``off_time_min``). pint is used only here, to turn text such
as ``"1.5mA"``, ``"250 us"`` or ``"5min"`` into those floats, with an error that names the field
when the text is not a quantity of the right dimension.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from openvns.errors import ValidationError

#: Canonical unit of each dimension suffix used in field names.
CANONICAL_UNITS: dict[str, str] = {
    "mA": "milliampere",
    "uA": "microampere",
    "Hz": "hertz",
    "us": "microsecond",
    "ms": "millisecond",
    "s": "second",
    "min": "minute",
    "h": "hour",
    "ohm": "ohm",
    "V": "volt",
    "mm": "millimeter",
    "um": "micrometer",
    "cm2": "centimeter**2",
    "uC": "microcoulomb",
}


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    ureg: Any = pint.UnitRegistry()
    # "us" is pint's spelling of microsecond already; make "Ohm"/"ohms" and "kohm" parse too.
    ureg.define("ohms = ohm")
    return ureg


def parse_quantity(text: str | float | int, unit: str, *, field: str) -> float:
    """Parse ``text`` into a float in ``unit``.

    Parameters
    ----------
    text
        A quantity such as ``"1.5mA"``, ``"250 us"``, ``"0.5 min"``. A bare number is taken to be
        already in ``unit``.
    unit
        Canonical unit suffix (a key of :data:`CANONICAL_UNITS`) or any pint unit expression.
    field
        Field name used in the error message.

    Returns
    -------
    float
        The magnitude in ``unit``.

    Raises
    ------
    ValidationError
        If the text is not a number or a quantity whose dimension matches ``unit``.
    """
    target = CANONICAL_UNITS.get(unit, unit)
    if isinstance(text, int | float):
        return float(text)
    stripped = text.strip()
    try:
        return float(stripped)
    except ValueError:
        pass
    ureg = _registry()
    allowed = f"a number or a quantity in units of {unit} (e.g. '1.5 {unit}')"
    if "," in stripped:  # pint reads "1,5mA" as 15 mA: a decimal comma is refused, not misread
        raise ValidationError(
            field, text, f"a number with a decimal point, not a comma (e.g. '1.5 {unit}')"
        )
    if not any(ch.isdigit() for ch in stripped):  # pint reads a bare unit ("mA") as 1 mA
        raise ValidationError(field, text, allowed)
    try:
        quantity = ureg.Quantity(stripped.replace("µ", "u").replace("μ", "u").replace("Ω", "ohm"))
        magnitude = quantity.to(target).magnitude
    except Exception as exc:  # pint raises many unrelated types for bad text
        raise ValidationError(field, text, allowed) from exc
    return float(magnitude)
