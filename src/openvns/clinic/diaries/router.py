"""JSON API of the diaries (``/api/v1/patients/{patient_id}/diary/…``).

For each of ``pain``, ``pgic``, ``bpi`` and ``side-effects``: ``POST`` adds an entry (409 when
one exists for the date, and for side effects the kind), ``GET`` lists them by date with
``date_from``/``date_to`` (inclusive) and pagination, and ``PUT …/{entry_date}`` corrects the
entry of that date (for side effects, of the body's ``kind``). Patients write and read their own
diary only (other ids: 404); clinicians and nurses read any diary (writes: 403).

Writes are :func:`~openvns.clinic.db.session.writes_briefly`: the request reads (sign-in, access,
duplicate) without the write lock and takes it only around the insert or update
(:func:`~openvns.clinic.diaries.service.add_entry`, :func:`~.service.amend_entry`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import TypeAdapter

from openvns.clinic.auth.dependencies import CurrentUser, PatientRoleUser
from openvns.clinic.db.session import SessionDep, writes_briefly
from openvns.clinic.diaries import service
from openvns.clinic.diaries.models import BPIEntry, PainEntry, PGICEntry, SideEffectReport
from openvns.clinic.diaries.schemas import (
    BPICreate,
    BPIRead,
    BPIValues,
    PainCreate,
    PainRead,
    PainValues,
    PGICCreate,
    PGICRead,
    PGICValues,
    SideEffectCreate,
    SideEffectRead,
    SideEffectValues,
)
from openvns.clinic.schemas import Limit, Offset, Page, PathId, error_responses

router = APIRouter(prefix="/patients/{patient_id}/diary", tags=["diaries"])

DateFrom = Annotated[date | None, Query(description="First date (inclusive).")]
DateTo = Annotated[date | None, Query(description="Last date (inclusive).")]

_WRITE = error_responses(401, 403, 404, 409)
_CORRECT = error_responses(401, 403, 404)
_READ = error_responses(401, 403, 404)
_side_effect_values: TypeAdapter[SideEffectValues] = TypeAdapter(SideEffectValues)


# -- pain -------------------------------------------------------------------------------------
@writes_briefly
@router.post("/pain", response_model=PainRead, status_code=status.HTTP_201_CREATED,
             responses=_WRITE)  # fmt: skip
def add_pain(
    patient_id: PathId, body: PainCreate, user: PatientRoleUser, session: SessionDep
) -> PainRead:
    """Add the day's pain (NRS 0–10); one entry per date."""
    entry = service.add_entry(session, user, patient_id, PainEntry, body.model_dump())
    return PainRead.model_validate(entry)


@router.get("/pain", response_model=Page[PainRead], responses=_READ)
def list_pain(
    patient_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PainRead]:
    """Pain entries by date."""
    rows, total = service.list_entries(
        session, user, patient_id, PainEntry,
        date_from=date_from, date_to=date_to, limit=limit, offset=offset,
    )  # fmt: skip
    items = [PainRead.model_validate(r) for r in rows]
    return Page[PainRead](items=items, total=total, limit=limit, offset=offset)


@writes_briefly
@router.put("/pain/{entry_date}", response_model=PainRead, responses=_CORRECT)
def correct_pain(
    patient_id: PathId,
    entry_date: date,
    body: PainValues,
    user: PatientRoleUser,
    session: SessionDep,
) -> PainRead:
    """Correct the pain entry of ``entry_date`` (audited with the value before and after)."""
    entry = service.amend_entry(session, user, patient_id, PainEntry, entry_date, body.model_dump())
    return PainRead.model_validate(entry)


# -- PGIC -------------------------------------------------------------------------------------
@writes_briefly
@router.post("/pgic", response_model=PGICRead, status_code=status.HTTP_201_CREATED,
             responses=_WRITE)  # fmt: skip
def add_pgic(
    patient_id: PathId, body: PGICCreate, user: PatientRoleUser, session: SessionDep
) -> PGICRead:
    """Add a PGIC rating (1–7); one per date."""
    entry = service.add_entry(session, user, patient_id, PGICEntry, body.model_dump())
    return PGICRead.model_validate(entry)


@router.get("/pgic", response_model=Page[PGICRead], responses=_READ)
def list_pgic(
    patient_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PGICRead]:
    """PGIC entries by date."""
    rows, total = service.list_entries(
        session, user, patient_id, PGICEntry,
        date_from=date_from, date_to=date_to, limit=limit, offset=offset,
    )  # fmt: skip
    items = [PGICRead.model_validate(r) for r in rows]
    return Page[PGICRead](items=items, total=total, limit=limit, offset=offset)


@writes_briefly
@router.put("/pgic/{entry_date}", response_model=PGICRead, responses=_CORRECT)
def correct_pgic(
    patient_id: PathId,
    entry_date: date,
    body: PGICValues,
    user: PatientRoleUser,
    session: SessionDep,
) -> PGICRead:
    """Correct the PGIC entry of ``entry_date``."""
    entry = service.amend_entry(session, user, patient_id, PGICEntry, entry_date, body.model_dump())
    return PGICRead.model_validate(entry)


# -- BPI --------------------------------------------------------------------------------------
@writes_briefly
@router.post("/bpi", response_model=BPIRead, status_code=status.HTTP_201_CREATED,
             responses=_WRITE)  # fmt: skip
def add_bpi(
    patient_id: PathId, body: BPICreate, user: PatientRoleUser, session: SessionDep
) -> BPIRead:
    """Add a BPI short form (all eleven items 0–10); one per date."""
    entry = service.add_entry(session, user, patient_id, BPIEntry, body.model_dump())
    return BPIRead.model_validate(entry)


@router.get("/bpi", response_model=Page[BPIRead], responses=_READ)
def list_bpi(
    patient_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[BPIRead]:
    """BPI entries by date, each with its interference score."""
    rows, total = service.list_entries(
        session, user, patient_id, BPIEntry,
        date_from=date_from, date_to=date_to, limit=limit, offset=offset,
    )  # fmt: skip
    items = [BPIRead.model_validate(r) for r in rows]
    return Page[BPIRead](items=items, total=total, limit=limit, offset=offset)


@writes_briefly
@router.put("/bpi/{entry_date}", response_model=BPIRead, responses=_CORRECT)
def correct_bpi(
    patient_id: PathId,
    entry_date: date,
    body: BPIValues,
    user: PatientRoleUser,
    session: SessionDep,
) -> BPIRead:
    """Correct the BPI entry of ``entry_date``."""
    entry = service.amend_entry(session, user, patient_id, BPIEntry, entry_date, body.model_dump())
    return BPIRead.model_validate(entry)


# -- side effects -----------------------------------------------------------------------------
@writes_briefly
@router.post("/side-effects", response_model=SideEffectRead,
             status_code=status.HTTP_201_CREATED, responses=_WRITE)  # fmt: skip
def add_side_effect(
    patient_id: PathId, body: SideEffectCreate, user: PatientRoleUser, session: SessionDep
) -> SideEffectRead:
    """Report a side effect; one report per date and kind (``other`` needs a description)."""
    values = body.model_dump()
    entry = service.add_entry(session, user, patient_id, SideEffectReport, values)
    return SideEffectRead.model_validate(entry)


@router.get("/side-effects", response_model=Page[SideEffectRead], responses=_READ)
def list_side_effects(
    patient_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SideEffectRead]:
    """Side-effect reports by date."""
    rows, total = service.list_entries(
        session, user, patient_id, SideEffectReport,
        date_from=date_from, date_to=date_to, limit=limit, offset=offset,
    )  # fmt: skip
    items = [SideEffectRead.model_validate(r) for r in rows]
    return Page[SideEffectRead](items=items, total=total, limit=limit, offset=offset)


@writes_briefly
@router.put("/side-effects/{entry_date}", response_model=SideEffectRead, responses=_CORRECT)
def correct_side_effect(
    patient_id: PathId,
    entry_date: date,
    body: SideEffectValues,
    user: PatientRoleUser,
    session: SessionDep,
) -> SideEffectRead:
    """Correct the report of the body's ``kind`` on ``entry_date``."""
    values = _side_effect_values.dump_python(body)
    entry = service.amend_entry(session, user, patient_id, SideEffectReport, entry_date, values)
    return SideEffectRead.model_validate(entry)
