"""Value constraints shared by the parameter models of every layer (pydantic ``Field`` s).

``POSITIVE`` (> 0), ``NON_NEGATIVE`` (≥ 0) and ``FRACTION`` (0 … 1) are the bounds most sourced
values carry; a model declares ``tau_d: float = POSITIVE``.
"""

from __future__ import annotations

from pydantic import Field

__all__ = ["FRACTION", "NON_NEGATIVE", "POSITIVE"]

POSITIVE = Field(gt=0)
NON_NEGATIVE = Field(ge=0)
FRACTION = Field(ge=0, le=1)
