"""Definitions of the headache-trial endpoints, read from ``analysis/data/headache_endpoints.yaml``.

Every number an endpoint of :mod:`openvns.analysis.headache`, :mod:`openvns.analysis.acute` or
:mod:`openvns.analysis.count_regression` uses by default (the 28-day month, the responder
thresholds, ACT1's 15-minute responder and 60-minute rescue-free window, the migraine relief
definition, …) lives in that file with its status and source; the functions take each as an
explicit argument whose default is read here.

>>> headache_number("month_days")
28.0
>>> headache_times_min()
(0, 15, 30, 60, 120)
"""

from __future__ import annotations

from functools import lru_cache

from openvns.errors import ValidationError
from openvns.parameters import ParameterSet, parse_set, read_resource

__all__ = ["headache_endpoint_parameters", "headache_number", "headache_times_min"]

_DESCRIPTION = "Headache-trial endpoints: months, responder thresholds, acute-treatment rules"


@lru_cache(maxsize=1)
def headache_endpoint_parameters() -> ParameterSet:
    """The shipped headache-endpoint definitions (each value with status and source)."""
    text = read_resource("openvns.analysis", "data/headache_endpoints.yaml")
    return parse_set(text, "headache_endpoints", description=_DESCRIPTION, sections=True)


def headache_number(name: str) -> float:
    """A numeric definition by name (``"month_days"``, ``"cluster_rescue_free_min"``, …).

    Raises
    ------
    openvns.errors.ValidationError
        No numeric definition of that name.
    """
    s = headache_endpoint_parameters()
    numeric = tuple(
        p.name for p in s if isinstance(p.value, int | float) and not isinstance(p.value, bool)
    )
    if name not in numeric:
        raise ValidationError("headache endpoint definition", name, "one of " + ", ".join(numeric))
    return float(s[name].value)  # type: ignore[arg-type]


def headache_times_min() -> tuple[int, ...]:
    """Minutes after treatment at which an attack's pain is rated (the attack interface's
    ``TIMES_MIN``)."""
    value = headache_endpoint_parameters()["times_min"].value
    if not isinstance(value, tuple):
        raise ValueError("headache_endpoints.yaml: times_min must be a list")
    return tuple(int(v) for v in value)  # type: ignore[arg-type]
