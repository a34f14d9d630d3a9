"""The care team's worklist: what needs attention now, over every patient at once.

Sources (each one query over all patients, soft-deleted records left out; no query per patient):

* **Battery indicators** of every active implant at "now" (:func:`.battery.implant_now`: the
  virtual implant, run to now where an indicator may have changed) with the device layer's own
  indicators (:meth:`openvns.device.battery.BatteryModel.indicator`: IFI, NEOS — the elective
  replacement indicator — and EOS, whose cut-offs are the catalogue's). *Since*: when the
  implant logged that indicator (its ``battery_…`` event).
* **Lead impedance out of range**: the last System Diagnostics of an active implant measured
  ``HIGH`` or ``LOW`` against the lead's own thresholds
  (:func:`openvns.device.diagnostics.impedance_status`). *Since*: that measurement.
* **Stale diaries** of patients with an active implant, by the clinic's one rule
  (:func:`openvns.clinic.diaries.staleness.diary_currency`). *Since*: the last pain entry, or
  the implantation when there is none.
* **Intolerable side effects**: diary reports rated :data:`INTOLERABLE` on a date within the
  last :data:`~openvns.clinic.diaries.staleness.STALE_AFTER_DAYS` days, one row per patient.
  *Since*: the oldest such report.
* **Titration steps to review**: a "to tolerance" plan paused at a review point whose step is
  due (:func:`openvns.clinic.programming.plans.steps_awaiting_review`). *Since*: the step's
  due date.

Rows are sorted by :data:`URGENCY` (most urgent first), then by *since* (waiting longest
first), then by patient name. Only clinicians and nurses read the worklist.
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.diaries.models import (
    SIDE_EFFECT_LABELS,
    Severity,
    SideEffectKind,
    SideEffectReport,
)
from openvns.clinic.diaries.staleness import (
    STALE_AFTER_DAYS,
    diary_currency,
    last_pain_entry_dates,
)
from openvns.clinic.errors import PermissionDeniedError
from openvns.clinic.implants.models import Implant, ImplantStatus
from openvns.clinic.patients.models import Patient
from openvns.clinic.programming.plans import steps_awaiting_review
from openvns.clinic.worklist import battery
from openvns.device.generator import PulseGenerator

log = logging.getLogger(__name__)

__all__ = ["INTOLERABLE", "URGENCY", "WorkItem", "WorkKind", "worklist"]

_CARE_TEAM = frozenset({Role.CLINICIAN.value, Role.NURSE.value})

#: The diary severity the simulator's side-effect model calls intolerable: an intensity at or
#: above ``severe_at`` is "severe and intolerable (titration backs off)"
#: (:mod:`openvns.physiology.side_effects`, ``side_effects.yaml``).
INTOLERABLE = Severity.SEVERE


class WorkKind(enum.StrEnum):
    """What needs attention."""

    SIDE_EFFECT = "intolerable_side_effect"
    IMPEDANCE = "impedance_out_of_range"
    BATTERY_EOS = "battery_eos"
    BATTERY_NEOS = "battery_neos"
    REVIEW_DUE = "titration_review_due"
    BATTERY_IFI = "battery_ifi"
    STALE_DIARY = "stale_diary"


#: Urgency, most urgent first: harm the patient reports now; a lead that may not deliver (or
#: may misdeliver) stimulation; a generator whose output is off (EOS); one due for elective
#: replacement (NEOS); a titration step waiting for a clinician's review (the plan is paused, the
#: patient under-treated, nothing unsafe); intensified follow-up (IFI); a diary that stopped. An
#: assumption of the
#: clinic (no published ranking), stated in docs/clinic-pages.md.
URGENCY: tuple[WorkKind, ...] = (
    WorkKind.SIDE_EFFECT,
    WorkKind.IMPEDANCE,
    WorkKind.BATTERY_EOS,
    WorkKind.BATTERY_NEOS,
    WorkKind.REVIEW_DUE,
    WorkKind.BATTERY_IFI,
    WorkKind.STALE_DIARY,
)

#: A short label of each kind (the page's badge).
LABELS: dict[WorkKind, str] = {
    WorkKind.SIDE_EFFECT: "Intolerable side effect",
    WorkKind.IMPEDANCE: "Lead impedance",
    WorkKind.BATTERY_EOS: "Battery: end of service",
    WorkKind.BATTERY_NEOS: "Battery: elective replacement",
    WorkKind.REVIEW_DUE: "Titration step to review",
    WorkKind.BATTERY_IFI: "Battery: intensified follow-up",
    WorkKind.STALE_DIARY: "Stale diary",
}

_BATTERY = {
    "EOS": (WorkKind.BATTERY_EOS, "end of service (EOS): output disabled, replace the generator"),
    "NEOS": (
        WorkKind.BATTERY_NEOS,
        "near end of service (NEOS, elective replacement): plan the generator's replacement",
    ),
    "IFI": (WorkKind.BATTERY_IFI, "intensified follow-up (IFI): check the battery more often"),
}


@dataclass(frozen=True)
class WorkItem:
    """One row of the worklist.

    Attributes
    ----------
    patient_id, patient_name, mrn
        The patient.
    kind
        What needs attention (:class:`WorkKind`).
    summary
        What was found, in words.
    since
        The date it started (see the module documentation for each kind).
    link
        The page where it is handled.
    implant_id
        The active implant concerned (or the patient's, for a side effect), if any.
    """

    patient_id: int
    patient_name: str
    mrn: str
    kind: WorkKind
    summary: str
    since: date
    link: str
    implant_id: int | None = None

    @property
    def urgency(self) -> int:
        """1 for the most urgent kind (:data:`URGENCY`)."""
        return URGENCY.index(self.kind) + 1

    @property
    def label(self) -> str:
        """The kind in a few words."""
        return LABELS[self.kind]

    @property
    def action(self) -> str:
        """The words of the link."""
        return "Open the implant" if self.link.startswith("/implants/") else "Open the diary"


@dataclass(frozen=True)
class _Implanted:
    implant: Implant
    patient_name: str
    mrn: str


def today_of(now: datetime) -> date:
    """The UTC date of ``now`` (aware): the day the worklist is judged on."""
    return now.astimezone(UTC).date()


def require_care_team(user: User) -> None:
    """Clinicians and nurses only (:class:`PermissionDeniedError` otherwise)."""
    if user.role not in _CARE_TEAM:
        raise PermissionDeniedError(
            f"role {user.role!r} may not read the worklist; clinicians and nurses only"
        )


def worklist(session: Session, viewer: User, now: datetime | None = None) -> list[WorkItem]:
    """Everything that needs attention, most urgent first (clinicians and nurses).

    Parameters
    ----------
    session
        The database session (four queries, whatever the number of patients).
    viewer
        The user asking.
    now
        The time to judge at (default: the current UTC time); "today" is its UTC date.

    Raises
    ------
    PermissionDeniedError
        ``viewer`` is neither a clinician nor a nurse.
    """
    require_care_team(viewer)
    now = now or utcnow()
    today = today_of(now)
    implanted = active_implants(session)
    items = device_items(implanted, now)
    items += stale_diary_items(session, implanted, today)
    items += side_effect_items(session, implanted, today)
    items += review_items(session, implanted, now)
    return sorted(items, key=lambda i: (i.urgency, i.since, i.patient_name, i.patient_id))


def active_implants(session: Session) -> list[_Implanted]:
    """Every active implant of a patient whose record is not deleted (one query)."""
    rows = session.execute(
        select(Implant, Patient.full_name, Patient.mrn)
        .join(Patient, Patient.id == Implant.patient_id)
        .where(Implant.status == ImplantStatus.ACTIVE.value, Patient.deleted_at.is_(None))
        .order_by(Implant.id)
    ).all()
    return [_Implanted(implant, name, mrn) for implant, name, mrn in rows]


def _event_date(generator: PulseGenerator, kind: str) -> date | None:
    times = [e.time for e in generator.history if e.kind == kind]
    return max(times).date() if times else None


def _device_item(row: _Implanted, kind: WorkKind, summary: str, since: date | None) -> WorkItem:
    implant = row.implant
    return WorkItem(
        patient_id=implant.patient_id,
        patient_name=row.patient_name,
        mrn=row.mrn,
        kind=kind,
        summary=summary,
        # the row's last change when the implant's bounded event log no longer has the event
        since=since or implant.device_time.date(),
        link=f"/implants/{implant.id}",
        implant_id=implant.id,
    )


def device_items(implanted: list[_Implanted], now: datetime) -> list[WorkItem]:
    """Battery indicators and out-of-range lead impedance of the implants (no query)."""
    items: list[WorkItem] = []
    for row in implanted:
        generator, percent = battery.implant_now(row.implant, now)
        indicator = generator.battery_indicator
        if indicator in _BATTERY:
            kind, words = _BATTERY[indicator]
            summary = f"Battery {percent:.0f} %: {words}."
            since = _event_date(generator, f"battery_{indicator.lower()}")
            items.append(_device_item(row, kind, summary, since))
        reading = generator.interrogate()
        status, ohm = reading.impedance_status, reading.lead_impedance_ohm
        geometry = generator.lead.geometry
        if status in ("HIGH", "LOW") and ohm is not None and geometry is not None:
            low, high = geometry.impedance_low_ohm.value, geometry.impedance_high_ohm.value
            summary = (
                f"Lead impedance {status}: {ohm:.0f} Ω measured, outside {low:g}–{high:g} Ω "
                f"(lead {generator.lead.id}); check the lead."
            )
            since = _event_date(generator, "diagnostics")
            items.append(_device_item(row, WorkKind.IMPEDANCE, summary, since))
    return items


def stale_diary_items(session: Session, implanted: list[_Implanted], today: date) -> list[WorkItem]:
    """Patients with an active implant whose pain diary is stale (one query)."""
    last = last_pain_entry_dates(session, [row.implant.patient_id for row in implanted])
    items: list[WorkItem] = []
    for row in implanted:
        pid = row.implant.patient_id
        currency = diary_currency(last.get(pid), today)
        if not currency.stale:
            continue
        if currency.last_entry is None:
            since = row.implant.implanted_at.date()
            summary = "No pain diary entry since the implantation."
        else:
            since = currency.last_entry
            summary = (
                f"No pain diary entry for {currency.days_since} days "
                f"(stale after {STALE_AFTER_DAYS})."
            )
        items.append(
            WorkItem(
                patient_id=pid,
                patient_name=row.patient_name,
                mrn=row.mrn,
                kind=WorkKind.STALE_DIARY,
                summary=summary,
                since=since,
                link=f"/patients/{pid}/diary",
                implant_id=row.implant.id,
            )
        )
    return items


def side_effect_items(session: Session, implanted: list[_Implanted], today: date) -> list[WorkItem]:
    """Patients who reported an intolerable side effect in the last days (one query).

    The link leads to the active implant (where the stimulation is lowered) or, without one,
    to the diary.
    """
    first = today - timedelta(days=STALE_AFTER_DAYS)
    rows = session.execute(
        select(
            SideEffectReport.patient_id,
            Patient.full_name,
            Patient.mrn,
            SideEffectReport.kind,
            func.min(SideEffectReport.entry_date),
            func.max(SideEffectReport.entry_date),
        )
        .join(Patient, Patient.id == SideEffectReport.patient_id)
        .where(
            SideEffectReport.severity == INTOLERABLE.value,
            SideEffectReport.entry_date >= first,
            Patient.deleted_at.is_(None),
        )
        .group_by(
            SideEffectReport.patient_id, Patient.full_name, Patient.mrn, SideEffectReport.kind
        )
        .order_by(SideEffectReport.patient_id, SideEffectReport.kind)
    ).all()
    reports: dict[int, list[tuple[str, date, date]]] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    for pid, name, mrn, kind, oldest, newest in rows:
        reports[int(pid)].append((str(kind), oldest, newest))
        names[int(pid)] = (name, mrn)
    implant_of = {row.implant.patient_id: row.implant.id for row in implanted}
    items: list[WorkItem] = []
    for pid, kinds in reports.items():
        implant_id = implant_of.get(pid)
        what = ", ".join(f"{_kind_label(k)} (last {newest.isoformat()})" for k, _, newest in kinds)
        link = f"/implants/{implant_id}" if implant_id is not None else f"/patients/{pid}/diary"
        items.append(
            WorkItem(
                patient_id=pid,
                patient_name=names[pid][0],
                mrn=names[pid][1],
                kind=WorkKind.SIDE_EFFECT,
                summary=f"Rated {INTOLERABLE.value} in the diary: {what}.",
                since=min(oldest for _, oldest, _ in kinds),
                link=link,
                implant_id=implant_id,
            )
        )
    return items


def _kind_label(kind: str) -> str:
    try:
        return SIDE_EFFECT_LABELS[SideEffectKind(kind)]
    except ValueError:
        return kind


def review_items(session: Session, implanted: list[_Implanted], now: datetime) -> list[WorkItem]:
    """A "to tolerance" plan whose next step is due and waits for a clinician's review
    (:func:`openvns.clinic.programming.plans.steps_awaiting_review`, one query)."""
    by_implant = {row.implant.id: row for row in implanted}
    items = []
    for due in steps_awaiting_review(session, now):
        row = by_implant.get(due.implant_id)
        if not due.is_due or row is None:
            continue
        items.append(
            WorkItem(
                patient_id=due.patient_id,
                patient_name=row.patient_name,
                mrn=row.mrn,
                kind=WorkKind.REVIEW_DUE,
                summary=f"step {due.step} of titration plan {due.plan_id} "
                f"({due.output_current_mA:g} mA) waits for a clinician's review",
                since=today_of(due.due),
                link=f"/implants/{due.implant_id}",
                implant_id=due.implant_id,
            )
        )
    return items
