"""A self-contained HTML report of a :class:`~openvns.trials.runner.TrialResult`.

:func:`write_report` writes one HTML file with no external resources (inline CSS, figures as
base64 PNG ``data:`` images, no scripts):

* a summary table per arm — patients randomised, eligible and analysed, mean change of pain
  from baseline with its 95 % t interval, ≥ 30 % and ≥ 50 % responders with Wilson intervals,
  the share "much" or "very much improved" on the PGIC, and dropout;
* a table of the outcomes beyond pain per arm (the patients' own PGIC, BPI interference, FIQR
  for fibromyalgia and sleep, asked at the visits at the end of the baseline and of the blinded
  phase): PGIC much/very much improved, mean changes with t intervals and the shares improved
  by at least each MCID with Wilson intervals, the MCIDs and their sources;
* the comparisons of every other arm with the first (Welch difference of mean change and its
  Hedges' g with the exact noncentral-t interval, Newcombe differences of responder rates and
  the number needed to treat with Altman's interval, the same differences for the outcomes
  beyond pain; p-values and the test used);
* for a headache condition, the headache endpoints (prevention per arm and between arms with the
  negative-binomial rate ratio, acute treatment of the first and of all treated attacks), and
  for a crossover design the Hills–Armitage analysis of the per-period values
  (:mod:`openvns.trials.report_headache`);
* the figures of :mod:`openvns.trials.figures`;
* the configuration that produced the result: configuration hash, root seed, package version,
  RNG scheme and the full configuration as JSON.

Numeric cells carry their unrounded values in ``data-*`` attributes (``data-estimate``,
``data-lower``, ``data-upper``, ``data-count``, ``data-n``, ``data-p-value``; ``data-nnt``,
``data-at-upper``, ``data-at-lower`` for a number needed to treat) so the report can
be checked or scraped without parsing the rounded text. The endpoints are those of
:meth:`~openvns.trials.runner.TrialResult.summary` (eligible patients, blinded phase).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from openvns.analysis.endpoints import Improved, OutcomeSummary
from openvns.analysis.plotting import figure_png
from openvns.files import atomic_write
from openvns.patients.outcomes import mcid, mcid_references
from openvns.trials.adverse_events import safety_html
from openvns.trials.baseline_table import baseline_html
from openvns.trials.phase_endpoints import phase_endpoints_html
from openvns.trials.report_cells import attr as _attr
from openvns.trials.report_cells import comparison_row as _comparison_row
from openvns.trials.report_cells import effect_size_row, nnt_row
from openvns.trials.report_cells import interval_cell as _interval_cell
from openvns.trials.report_cells import proportion_cell as _proportion_cell
from openvns.trials.report_headache import crossover_html, headache_html

if TYPE_CHECKING:
    from openvns.simulation.courses import Recruitment
    from openvns.trials.runner import TrialResult, TrialSummary

log = logging.getLogger(__name__)

__all__ = ["render_report", "write_report"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.label, th.label { text-align: left; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.8em; }
dl.provenance dt { font-weight: bold; } dl.provenance dd { margin: 0 0 0.5em 1em;
       font-family: monospace; }
p.note { color: #555; font-style: italic; }
"""

_CAPTIONS = {
    "consort": "CONSORT flow diagram: candidates screened on their baseline diary, excluded "
    "by the first inclusion criterion they failed, randomised; per arm, discontinuations by "
    "reason in the blinded phase and the open-label extension, and the patients analysed for "
    "the change of mean NRS.",
    "weekly_pain": "Weekly mean pain (NRS 0–10) per arm, eligible patients, with 95 % t bands "
    "(whole weeks only); dashed lines mark the start of the blinded phase and of the open-label "
    "extension, from which the other arms' patients are on the open-label arm's protocol.",
    "responders": "Patients with a reduction of mean pain of at least 30 % and 50 % from "
    "baseline to the last 4 weeks of the blinded phase (missing counts as non-responder), with "
    "95 % Wilson intervals.",
    "waterfall": "Percent change of mean pain from baseline to the end of the blinded phase per "
    "eligible patient with both means, sorted, coloured by arm; dotted lines at −30 % and −50 %.",
    "side_effects": "Weekly point prevalence of each side effect: the share of the patients "
    "stimulated on a day (current above 0 mA) who report it that day, over the week's days (the "
    "validation's point prevalence), with 95 % Wilson bands; whole weeks only.",
    "recruitment": "Fraction of each fibre group recruited at each stimulated patient's final "
    "current (divided by the patient's coupling θ) and the pulse width of the protocol in "
    "force on the patient's last day, on the recruitment table of the electrode in use then; "
    "points are coloured by the arm randomised to, triangles are patients on another arm's "
    "protocol by then (crossed over, e.g. sham patients in the open-label extension).",
    "headache_rate": "Headache frequency per arm over the trial (eligible patients, 95 % t "
    "bands): attacks per week in weekly windows (cluster headache), or migraine days and "
    "headache days per 28 days in 28-day windows (migraine), over each window's observed diary "
    "days; dashed lines mark the phases.",
    "crossover": "Each sequence's mean endpoint in period 1 and period 2 with 95 % t intervals "
    "(the endpoint of the crossover analysis); thin lines are the patients.",
}


@dataclass(frozen=True)
class _ArmExtras:
    kind: str
    randomised: int
    eligible: int
    dropout_blinded: int
    dropout_any: int


def _arm_extras(result: TrialResult, name: str) -> _ArmExtras:
    a = result.arm_names.index(name)
    in_arm = result.arm == a
    end_blinded = result.design.baseline_days + result.design.blinded_days
    drop = result.dropout_day[in_arm]
    return _ArmExtras(
        kind=result.design.arm(name).kind,
        randomised=int(in_arm.sum()),
        eligible=int((in_arm & result.eligible).sum()),
        dropout_blinded=int(((drop >= 0) & (drop < end_blinded)).sum()),
        dropout_any=int((drop >= 0).sum()),
    )


def _improved_cell(field: str, share: Improved | None) -> str:
    if share is None:
        return f'<td data-field="{field}">—</td>'
    return _proportion_cell(field, share.count, share.n, share.proportion())


def _summary_table(result: TrialResult, summary: TrialSummary) -> str:
    head = (
        "<tr><th class='label'>Arm</th><th class='label'>Kind</th><th>Randomised</th>"
        "<th>Eligible</th><th>Analysed</th><th>Change of mean NRS (95 % CI)</th>"
        "<th>≥ 30 % responders (95 % CI)</th><th>≥ 50 % responders (95 % CI)</th>"
        "<th>PGIC much / very much improved (95 % CI)</th><th>Dropout, blinded phase</th>"
        "<th>Dropout, whole study</th></tr>"
    )
    rows = []
    for name in result.arm_names:
        s, x = summary.arms[name], _arm_extras(result, name)
        c = s.change_NRS
        o = summary.outcomes.get(name)
        pgic_cell = _improved_cell("pgic_much_improved", o.pgic_improved if o else None)
        r30, r50 = s.responders_30, s.responders_50
        cells = [
            f"<td class='label'>{html.escape(name)}</td><td class='label'>{x.kind}</td>",
            f'<td data-field="randomised" data-n="{x.randomised}">{x.randomised}</td>',
            f'<td data-field="eligible" data-n="{s.n}">{x.eligible}</td>',
            f'<td data-field="analysed" data-n="{int(c.n)}">{int(c.n)}</td>',
            _interval_cell(
                float(c.estimate),
                float(c.lower),
                float(c.upper),
                extra=f' data-field="change_NRS" data-n="{int(c.n)}"',
            ),
            _proportion_cell("responders_30", r30.count, r30.n, r30.proportion()),
            _proportion_cell("responders_50", r50.count, r50.n, r50.proportion()),
            pgic_cell,
            _proportion_cell("dropout_blinded", x.dropout_blinded, x.randomised),
            _proportion_cell("dropout_any", x.dropout_any, x.randomised),
        ]
        rows.append(f'<tr data-arm="{html.escape(name)}">{"".join(cells)}</tr>')
    return f"<table class='summary'>{head}{''.join(rows)}</table>"


#: Outcomes beyond pain: (key, label, unit of the change).
_OUTCOME_ROWS = (
    ("bpi_interference", "BPI interference (0–10)", "points"),
    ("fiqr", "FIQR total (0–100)", "points"),
    ("sleep", "Sleep quality NRS (0 best – 10 worst)", "points"),
)


def _mcid_text(outcome: str) -> str:
    m = mcid(outcome)
    if outcome == "pgic":
        return f"much or very much improved (PGIC ≤ {m.value:g})"
    if outcome == "fiqr":
        return f"a reduction of at least {m.value:g} % of the baseline"
    return f"a reduction of at least {m.value:g} {'point' if m.value == 1 else 'points'}"


def _outcome_cells(prefix: str, o: OutcomeSummary | None, key: str) -> list[str]:
    ch = o.changes().get(key) if o is not None else None
    if ch is None:
        return [f'<td data-field="{prefix}_change">—</td>',
                f'<td data-field="{prefix}_responders">—</td>']  # fmt: skip
    m = ch.mean_change()
    return [
        _interval_cell(
            float(m.estimate),
            float(m.lower),
            float(m.upper),
            extra=f' data-field="{prefix}_change" data-n="{int(m.n)}"',
        ),
        _improved_cell(f"{prefix}_responders", ch.responders),
    ]


def _outcomes_table(result: TrialResult, summary: TrialSummary) -> str:
    """Per arm: PGIC much/very much improved, and per outcome the mean change and the share
    improved by at least its MCID; a last row lists the MCIDs and their sources."""
    present = [
        (k, label, unit) for k, label, unit in _OUTCOME_ROWS
        if any(k in o.changes() for o in summary.outcomes.values())
    ]  # fmt: skip
    head = ["<th class='label'>Arm</th><th>PGIC much / very much improved (95 % CI)</th>"]
    for _, label, _unit in present:
        head.append(
            f"<th>{html.escape(label)}: mean change (95 % CI)</th>"
            f"<th>{html.escape(label)}: improved by ≥ MCID (95 % CI)</th>"
        )
    rows = []
    for name in result.arm_names:
        o = summary.outcomes.get(name)
        cells = [
            f"<td class='label'>{html.escape(name)}</td>",
            _improved_cell("pgic_much_improved", o.pgic_improved if o else None),
        ]
        for key, _, _ in present:
            cells += _outcome_cells(key, o, key)
        rows.append(f'<tr data-arm="{html.escape(name)}">{"".join(cells)}</tr>')
    sources = "".join(
        f"<li data-mcid='{k}' data-value='{_attr(mcid(k).value)}'>{html.escape(label)}: "
        f"{html.escape(_mcid_text(k))} ({html.escape(mcid(k).provenance.source)}; "
        f"{html.escape('; '.join(mcid_references(k)))})</li>"
        for k, label in (("pgic", "PGIC"), *((k, lab) for k, lab, _ in present))
    )
    return (
        f"<table class='outcomes'><tr>{''.join(head)}</tr>{''.join(rows)}</table>"
        f"<p>Minimal clinically important differences (MCID):</p><ul class='mcid'>{sources}</ul>"
    )


def _comparison_table(result: TrialResult, summary: TrialSummary) -> str:
    ref = result.arm_names[0]
    head = (
        "<tr><th class='label'>Comparison</th><th class='label'>Endpoint</th>"
        "<th>Difference (95 % CI)</th><th>p-value</th><th class='label'>Test</th></tr>"
    )
    rows = []
    for name, cmp in summary.comparisons.items():
        label = f"{ref} − {name}"
        rows.append(_comparison_row(label, "change of mean NRS", "change_NRS", cmp.change_NRS,
                                    "NRS"))  # fmt: skip
        rows.append(effect_size_row(label, "change of mean NRS, standardised", "hedges_g",
                                    cmp.hedges_g))  # fmt: skip
        for pct, diff, nnt in (
            (30, cmp.responders_30, cmp.nnt_30),
            (50, cmp.responders_50, cmp.nnt_50),
        ):
            rows.append(_comparison_row(label, f"≥ {pct} % responders", f"responders_{pct}",
                                        diff, "percentage points"))  # fmt: skip
            rows.append(nnt_row(label, f"number needed to treat, ≥ {pct} % responders",
                                f"nnt_{pct}", nnt))  # fmt: skip
        rows.append(_logrank_row(label, summary, ref, name))
        oc = summary.outcome_comparisons.get(name)
        if oc is None:
            continue
        rows.append(
            _comparison_row(label, "PGIC much / very much improved", "pgic_much_improved",
                            oc.pgic_improved, "percentage points")
        )  # fmt: skip
        for key, text, _unit in _OUTCOME_ROWS:
            if key in oc.change:
                rows.append(_comparison_row(label, f"change of {text}", f"{key}_change",
                                            oc.change[key], "points"))  # fmt: skip
                rows.append(_comparison_row(label, f"{text} improved by ≥ MCID",
                                            f"{key}_responders", oc.responders[key],
                                            "percentage points"))  # fmt: skip
    return f"<table class='comparisons'>{head}{''.join(rows)}</table>"


def _median_text(weeks: float) -> str:
    return "not reached" if not math.isfinite(weeks) else f"{weeks:g}"


def _logrank_row(label: str, summary: TrialSummary, ref: str, name: str) -> str:
    """Time to a ≥ 30 % response: KM medians (weeks) of both arms and the log-rank p-value."""
    lr = summary.comparisons[name].time_to_response
    times = summary.time_to_response
    if lr is None or ref not in times or name not in times:
        return ""
    m_ref, m_other = times[ref].median_weeks(), times[name].median_weeks()
    p = lr.p_value
    p_text = "—" if not math.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")
    text = f"median {_median_text(m_ref)} vs {_median_text(m_other)} weeks"
    return (
        f'<tr data-comparison="{html.escape(label)}" data-field="time_to_response">'
        f"<td class='label'>{html.escape(label)}</td><td class='label'>time to ≥ 30 % "
        f"response (blinded phase)</td>"
        f'<td data-median-a="{_attr(m_ref)}" data-median-b="{_attr(m_other)}">'
        f"{html.escape(text)}</td>"
        f'<td data-p-value="{_attr(p)}">{p_text}</td>'
        f"<td class='label'>log-rank</td></tr>"
    )


def _figures_html(
    result: TrialResult, recruitment: Recruitment | Sequence[Recruitment] | None
) -> str:
    from openvns.trials.figures import build_figures

    parts = []
    figures = build_figures(result, recruitment)
    try:
        for i, (name, fig) in enumerate(figures.items(), start=1):
            data = base64.b64encode(figure_png(fig)).decode("ascii")
            parts.append(
                f'<figure id="figure-{name}"><img alt="{name.replace("_", " ")}" '
                f'src="data:image/png;base64,{data}">'
                f"<figcaption>Figure {i}. {html.escape(_CAPTIONS[name])}</figcaption></figure>"
            )
    finally:
        for fig in figures.values():
            fig.clear()
    if recruitment is None:
        parts.append(
            '<p class="note" id="figure-recruitment-skipped">Recruitment at the final settings: '
            "not shown, no recruitment function was given to the report.</p>"
        )
    return "\n".join(parts)


def _provenance_html(result: TrialResult) -> str:
    config = json.dumps(result.config, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    items = [
        ("Configuration hash (SHA-256)", result.config_hash, "config-hash"),
        ("Root seed", str(result.root_seed), "root-seed"),
        ("OpenVNS version", result.version, "version"),
        ("RNG scheme", result.rng_scheme, "rng-scheme"),
    ]
    dl = "".join(
        f"<dt>{label}</dt><dd id='{ident}'>{html.escape(value)}</dd>"
        for label, value, ident in items
    )
    return (
        f"<dl class='provenance'>{dl}</dl><pre id='config'>{html.escape(config, quote=False)}</pre>"
    )


def render_report(
    result: TrialResult,
    *,
    recruitment: Recruitment | Sequence[Recruitment] | None = None,
    title: str | None = None,
) -> str:
    """The HTML text of :func:`write_report` (see the module docstring for its content)."""
    d = result.design
    summary = result.summary()
    heading = title or f"OpenVNS trial report — {result.condition}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    screening = result.screening
    screened = (
        f"{screening.screened} candidates screened on their baseline diary, "
        f"{screening.excluded} not meeting the inclusion criteria (the CONSORT diagram, figure "
        "1); "
        if screening is not None
        else ""
    )
    overview = (
        f"<p>{screened}{result.n_patients} patients with {html.escape(result.condition)} "
        "randomised to "
        f"{len(result.arm_names)} arms ({html.escape(', '.join(result.arm_names))}); "
        f"{d.baseline_days} days of baseline, {d.blinded_days} days blinded, "
        f"{d.open_label_days} days open label"
        + (f" on {html.escape(d.open_label_arm)}" if d.open_label_arm else "")
        + f". Generated {when} by OpenVNS {html.escape(result.version)}.</p>"
    )
    body = [
        f"<h1>{html.escape(heading)}</h1>",
        overview,
        baseline_html(result),
        "<h2>Summary by arm</h2>",
        "<p>Eligible patients (baseline diary meets the inclusion criteria); change from the "
        "baseline mean to the mean of the last 4 weeks of the blinded phase (negative is "
        "improvement); patients without an endpoint count as non-responders. Dropout is of the "
        "randomised patients.</p>",
        _summary_table(result, summary),
        "<h2>Outcomes beyond pain by arm</h2>",
        "<p>The patients' own global impression of change (PGIC), BPI interference, FIQR "
        "(fibromyalgia only) and sleep quality, asked at the visit on the last day of the "
        "baseline and on the last day of the blinded phase; eligible patients. Changes are of "
        "patients who answered both visits (negative is improvement); a patient who dropped out "
        "before the visit counts as not improved.</p>",
        _outcomes_table(result, summary),
        "<h2>Comparisons</h2>",
        "<p>First arm minus each other arm. Hedges' g is the difference of mean change in "
        "pooled standard deviations, corrected for small samples, with the exact noncentral-t "
        "95 % interval. The number needed to treat (NNTB) is how many patients treated as in the "
        "first arm rather than the other give one more responder (NNTH: one fewer); its interval "
        "inverts the Newcombe interval of the difference and passes through ∞ when that "
        "includes 0 (Altman 1998).</p>",
        _comparison_table(result, summary),
        phase_endpoints_html(result),
        safety_html(result),
        headache_html(result),
        crossover_html(result),
        "<h2>Figures</h2>",
        _figures_html(result, recruitment),
        "<h2>Configuration</h2>",
        _provenance_html(result),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(heading)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_report(
    result: TrialResult,
    path: str | Path,
    *,
    recruitment: Recruitment | Sequence[Recruitment] | None = None,
    title: str | None = None,
) -> Path:
    """Write the self-contained HTML report of ``result`` to ``path`` atomically.

    Parameters
    ----------
    result
        A trial result with a baseline.
    path
        Target file (its directory must exist); replaced only once the report is complete.
    recruitment
        The trial's ``recruitment(current_mA, pulse_width_us)``, or one per arm (each arm's
        lead's table, :func:`openvns.trials.runner.arm_recruitment`); without it the figure of
        recruitment at the final settings is replaced by a note.
    title
        Heading and ``<title>``; default ``"OpenVNS trial report — <condition>"``.

    Returns
    -------
    Path
        The file written.
    """
    text = render_report(result, recruitment=recruitment, title=title)
    out = atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    log.info("wrote trial report to %s (%d kB)", out, len(text) // 1024)
    return out
