"""Per-patient cache of the diary outcomes, keyed by a version of the diary read from the database.

Outcome pages used to recompute everything from every diary entry on each request. The numbers
depend only on the patient's diary entries and the baseline window, so they are kept per patient
under a key that every write changes:

* the diary's version, :func:`diary_version`: for each diary table (pain, PGIC, BPI, side
  effects) the patient's row count, largest id and latest ``updated_at`` — a new entry changes
  the count and the id, a correction its ``updated_at`` (entries are never deleted; a patient is
  soft-deleted) — read in one query, *before* the entries, so a write that lands in between can
  only make the cached numbers newer than their key, never older;
* the baseline window in use (a clinician's window, or the automatic one) and the range of
  dates an entry may have (it moves with today);
* the database (its URL), so two databases in one process never share an entry.

The settings history, the diary's currency (it depends on today) and the device are not cached:
they are read on every request. The cache lives in the process (every worker has its own), holds
at most :data:`MAX_PATIENTS` patients (least recently used out first) and never answers from
an entry whose key differs: a stale entry is replaced, not served.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openvns.clinic.diaries.models import BPIEntry, PainEntry, PGICEntry, SideEffectReport

__all__ = ["MAX_PATIENTS", "DiaryVersion", "OutcomeCache", "diary_version"]

#: Patients whose outcomes are kept (per process).
MAX_PATIENTS = 1024
_TABLES = (PainEntry, PGICEntry, BPIEntry, SideEffectReport)

V = TypeVar("V")


@dataclass(frozen=True)
class DiaryVersion:
    """The version of a patient's diary and the dates of its first and last pain entry.

    Attributes
    ----------
    key
        Per diary table: row count, largest id, latest ``updated_at``.
    first_pain, last_pain
        Dates of the first and last pain entry (``None`` without one).
    """

    key: tuple[Hashable, ...]
    first_pain: date | None
    last_pain: date | None


def diary_version(session: Session, patient_id: int) -> DiaryVersion:
    """The diary's version (one query of aggregates; see the module documentation)."""
    columns = []
    for model in _TABLES:
        own = model.patient_id == patient_id
        columns += [
            select(func.count(model.id)).where(own).scalar_subquery(),
            select(func.max(model.id)).where(own).scalar_subquery(),
            select(func.max(model.updated_at)).where(own).scalar_subquery(),
        ]
    own_pain = PainEntry.patient_id == patient_id
    columns += [
        select(func.min(PainEntry.entry_date)).where(own_pain).scalar_subquery(),
        select(func.max(PainEntry.entry_date)).where(own_pain).scalar_subquery(),
    ]
    row = session.execute(select(*columns)).one()
    values = tuple(row)
    first, last = values[-2], values[-1]
    return DiaryVersion(key=tuple(str(v) for v in values[:-2]), first_pain=first, last_pain=last)


class OutcomeCache(Generic[V]):
    """At most ``size`` values, one per patient, each valid for one key (thread-safe, LRU)."""

    def __init__(self, size: int = MAX_PATIENTS) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int], tuple[Hashable, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, database: str, patient_id: int, key: Hashable) -> V | None:
        """The value stored for the patient under ``key``; ``None`` for any other key."""
        with self._lock:
            item = self._items.get((database, patient_id))
            if item is None or item[0] != key:
                return None
            self._items.move_to_end((database, patient_id))
            return item[1]

    def put(self, database: str, patient_id: int, key: Hashable, value: V) -> None:
        """Store ``value`` for the patient under ``key`` (replacing any other)."""
        with self._lock:
            self._items[(database, patient_id)] = (key, value)
            self._items.move_to_end((database, patient_id))
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
