"""JSON API of the audit log (read only): admins, clinicians and nurses, each seeing the content
of the kinds of record their role may read (see :mod:`openvns.clinic.audit.service`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from openvns.clinic.audit import service
from openvns.clinic.audit.models import ENTITY_MAX
from openvns.clinic.audit.schemas import AuditEntryRead
from openvns.clinic.auth.dependencies import require_roles
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import SessionDep
from openvns.clinic.schemas import Limit, Offset, Page, PlainText, QueryId, error_responses

Entity = Annotated[str, Field(min_length=1, max_length=ENTITY_MAX), PlainText()]

#: The roles that may read the audit log (patients may not).
AuditReader = Annotated[User, Depends(require_roles(Role.ADMIN, Role.CLINICIAN, Role.NURSE))]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEntryRead],
    responses=error_responses(401, 403),
)
def list_audit(
    user: AuditReader,
    session: SessionDep,
    entity: Annotated[Entity | None, Query()] = None,
    entity_id: QueryId | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditEntryRead]:
    """Audit entries, oldest first, filtered by entity (``patient``) and entity id.

    Who did what to which entity and when is shown to admins, clinicians and nurses; the record
    before and after only where the role may read that kind of record (``content_withheld``):
    clinical records to clinicians and nurses, user accounts to admins.
    """
    rows, total = service.list_entries_for(
        session, user, entity=entity, entity_id=entity_id, limit=limit, offset=offset
    )
    items = [AuditEntryRead.model_validate(e) for e in rows]
    return Page[AuditEntryRead](items=items, total=total, limit=limit, offset=offset)
