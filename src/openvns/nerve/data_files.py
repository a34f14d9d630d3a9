"""Loading the nerve layer's versioned data files (``openvns/nerve/data/*.yaml``).

Every number in those files carries a ``status`` (V, D, R, NF or A, as in the device
catalogue) and a ``source``; values with status R, NF or A must be flagged ``provisional``.
This module reads a file once, checks it with the loader of :mod:`openvns.parameters` (the one
provenance rule, and no number without a source), and hands out plain values.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from openvns.parameters import flatten


@lru_cache(maxsize=16)
def read_text(name: str) -> str:
    """The text of ``openvns/nerve/data/<name>``."""
    return resources.files("openvns.nerve").joinpath(f"data/{name}").read_text("utf-8")


@lru_cache(maxsize=16)
def load(name: str) -> dict[str, Any]:
    """Parse and check ``openvns/nerve/data/<name>`` (cached; do not mutate the result)."""
    raw = yaml.safe_load(read_text(name))
    if not isinstance(raw, dict):
        raise ValueError(f"{name} must be a YAML mapping")
    flatten(raw, name)  # the one provenance rule, and no number without a source
    return raw


def value(entry: Any) -> Any:
    """The ``value`` of a sourced entry (``{value: ..., status: ..., source: ...}``)."""
    if isinstance(entry, dict) and "value" in entry:
        return entry["value"]
    return entry


def digest(name: str) -> str:
    """SHA-256 of a data file's text: part of every cache key that depends on it."""
    return hashlib.sha256(read_text(name).encode("utf-8")).hexdigest()
