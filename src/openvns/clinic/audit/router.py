"""JSON API of the audit log (admin only, read only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from openvns.clinic.audit import service
from openvns.clinic.audit.models import ENTITY_MAX
from openvns.clinic.audit.schemas import AuditEntryRead
from openvns.clinic.auth.dependencies import AdminUser
from openvns.clinic.db.session import SessionDep
from openvns.clinic.schemas import Limit, Offset, Page, PlainText, QueryId, error_responses

Entity = Annotated[str, Field(min_length=1, max_length=ENTITY_MAX), PlainText()]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEntryRead],
    responses=error_responses(401, 403),
)
def list_audit(
    admin: AdminUser,
    session: SessionDep,
    entity: Annotated[Entity | None, Query()] = None,
    entity_id: QueryId | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuditEntryRead]:
    """Audit entries, oldest first, filtered by entity (``patient``) and entity id."""
    rows, total = service.list_entries(
        session, entity=entity, entity_id=entity_id, limit=limit, offset=offset
    )
    items = [AuditEntryRead.model_validate(e) for e in rows]
    return Page[AuditEntryRead](items=items, total=total, limit=limit, offset=offset)
