"""Browser: evaluate a candidate, program an implant (blocked, conflict, confirmed), outcomes."""

from __future__ import annotations

import re
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


def _settings(page: Page, current: str, frequency: str, width: str) -> None:
    """Pick each setting from the implant model's allowed values (the fields are pick-lists)."""
    page.get_by_label("Output current (mA)").select_option(f"{float(current):g}")
    page.get_by_label("Frequency (Hz)").select_option(f"{float(frequency):g}")
    page.get_by_label("Pulse width (µs)").select_option(f"{float(width):g}")
    page.get_by_label("Signal ON time (s)").select_option("30")
    page.get_by_label("Signal OFF time (min)").select_option("5")
    page.get_by_role("button", name="Check settings").click()


def test_evaluate_a_candidate(page: Page, server: Server, tmp_path: Path) -> None:
    login(page, server.seed.clinician)
    page.goto(f"/patients/{server.seed.candidate_id}")
    page.get_by_role("link", name="Candidate evaluations").click()
    page.get_by_role("link", name="New evaluation").click()
    page.get_by_label("Baseline pain (NRS 0–10)").fill("11")
    page.get_by_role("button", name="Save and assess").click()
    expect(page.locator("#e-diagnosis")).to_have_text("Required.")
    expect(page.locator("#e-baseline_nrs")).to_be_visible()
    expect(page.locator("#form-errors")).to_contain_text("Baseline pain (NRS 0–10)")

    page.locator("#f-diagnosis").select_option("neuropathic_pain")
    page.get_by_label("Baseline pain (NRS 0–10)").fill("7")
    page.get_by_label("Anticonvulsants").check()
    page.get_by_label("Tricyclic antidepressants").check()
    page.get_by_label("Obstructive sleep apnoea").check()
    page.get_by_role("button", name="Save and assess").click()
    expect(page.get_by_role("heading", name="Assessment: Cody Candidate")).to_be_visible()
    expect(page.locator("#outcome")).to_be_visible()
    expect(page.get_by_role("cell", name="precaution").first).to_be_visible()
    expect(
        page.get_by_role("link", name="LivaNova important safety information").first
    ).to_be_visible()
    shoot(page, tmp_path, "assessment")


def test_program_an_implant(page: Page, server: Server, tmp_path: Path) -> None:
    login(page, server.seed.clinician)
    page.goto(f"/patients/{server.seed.candidate_id}")
    page.get_by_role("link", name="Implants and programming").click()
    page.get_by_label("Generator model").select_option("1000")
    page.get_by_label("Generator serial number").fill("E2E-SN-1000")
    page.get_by_role("button", name="Register implant").click()
    expect(page.get_by_role("status")).to_contain_text("Implant E2E-SN-1000 registered.")
    page.get_by_role("button", name="Start a programming session").click()
    expect(page.get_by_role("heading", name="Interrogation")).to_be_visible()

    page.get_by_role("button", name="Run diagnostics").click()
    expect(page.get_by_role("status")).to_contain_text("Diagnostics: lead impedance")

    # An unsafe setting: blocked, every error shown, no way to program it.
    _settings(page, "2.5", "30", "1000")
    expect(page.get_by_role("heading", name="Blocked")).to_be_visible()
    expect(page.locator("#issues-error")).to_contain_text("k")
    expect(page.locator("#confirm-form")).to_have_count(0)
    shoot(page, tmp_path, "blocked")

    # A safe one, but someone else runs diagnostics before the confirmation: a conflict.
    _settings(page, "1.0", "20", "250")
    expect(page.locator("#confirm-form")).to_be_visible()
    headers = page.locator("body").get_attribute("hx-headers") or ""
    token = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', headers)
    assert token
    session_path = page.url.removeprefix(server.url)
    r = page.request.post(f"{session_path}/diagnostics", form={"csrf_token": token.group(1)})
    assert r.ok
    page.locator("#confirm-form").get_by_role("button").click()
    expect(page.locator("#program-problem")).to_contain_text("the implant changed")

    # Interrogate again, check against the implant as it is now, and confirm.
    page.locator("#program-problem").get_by_role("link", name="Interrogate again").click()
    _settings(page, "1.0", "20", "250")
    page.locator("#confirm-form").get_by_role("button").click()
    expect(page.get_by_role("status")).to_contain_text("Programmed and verified: 0.0 → 1.0 mA")
    expect(page.locator("#interrogation")).to_contain_text("1.0 mA")
    shoot(page, tmp_path, "programmed")


def test_patient_reads_the_outcome_page(page: Page, server: Server, tmp_path: Path) -> None:
    login(page, server.seed.patient)
    page.get_by_role("link", name="My outcomes").click()
    expect(page.get_by_role("heading", name="My outcomes")).to_be_visible()
    expect(page.locator("#responder")).not_to_have_text("Not assessable yet")
    expect(page.get_by_role("img", name="Weekly mean pain")).to_be_visible()
    expect(page.get_by_role("region", name="Week by week")).to_contain_text("2026-01-05")
    shoot(page, tmp_path, "outcomes")
    page.emulate_media(media="print")  # the print stylesheet leaves out navigation and buttons
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    expect(page.get_by_role("region", name="Responder status")).to_be_visible()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Printable report").click()
    expect(page).to_have_url(re.compile(r"/outcomes/report$"))
    expect(page.locator("body")).to_contain_text("Pat Ient")
    page.goto(f"/patients/{server.seed.candidate_id}/outcomes")
    expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
