"""Request and response bodies of the diary API. Ranges and enums match the table checks.

A create body carries the ``entry_date``; the correction body (``PUT …/{entry_date}``) is the
same without it. Side-effect bodies are a union discriminated by ``kind``: ``other`` requires a
``description``, the named kinds (:data:`~openvns.clinic.diaries.models.NAMED_KINDS`) take none.
Any other ``kind`` is refused with an error at ``kind`` that lists the allowed values; the legacy
``throat_cough`` is among them only in what is read back (it cannot be reported or corrected).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    computed_field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from openvns.clinic.diaries.models import (
    DESCRIPTION_MAX,
    NRS_MAX,
    PGIC_MAX,
    PGIC_MIN,
    REPORTABLE_KINDS,
    SIDE_EFFECT_LABELS,
    Severity,
    SideEffectKind,
)
from openvns.clinic.schemas import NotBoolean, PlainText

Nrs = Annotated[
    int, Field(ge=0, le=NRS_MAX, description="0 (none) … 10 (worst imaginable)."), NotBoolean()
]
PGICScore = Annotated[
    int,
    Field(
        ge=PGIC_MIN,
        le=PGIC_MAX,
        description="1 very much improved, 2 much improved, 3 minimally improved, 4 no change, "
        "5 minimally worse, 6 much worse, 7 very much worse.",
    ),
    NotBoolean(),
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
NamedKind = Literal[
    SideEffectKind.VOICE,
    SideEffectKind.COUGH,
    SideEffectKind.THROAT_PAIN,
    SideEffectKind.DYSPNOEA,
    SideEffectKind.LARYNGISMUS,
    SideEffectKind.DYSPHAGIA,
    SideEffectKind.NECK_PAIN,
    SideEffectKind.HEADACHE,
    SideEffectKind.PARAESTHESIA,
    SideEffectKind.NAUSEA,
    SideEffectKind.HEART_RATE,
    SideEffectKind.APPLICATION_SITE,
    SideEffectKind.DIZZINESS,
    SideEffectKind.MUSCLE_TWITCH,
]
#: ``kind: label`` of every kind a report may have (the OpenAPI description of ``kind``).
KIND_DESCRIPTION = "; ".join(f"{k.value}: {SIDE_EFFECT_LABELS[k]}" for k in REPORTABLE_KINDS)
_ALLOWED = [k.value for k in REPORTABLE_KINDS]
_ALLOWED_TEXT = ", ".join(repr(v) for v in _ALLOWED[:-1]) + f" or {_ALLOWED[-1]!r}"


class NamedSideEffect(_Body):
    """A named side effect: voice change, cough, throat pain, dyspnoea, laryngismus, dysphagia,
    neck pain, headache, paraesthesia, nausea, a heart-rate change, application-site tingling, pain
    or redness, dizziness or a muscle twitch at the stimulation site."""

    kind: NamedKind = Field(description=KIND_DESCRIPTION)
    severity: Severity

    @field_validator("kind", mode="wrap")
    @classmethod
    def _known_kind(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """An unknown kind: one error at ``kind`` listing every allowed value (``other`` too)."""
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "side_effect_kind",
                "kind must be one of {expected}",
                {"field": "kind", "expected": _ALLOWED_TEXT, "allowed": _ALLOWED},
            ) from None


class OtherSideEffect(_Body):
    """Any other side effect, described in words."""

    kind: Literal[SideEffectKind.OTHER]
    severity: Severity
    description: Annotated[str, Field(min_length=1, max_length=DESCRIPTION_MAX), PlainText()]


class NamedSideEffectCreate(NamedSideEffect):
    """A new report of a named side effect."""

    entry_date: EntryDate


class OtherSideEffectCreate(OtherSideEffect):
    """A new report of another side effect."""

    entry_date: EntryDate


def _body_kind(body: Any) -> str:
    """``"other"`` for an ``other`` report, else ``"named"`` (whose schema refuses bad kinds)."""
    kind = body.get("kind") if isinstance(body, dict) else getattr(body, "kind", None)
    return "other" if kind == SideEffectKind.OTHER.value else "named"


SideEffectValues = Annotated[
    Annotated[NamedSideEffect, Tag("named")] | Annotated[OtherSideEffect, Tag("other")],
    Discriminator(_body_kind),
]
SideEffectCreate = Annotated[
    Annotated[NamedSideEffectCreate, Tag("named")] | Annotated[OtherSideEffectCreate, Tag("other")],
    Discriminator(_body_kind),
]


class SideEffectRead(_Read):
    """A side-effect report (``kind`` may be the legacy ``throat_cough`` of older reports)."""

    kind: SideEffectKind
    severity: Severity
    description: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """What ``kind`` means, in words."""
        return SIDE_EFFECT_LABELS[self.kind]
