"""JSON that any client can read, even when it echoes a request's non-finite numbers.

Python's JSON reader (and so FastAPI's) accepts the non-standard literals ``NaN``, ``Infinity``
and ``-Infinity``. A 422 echoes the refused input (``input``, ``value``), and the response's
JSON encoder, which writes standard JSON only (``allow_nan=False``), then failed: every request
with such a number in a field it refused answered 500, on every endpoint, even before sign-in.

:func:`json_safe` makes a body standard JSON by writing each non-finite float as its JSON
spelling, a string (``"NaN"``, ``"Infinity"``, ``"-Infinity"``): the 422 still names the field
and shows the value that was sent. :func:`has_non_finite` says whether a value holds one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def spelling(value: float) -> str:
    """The JSON literal of a non-finite float: ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, replaced by its :func:`spelling`.

    Dicts, lists and tuples are copied (tuples become lists, as JSON writes them); every other
    value is returned as it is. Booleans and integers are never touched.

    >>> json_safe({"detail": [{"loc": ["body", "x"], "input": float("nan")}]})
    {'detail': [{'loc': ['body', 'x'], 'input': 'NaN'}]}
    >>> json_safe([1, 2.5, float("-inf")])
    [1, 2.5, '-Infinity']
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else spelling(value)
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def has_non_finite(value: Any) -> bool:
    """Whether ``value`` holds a non-finite float at any depth (in a dict, list or tuple).

    >>> has_non_finite({"a": [1.0, {"b": float("inf")}]})
    True
    >>> has_non_finite({"a": [1.0, "NaN"]})
    False
    """
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(has_non_finite(item) for item in value)
    return False
