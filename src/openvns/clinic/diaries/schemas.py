"""Request and response bodies of the diary API. Ranges and enums match the table checks.

A create body carries the ``entry_date``; the correction body (``PUT …/{entry_date}``) is the
same without it. Side-effect bodies are a union discriminated by ``kind``: ``other`` requires a
``description``, the named kinds take none.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from openvns.clinic.diaries.models import (
    DESCRIPTION_MAX,
    NRS_MAX,
    PGIC_MAX,
    PGIC_MIN,
    Severity,
    SideEffectKind,
)

Nrs = Annotated[int, Field(ge=0, le=NRS_MAX, description="0 (none) … 10 (worst imaginable).")]
PGICScore = Annotated[
    int,
    Field(
        ge=PGIC_MIN,
        le=PGIC_MAX,
        description="1 very much improved, 2 much improved, 3 minimally improved, 4 no change, "
        "5 minimally worse, 6 much worse, 7 very much worse.",
    ),
]
EntryDate = Annotated[
    date, Field(description="The patient's calendar date of the entry; not in the future.")
]

#: PGIC categories (reference §6: minimally / much / very much ↔ minimal / moderate / substantial).
PGIC_LABELS: dict[int, str] = {
    1: "very much improved",
    2: "much improved",
    3: "minimally improved",
    4: "no change",
    5: "minimally worse",
    6: "much worse",
    7: "very much worse",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    entry_date: date
    created_at: datetime
    updated_at: datetime


# -- pain -------------------------------------------------------------------------------------
class PainValues(_Body):
    """Daily pain (the correction body)."""

    pain_nrs: Nrs


class PainCreate(PainValues):
    """A new daily pain entry."""

    entry_date: EntryDate


class PainRead(_Read):
    """A pain entry."""

    pain_nrs: int


# -- PGIC -------------------------------------------------------------------------------------
class PGICValues(_Body):
    """Patient global impression of change (the correction body)."""

    score: PGICScore


class PGICCreate(PGICValues):
    """A new PGIC entry."""

    entry_date: EntryDate


class PGICRead(_Read):
    """A PGIC entry."""

    score: int


# -- BPI --------------------------------------------------------------------------------------
class BPIValues(_Body):
    """BPI short form: four severity and all seven interference items, each 0–10."""

    worst: Nrs
    least: Nrs
    average: Nrs
    now: Nrs
    general_activity: Nrs
    mood: Nrs
    walking: Nrs
    work: Nrs
    relations: Nrs
    sleep: Nrs
    enjoyment: Nrs


class BPICreate(BPIValues):
    """A new BPI entry."""

    entry_date: EntryDate


class BPIRead(_Read):
    """A BPI entry with its interference score (mean of the seven items)."""

    worst: int
    least: int
    average: int
    now: int
    general_activity: int
    mood: int
    walking: int
    work: int
    relations: int
    sleep: int
    enjoyment: int
    interference: float


# -- side effects -----------------------------------------------------------------------------
NamedKind = Literal[SideEffectKind.VOICE, SideEffectKind.THROAT_COUGH, SideEffectKind.DYSPNOEA]


class NamedSideEffect(_Body):
    """Voice alteration/hoarseness, throat pain/cough or dyspnoea."""

    kind: NamedKind
    severity: Severity


class OtherSideEffect(_Body):
    """Any other side effect, described in words."""

    kind: Literal[SideEffectKind.OTHER]
    severity: Severity
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)


class NamedSideEffectCreate(NamedSideEffect):
    """A new report of a named side effect."""

    entry_date: EntryDate


class OtherSideEffectCreate(OtherSideEffect):
    """A new report of another side effect."""

    entry_date: EntryDate


SideEffectValues = Annotated[NamedSideEffect | OtherSideEffect, Field(discriminator="kind")]
SideEffectCreate = Annotated[
    NamedSideEffectCreate | OtherSideEffectCreate, Field(discriminator="kind")
]


class SideEffectRead(_Read):
    """A side-effect report."""

    kind: SideEffectKind
    severity: Severity
    description: str | None
