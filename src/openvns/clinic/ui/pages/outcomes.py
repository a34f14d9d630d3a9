"""The outcome page: responder status (with the diary's currency: a stale diary claims no
class), the device (implant, lead, settings, battery, impedance), pain trend against the
baseline, PGIC and BPI, side effects, the settings history, and a link to the printable report.

Everything comes from ``outcomes.service.patient_outcomes`` (the same numbers as
``/api/v1/patients/{id}/outcomes``); the page only lays them out. The trend is an inline SVG
drawn here from the weekly means, so the page needs no script and prints as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response

from openvns.clinic.auth.dependencies import CurrentUser
from openvns.clinic.auth.models import Role
from openvns.clinic.db.session import SessionDep
from openvns.clinic.diaries.models import SIDE_EFFECT_LABELS, Severity
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.outcomes import service
from openvns.clinic.outcomes.device import settings_text
from openvns.clinic.outcomes.schemas import PatientOutcomes, SettingsEvent
from openvns.clinic.patients import service as patients
from openvns.clinic.ui.links import PatientLink, register
from openvns.clinic.ui.templating import render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
register(
    PatientLink(
        "Outcomes",
        "/patients/{id}/outcomes",
        frozenset({Role.PATIENT.value, Role.CLINICIAN.value, Role.NURSE.value}),
        "pain against the baseline, responder status, side effects, settings history",
    )
)

#: The badge class of each status (its words: ``service.WINDOW_LABELS``, or the diary's).
BADGE = {
    "substantial": "ok",
    "moderate": "ok",
    "non_responder": "warn",
    "not_assessable": "",
    "diary_stale": "warn",
    "dropout": "err",
}


def status_badge(outcomes: PatientOutcomes) -> tuple[str, str]:
    """The status badge's words and class: a stale diary says so, with its last entry's date."""
    r = outcomes.responder
    if r.category in ("diary_stale", "dropout"):
        words = f"Diary stale since {r.diary.last_entry_date}"
        if r.category == "dropout":
            words += " (possible dropout)"
        return words, BADGE[r.category]
    return service.WINDOW_LABELS[r.category], BADGE[r.category]


#: Size of the trend chart (SVG user units).
WIDTH, HEIGHT, PAD = 640.0, 220.0, 32.0


@dataclass(frozen=True)
class Chart:
    """The weekly pain trend as SVG coordinates."""

    points: str
    dots: list[tuple[float, float, str]]
    baseline_y: float | None
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    settings_marks: list[tuple[float, str]] = field(default_factory=list)


def _y(nrs: float) -> float:
    return PAD + (10.0 - nrs) / 10.0 * (HEIGHT - 2 * PAD)


def trend_chart(outcomes: PatientOutcomes) -> Chart | None:
    """The weekly means (0–10 NRS) as a polyline, with the baseline mean as a line."""
    weeks = [w for w in outcomes.weekly_pain if w.mean_NRS is not None]
    if not weeks:
        return None
    first, last = weeks[0].week, weeks[-1].week
    span = max(last - first, 1)

    def x(week: int) -> float:
        return PAD + (week - first) / span * (WIDTH - 2 * PAD)

    dots = [
        (round(x(w.week), 1), round(_y(w.mean_NRS or 0.0), 1), f"week {w.week}: {w.mean_NRS:.1f}")
        for w in weeks
    ]
    step = max(1, len(weeks) // 8)
    base = outcomes.baseline.mean_NRS if outcomes.baseline else None
    marks: list[tuple[float, str]] = []
    if outcomes.baseline is not None:
        for event in outcomes.settings_history:
            # the week (numbered as the diary's) that holds the change, on the same x axis
            days = (event.at.date() - outcomes.baseline.end_date).days
            week = (days - 1) // 7 + 1
            if first <= week <= last:
                marks.append((round(x(week), 1), f"{event.at.date()}: {_describe(event)}"))
    return Chart(
        points=" ".join(f"{px},{py}" for px, py, _ in dots),
        dots=dots,
        baseline_y=round(_y(base), 1) if base is not None else None,
        y_ticks=[(round(_y(v), 1), v) for v in (0, 2, 4, 6, 8, 10)],
        x_labels=[(round(x(w.week), 1), f"w{w.week}") for w in weeks[::step]],
        settings_marks=marks,
    )


_SEVERITY_ORDER = {s.value: i for i, s in enumerate(Severity)}


def side_effect_rows(outcomes: PatientOutcomes) -> list[tuple[str, int, int, str, str]]:
    """Per side effect: name, weeks reported, weeks followed, worst severity, last week."""
    rows = []
    for course in outcomes.side_effects:
        present = [w for w in course.weeks if w.present]
        if not present:
            continue
        severities = [w.worst_severity.value for w in present if w.worst_severity is not None]
        worst = max(severities, key=_SEVERITY_ORDER.__getitem__) if severities else "—"
        name = SIDE_EFFECT_LABELS[course.kind]
        rows.append((name, len(present), len(course.weeks), worst, f"week {present[-1].week}"))
    return rows


def _describe(event: SettingsEvent) -> str:
    values = event.values or {}
    settings = values.get("settings")
    if isinstance(settings, dict):
        return (
            f"{settings.get('output_current_mA')} mA, {settings.get('frequency_Hz')} Hz, "
            f"{settings.get('pulse_width_us')} µs, {settings.get('on_time_s')} s ON / "
            f"{settings.get('off_time_min')} min OFF"
        )
    if "lead_impedance_ohm" in values:
        return f"diagnostics: lead impedance {values.get('lead_impedance_ohm')} Ω"
    return ", ".join(f"{k} {v}" for k, v in values.items() if not isinstance(v, dict | list))[:160]


@router.get("/patients/{patient_id}/outcomes")
def outcome_page(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """The patient's outcomes (the patient: their own; the care team: any)."""
    outcomes = service.patient_outcomes(session, user, patient_id, now)
    patient = patients.get_patient(session, user, patient_id)
    context = {
        "patient": patient,
        "o": outcomes,
        "category": status_badge(outcomes),
        "window_result": service.WINDOW_LABELS[outcomes.responder.window_category],
        "device_settings": settings_text(outcomes.device.settings) if outcomes.device else None,
        "chart": trend_chart(outcomes),
        "size": (WIDTH, HEIGHT, PAD),
        "side_effects": side_effect_rows(outcomes),
        "history": [(e, _describe(e)) for e in outcomes.settings_history],
        "report_url": f"/api/v1/patients/{patient_id}/outcomes/report",
    }
    return render(request, "outcomes/page.html", context, user=user)
