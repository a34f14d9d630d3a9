"""Loading the nerve layer's versioned data files (``openvns/nerve/data/*.yaml``).

Every number in those files carries a ``status`` (V, D, R, NF or A, as in the device
catalogue) and a ``source``; values with status R, NF or A must be flagged ``provisional``.
This module reads a file once, checks it with the loader of :mod:`openvns.parameters` (the one
provenance rule, and no number without a source), and hands out plain values.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from openvns import yamlio
from openvns.parameters import flatten


@lru_cache(maxsize=16)
def read_text(name: str) -> str:
    """The text of ``openvns/nerve/data/<name>``."""
    return resources.files("openvns.nerve").joinpath(f"data/{name}").read_text("utf-8")


@lru_cache(maxsize=16)
def load(name: str) -> dict[str, Any]:
    """Parse and check ``openvns/nerve/data/<name>`` (cached; do not mutate the result)."""
    raw = yamlio.safe_load(read_text(name))
    if not isinstance(raw, dict):
        raise ValueError(f"{name} must be a YAML mapping")
    flatten(raw, name)  # the one provenance rule, and no number without a source
    return raw


def value(entry: Any) -> Any:
    """The ``value`` of a sourced entry (``{value: ..., status: ..., source: ...}``)."""
    if isinstance(entry, dict) and "value" in entry:
        return entry["value"]
    return entry


#: One plausible range as written in the data files, ``range: {low: L, high: H, reason: "..."}``:
#: inline after a value (flow style) or on a line of its own (block style).
_RANGE = r'range: \{low: [^,{}]+, high: [^,{}]+, reason: "(?:[^"\\]|\\.)*"\}'
_RANGE_INLINE = re.compile(", " + _RANGE)
_RANGE_LINE = re.compile(r"^[ \t]+" + _RANGE + r"[ \t]*\n", re.MULTILINE)


def model_text(text: str) -> str:
    """``text`` without its single-value plausible ranges (``range: {low, high, reason}``).

    A range annotates an assumed value for the uncertainty analyses (``openvns trial
    uncertainty``, ``sensitivity``); it is not an input of any computation. Cache keys hash this
    text, so annotating a value with its range does not invalidate a shipped recruitment table,
    while changing the value, its status or its source does. A file without ranges is returned
    unchanged (the same digest as its raw text).
    """
    return _RANGE_LINE.sub("", _RANGE_INLINE.sub("", text))


def text_digest(text: str) -> str:
    """SHA-256 of :func:`model_text` of a data file's text."""
    return hashlib.sha256(model_text(text).encode("utf-8")).hexdigest()


def digest(name: str) -> str:
    """SHA-256 of a data file's model text (:func:`model_text`): part of every cache key that
    depends on the file."""
    return text_digest(read_text(name))
