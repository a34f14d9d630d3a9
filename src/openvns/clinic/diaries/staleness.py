"""Whether a patient's pain diary is current: the rule the outcome status and the worklist share.

A pain diary is kept daily. Outcome figures over "the last 28 days" mean nothing once the patient
has stopped writing: the status must say the diary is stale instead of showing an old window as
today's. The rule: the diary is **stale** when the newest pain entry is more than
:data:`STALE_AFTER_DAYS` days before the reference day (usually today), or when a patient with an
implant or an evaluation has no entry at all. The threshold is a clinic rule of OpenVNS (an
assumption, not a published figure): a week without an entry is what a pain team would chase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openvns.clinic.diaries.models import PainEntry

__all__ = ["STALE_AFTER_DAYS", "DiaryCurrency", "diary_currency", "last_pain_entry_dates"]

#: Days without a pain entry after which a diary is stale (clinic rule; an assumption).
STALE_AFTER_DAYS = 7


@dataclass(frozen=True)
class DiaryCurrency:
    """How current a patient's pain diary is on a reference day.

    Attributes
    ----------
    last_entry
        Date of the newest pain entry, ``None`` when there is none.
    days_since
        Days from ``last_entry`` to the reference day (``None`` without entries).
    stale
        More than :data:`STALE_AFTER_DAYS` days without an entry, or no entry at all.
    """

    last_entry: date | None
    days_since: int | None
    stale: bool


def diary_currency(last_entry: date | None, today: date) -> DiaryCurrency:
    """The currency of a diary whose newest pain entry is ``last_entry``, seen on ``today``."""
    if last_entry is None:
        return DiaryCurrency(None, None, True)
    days = (today - last_entry).days
    return DiaryCurrency(last_entry, days, days > STALE_AFTER_DAYS)


def last_pain_entry_dates(session: Session, patient_ids: list[int]) -> dict[int, date]:
    """The newest pain-entry date of each patient that has one (one grouped query)."""
    if not patient_ids:
        return {}
    rows = session.execute(
        select(PainEntry.patient_id, func.max(PainEntry.entry_date))
        .where(PainEntry.patient_id.in_(patient_ids))
        .group_by(PainEntry.patient_id)
    ).all()
    return {int(pid): day for pid, day in rows if day is not None}
