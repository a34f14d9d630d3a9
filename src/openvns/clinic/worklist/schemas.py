"""Response body of the worklist API (``GET /api/v1/worklist``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from openvns.clinic.worklist.service import URGENCY, WorkItem, WorkKind


class WorklistItem(BaseModel):
    """One row: the patient, what needs attention, since when, and where it is handled."""

    patient_id: int
    patient_name: str
    mrn: str
    kind: WorkKind
    label: str = Field(description="The kind in a few words.")
    urgency: int = Field(ge=1, le=len(URGENCY), description="1 is the most urgent kind.")
    summary: str = Field(description="What was found, in words.")
    since: date = Field(description="When it started (the UTC date of a device event).")
    link: str = Field(description="The page where it is handled (a path of the clinic).")
    implant_id: int | None

    @classmethod
    def of(cls, item: WorkItem) -> WorklistItem:
        """The body of a service item."""
        return cls(
            patient_id=item.patient_id,
            patient_name=item.patient_name,
            mrn=item.mrn,
            kind=item.kind,
            label=item.label,
            urgency=item.urgency,
            summary=item.summary,
            since=item.since,
            link=item.link,
            implant_id=item.implant_id,
        )


class WorklistRead(BaseModel):
    """Everything that needs attention, most urgent first, then waiting longest first."""

    today: date = Field(description="The UTC date the worklist was judged on.")
    urgency_order: list[WorkKind] = Field(description="The kinds, most urgent first.")
    items: list[WorklistItem]
