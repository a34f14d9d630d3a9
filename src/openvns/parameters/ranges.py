"""Plausible ranges of assumed values: ``range: {low, high, reason}`` beside a sourced value.

An assumption (status A) is one choice among values the sources do not rule out. Its data file
states the plausible interval and why, in the unit of the value (the unit carried by its name):

.. code-block:: yaml

    f_opt_Hz: {value: 25.0, range: {low: 10.0, high: 30.0, reason: "P1 20 Hz, P5 30 Hz; ..."},
               status: A, provisional: true, source: "P0 §5.1"}

A group entry (one provenance for several values, no ``value`` key) ranges its numeric members
with ``ranges``, one ``{low, high, reason}`` per member it names (members left out have none):

.. code-block:: yaml

    diameter_um: {mean: 7.5, sd: 1.25, min: 5.0, max: 10.0,
                  ranges: {mean: {low: 6.0, high: 8.5, reason: "..."},
                           max: {low: 9.0, high: 12.0, reason: "..."}},
                  status: A, provisional: true, source: "P5"}

Values whose provenance is a sibling ``X_status`` (the device catalogue's battery ``settings``)
take the same ``ranges`` inside ``X_status``. A member that is not in the group, a ``ranges``
beside one ``value`` and a ``range`` on a group are errors that name the entry.

The rule (stated here once, used by every loader): ``low ≤ value ≤ high``, ``low < high``, the
value a number, the reason not empty, and a ``unit`` key (optional) equal to the value's unit.
Model uncertainty (``openvns trial uncertainty`` and ``openvns trial sensitivity``) samples the
ranged values uniformly between ``low`` and ``high``.

Examples
--------
>>> from openvns.parameters import load_set
>>> r = load_set("physiology")["f_opt_Hz"].range
>>> (r.low, r.high) if r is not None else None
(10.0, 30.0)
>>> load_set("population")["groups.cardiac_B.diameter_um.max"].range is not None
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import model_validator

from openvns.base import FrozenModel

__all__ = ["RANGE_KEYS", "ParameterRange", "check_range", "parse_range", "without_ranges"]

#: Keys a ``range:`` mapping may have.
RANGE_KEYS = frozenset({"low", "high", "reason", "unit"})


class ParameterRange(FrozenModel):
    """The plausible interval of one value, in the value's unit, and why.

    Attributes
    ----------
    low, high
        Bounds of the interval (``low < high``), in the unit of the value.
    reason
        Why these bounds: the source's spread, a physical limit, or a stated judgement.
    """

    low: float
    high: float
    reason: str

    @model_validator(mode="after")
    def _ordered(self) -> ParameterRange:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"range [{self.low}, {self.high}] must be finite")
        if not self.low < self.high:
            raise ValueError(f"range low = {self.low} must be below high = {self.high}")
        if not self.reason.strip():
            raise ValueError("a range needs a reason")
        return self

    @property
    def width(self) -> float:
        """``high − low``, in the unit of the value."""
        return self.high - self.low

    def text(self, unit: str = "") -> str:
        """Short text for tables: ``10–30 Hz``."""
        tail = f" {unit}" if unit else ""
        return f"{self.low:g}–{self.high:g}{tail}"


def _number(x: object, where: str, key: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"{where}: range.{key} = {x!r} must be a number")
    return float(x)


def parse_range(node: object, where: str, unit: str) -> ParameterRange:
    """Read a ``range:`` mapping of a data file (no check against the value yet).

    Parameters
    ----------
    node
        The parsed ``range`` mapping (``{low, high, reason[, unit]}``).
    where
        Location used in error messages (``"file.yaml: section.key"``).
    unit
        The unit of the value; a ``unit`` key in the range must equal it.

    Raises
    ------
    ValueError
        Not a mapping, unknown keys, a missing or non-numeric bound, an empty reason, a unit
        other than the value's, or ``low ≥ high``.
    """
    if not isinstance(node, Mapping):
        raise ValueError(f"{where}: range must be a mapping {{low, high, reason}}, not {node!r}")
    unknown = sorted(set(map(str, node)) - RANGE_KEYS)
    if unknown:
        raise ValueError(f"{where}: range has unknown keys {unknown}; allowed: low, high, reason")
    for key in ("low", "high", "reason"):
        if key not in node:
            raise ValueError(f"{where}: range needs {key}")
    reason = node["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"{where}: range.reason must say why (a non-empty text)")
    if "unit" in node and str(node["unit"]) != unit:
        raise ValueError(
            f"{where}: range.unit = {node['unit']!r} must be the value's unit {unit!r}"
        )
    low, high = _number(node["low"], where, "low"), _number(node["high"], where, "high")
    try:
        return ParameterRange(low=low, high=high, reason=reason)
    except ValueError as exc:
        raise ValueError(f"{where}: {_first_message(exc)}") from None


def _first_message(exc: Exception) -> str:
    errors: Any = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", exc)).removeprefix("Value error, ")
    return str(exc)


def check_range(value: object, r: ParameterRange, where: str) -> None:
    """Check that ``value`` is a number inside ``r`` (``low ≤ value ≤ high``).

    Raises
    ------
    ValueError
        A value that is not a number, or one outside its range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: only a number can have a range, not {value!r}")
    if not r.low <= float(value) <= r.high:
        raise ValueError(f"{where}: value {value!r} lies outside its range [{r.low:g}, {r.high:g}]")


def without_ranges(node: Any) -> Any:
    """A parsed block of a data file without its plausible ranges (``range``, ``ranges``).

    A range documents a value and never changes it: a cache key that hashes raw data (a table's
    solver settings, say) hashes this, so that adding or revising a range does not change it.
    """
    if isinstance(node, Mapping):
        drop = ("range", "ranges") if "status" in node else ()
        return {k: without_ranges(v) for k, v in node.items() if k not in drop}
    if isinstance(node, list):
        return [without_ranges(v) for v in node]
    return node
