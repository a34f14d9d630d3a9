"""The provenance rule shared by every versioned data file of OpenVNS.

A sourced value is a mapping with a ``status`` (V seen in a source, D derived, R recalled,
NF not found, A assumption) and a ``source``; values with status R, NF or A must be flagged
``provisional: true``. Each layer's loader calls :func:`check_entry` so the rule is stated once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Every status letter a data file may use.
STATUSES: tuple[str, ...] = ("V", "D", "R", "NF", "A")
#: Statuses whose values must be flagged provisional.
PROVISIONAL_STATUSES = frozenset({"R", "NF", "A"})


def check_entry(
    entry: Mapping[str, Any], where: str, *, statuses: Iterable[str] = STATUSES
) -> tuple[str, bool, str]:
    """Check one sourced entry and return its ``(status, provisional, source)``.

    Parameters
    ----------
    entry
        The parsed mapping (``{value: …, status: …, provisional: …, source: …}``).
    where
        Location used in error messages (``"file: section.key"``).
    statuses
        Status letters allowed in this file (default: all of :data:`STATUSES`).

    Raises
    ------
    ValueError
        An unknown status, a missing source, or an R/NF/A value not flagged provisional.
    """
    allowed = tuple(statuses)
    status = entry.get("status")
    if status not in allowed:
        raise ValueError(f"{where}: status {status!r} not one of {', '.join(allowed)}")
    if "source" not in entry:
        raise ValueError(f"{where}: a value with a status needs a source")
    provisional = entry.get("provisional")
    if status in PROVISIONAL_STATUSES and provisional is not True:
        raise ValueError(f"{where}: status {status} must be flagged provisional")
    return str(status), bool(provisional), str(entry["source"])
