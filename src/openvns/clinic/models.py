"""Every clinic table, imported in one place so ``Base.metadata`` is complete.

Alembic's ``env.py`` and the tests use :data:`metadata`; add each new domain's models here.
"""

from __future__ import annotations

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import AuthToken, User
from openvns.clinic.db.base import Base
from openvns.clinic.patients.models import Patient

metadata = Base.metadata

__all__ = ["AuditEntry", "AuthToken", "Patient", "User", "metadata"]
