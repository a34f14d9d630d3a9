"""Display units encoded in parameter names (``pulse_width_us`` -> ``µs``).

OpenVNS puts the unit of every number in its name. :func:`unit_of` reads it back for display;
names without a known suffix are dimensionless (``""``). A data file may override the unit of an
entry with an explicit ``unit:`` key.
"""

from __future__ import annotations

__all__ = ["UNIT_SUFFIXES", "unit_of"]

#: Name suffix -> display unit. Longer suffixes are tried first (``_per_d`` before ``_d``).
UNIT_SUFFIXES: dict[str, str] = {
    "_uC_per_cm2": "µC/cm²",
    "_S_per_m": "S/m",
    "_S_cm2": "S/cm²",
    "_uF_cm2": "µF/cm²",
    "_Mohm_cm": "MΩ·cm",
    "_ohm_cm": "Ω·cm",
    "_per_NRS": "1/NRS",
    "_per_day": "1/d",
    "_per_d": "1/d",
    "_percent": "%",
    "_cm2": "cm²",
    "_mm2": "mm²",
    "_NRS": "NRS",
    "_pct": "%",
    "_bpm": "bpm",
    "_deg": "°",
    "_ohm": "Ω",
    "_min": "min",
    "_mA": "mA",
    "_Hz": "Hz",
    "_us": "µs",
    "_ms": "ms",
    "_mV": "mV",
    "_um": "µm",
    "_mm": "mm",
    "_V": "V",
    "_s": "s",
    "_d": "d",
}
_ORDERED = sorted(UNIT_SUFFIXES.items(), key=lambda item: -len(item[0]))


def _suffix_unit(part: str) -> str | None:
    for suffix, unit in _ORDERED:
        if part.endswith(suffix) and len(part) > len(suffix):
            return unit
    return None


def unit_of(name: str) -> str:
    """The display unit encoded in a (possibly dotted) parameter name.

    The innermost part of a dotted name that carries a unit suffix gives the unit, so that
    ``generators.1000.parameters.output_current_mA.max`` is in mA and
    ``groups.cardiac_B.diameter_um.mean`` in µm.

    Parameters
    ----------
    name
        A field name (``"f_opt_Hz"``) or a dotted path of one.

    Returns
    -------
    str
        The unit (``"Hz"``), or ``""`` for a dimensionless value.

    Examples
    --------
    >>> unit_of("f_opt_Hz"), unit_of("h0_per_d"), unit_of("phi")
    ('Hz', '1/d', '')
    >>> unit_of("generators.1000.parameters.pulse_width_us.values")
    'µs'
    """
    for part in reversed(name.split(".")):
        unit = _suffix_unit(part)
        if unit is not None:
            return unit
    return ""
