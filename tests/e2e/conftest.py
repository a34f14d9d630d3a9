"""Browser tests: the real app under uvicorn, driven by Playwright in Debian's Chromium.

The server runs in a background thread on 127.0.0.1 and a free port, against a fresh SQLite
file migrated to head and seeded through the services (never raw SQL). Playwright does not
download browsers: it launches the system's ``chromium`` (``apt-get install chromium``, which
``.ci/run`` does). Without Chromium or the ``playwright`` package every test here is skipped
with the reason.
"""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import argon2
import pytest

from openvns.clinic.app import create_app
from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role
from openvns.clinic.config import Settings
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import transaction
from openvns.clinic.diaries import service as diaries
from openvns.clinic.diaries.models import PainEntry
from openvns.clinic.patients import service as patients

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

log = logging.getLogger(__name__)

PASSWORD = "e2e password for everyone"
#: Chromium's command names on Debian and elsewhere, in the order they are tried.
CHROMIUM_NAMES = ("chromium", "chromium-browser")
STARTUP_TIMEOUT_S = 20.0


def chromium_path() -> str | None:
    """The system Chromium, or ``None``."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def missing() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    reasons = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reasons.append("the 'playwright' package is not installed (pip install -e '.[dev]')")
    if chromium_path() is None:
        reasons.append("no Chromium on PATH (Debian: apt-get install chromium)")
    return "; ".join(reasons) or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every e2e test, with the reason, where Chromium or Playwright is missing."""
    reason = missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests need Chromium and Playwright: {reason}")
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(skip)


@dataclass(frozen=True)
class Seed:
    """Who and what the seeded clinic holds (ids and e-mails the tests use)."""

    clinician: str
    nurse: str
    patient: str
    patient_id: int
    candidate_id: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed(settings: Settings, app: Any) -> Seed:
    hasher = app.state.password_hasher
    with app.state.session_factory() as session, transaction(session):
        users = {}
        for role, email, name in [
            (Role.CLINICIAN, "dr.vagus@example.org", "Dr Vera Vagus"),
            (Role.NURSE, "nurse.nodose@example.org", "Nina Nodose"),
            (Role.PATIENT, "pat.ient@example.org", "Pat Ient"),
        ]:
            users[role] = auth_service.create_user(
                session, email=email, full_name=name, role=role, password=PASSWORD, hasher=hasher
            )
        actor = users[Role.CLINICIAN]
        own = patients.create_patient(
            session,
            actor,
            {
                "mrn": "E2E-1",
                "full_name": "Pat Ient",
                "date_of_birth": date(1968, 4, 2),
                "sex": "female",
                "diagnosis": "fibromyalgia",
                "pain_duration_months": 60,
                "user_id": users[Role.PATIENT].id,
            },
        )
        candidate = patients.create_patient(
            session,
            actor,
            {
                "mrn": "E2E-2",
                "full_name": "Cody Candidate",
                "date_of_birth": date(1975, 9, 14),
                "sex": "male",
                "diagnosis": "neuropathic pain",
                "pain_duration_months": 30,
            },
        )
        # Eight weeks of pain diary: four at 8/10 (the baseline), then falling to 3/10.
        first = date(2026, 1, 5)
        for day in range(56):
            nrs = 8 if day < 28 else max(3, 8 - (day - 27) // 3)
            values = {"entry_date": first + timedelta(days=day), "pain_nrs": nrs}
            diaries.create_entry(session, users[Role.PATIENT], own.id, PainEntry, values)
        return Seed(
            clinician=users[Role.CLINICIAN].email,
            nurse=users[Role.NURSE].email,
            patient=users[Role.PATIENT].email,
            patient_id=own.id,
            candidate_id=candidate.id,
        )


@dataclass(frozen=True)
class Server:
    """The running clinic: its base URL, seed and settings."""

    url: str
    seed: Seed
    settings: Settings
    app: Any


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The clinic app served by uvicorn in a thread, on a fresh migrated and seeded database."""
    if missing() is not None:
        pytest.skip(f"browser tests need Chromium and Playwright: {missing()}")
    import uvicorn

    path: Path = tmp_path_factory.mktemp("e2e") / "clinic.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    settings = Settings(
        database_url=url, secret_key="e2e-secret", argon2_parameters=argon2.profiles.CHEAPEST
    )
    app = create_app(settings)
    seed = _seed(settings, app)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the clinic server did not start")
        time.sleep(0.02)
    log.info("clinic serving on port %d", port)
    try:
        yield Server(f"http://127.0.0.1:{port}", seed, settings, app)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched by Playwright (no downloaded browser)."""
    reason = missing()
    if reason is not None:
        pytest.skip(f"browser tests need Chromium and Playwright: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the running clinic."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def login(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the page form."""
    page.goto("/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shoot(page: Page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot into the test's tmp dir."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    log.info("screenshot %s", path)
    return path
