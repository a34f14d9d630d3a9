"""Fibre models: MRG myelinated double cables and the Sundt unmyelinated C fibre.

>>> fiber = build_fiber("MRG", diameter_um=5.7, n_nodes=101)
>>> fiber.n_sections
1101
"""

from __future__ import annotations

from typing import Any

from openvns.errors import ValidationError
from openvns.nerve.fibres.model import Fiber
from openvns.nerve.fibres.mrg import build_mrg
from openvns.nerve.fibres.sundt import build_sundt

#: Model names accepted by :func:`build_fiber` and the canonical model each maps to.
FIBER_MODELS: dict[str, str] = {
    "MRG": "MRG",
    "MRG_INTERPOLATION": "MRG",
    "PENA": "PENA",
    "SMALL_MRG": "PENA",
    "MRG_DISCRETE": "MRG_DISCRETE",
    "C": "C",
    "SUNDT": "C",
}

__all__ = ["FIBER_MODELS", "Fiber", "build_fiber"]

#: The keyword arguments :func:`build_fiber` accepts.
_KEYWORDS = ("diameter_um", "n_nodes", "length_um", "temperature_C")


def build_fiber(
    model: str,
    diameter_um: float,
    *,
    n_nodes: int | None = None,
    length_um: float | None = None,
    temperature_C: float = 37.0,
    **unknown: Any,
) -> Fiber:
    """Build a fibre of a named model.

    Parameters
    ----------
    model
        A key of :data:`FIBER_MODELS` (case-insensitive): ``"MRG"`` (interpolation, 2–16 µm),
        ``"PENA"`` (small-fibre MRG for B fibres, 1.011–16 µm), ``"MRG_DISCRETE"``, ``"C"``
        (``"SUNDT"``).
    diameter_um
        Fibre diameter, µm.
    n_nodes, length_um
        Size: number of nodes (MRG default 101) or, for C, the length in µm (or compartments).
    temperature_C
        Temperature, °C.

    Raises
    ------
    ValidationError
        For an unknown model or value, and for any keyword other than ``n_nodes``,
        ``length_um`` and ``temperature_C`` (a misspelt ``n_node=51`` would otherwise build the
        default 101 nodes silently).
    """
    for name, value in unknown.items():
        raise ValidationError(name, value, f"a keyword of build_fiber: {', '.join(_KEYWORDS)}")
    key = str(model).upper() if isinstance(model, str) else model
    if key not in FIBER_MODELS:
        raise ValidationError("model", model, f"one of {', '.join(FIBER_MODELS)}")
    canonical = FIBER_MODELS[key]
    if canonical == "C":
        if n_nodes is None and length_um is None:
            raise ValidationError("length_um", None, "length_um (µm) or n_nodes for a C fibre")
        return build_sundt(diameter_um, length_um, n_nodes, temperature_C)
    if length_um is not None:
        raise ValidationError("length_um", length_um, "n_nodes for an MRG fibre (not a length)")
    return build_mrg(canonical, diameter_um, 101 if n_nodes is None else n_nodes, temperature_C)
