"""Browser: create a patient (inline errors first), search; the patient enters a diary day."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server, login, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the 'playwright' package"
).expect


def test_create_patient_with_inline_errors_then_search(
    page: Page, server: Server, tmp_path: Path
) -> None:
    login(page, server.seed.nurse)
    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("MRN").fill("has spaces")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Create patient").click()
    # htmx swaps in the form with the messages next to the fields (HTTP 422).
    expect(page.locator("#e-mrn")).to_have_text("Not in the expected format.")
    expect(page.locator("#e-full_name")).to_have_text("Required.")
    expect(page.get_by_label("MRN")).to_have_attribute("aria-invalid", "true")
    shoot(page, tmp_path, "patient-form-errors")

    page.get_by_label("MRN").fill("E2E-77")
    page.get_by_label("Full name").fill("Erin Example")
    page.get_by_role("button", name="Create patient").click()
    expect(page.locator("#e-date_of_birth")).to_contain_text("a date not in the future")
    page.get_by_label("Date of birth").fill("1981-06-30")
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_role("heading", name="Erin Example")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Patient Erin Example created.")

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_label("Search by name or MRN").fill("erin")
    expect(page.get_by_text("1 patient matching")).to_be_visible()
    expect(page.get_by_role("link", name="Erin Example")).to_be_visible()


def test_patient_enters_a_diary_day(page: Page, server: Server, tmp_path: Path) -> None:
    login(page, server.seed.patient)
    expect(page).to_have_url(f"{server.url}/patients/{server.seed.patient_id}")
    expect(page.get_by_role("heading", name="Pat Ient")).to_be_visible()
    page.get_by_role("link", name="Diary").first.click()
    expect(page.get_by_role("heading", name="My diary")).to_be_visible()

    page.get_by_role("button", name="Save today's entry").click()
    expect(page.locator("#e-pain_nrs")).to_contain_text("Choose a number from 0")

    page.get_by_label("Date").fill("2026-03-02")
    page.get_by_role("radio", name="6", exact=True).check()
    page.get_by_label("Since the start of treatment").select_option("3")
    page.get_by_label("Voice change or hoarseness").select_option("mild")
    page.get_by_label("Dizziness", exact=True).select_option("moderate")
    page.get_by_role("button", name="Save today's entry").click()
    expect(page.get_by_role("status")).to_contain_text("Your diary for 2026-03-02 is saved.")
    recent = page.get_by_role("region", name="Recent entries")
    expect(recent).to_contain_text("2026-03-02")
    expect(recent).to_contain_text("minimally improved")
    expect(recent).to_contain_text("Voice change or hoarseness")
    expect(recent).to_contain_text("Dizziness")
    shoot(page, tmp_path, "diary")
