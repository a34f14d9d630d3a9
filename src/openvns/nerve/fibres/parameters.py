"""Sourced parameter files of the fibre models (``data/*.yaml``).

Every entry of a parameter file is ``{value, status, provisional, source}``; values are numbers
or lists of numbers (polynomial coefficients, tables). :func:`load` reads a file once, checks
every entry's provenance and returns a :class:`ParameterFile` whose :meth:`~ParameterFile.get`
gives a value by its dotted path (``"axnode.gnabar_S_cm2"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openvns import yamlio
from openvns.parameters import Provenance, check_entry


class SourcedValue(Provenance):
    """One model parameter with its provenance (the provisional rule of :class:`Provenance`)."""

    value: float | list[float]


class ParameterFile:
    """A parsed parameter file: ``schema``, ``version``, ``sources`` and sourced values."""

    def __init__(self, name: str, raw: Mapping[str, Any]) -> None:
        self.name = name
        self.schema = str(raw["schema"])
        self.version = str(raw["version"])
        self.sources: dict[str, str] = dict(raw.get("sources", {}))
        self._values: dict[str, SourcedValue] = {}
        self._collect("", raw)

    def _collect(self, prefix: str, node: Mapping[str, Any]) -> None:
        for key, item in node.items():
            if prefix == "" and key in ("schema", "version", "sources"):
                continue
            path = f"{prefix}{key}"
            if isinstance(item, Mapping) and "value" in item:
                prov = check_entry(item, f"{self.name}: {path}")
                self._values[path] = SourcedValue(value=item["value"], **prov.model_dump())
            elif isinstance(item, Mapping):
                self._collect(path + ".", item)
            else:
                raise ValueError(f"{self.name}: {path} has no value/status/source entry")

    def entry(self, path: str) -> SourcedValue:
        """The sourced entry at ``path`` (``KeyError`` if absent)."""
        return self._values[path]

    def get(self, path: str) -> float:
        """A scalar value at ``path``."""
        value = self._values[path].value
        if isinstance(value, list):
            raise TypeError(f"{self.name}: {path} is a list, use array()")
        return float(value)

    def array(self, path: str) -> NDArray[np.float64]:
        """A list value at ``path`` as a float array."""
        return np.asarray(self._values[path].value, dtype=np.float64)

    def paths(self) -> list[str]:
        """Every dotted path in the file."""
        return list(self._values)


@cache
def load(name: str) -> ParameterFile:
    """Parse ``openvns/nerve/fibres/data/<name>.yaml`` (cached)."""
    text = resources.files("openvns.nerve.fibres").joinpath(f"data/{name}.yaml").read_text("utf-8")
    return ParameterFile(name, yamlio.safe_load(text))
