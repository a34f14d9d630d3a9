"""A printable, self-contained HTML report of one patient's outcomes.

One page with inline CSS (including ``@media print`` rules: A4, no breaks inside figures and
tables), the figures of :mod:`openvns.clinic.outcomes.figures` as base64 PNG ``data:`` images
(:func:`openvns.analysis.plotting.figure_png`), no scripts and no external resources. Numeric cells
carry unrounded values in ``data-value`` attributes, as the trial report does.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime

from openvns import __version__
from openvns.analysis.plotting import figure_png
from openvns.clinic.outcomes.schemas import PatientOutcomes
from openvns.clinic.outcomes.service import ENDPOINT_DAYS
from openvns.clinic.patients.models import Patient

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1000px; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f3f3f3; } td.label, th.label { text-align: left; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #444; }
p.note { color: #555; font-style: italic; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  figure, table, tr { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"""

_CAPTIONS = {
    "weekly_pain": "Weekly mean pain (NRS) with 95 % t intervals over the week's days; the "
    "baseline mean and the levels 30 % and 50 % below it (IMMPACT moderately important and "
    "substantial). Solid vertical line: end of baseline; dashed: settings changes.",
    "pgic_bpi": "PGIC ratings (1 = very much improved … 7 = very much worse) and BPI "
    "interference (mean of seven items, 0–10).",
    "side_effects": "Days per week on which each side effect was reported.",
}


def _num(value: float | None, digits: int = 1) -> str:
    text = "—" if value is None else f"{value:.{digits}f}"
    data = "" if value is None else repr(float(value))
    return f"<td data-value='{data}'>{text}</td>"


def _table(head: list[str], rows: list[str], ident: str) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (
        f"<table id='{ident}'><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _summary(o: PatientOutcomes) -> str:
    b, r = o.baseline, o.responder
    if b is None:
        return "<p class='note' id='no-baseline'>No pain entries yet: no baseline.</p>"
    rows = [
        f"<tr><td class='label'>Baseline ({html.escape(b.source.replace('_', ' '))})</td>"
        f"<td class='label'>{b.start_date} – {b.end_date}</td>{_num(b.mean_NRS)}"
        f"<td>{b.days_observed}</td></tr>",
        f"<tr><td class='label'>Last {ENDPOINT_DAYS} days of follow-up</td>"
        f"<td class='label'>{r.start_date or '—'} – {r.end_date or '—'}</td>"
        f"{_num(r.endpoint_mean_NRS)}<td></td></tr>",
    ]
    table = _table(["", "dates", "mean NRS", "days"], rows, "summary")
    status = html.escape(r.category.replace("_", " "))
    change = "—" if r.change_pct is None else f"{r.change_pct:+.1f} %"
    return (
        table + f"<p id='responder' data-category='{r.category}'>Change from baseline: "
        f"<strong>{change}</strong>; responder status: <strong>{status}</strong> "
        "(IMMPACT: ≥ 30 % moderately important, ≥ 50 % substantial).</p>"
    )


def _weekly(o: PatientOutcomes) -> str:
    rows = [
        f"<tr><td>{w.week}</td><td class='label'>{w.start_date}</td><td>{w.days_observed}</td>"
        f"{_num(w.mean_NRS)}{_num(w.lower_NRS)}{_num(w.upper_NRS)}{_num(w.change_pct)}"
        f"<td>{'≥ 50 %' if w.responder_50 else '≥ 30 %' if w.responder_30 else ''}</td></tr>"
        for w in o.weekly_pain
    ]
    head = ["week", "from", "days", "mean NRS", "95 % low", "95 % high", "change %", "response"]
    return _table(head, rows, "weekly-pain")


def _questionnaires(o: PatientOutcomes) -> str:
    pgic = [
        f"<tr><td class='label'>{p.entry_date}</td><td>{p.score}</td>"
        f"<td class='label'>{html.escape(p.label)}</td></tr>"
        for p in o.pgic
    ]
    bpi = [
        f"<tr><td class='label'>{p.entry_date}</td>{_num(p.interference)}"
        f"{_num(p.change_interference)}<td>{'yes' if p.meaningful_improvement else ''}</td></tr>"
        for p in o.bpi
    ]
    return _table(["date", "PGIC", "category"], pgic, "pgic") + _table(
        ["date", "BPI interference", "change", "≥ 1 point better"], bpi, "bpi"
    )


def _settings(o: PatientOutcomes) -> str:
    if not o.settings_history:
        return "<p class='note' id='no-settings'>No implant or programming changes recorded.</p>"
    rows = [
        f"<tr><td class='label'>{e.at:%Y-%m-%d %H:%M}</td><td class='label'>{html.escape(e.entity)}"
        f"</td><td class='label'>{html.escape(e.action)}</td></tr>"
        for e in o.settings_history
    ]
    return _table(["when (UTC)", "what", "change"], rows, "settings-history")


def _figures(o: PatientOutcomes) -> str:
    from openvns.clinic.outcomes.figures import build_figures

    figures = build_figures(o)
    parts = []
    try:
        for i, (name, fig) in enumerate(figures.items(), start=1):
            data = base64.b64encode(figure_png(fig)).decode("ascii")
            parts.append(
                f"<figure id='figure-{name}'><img alt='{name.replace('_', ' ')}' "
                f"src='data:image/png;base64,{data}'>"
                f"<figcaption>Figure {i}. {html.escape(_CAPTIONS[name])}</figcaption></figure>"
            )
    finally:
        for fig in figures.values():
            fig.clear()
    return "\n".join(parts)


def render_patient_report(patient: Patient, outcomes: PatientOutcomes) -> str:
    """The HTML text of the patient's outcome report."""
    title = f"Outcome report — {patient.full_name} ({patient.mrn})"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Date of birth {patient.date_of_birth}; diagnosis "
        f"{html.escape(patient.diagnosis or 'not recorded')}. Diary from "
        f"{outcomes.first_entry_date or '—'} to {outcomes.last_entry_date or '—'}. "
        f"Generated {when} by OpenVNS {html.escape(__version__)}.</p>",
        "<h2>Summary</h2>",
        _summary(outcomes),
        "<h2>Figures</h2>",
        _figures(outcomes),
        "<h2>Weekly pain</h2>",
        _weekly(outcomes),
        "<h2>PGIC and BPI</h2>",
        _questionnaires(outcomes),
        "<h2>Settings history</h2>",
        _settings(outcomes),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
