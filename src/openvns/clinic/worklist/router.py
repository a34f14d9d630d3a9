"""JSON API of the worklist (``GET /api/v1/worklist``): clinicians and nurses; 403 for others."""

from __future__ import annotations

from fastapi import APIRouter

from openvns.clinic.auth.dependencies import CurrentUser
from openvns.clinic.db.session import SessionDep
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.schemas import error_responses
from openvns.clinic.worklist import service
from openvns.clinic.worklist.schemas import WorklistItem, WorklistRead

router = APIRouter(tags=["worklist"])


@router.get("/worklist", response_model=WorklistRead, responses=error_responses(401, 403))
def read_worklist(user: CurrentUser, session: SessionDep, now: NowDep) -> WorklistRead:
    """What needs attention over every patient: intolerable side effects, lead impedance out of
    range, battery indicators (EOS, NEOS, IFI) and stale diaries, most urgent first."""
    items = service.worklist(session, user, now)
    return WorklistRead(
        today=service.today_of(now),
        urgency_order=list(service.URGENCY),
        items=[WorklistItem.of(i) for i in items],
    )
