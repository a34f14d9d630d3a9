"""Browser: the pages work under the clinic's Content-Security-Policy, and nothing comes from
the network (Swagger UI included)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import Server, login

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Route

pytestmark = pytest.mark.e2e
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the 'playwright' package"
).expect


@pytest.fixture
def guarded(page: Page, server: Server) -> tuple[Page, list[str]]:
    """The page, with requests outside the clinic refused and the CSP's complaints collected
    (Chromium reports each blocked script, style or frame on the console)."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(message.text)

    def outside(route: Route) -> None:
        problems.append(f"request outside the clinic: {route.request.url}")
        route.abort()

    page.on("console", on_console)
    page.route(lambda url: not url.startswith(server.url), outside)
    return page, problems


def test_clinician_pages_under_the_csp(guarded: tuple[Page, list[str]], server: Server) -> None:
    page, problems = guarded
    login(page, server.seed.clinician)
    page.goto("/patients")
    page.get_by_label("Search by name or MRN").fill("Cody")  # an htmx request under the CSP
    expect(page.locator("#patient-results")).to_contain_text("Cody Candidate")
    expect(page.locator("#patient-results")).not_to_contain_text("Pat Ient")
    page.goto(f"/patients/{server.seed.patient_id}")
    page.goto(f"/patients/{server.seed.patient_id}/outcomes")
    expect(page.get_by_role("img", name="Weekly mean pain")).to_be_visible()
    assert problems == []


def test_print_button_and_report_under_the_csp(
    guarded: tuple[Page, list[str]], server: Server
) -> None:
    page, problems = guarded
    page.add_init_script("window.print = function () { window.__printed = true; };")
    login(page, server.seed.patient)
    page.get_by_role("link", name="My outcomes").click()
    page.wait_for_load_state("load")  # clinic.js (the print handler) has run, not just the HTML
    page.get_by_role("button", name="Print this page").click()
    page.wait_for_function("window.__printed === true", timeout=5000)
    page.get_by_role("link", name="Printable report").click()
    expect(page.locator("body")).to_contain_text("Pat Ient")
    # The report's own stylesheet applies (allowed by its hash): a 1000 px column, not the
    # browser's default full width.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "1000px"
    expect(page.locator("figure img").first).to_be_visible()  # data: images
    assert problems == []


def test_swagger_ui_offline_under_the_csp(guarded: tuple[Page, list[str]]) -> None:
    page, problems = guarded
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OpenVNS clinic")
    expect(page.locator(".opblock").first).to_be_visible()
    assert problems == []


@pytest.fixture
def framing_site(server: Server, tmp_path: Path) -> Iterator[str]:
    """Another origin (a second server on 127.0.0.1) whose page frames the clinic's sign-in
    page (which needs no cookie); yields that page's URL."""
    (tmp_path / "frame.html").write_text(
        f'<!doctype html><iframe id="f" src="{server.url}/auth/login"></iframe>', "utf-8"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="framing-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/frame.html"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_pages_refuse_to_be_framed(page: Page, framing_site: str) -> None:
    page.goto(framing_site)  # waits for the load event, which waits for the frame
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 1
    assert frames[0].url.startswith("chrome-error:")  # refused: the sign-in page is not there
    assert frames[0].locator("button", has_text="Sign in").count() == 0
