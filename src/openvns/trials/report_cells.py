"""HTML table cells of the trial reports: values with their unrounded numbers in ``data-*``.

Every numeric cell carries the unrounded estimate and interval (``data-estimate``,
``data-lower``, ``data-upper``; ``data-count`` and ``data-n`` for a proportion; ``data-p-value``
for a test; ``data-nnt``, ``data-at-upper`` and ``data-at-lower`` for a number needed to treat)
so a report can be checked or scraped without parsing the rounded text. Shared by
:mod:`openvns.trials.report` and :mod:`openvns.trials.report_headache`.
"""

from __future__ import annotations

import html
import math

from openvns.analysis.effect_size import EffectSize, NumberNeededToTreat
from openvns.analysis.statistics import Comparison, Interval, wilson_ci

__all__ = [
    "attr",
    "comparison_row",
    "effect_size_row",
    "fmt",
    "interval_cell",
    "nnt_row",
    "p_text",
    "proportion_cell",
]


def attr(value: float | int) -> str:
    """Unrounded value for a ``data-*`` attribute (``nan`` where undefined)."""
    return repr(float(value)) if isinstance(value, float) else str(value)


def fmt(value: float, digits: int = 2) -> str:
    """``value`` rounded to ``digits``, an em dash where it is not finite."""
    return "—" if not math.isfinite(value) else f"{value:.{digits}f}"


def p_text(p: float) -> str:
    """A p-value as printed: 3 decimals, ``< 0.001``, or an em dash where undefined."""
    return "—" if not math.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def interval_cell(
    estimate: float, lower: float, upper: float, *, extra: str = "", digits: int = 2
) -> str:
    """``estimate (lower to upper)``; ``extra`` is added to the ``<td>``'s attributes."""
    text = fmt(estimate, digits)
    if math.isfinite(lower) and math.isfinite(upper):
        text += f" ({fmt(lower, digits)} to {fmt(upper, digits)})"
    return (
        f'<td data-estimate="{attr(estimate)}" data-lower="{attr(lower)}" '
        f'data-upper="{attr(upper)}"{extra}>{html.escape(text)}</td>'
    )


def proportion_cell(field: str, count: int, n: int, interval: Interval | None = None) -> str:
    """``count/n = p % (lower–upper %)``, Wilson's interval unless ``interval`` is given."""
    ci = wilson_ci(count, n) if interval is None else interval
    est, low, high = float(ci.estimate), float(ci.lower), float(ci.upper)
    text = f"{count}/{n}"
    if n:
        text += f" = {100 * est:.0f} % ({100 * low:.0f}–{100 * high:.0f} %)"
    return (
        f'<td data-field="{field}" data-count="{count}" data-n="{n}" '
        f'data-estimate="{attr(est)}" data-lower="{attr(low)}" data-upper="{attr(high)}">'
        f"{html.escape(text)}</td>"
    )


def comparison_row(label: str, endpoint: str, field: str, cmp: Comparison, unit: str) -> str:
    """One row of a comparison table: difference (CI), p-value and test; a difference of shares
    (``unit == "percentage points"``) is shown in points."""
    scale = 100.0 if unit == "percentage points" else 1.0
    text = fmt(scale * cmp.estimate)
    if math.isfinite(cmp.lower) and math.isfinite(cmp.upper):
        text += f" ({fmt(scale * cmp.lower)} to {fmt(scale * cmp.upper)})"
    return (
        f'<tr data-comparison="{html.escape(label)}" data-field="{field}">'
        f"<td class='label'>{html.escape(label)}</td><td class='label'>{endpoint}</td>"
        f'<td data-estimate="{attr(cmp.estimate)}" data-lower="{attr(cmp.lower)}" '
        f'data-upper="{attr(cmp.upper)}">{html.escape(text)} {unit}</td>'
        f'<td data-p-value="{attr(cmp.p_value)}">{p_text(cmp.p_value)}</td>'
        f"<td class='label'>{html.escape(cmp.method)}</td></tr>"
    )


def effect_size_row(label: str, endpoint: str, field: str, g: EffectSize) -> str:
    """A comparison-table row of Hedges' g: ``g (lower to upper)``, no p-value, the method."""
    text = fmt(g.estimate)
    if math.isfinite(g.lower) and math.isfinite(g.upper):
        text += f" ({fmt(g.lower)} to {fmt(g.upper)})"
    return (
        f'<tr data-comparison="{html.escape(label)}" data-field="{field}">'
        f"<td class='label'>{html.escape(label)}</td><td class='label'>{endpoint}</td>"
        f'<td data-estimate="{attr(g.estimate)}" data-lower="{attr(g.lower)}" '
        f'data-upper="{attr(g.upper)}" data-n-a="{g.n_a}" data-n-b="{g.n_b}">'
        f"{html.escape(text)} SD</td><td>—</td>"
        f"<td class='label'>Hedges' g, {html.escape(g.method)}</td></tr>"
    )


def nnt_row(label: str, endpoint: str, field: str, nnt: NumberNeededToTreat) -> str:
    """A comparison-table row of a number needed to treat in Altman's notation (``NNTB x (a to
    b)``, or ``NNTB x (NNTH a to ∞ to NNTB b)``); the signed values in ``data-nnt``,
    ``data-at-upper`` (1/U) and ``data-at-lower`` (1/L)."""
    return (
        f'<tr data-comparison="{html.escape(label)}" data-field="{field}">'
        f"<td class='label'>{html.escape(label)}</td><td class='label'>{endpoint}</td>"
        f'<td data-nnt="{attr(nnt.estimate)}" data-at-upper="{attr(nnt.at_upper)}" '
        f'data-at-lower="{attr(nnt.at_lower)}">{html.escape(nnt.describe())} patients</td>'
        f"<td>—</td><td class='label'>1 / difference of the Newcombe interval (Altman)</td></tr>"
    )
