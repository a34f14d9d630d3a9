"""Links from a patient's page to the pages of the other domains, by role.

Each domain's pages add their entry to :data:`PATIENT_LINKS` when they are mounted, so a
patient's page shows only what exists and what the viewer's role may open.
"""

from __future__ import annotations

from dataclasses import dataclass

from openvns.clinic.auth.models import User
from openvns.clinic.patients.models import Patient


@dataclass(frozen=True)
class PatientLink:
    """A link shown on a patient's page: ``path`` is formatted with ``id`` (the patient's)."""

    label: str
    path: str
    roles: frozenset[str]
    description: str = ""


#: Registered links, in the order they are shown.
PATIENT_LINKS: list[PatientLink] = []


def register(link: PatientLink) -> None:
    """Add ``link`` (once) to the patient pages."""
    if link not in PATIENT_LINKS:
        PATIENT_LINKS.append(link)


def patient_links(patient: Patient, user: User) -> list[tuple[str, str, str]]:
    """(label, url, description) of the links ``user`` may follow for ``patient``."""
    return [
        (link.label, link.path.format(id=patient.id), link.description)
        for link in PATIENT_LINKS
        if user.role in link.roles
    ]
