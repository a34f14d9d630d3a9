"""Values of the registry: one sourced :class:`Parameter`, a versioned :class:`ParameterSet`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from openvns.base import FrozenModel
from openvns.parameters.provenance import Provenance
from openvns.parameters.ranges import ParameterRange, check_range

__all__ = ["Parameter", "ParameterSet", "Value", "format_value"]

#: A parameter's value: a number, a flag, a label, a list (a table, a set of choices) or
#: ``None`` (a value that the source leaves out, e.g. a continuous range's step).
Value = bool | int | float | str | tuple[bool | int | float | str | None, ...] | None


def format_value(value: Value) -> str:
    """Short text of a value for tables (``1.5``, ``[130, 250, 500]``, ``—`` for ``None``)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


class Parameter(Provenance):
    """One value of a parameter set with its unit and provenance.

    Being a :class:`~openvns.parameters.Provenance`, a parameter obeys the provisional rule.

    Attributes
    ----------
    name
        Name within the set, dotted for nested files (``generators.1000.ramp_s``).
    value
        The value in the unit carried by the name (or ``unit``).
    unit
        Display unit (``"mA"``, ``"µs"``); ``""`` for dimensionless values.
    section
        Section of the data file the value belongs to (``"drive"``, ``"generators"``).
    used
        ``False`` for a value documented in the file but not used by the model (``used:
        false``): a sweep of it would change nothing, so the model's ``with_`` refuses it.
    used_when
        Other parameters' values under which alone this one is used (``used_when:
        {descending_limb_input: small_fibre}``); empty when it is always used.
    range
        The plausible interval of an assumed value, in its unit, with the reason
        (:class:`~openvns.parameters.ranges.ParameterRange`); ``None`` where the file gives none.
    """

    name: str
    value: Value
    unit: str = ""
    section: str = ""
    used: bool = True
    used_when: dict[str, Value] = Field(default_factory=dict)
    range: ParameterRange | None = None

    @model_validator(mode="after")
    def _inside_range(self) -> Parameter:
        if self.range is not None:
            check_range(self.value, self.range, self.name)
        return self

    def row(self) -> dict[str, str]:
        """Display row: name, value, unit, status, provisional, source, section and range
        (``10–30``, empty without one; the reason is in :attr:`range`), all text."""
        return {
            "name": self.name,
            "value": format_value(self.value),
            "unit": self.unit,
            "status": self.status,
            "provisional": "yes" if self.provisional else "no",
            "source": self.source,
            "section": self.section,
            "range": self.range.text() if self.range is not None else "",
        }


class ParameterSet(FrozenModel):
    """A versioned, sourced parameter set, its parameters in file order.

    Attributes
    ----------
    name
        Registry name (``"physiology"``, ``"conditions/fibromyalgia"``).
    version
        Version string of the data file (``"2026.11.2"``).
    schema_id
        Schema identifier of the data file (``"openvns.physiology.vns_pain_model/1"``).
    description
        One line on what the set parameterises.
    parameters
        Every sourced value, in the order of the file.

    Examples
    --------
    >>> from openvns.parameters import load_set
    >>> s = load_set("physiology")
    >>> p = s["f_opt_Hz"]
    >>> (p.unit, p.status, p.provisional)
    ('Hz', 'A', True)
    """

    name: str
    version: str
    schema_id: str
    description: str = ""
    parameters: tuple[Parameter, ...]
    _index: dict[str, Parameter] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> ParameterSet:
        seen: set[str] = set()
        for p in self.parameters:
            if p.name in seen:
                raise ValueError(f"parameter set {self.name}: duplicate parameter name {p.name!r}")
            seen.add(p.name)
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._index = {p.name: p for p in self.parameters}

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"parameter set {self.name} has no parameter {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:  # type: ignore[override]
        """Iterate over the parameters (not over the model's fields)."""
        return iter(self.parameters)

    def names(self) -> tuple[str, ...]:
        """Every parameter name, in file order."""
        return tuple(self._index)

    def values(self) -> dict[str, Value]:
        """``{name: value}`` of every parameter, in file order."""
        return {p.name: p.value for p in self.parameters}

    def provenance(self, name: str) -> Provenance:
        """Status, provisional flag and source of the parameter ``name``."""
        return self[name].provenance

    def provisional(self) -> tuple[Parameter, ...]:
        """The parameters flagged provisional (status R, NF, A, and any flagged D or V)."""
        return tuple(p for p in self.parameters if p.provisional)

    def ranged(self) -> tuple[Parameter, ...]:
        """The parameters that carry a plausible range, in file order."""
        return tuple(p for p in self.parameters if p.range is not None)

    def to_rows(self, *, provisional_only: bool = False) -> list[dict[str, str]]:
        """Display rows (see :meth:`Parameter.row`), optionally only the provisional ones."""
        chosen = self.provisional() if provisional_only else self.parameters
        return [p.row() for p in chosen]
