"""The one provenance type and the one provisional rule of every OpenVNS data file.

A sourced value carries a ``status`` letter, a ``provisional`` flag and a ``source``:

========  ===========================================================
``V``     seen in a source
``D``     derived or calibrated here from stated inputs
``R``     recalled, not confirmed
``NF``    not found in any source
``A``     an assumption of OpenVNS, chosen and documented
========  ===========================================================

**The provisional rule** (stated here once, used by every loader): a value with status R, NF or
A must be flagged ``provisional: true``.

Examples
--------
>>> from openvns.parameters import check_entry
>>> check_entry({"value": 25.0, "status": "A", "provisional": True, "source": "P0"}, "x")
Provenance(status='A', provisional=True, source='P0')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast

from pydantic import model_validator

from openvns.base import FrozenModel

__all__ = [
    "PROVISIONAL_STATUSES",
    "STATUSES",
    "Provenance",
    "Status",
    "check_entry",
    "require_provisional",
]

#: A status letter.
Status = Literal["V", "D", "R", "NF", "A"]
#: Every status letter a data file may use.
STATUSES: tuple[Status, ...] = ("V", "D", "R", "NF", "A")
#: Statuses whose values must be flagged provisional.
PROVISIONAL_STATUSES: frozenset[str] = frozenset({"R", "NF", "A"})


def require_provisional(status: str, provisional: object, where: str = "") -> None:
    """Apply the provisional rule: R, NF and A values must be flagged ``provisional``.

    Parameters
    ----------
    status
        The status letter of the value.
    provisional
        The value's ``provisional`` flag as given (only ``True`` counts as flagged).
    where
        Location used in the error message (``"file.yaml: section.key"``).

    Raises
    ------
    ValueError
        The status is R, NF or A and the value is not flagged provisional.
    """
    if status in PROVISIONAL_STATUSES and provisional is not True:
        at = f"{where}: " if where else ""
        raise ValueError(f"{at}a value with status {status} must be flagged provisional")


class Provenance(FrozenModel):
    """Where one value comes from: status letter, provisional flag and source text.

    Attributes
    ----------
    status
        ``V`` seen in a source, ``D`` derived, ``R`` recalled, ``NF`` not found, ``A`` assumed.
    provisional
        Whether the value is usable but unconfirmed (required for R, NF and A).
    source
        Reference IDs and the reasoning behind the value.
    """

    status: Status
    provisional: bool
    source: str

    @model_validator(mode="after")
    def _provisional_rule(self) -> Provenance:
        require_provisional(self.status, self.provisional)
        return self

    @property
    def provenance(self) -> Provenance:
        """This value's provenance alone (status, provisional, source)."""
        return Provenance(status=self.status, provisional=self.provisional, source=self.source)


def check_entry(
    entry: Mapping[str, Any], where: str, *, statuses: Iterable[str] = STATUSES
) -> Provenance:
    """Check one sourced entry of a data file and return its :class:`Provenance`.

    Parameters
    ----------
    entry
        The parsed mapping (``{value: …, status: …, provisional: …, source: …}``).
    where
        Location used in error messages (``"file.yaml: section.key"``).
    statuses
        Status letters allowed in this file (default: all of :data:`STATUSES`).

    Returns
    -------
    Provenance
        The entry's status, provisional flag and source.

    Raises
    ------
    ValueError
        An unknown status, a missing or empty source, a provisional flag that is not a boolean,
        or an R/NF/A value not flagged provisional.
    """
    allowed = tuple(statuses)
    status = entry.get("status")
    if status not in allowed:
        raise ValueError(f"{where}: status {status!r} not one of {', '.join(allowed)}")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{where}: a value with a status needs a source")
    provisional = entry.get("provisional", False)
    require_provisional(str(status), provisional, where)
    if not isinstance(provisional, bool):
        raise ValueError(f"{where}: provisional must be true or false, not {provisional!r}")
    return Provenance(status=cast(Status, status), provisional=provisional, source=source)
