"""Browser: a titration plan is previewed step by step and programmed only on confirmation."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from openvns.clinic.auth.models import User
from openvns.clinic.db.session import transaction
from openvns.clinic.patients import service as patients
from tests.e2e.conftest import Server, login, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the 'playwright' package"
).expect

TOLERANCE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 1.0 mA; 20 Hz; 250 us; "
    "30 s on / 5 min off"
)


def _new_patient(server: Server, mrn: str, name: str) -> int:
    """A patient of the running clinic, created through the service by the clinician."""
    with server.app.state.session_factory() as session, transaction(session):
        actor = session.scalars(select(User).where(User.email == server.seed.clinician)).one()
        values = {
            "mrn": mrn,
            "full_name": name,
            "date_of_birth": date(1970, 6, 1),
            "sex": "female",
        }
        return patients.create_patient(session, actor, values).id


def _open_session(page: Page, server: Server, mrn: str, name: str, serial: str) -> None:
    patient_id = _new_patient(server, mrn, name)
    login(page, server.seed.clinician)
    page.goto(f"/patients/{patient_id}")
    page.get_by_role("link", name="Implants and programming").click()
    page.get_by_label("Generator model").select_option("1000")
    page.get_by_label("Generator serial number").fill(serial)
    page.get_by_role("button", name="Register implant").click()
    page.get_by_role("button", name="Start a programming session").click()
    expect(page.get_by_role("heading", name="Interrogation")).to_be_visible()


def test_a_tolerance_plan_is_previewed_then_confirmed(
    page: Page, server: Server, tmp_path: Path
) -> None:
    _open_session(page, server, "E2E-PW-1", "Tara Titration", "E2E-SN-PW1")
    page.get_by_label("Output current (mA)").select_option("0.5")
    page.get_by_role("button", name="Check settings").click()
    page.locator("#confirm-form").get_by_role("button").click()
    expect(page.get_by_role("status")).to_contain_text("0.0 → 0.5 mA")

    page.get_by_label("Protocol").fill(TOLERANCE)
    page.get_by_role("button", name="Preview the plan").click()
    steps = page.locator("#plan-steps tbody tr")
    expect(steps).to_have_count(4)
    expect(page.locator("#plan-steps")).to_contain_text("passed")
    expect(page.locator("#plan-steps .badge", has_text="review point")).to_have_count(3)
    expect(page.locator("#plan-message")).to_contain_text("the implant cannot know tolerance")
    expect(page.locator("#plan-change")).to_contain_text("0.5 mA → 0.25 mA")
    expect(page.locator("#plan-change")).to_contain_text("lowers the output")
    shoot(page, tmp_path, "plan-preview")

    # Lowering the output needs its box ticked: the browser does not send the form without it.
    page.locator("#plan-confirm-form").get_by_role("button", name="Program the plan").click()
    expect(page.locator("#plan-confirm-form")).to_be_visible()
    expect(page.locator("#interrogation")).to_contain_text("0.5 mA")

    page.get_by_label("I confirm lowering the output").check()
    page.locator("#plan-confirm-form").get_by_role("button", name="Program the plan").click()
    expect(page.get_by_role("status")).to_contain_text("paused at a review point")
    expect(page.locator("#interrogation")).to_contain_text("0.25 mA")
    expect(page.locator("#interrogation")).not_to_contain_text("Scheduled steps")
    page.get_by_role("button", name="Confirm the next step").click()
    expect(page.get_by_role("status")).to_contain_text("not due until")
    shoot(page, tmp_path, "plan-paused")


def test_settings_are_picked_from_the_models_values_and_compared(
    page: Page, server: Server, tmp_path: Path
) -> None:
    _open_session(page, server, "E2E-PW-2", "Pia Picklist", "E2E-SN-PW2")
    current = page.get_by_label("Output current (mA)")
    expect(current.locator("option")).to_have_count(29)  # 0 to 3.5 mA by 0.125 mA (Model 1000)
    expect(current.locator("option[value='1.125']")).to_have_count(1)
    expect(page.get_by_label("Frequency (Hz)").locator("option[value='21']")).to_have_count(0)
    current.select_option("1.125")
    page.get_by_label("Frequency (Hz)").select_option("25")
    page.get_by_label("Pulse width (µs)").select_option("500")
    page.get_by_role("button", name="Check settings").click()
    table = page.locator("#comparison")
    expect(table).to_be_visible()
    for label in ("Duty cycle", "Charge per phase", "Charge density", "Shannon k", "Battery"):
        expect(table).to_contain_text(label)
    expect(table.locator("tr", has_text="Output current")).to_contain_text("0.0 → 1.125")
    expect(table.locator("tr", has_text="Frequency")).to_contain_text("→ 25.0")
    shoot(page, tmp_path, "comparison")
    page.locator("#confirm-form").get_by_role("button").click()
    expect(page.get_by_role("status")).to_contain_text("0.0 → 1.125 mA")
    history = page.locator("#settings-history")
    expect(history).to_contain_text("Dr Vera Vagus")
    expect(history).to_contain_text("Output current: 0.0 → 1.125 mA")
