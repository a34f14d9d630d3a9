"""Small statistics of the validation: exact binomial intervals and the measured value type."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats  # type: ignore[import-untyped]

__all__ = ["Measured", "NotSimulated", "clopper_pearson"]


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval of ``k`` successes in ``n`` trials, as fractions."""
    a = 1.0 - confidence
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True)
class Measured:
    """A simulated value in its target's unit, with its 95 % interval and the patients behind it.

    ``detail`` is a short note on how it was measured (shown in the report).
    """

    value: float
    ci: tuple[float, float] = (math.nan, math.nan)
    n: int = 0
    detail: str = ""


class NotSimulated(Exception):  # noqa: N818 (a state, not an error of the caller)
    """The model has no output for what a target measures (e.g. a side-effect channel)."""
