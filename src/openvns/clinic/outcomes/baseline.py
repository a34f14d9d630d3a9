"""The baseline window of a patient and the settings history it may depend on.

The baseline is, in order of precedence:

1. the window a clinician set (``outcome_baselines``);
2. the pain entries before the first programming date, when one is known
   (:func:`first_programming_date`);
3. the first 28 days of the pain diary.

The implants/programming domain is optional here: :func:`first_programming_date` asks
``openvns.clinic.implants.service.first_programming_date(session, patient_id)`` when that module
and function exist, and otherwise reads the audit log, which always exists: entries of entity
``"implant"`` or ``"programming"`` whose snapshot names the patient (``patient_id``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role, User
from openvns.clinic.errors import NotFoundError, PermissionDeniedError
from openvns.clinic.outcomes.models import BaselineWindow
from openvns.clinic.outcomes.schemas import BaselineSource, SettingsEvent
from openvns.clinic.patients import service as patients

log = logging.getLogger(__name__)

#: Length of the default baseline (the first days of the diary), days.
DEFAULT_BASELINE_DAYS = 28
#: Audit-log entities whose entries make up the settings history.
SETTINGS_ENTITIES = ("implant", "programming")
ENTITY = "outcome_baseline"


def _snapshot_patient(session: Session, column: Any) -> ColumnElement[Any]:
    """SQL: the ``patient_id`` of a JSON snapshot column (compared as text on PostgreSQL, whose
    ``->>`` yields text, and as an integer on SQLite, whose ``json_extract`` keeps numbers)."""
    field = column["patient_id"]
    value: ColumnElement[Any] = (
        field.as_string() if session.get_bind().dialect.name == "postgresql" else field.as_integer()
    )
    return value


def settings_history(session: Session, patient_id: int) -> list[SettingsEvent]:
    """Implant and programming changes of the patient, oldest first, from the audit log.

    An entry belongs to the patient when it is about one of the patient's implants (programming,
    diagnostics and titration plans are audited on the implant) or its snapshot (``after``, else
    ``before``) names the patient. Both are decided in SQL: only the patient's rows are read.
    """
    from openvns.clinic.implants.models import Implant

    own_implants = select(Implant.id).where(Implant.patient_id == patient_id).scalar_subquery()
    is_pg = session.get_bind().dialect.name == "postgresql"
    wanted: Any = str(patient_id) if is_pg else patient_id
    after, before = (
        _snapshot_patient(session, AuditEntry.after),
        _snapshot_patient(session, AuditEntry.before),
    )
    named = or_(after == wanted, and_(after.is_(None), before == wanted))
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity.in_(SETTINGS_ENTITIES),
            or_(
                and_(AuditEntry.entity == "implant", AuditEntry.entity_id.in_(own_implants)),
                named,
            ),
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    return [
        SettingsEvent(
            at=row.at,
            entity=row.entity,
            entity_id=row.entity_id,
            action=row.action,
            values=row.after if row.after is not None else row.before,
        )
        for row in rows
    ]


def implants_provider() -> Callable[[Session, int], object] | None:
    """``openvns.clinic.implants.service.first_programming_date`` if that domain provides it."""
    try:
        implants = importlib.import_module("openvns.clinic.implants.service")
    except ImportError:
        return None
    provider = getattr(implants, "first_programming_date", None)
    return provider if callable(provider) else None


def first_programming_date(
    session: Session, patient_id: int, history: list[SettingsEvent] | None = None
) -> date | None:
    """The date the patient's device was first programmed, or ``None`` when none is known.

    From the implants domain when it provides the date (:func:`implants_provider`), else the
    first audit-log entry of entity ``"programming"`` (or of ``"implant"`` with an action that
    names programming) for the patient (``history``: the patient's
    :func:`settings_history` when the caller has read it already).
    """
    provider = implants_provider()
    if provider is not None:
        found = provider(session, patient_id)
        return found if isinstance(found, date) else None
    for event in settings_history(session, patient_id) if history is None else history:
        if event.entity == "programming" or "program" in event.action:
            return event.at.date()
    return None


def resolve_baseline(
    session: Session,
    patient_id: int,
    first_entry: date | None,
    history: list[SettingsEvent] | None = None,
) -> tuple[date, date, BaselineSource] | None:
    """The baseline window ``(start, end, source)``, or ``None`` without any basis for one.

    Parameters
    ----------
    first_entry
        Date of the patient's first pain entry (``None``: no entries).
    history
        The patient's :func:`settings_history`, if already read.
    """
    window = session.scalar(select(BaselineWindow).where(BaselineWindow.patient_id == patient_id))
    if window is not None:
        return window.start_date, window.end_date, "clinician"
    if first_entry is None:
        return None
    programmed = first_programming_date(session, patient_id, history)
    if programmed is not None:
        end = programmed - timedelta(days=1)
        return min(first_entry, end), end, "programming"
    end = first_entry + timedelta(days=DEFAULT_BASELINE_DAYS - 1)
    return first_entry, end, "first_28_days"


def set_baseline(
    session: Session, actor: User, patient_id: int, start: date, length_days: int
) -> BaselineWindow:
    """Set (or replace) the patient's baseline window; clinicians only, audited.

    The window is stored as given (a window outside the diary's range simply has no entries).
    """
    _clinician(actor)
    patients.get_patient(session, actor, patient_id)
    end = start + timedelta(days=min(length_days - 1, (date.max - start).days))
    window = session.scalar(select(BaselineWindow).where(BaselineWindow.patient_id == patient_id))
    before = None if window is None else audit.snapshot(window)
    if window is None:
        window = BaselineWindow(patient_id=patient_id, start_date=start, end_date=end)
        session.add(window)
    window.start_date, window.end_date, window.set_by = start, end, actor.id
    session.flush()
    action = "create" if before is None else "update"
    audit.record(session, actor, action, ENTITY, window.id, before, audit.snapshot(window))
    log.info("user %d set the baseline of patient %d to %s…%s", actor.id, patient_id, start, end)
    return window


def clear_baseline(session: Session, actor: User, patient_id: int) -> None:
    """Remove the clinician-set window (the automatic baseline applies again); audited."""
    _clinician(actor)
    patients.get_patient(session, actor, patient_id)
    window = session.scalar(select(BaselineWindow).where(BaselineWindow.patient_id == patient_id))
    if window is None:
        raise NotFoundError(ENTITY, patient_id)
    before = audit.snapshot(window)
    session.delete(window)
    session.flush()
    audit.record(session, actor, "delete", ENTITY, before["id"], before, None)


def _clinician(actor: User) -> None:
    if actor.role != Role.CLINICIAN.value:
        raise PermissionDeniedError("only a clinician sets the baseline window")
