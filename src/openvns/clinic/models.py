"""Every clinic table, imported in one place so ``Base.metadata`` is complete.

Alembic's ``env.py`` and the tests use :data:`metadata`; add each new domain's models here.
"""

from __future__ import annotations

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import AuthToken, User
from openvns.clinic.db.base import Base
from openvns.clinic.diaries.models import BPIEntry, PainEntry, PGICEntry, SideEffectReport
from openvns.clinic.evaluation.models import Evaluation
from openvns.clinic.implants.models import Implant
from openvns.clinic.outcomes.models import BaselineWindow
from openvns.clinic.patients.models import Patient
from openvns.clinic.programming.models import (
    ProgrammingSession,
    Proposal,
    TitrationPlan,
)

metadata = Base.metadata

__all__ = [
    "AuditEntry",
    "AuthToken",
    "BPIEntry",
    "BaselineWindow",
    "Evaluation",
    "Implant",
    "PGICEntry",
    "PainEntry",
    "Patient",
    "ProgrammingSession",
    "Proposal",
    "SideEffectReport",
    "TitrationPlan",
    "User",
    "metadata",
]
