"""The clinic's clock for the virtual implants, as a FastAPI dependency.

Every request that reads or changes an implant lets the implant's clock run to "now"
(:func:`openvns.clinic.implants.device.load`). The routers take "now" from :func:`get_now` so
that tests (and demonstrations) can override it and let simulated time pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from openvns.clinic.db.base import utcnow


def get_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return utcnow()


#: Annotated dependency: the request's "now".
NowDep = Annotated[datetime, Depends(get_now)]
