"""The report sections of the non-invasive trial designs: headache endpoints and crossovers.

:func:`headache_html` (a headache condition) gives, for each prevention measure of
:func:`openvns.trials.headache.headache_measures` (attacks per week; monthly migraine days and
monthly headache days), a table per arm — baseline and endpoint rate and their change with 95 %
t intervals, ≥ 30 %, ≥ 50 % and 100 % responders with Wilson intervals — and the comparisons of
every other arm with the first (difference of the change, Newcombe differences of the responder
shares, the negative-binomial rate ratio with its Wald interval and likelihood-ratio p); then,
when attacks were treated, the acute endpoint per arm (first treated attack: the share that
succeeded with its Wilson interval; the mean over patients of each patient's share of treated
attacks that succeeded, t interval) and the first-attack comparisons.

:func:`crossover_html` (a crossover design) gives each sequence's mean in each period and the
Hills–Armitage analysis (:mod:`openvns.trials.crossover`). Cells carry their unrounded values in
``data-*`` attributes (:mod:`openvns.trials.report_cells`).

:func:`headache_document` and :func:`crossover_document` give the same numbers as JSON-able
dicts (``null`` where undefined): ``openvns trial run`` writes them into ``summary.json`` and
prints them.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from openvns.analysis.statistics import Comparison
from openvns.errors import ValidationError
from openvns.trials.report_cells import (
    attr,
    comparison_row,
    interval_cell,
    p_text,
    proportion_cell,
)

if TYPE_CHECKING:
    from openvns.analysis.headache import PreventionComparison, PreventionSummary
    from openvns.trials.headache import HeadacheSummary
    from openvns.trials.runner import TrialResult

__all__ = [
    "MEASURE_LABELS",
    "crossover_document",
    "crossover_html",
    "headache_document",
    "headache_html",
    "headache_summaries",
]

#: How each prevention measure is written in the report.
MEASURE_LABELS = {
    "attacks": "attacks per week",
    "migraine_days": "migraine days per 28 days",
    "headache_days": "headache days per 28 days",
}
_ACUTE_LABELS = {
    "response": "responder: pain 0–1 (0–4 scale) at 15 min, no rescue before 60 min (ACT1)",
    "pain_free": "pain-free (0 on 0–3) at 120 min, no rescue before (PRESTO, IHS)",
    "pain_relief": "pain relief (2–3 to 0–1) at 120 min (IHS)",
}


def headache_summaries(result: TrialResult) -> dict[str, HeadacheSummary]:
    """``{measure: HeadacheSummary}`` for every measure of the condition, the primary first (the
    one :meth:`TrialResult.summary` holds)."""
    from openvns.trials.headache import headache_measures, headache_summary

    primary = result.summary().headache
    out: dict[str, HeadacheSummary] = {}
    for m in headache_measures(result.condition):
        if primary is not None and primary.measure == m:
            out[m] = primary
        else:
            out[m] = headache_summary(result, measure=m)
    return out


def _rate_cell(field: str, iv: object, digits: int = 2) -> str:
    est, low, high, n = (getattr(iv, k) for k in ("estimate", "lower", "upper", "n"))
    return interval_cell(
        float(est), float(low), float(high),
        extra=f' data-field="{field}" data-n="{int(n)}"', digits=digits,
    )  # fmt: skip


def _share_cell(field: str, iv: object) -> str:
    """A mean of per-patient shares in percent with its t interval."""
    est, low, high, n = (float(getattr(iv, k)) for k in ("estimate", "lower", "upper", "n"))
    text = "—" if not math.isfinite(est) else f"{100 * est:.0f} %"
    if math.isfinite(low) and math.isfinite(high):
        text += f" ({100 * low:.0f} to {100 * high:.0f} %)"
    return (
        f'<td data-field="{field}" data-n="{int(n)}" data-estimate="{attr(est)}" '
        f'data-lower="{attr(low)}" data-upper="{attr(high)}">{html.escape(text)}</td>'
    )


def _prevention_table(result: TrialResult, measure: str, arms: dict[str, PreventionSummary]) -> str:
    label = MEASURE_LABELS[measure]
    head = (
        f"<tr><th class='label'>Arm</th><th>Patients</th><th>Baseline, {label} (95 % CI)</th>"
        f"<th>Endpoint, {label} (95 % CI)</th><th>Change (95 % CI)</th>"
        "<th>≥ 30 % responders (95 % CI)</th><th>≥ 50 % responders (95 % CI)</th>"
        "<th>100 % responders (95 % CI)</th></tr>"
    )
    rows = []
    for name in result.arm_names:
        s = arms[name]
        cells = [
            f"<td class='label'>{html.escape(name)}</td>",
            f'<td data-field="patients" data-n="{s.n}">{s.n}</td>',
            _rate_cell("baseline_rate", s.baseline_rate),
            _rate_cell("endpoint_rate", s.endpoint_rate),
            _rate_cell("change", s.change),
        ]
        for t in sorted(s.responders):
            r = s.responders[t]
            cells.append(proportion_cell(f"responders_{t:g}", r.count, r.n, r.proportion()))
        rows.append(
            f'<tr data-arm="{html.escape(name)}" data-measure="{measure}">{"".join(cells)}</tr>'
        )
    return (
        f"<table class='headache-prevention' data-measure='{measure}'>{head}{''.join(rows)}</table>"
    )


def _rate_ratio_row(label: str, measure: str, cmp: PreventionComparison) -> str:
    rr = cmp.rate_ratio
    endpoint = f"rate ratio of {MEASURE_LABELS[measure]} (endpoint window)"
    if rr is None:
        return (
            f'<tr data-comparison="{html.escape(label)}" data-field="rate_ratio">'
            f"<td class='label'>{html.escape(label)}</td><td class='label'>{endpoint}</td>"
            "<td>—</td><td>—</td><td class='label'>not estimable: an arm had no event in the "
            "endpoint window</td></tr>"
        )
    c = rr.rate_ratio
    return (
        f'<tr data-comparison="{html.escape(label)}" data-field="rate_ratio">'
        f"<td class='label'>{html.escape(label)}</td><td class='label'>{endpoint}</td>"
        + interval_cell(c.estimate, c.lower, c.upper, extra=' data-unit="ratio"', digits=3)
        + f'<td data-p-value="{attr(c.p_value)}">{p_text(c.p_value)}</td>'
        f"<td class='label'>{html.escape(c.method)} (dispersion α = {rr.fit.alpha:.3g})</td></tr>"
    )


def _prevention_comparisons(
    result: TrialResult, measure: str, comparisons: dict[str, PreventionComparison]
) -> str:
    ref = result.arm_names[0]
    label_m = MEASURE_LABELS[measure]
    head = (
        "<tr><th class='label'>Comparison</th><th class='label'>Endpoint</th>"
        "<th>Difference (95 % CI)</th><th>p-value</th><th class='label'>Test</th></tr>"
    )
    rows = []
    for name, cmp in comparisons.items():
        label = f"{ref} − {name}"
        rows.append(comparison_row(label, f"change of {label_m}", "change", cmp.change, label_m))
        for t in sorted(cmp.responders):
            what = "100 % responders" if t >= 100 else f"≥ {t:g} % responders"
            rows.append(comparison_row(label, what, f"responders_{t:g}",
                                       cmp.responders[t], "percentage points"))  # fmt: skip
        rows.append(_rate_ratio_row(label, measure, cmp))
    return (
        f"<table class='headache-comparisons' data-measure='{measure}'>{head}{''.join(rows)}"
        "</table>"
    )


def _acute_html(result: TrialResult, summary: HeadacheSummary) -> str:
    if summary.acute_endpoint is None:
        return (
            "<p class='note' id='headache-acute-none'>Acute treatment: no attack was treated in "
            "the blinded phase (no arm's protocol has acute use).</p>"
        )
    endpoint = _ACUTE_LABELS.get(summary.acute_endpoint, summary.acute_endpoint)
    head = (
        "<tr><th class='label'>Arm</th><th>First treated attack succeeded (95 % CI)</th>"
        "<th>Per patient: mean share of treated attacks that succeeded (95 % CI)</th>"
        "<th>Evaluable treated attacks</th></tr>"
    )
    rows = []
    for name in result.arm_names:
        a = summary.acute.get(name)
        if a is None:
            continue
        first = a.first_attack
        count = round(float(first.estimate) * a.n_patients) if a.n_patients else 0
        rows.append(
            f'<tr data-arm="{html.escape(name)}">'
            f"<td class='label'>{html.escape(name)}</td>"
            + proportion_cell("first_attack", count, a.n_patients, first)
            + _share_cell("per_patient", a.per_patient)
            + f'<td data-field="attacks" data-n="{a.n_attacks}">{a.n_attacks}</td></tr>'
        )
    ref = result.arm_names[0]
    cmp_rows = "".join(
        comparison_row(
            f"{ref} − {name}",
            "first treated attack succeeded",
            "first_attack",
            c,
            "percentage points",
        )
        for name, c in summary.acute_comparisons.items()
    )
    cmp_head = (
        "<tr><th class='label'>Comparison</th><th class='label'>Endpoint</th>"
        "<th>Difference (95 % CI)</th><th>p-value</th><th class='label'>Test</th></tr>"
    )
    return (
        f"<h3>Acute treatment</h3><p>Endpoint: {html.escape(endpoint)}. Attacks treated in the "
        "blinded phase; patients who treated none are not analysed for the first attack; an "
        "unrated attack (a missing diary day) counts as a failure.</p>"
        f"<table class='headache-acute' data-endpoint='{summary.acute_endpoint}'>{head}"
        f"{''.join(rows)}</table>"
        f"<table class='headache-acute-comparisons'>{cmp_head}{cmp_rows}</table>"
    )


def headache_html(result: TrialResult) -> str:
    """The headache section of the report (see the module docstring); empty for a condition
    without an attack diary."""
    if result.attacks is None:
        return ""
    d = result.design
    summaries = headache_summaries(result)
    parts = [
        "<h2>Headache endpoints</h2>",
        "<p>Eligible patients (the baseline diary meets the inclusion criteria). A rate is the "
        "events on the observed diary days of a window divided by those days, per week (attacks) "
        "or per 28 days (migraine or headache days); a window with fewer than half of its days "
        "observed has none. Baseline: all "
        f"{d.baseline_days} baseline days; endpoint: the last 14 days (attacks) or 28 days "
        "(migraine or headache days) of the blinded phase. Responders: a reduction of at least "
        "30 %, 50 % or 100 % (missing counts as non-responder). The rate ratio is of the "
        "endpoint-window counts, from a negative-binomial regression with log(observed days) "
        "offset and the log baseline rate as covariate (first arm / other arm).</p>",
    ]
    for measure, s in summaries.items():
        parts.append(f"<h3>Prevention: {MEASURE_LABELS[measure]}</h3>")
        parts.append(_prevention_table(result, measure, s.prevention))
        if s.comparisons:
            parts.append(_prevention_comparisons(result, measure, s.comparisons))
    first = next(iter(summaries.values()))
    parts.append(_acute_html(result, first))
    return "\n".join(parts)


def _analysis_row(label: str, field: str, c: Comparison, unit: str) -> str:
    return comparison_row(label, field.replace("_", " "), field, c, unit)


def crossover_html(result: TrialResult) -> str:
    """The crossover section of the report; empty for a parallel design."""
    from openvns.trials.crossover import crossover_periods, crossover_summary

    d = result.design
    if d.crossover is None:
        return ""
    periods = crossover_periods(result)
    a, b = periods.treatments
    w = periods.windows[0].stop - periods.windows[0].start
    intro = (
        "<h2>Crossover analysis</h2>"
        f"<p>AB/BA crossover: sequence {html.escape(periods.sequences[0])} (the patients "
        f"allocated to {html.escape(a)}) and {html.escape(periods.sequences[1])}; two periods "
        f"of {d.crossover.period_days} days with a washout of {d.crossover.washout_days} days. "
        f"Endpoint: {html.escape(periods.unit)} over the last {w} days of each period, eligible "
        "patients with both periods' values. Hills–Armitage: the treatment effect "
        f"{html.escape(a)} − {html.escape(b)} from the period differences by sequence (pooled "
        "t), the period effect (period 1 − period 2), carry-over from the patient totals, and "
        "the first period alone as a parallel comparison. The tables above compare the arms as "
        "sequences at the end of the blinded phase (the second period).</p>"
    )
    cells = periods.cell_means()
    head = (
        "<tr><th class='label'>Sequence</th><th>Period 1 (95 % CI)</th>"
        "<th>Period 2 (95 % CI)</th></tr>"
    )
    rows = "".join(
        f'<tr data-sequence="{html.escape(seq)}"><td class="label">{html.escape(seq)}</td>'
        + _rate_cell("period_1", cells[(seq, 1)])
        + _rate_cell("period_2", cells[(seq, 2)])
        + "</tr>"
        for seq in periods.sequences
    )
    means = f"<table class='crossover-means'>{head}{rows}</table>"
    try:
        s = crossover_summary(result)
    except ValidationError as exc:
        return (
            intro + means + f"<p class='note' id='crossover-not-analysed'>Not analysed: "
            f"{html.escape(str(exc))}.</p>"
        )
    an = s.analysis
    unit = periods.unit.split(" (")[0]
    cmp_head = (
        "<tr><th class='label'>Effect</th><th class='label'>Estimate of</th>"
        "<th>Estimate (95 % CI)</th><th>p-value</th><th class='label'>Test</th></tr>"
    )
    rows = "".join(
        (
            _analysis_row(f"{a} − {b}", "treatment", an.treatment, unit),
            _analysis_row("period 1 − period 2", "period", an.period, unit),
            _analysis_row(f"{a} − {b} (totals)", "carryover", an.carryover, unit),
            _analysis_row(f"{a} − {b}, period 1 only", "first_period", an.first_period, unit),
        )
    )
    counts = (
        f"<p id='crossover-counts' data-n-ab='{an.n_ab}' data-n-ba='{an.n_ba}' "
        f"data-n-excluded='{an.n_excluded}'>Analysed: {an.n_ab} in sequence "
        f"{html.escape(periods.sequences[0])}, {an.n_ba} in {html.escape(periods.sequences[1])}; "
        f"{an.n_excluded} left out for a missing period value.</p>"
    )
    return intro + means + f"<table class='crossover'>{cmp_head}{rows}</table>" + counts


# ------------------------------------------------------------------------------ JSON documents
def _num(x: object) -> float | None:
    v = float(x)  # type: ignore[arg-type]
    return v if math.isfinite(v) else None


def _iv(iv: object) -> list[float | None]:
    return [_num(getattr(iv, k)) for k in ("estimate", "lower", "upper")]


def _cmp(c: Comparison) -> dict[str, object]:
    return {
        "estimate": _num(c.estimate),
        "ci": [_num(c.lower), _num(c.upper)],
        "p_value": _num(c.p_value),
        "method": c.method,
    }


def headache_document(result: TrialResult) -> dict[str, object] | None:
    """The headache endpoints of ``result`` as a JSON-able dict, ``None`` without an attack
    diary: per measure (``"attacks"``, ``"migraine_days"``, ``"headache_days"``) each arm's
    baseline and endpoint rate, change (estimate, lower, upper) and responder shares, each other
    arm against the first (change, responders, ``rate_ratio`` or ``None``); ``acute`` (or
    ``None``): the endpoint, per arm the first-attack share and the per-patient mean share, and
    the first-attack comparisons."""
    if result.attacks is None:
        return None
    summaries = headache_summaries(result)
    ref = result.arm_names[0]
    measures: dict[str, object] = {}
    for m, s in summaries.items():
        arms = {
            name: {
                "patients": p.n,
                "baseline_rate": _iv(p.baseline_rate),
                "endpoint_rate": _iv(p.endpoint_rate),
                "change": _iv(p.change),
                "responders": {
                    f"{t:g}": {"share": _iv(r.proportion()), "count": r.count, "n": r.n}
                    for t, r in sorted(p.responders.items())
                },
            }
            for name, p in s.prevention.items()
        }
        comparisons = {}
        for name, c in s.comparisons.items():
            rr = c.rate_ratio
            comparisons[name] = {
                "difference": f"{ref} − {name}",
                "change": _cmp(c.change),
                "responders": {f"{t:g}": _cmp(x) for t, x in sorted(c.responders.items())},
                "rate_ratio": None
                if rr is None
                else {**_cmp(rr.rate_ratio), "alpha": rr.fit.alpha},
            }
        measures[m] = {"unit": MEASURE_LABELS[m], "arms": arms, "comparisons": comparisons}
    first = next(iter(summaries.values()))
    acute: dict[str, object] | None = None
    if first.acute_endpoint is not None:
        acute = {
            "endpoint": first.acute_endpoint,
            "arms": {
                name: {
                    "first_attack": _iv(a.first_attack),
                    "patients": a.n_patients,
                    "per_patient": _iv(a.per_patient),
                    "attacks": a.n_attacks,
                }
                for name, a in first.acute.items()
            },
            "comparisons": {
                name: {"difference": f"{ref} − {name}", "first_attack": _cmp(c)}
                for name, c in first.acute_comparisons.items()
            },
        }
    return {"primary": first.measure, "measures": measures, "acute": acute}


def crossover_document(result: TrialResult) -> dict[str, object] | None:
    """The crossover analysis of ``result`` as a JSON-able dict, ``None`` for a parallel design;
    ``{"error": ...}`` in place of the analysis when it cannot be made (too few patients)."""
    from openvns.trials.crossover import crossover_periods, crossover_summary

    if result.design.crossover is None:
        return None
    periods = crossover_periods(result)
    cells = periods.cell_means()
    doc: dict[str, object] = {
        "endpoint": periods.endpoint,
        "unit": periods.unit,
        "treatments": list(periods.treatments),
        "sequences": list(periods.sequences),
        "windows": [[w.start, w.stop] for w in periods.windows],
        "means": {seq: {str(k): _iv(cells[(seq, k)]) for k in (1, 2)} for seq in periods.sequences},
    }
    try:
        an = crossover_summary(result).analysis
    except ValidationError as exc:
        doc["error"] = str(exc)
        return doc
    doc.update(
        treatment=_cmp(an.treatment),
        period=_cmp(an.period),
        carryover=_cmp(an.carryover),
        first_period=_cmp(an.first_period),
        n_ab=an.n_ab,
        n_ba=an.n_ba,
        n_excluded=an.n_excluded,
    )
    return doc
