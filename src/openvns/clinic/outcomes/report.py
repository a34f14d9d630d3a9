"""A printable, self-contained HTML report of one patient's outcomes.

One page with inline CSS (including ``@media print`` rules: A4, no breaks inside figures and
tables; the CSP allows it by the hash of :data:`_CSS`), the device (implant, lead, settings,
battery, impedance), the responder status with the diary's currency (a stale diary claims no
class; the window has its real dates), the figures of :mod:`openvns.clinic.outcomes.figures` as
base64 SVG ``data:`` images, no scripts and no external resources. Numeric cells carry
unrounded values in ``data-value`` attributes, as the trial report does.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime

from openvns import __version__
from openvns.clinic.outcomes.device import settings_text
from openvns.clinic.outcomes.figures import build_figures
from openvns.clinic.outcomes.schemas import PatientOutcomes
from openvns.clinic.outcomes.service import WINDOW_LABELS
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
    status = (
        f"<p id='responder' data-category='{r.category}' data-window-category="
        f"'{r.window_category}'><strong>{html.escape(r.summary)}</strong></p>"
    )
    if b is None:
        return status + "<p class='note' id='no-baseline'>No pain entries yet: no baseline.</p>"
    rows = [
        f"<tr><td class='label'>Baseline ({html.escape(b.source.replace('_', ' '))})</td>"
        f"<td class='label'>{b.start_date} – {b.end_date}</td>{_num(b.mean_NRS)}"
        f"<td>{b.days_observed}</td></tr>",
        f"<tr><td class='label'>Follow-up window ({html.escape(r.window_label)})</td>"
        f"<td class='label'>{r.start_date or '—'} – {r.end_date or '—'}</td>"
        f"{_num(r.endpoint_mean_NRS)}<td>{r.window_days}</td></tr>",
    ]
    table = _table(["", "dates", "mean NRS", "days"], rows, "summary")
    change = "—" if r.change_pct is None else f"{r.change_pct:+.1f} %"
    window = html.escape(WINDOW_LABELS[r.window_category])
    return (
        status
        + table
        + f"<p id='window-result'>Change from baseline in the window: <strong>{change}"
        f"</strong> ({window}; IMMPACT: ≥ 30 % moderately important, ≥ 50 % substantial).</p>"
    )


def _device(o: PatientOutcomes) -> str:
    d = o.device
    if d is None:
        return "<p class='note' id='device'>No implant registered.</p>"
    impedance = (
        "not measured yet"
        if d.lead_impedance_ohm is None
        else f"{d.lead_impedance_ohm:.0f} Ω ({html.escape(d.impedance_status or '')})"
    )
    status = "" if d.status == "active" else f" ({html.escape(d.status)})"
    rows = [
        ("Implant", f"Model {d.generator_model} ({d.generator_name}), serial "
                    f"{d.generator_serial}, implanted {d.implanted_at}{status}"),
        ("Lead", f"{d.lead_model} ({d.lead_name})"),
        ("Settings", settings_text(d.settings)),
        ("Battery", f"{d.battery_percent:.0f} % ({d.battery_indicator})"),
        ("Lead impedance", impedance),
        ("As of", f"{d.device_time:%Y-%m-%d %H:%M} UTC (the implant's clock)"),
    ]  # fmt: skip
    cells = "".join(
        f"<tr><th class='label'>{name}</th><td class='label'>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table id='device'><tbody>{cells}</tbody></table>"


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
    parts = []
    for i, (name, svg) in enumerate(build_figures(o).items(), start=1):
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        parts.append(
            f"<figure id='figure-{name}'><img alt='{name.replace('_', ' ')}' "
            f"src='data:image/svg+xml;base64,{data}'>"
            f"<figcaption>Figure {i}. {html.escape(_CAPTIONS[name])}</figcaption></figure>"
        )
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
        "<h2>Device</h2>",
        _device(outcomes),
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
