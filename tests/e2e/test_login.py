"""Browser: sign in (wrong password, then right), CSRF-less posts refused, sign out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import PASSWORD, Server, login, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the 'playwright' package"
).expect


def test_wrong_password_then_sign_in_and_out(page: Page, server: Server, tmp_path: Path) -> None:
    login(page, server.seed.clinician, "not the password at all")
    expect(page.get_by_role("alert")).to_contain_text("The e-mail or the password is not right.")
    expect(page.get_by_label("E-mail")).to_have_value(server.seed.clinician)
    shoot(page, tmp_path, "login-error")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Dr Vera Vagus")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Patients")
    shoot(page, tmp_path, "home-clinician")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto("/patients")
    expect(page).to_have_url(f"{server.url}/auth/login")


def test_posts_without_the_csrf_token_are_refused(page: Page, server: Server) -> None:
    # The login form itself: its double-submit token is required.
    r = page.request.post(
        "/auth/login",
        form={"email": server.seed.nurse, "password": PASSWORD},
        headers={"Accept": "text/html"},
    )
    assert r.status == 403
    login(page, server.seed.nurse)
    expect(page.get_by_role("heading", name="Welcome, Nina Nodose")).to_be_visible()
    # Signed in (the session cookie rides along), a form post without the token is refused.
    body = {"mrn": "NO-CSRF", "full_name": "X Y", "date_of_birth": "1980-01-01", "sex": "male"}
    r = page.request.post("/patients/new", form=body, headers={"Accept": "text/html"})
    assert r.status == 403
    r = page.request.post("/api/v1/patients", data=body)
    assert r.status == 403
    page.goto("/patients?q=NO-CSRF")
    expect(page.get_by_text("0 patients matching")).to_be_visible()


def test_an_htmx_post_after_sign_out_goes_to_the_login(page: Page, server: Server) -> None:
    login(page, server.seed.nurse)
    page.goto("/patients/new")
    # The session ends elsewhere (signed out in another tab): the next htmx post is refused.
    page.context.clear_cookies()
    page.get_by_label("MRN").fill("X-1")
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_an_htmx_post_with_a_stale_csrf_token_says_so(page: Page, server: Server) -> None:
    login(page, server.seed.nurse)
    page.goto("/patients/new")
    page.evaluate(
        """() => {
            document.body.setAttribute("hx-headers", '{"X-CSRF-Token": "stale"}');
            document.querySelector("#patient-form input[name=csrf_token]").value = "stale";
        }"""
    )
    page.get_by_label("MRN").fill("X-2")
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_role("alert").filter(has_text="HTTP 403")).to_contain_text(
        "Reload the page and try again."
    )
