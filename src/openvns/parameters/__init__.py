"""Parameter sets: one registry, one loader, one provenance rule for every data file.

Every number OpenVNS uses lives in a versioned data file with a status (V seen in a source,
D derived, R recalled, NF not found, A assumed), a ``provisional`` flag and a source. This
package is the bottom of the layer stack: it imports no other layer, and every layer's loader
checks its file with :func:`check_entry` (the one provisional rule) and describes its values
with :class:`Provenance`.

Examples
--------
>>> from openvns import parameters
>>> s = parameters.load_set("physiology")
>>> s.provenance("f_opt_Hz").status
'A'
>>> s["f_opt_Hz"].unit
'Hz'
"""

from __future__ import annotations

from openvns.parameters.flatten import flatten, flatten_sections
from openvns.parameters.model import Parameter, ParameterSet, Value, format_value
from openvns.parameters.provenance import (
    PROVISIONAL_STATUSES,
    STATUSES,
    Provenance,
    Status,
    check_entry,
    require_provisional,
)
from openvns.parameters.ranges import ParameterRange, check_range, parse_range
from openvns.parameters.registry import (
    available,
    describe,
    load_file,
    load_set,
    parse_set,
    read_resource,
    register,
)
from openvns.parameters.units import UNIT_SUFFIXES, unit_of

__all__ = [
    "PROVISIONAL_STATUSES",
    "STATUSES",
    "UNIT_SUFFIXES",
    "Parameter",
    "ParameterRange",
    "ParameterSet",
    "Provenance",
    "Status",
    "Value",
    "available",
    "check_entry",
    "check_range",
    "describe",
    "flatten",
    "flatten_sections",
    "format_value",
    "load_file",
    "load_set",
    "parse_range",
    "parse_set",
    "read_resource",
    "register",
    "require_provisional",
    "unit_of",
]
