"""Response bodies of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    """One audit-log entry as the reader may see it.

    ``before`` and ``after`` are ``None`` with ``content_withheld`` true when the reader's role
    may not read that kind of record (clinical records for admins, user accounts for the care
    team); who, when, the action, the entity and its id are always shown.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    content_withheld: bool = False
