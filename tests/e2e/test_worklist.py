"""Browser: the worklist on a clinician's home page, most urgent first, each row leading to the
page where it is handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role
from openvns.clinic.db.base import utcnow
from openvns.clinic.db.session import transaction
from openvns.clinic.diaries import service as diaries
from openvns.clinic.diaries.models import PainEntry, SideEffectReport
from openvns.clinic.implants import service as implants
from openvns.clinic.patients import service as patients
from tests.e2e.conftest import PASSWORD, Server, login, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the 'playwright' package"
).expect

#: Years since implantation (factory settings: the quiescent drain only) at which the battery
#: is near end of service (NEOS <= 12 %, EOS <= 2 %; tests/clinic/test_worklist.py checks it).
NEOS_AGE_YEARS = 8.3


@dataclass(frozen=True)
class Seeded:
    """The worklist's patients: one who reported an intolerable side effect and whose battery is
    due for replacement, one whose diary stopped two weeks ago."""

    severe_id: int
    severe_implant_id: int
    stale_id: int


@pytest.fixture(scope="module")
def seeded(server: Server) -> Seeded:
    """Two implanted patients added through the services (the clinician of the seed acts)."""
    app = server.app
    now = utcnow()
    with app.state.session_factory() as session, transaction(session):
        clinician = auth_service.find_user_by_email(session, server.seed.clinician)
        assert clinician is not None
        own = auth_service.create_user(
            session,
            email="wendy.worklist@example.org",
            full_name="Wendy Worklist",
            role=Role.PATIENT,
            password=PASSWORD,
            hasher=app.state.password_hasher,
        )
        severe = patients.create_patient(
            session,
            clinician,
            {"mrn": "E2E-WL-1", "full_name": "Wendy Worklist", "date_of_birth": date(1961, 2, 3),
             "sex": "female", "user_id": own.id},
        )  # fmt: skip
        implant = implants.register_implant(
            session,
            clinician,
            severe.id,
            {"generator_model": "1000", "generator_serial": "E2E-WL-SN-1", "lead_model": "304-20",
             "implanted_at": now - timedelta(days=365.25 * NEOS_AGE_YEARS)},
            now=now,
        )  # fmt: skip
        today = now.date()
        diaries.create_entry(
            session, own, severe.id, PainEntry, {"entry_date": today, "pain_nrs": 6}
        )
        diaries.create_entry(
            session,
            own,
            severe.id,
            SideEffectReport,
            {"entry_date": today, "kind": "dyspnoea", "severity": "severe", "description": None},
        )
        stale = patients.create_patient(
            session,
            clinician,
            {"mrn": "E2E-WL-2", "full_name": "Stan Stale", "date_of_birth": date(1970, 5, 6),
             "sex": "male"},
        )  # fmt: skip
        implants.register_implant(
            session,
            clinician,
            stale.id,
            {"generator_model": "1000", "generator_serial": "E2E-WL-SN-2", "lead_model": "304-20",
             "implanted_at": now - timedelta(days=60)},
            now=now,
        )  # fmt: skip
        return Seeded(severe.id, implant.id, stale.id)


def test_the_worklist_on_a_clinicians_home_page(
    page: Page, server: Server, seeded: Seeded, tmp_path: Path
) -> None:
    login(page, server.seed.clinician)
    worklist = page.locator("#worklist")
    expect(worklist.get_by_role("heading", name="Needs attention")).to_be_visible()
    wendy = worklist.get_by_role("row").filter(has_text="Wendy Worklist")
    expect(wendy).to_have_count(2)  # the side effect, then the battery
    expect(wendy.nth(0)).to_contain_text("Intolerable side effect")
    expect(wendy.nth(0)).to_contain_text("Shortness of breath")
    expect(wendy.nth(1)).to_contain_text("Battery: elective replacement")
    stan = worklist.get_by_role("row").filter(has_text="Stan Stale")
    expect(stan).to_contain_text("Stale diary")
    expect(stan).to_contain_text("No pain diary entry since the implantation.")
    # Most urgent first: Wendy's side effect is the first row of the table.
    expect(worklist.locator("tbody tr").first).to_contain_text("Wendy Worklist")
    shoot(page, tmp_path, "worklist")

    wendy.nth(0).get_by_role("link", name="Open the implant").click()
    expect(page).to_have_url(f"{server.url}/implants/{seeded.severe_implant_id}")
    expect(page.get_by_role("heading", name="Implant E2E-WL-SN-1")).to_be_visible()

    page.goto("/")
    page.locator("#worklist").get_by_role("row").filter(has_text="Stan Stale").get_by_role(
        "link", name="Open the diary"
    ).click()
    expect(page).to_have_url(f"{server.url}/patients/{seeded.stale_id}/diary")


def test_the_nurse_sees_it_and_the_patient_does_not(
    page: Page, server: Server, seeded: Seeded
) -> None:
    login(page, server.seed.nurse)
    expect(page.locator("#worklist")).to_contain_text("Wendy Worklist")
    page.get_by_role("button", name="Sign out").click()
    login(page, "wendy.worklist@example.org")
    expect(page).to_have_url(f"{server.url}/patients/{seeded.severe_id}")
    expect(page.locator("#worklist")).to_have_count(0)
