"""The server-rendered pages (without a browser): sign-in, role rules, forms with inline errors.

The browser flows are in ``tests/e2e``; these check the HTTP side quickly.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import transaction
from openvns.clinic.diaries.models import NAMED_KINDS, SIDE_EFFECT_LABELS
from openvns.clinic.patients import service as patients
from openvns.clinic.patients.models import Patient
from tests.clinic.conftest import PASSWORD, UserFactory

HTML = {"Accept": "text/html"}
HTMX = {**HTML, "HX-Request": "true"}

PatientFactory = Callable[..., Patient]


def _csrf(response: Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


def _login(client: TestClient, user: User) -> str:
    """Sign in through the page; returns the session's CSRF token (from the next page)."""
    form = client.get("/auth/login", headers=HTML)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": _csrf(form)}
    r = client.post("/auth/login", data=data, headers=HTML)
    assert r.status_code == 200, r.text
    return _csrf(r)


@pytest.fixture
def make_patient(db: Session, make_user: UserFactory) -> PatientFactory:
    counter = iter(range(1, 10_000))
    actor = make_user(Role.CLINICIAN)

    def make(name: str = "Ada Lovelace", user: User | None = None) -> Patient:
        values = {
            "mrn": f"MRN-{next(counter)}",
            "full_name": name,
            "date_of_birth": "1970-01-01",
            "sex": "female",
            "user_id": user.id if user else None,
        }
        from datetime import date

        values["date_of_birth"] = date(1970, 1, 1)
        with transaction(db):
            return patients.create_patient(db, actor, values)

    return make


def test_login_page_renders_a_form_with_its_csrf_token(client: TestClient) -> None:
    r = client.get("/auth/login", headers=HTML)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert _csrf(r) == client.cookies["openvns_login_csrf"]
    assert "/static/vendor/htmx-2.0.11.min.js" in r.text
    assert "https://" not in r.text  # nothing from a CDN


def test_wrong_password_shows_a_generic_message(client: TestClient, make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    token = _csrf(client.get("/auth/login", headers=HTML))
    data = {"email": user.email, "password": "not the password", "csrf_token": token}
    r = client.post("/auth/login", data=data, headers=HTML)
    assert r.status_code == 401
    assert "The e-mail or the password is not right." in r.text
    assert "openvns_session" not in client.cookies


def test_login_without_csrf_shows_the_form_again(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user(Role.NURSE)
    client.get("/auth/login", headers=HTML)
    r = client.post("/auth/login", data={"email": user.email, "password": PASSWORD}, headers=HTML)
    assert r.status_code == 403
    assert "expired" in r.text
    assert "openvns_session" not in client.cookies


def test_pages_send_a_signed_out_browser_to_the_login(client: TestClient) -> None:
    r = client.get("/patients", headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/auth/login"
    r = client.get("/patients", headers=HTMX, follow_redirects=False)
    assert r.headers["HX-Redirect"] == "/auth/login"


def test_api_errors_stay_json_for_browsers(client: TestClient) -> None:
    r = client.get("/api/v1/patients", headers=HTML)
    assert r.status_code == 401
    assert r.json() == {"detail": "not authenticated"}


def test_care_team_home_and_patient_list(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    make_patient("Grace Hopper")
    _login(client, make_user(Role.CLINICIAN))
    home = client.get("/", headers=HTML)
    assert "Grace Hopper" in home.text
    r = client.get("/patients?q=grace", headers=HTMX | {"HX-Target": "patient-results"})
    assert r.status_code == 200
    assert "<html" not in r.text  # a fragment for htmx
    assert "Grace Hopper" in r.text
    assert "Grace Hopper" not in client.get("/patients?q=zzz", headers=HTML).text


def test_create_patient_shows_errors_inline_then_saves(
    client: TestClient, make_user: UserFactory
) -> None:
    csrf = _login(client, make_user(Role.NURSE))
    bad = {"mrn": "has space", "full_name": "", "date_of_birth": "2999-01-01", "sex": "female"}
    r = client.post("/patients/new", data={**bad, "csrf_token": csrf}, headers=HTMX)
    assert r.status_code == 422
    assert r.text.lstrip().startswith("<form")
    assert 'id="e-mrn"' in r.text
    assert 'id="e-full_name"' in r.text
    good = {**bad, "mrn": "P-77", "full_name": "Ann Example"}
    r = client.post("/patients/new", data={**good, "csrf_token": csrf}, headers=HTMX)
    assert r.status_code == 422  # the service refuses a birth date in the future
    assert "a date not in the future" in r.text
    good["date_of_birth"] = "1980-02-03"
    r = client.post("/patients/new", data={**good, "csrf_token": csrf}, headers=HTMX)
    assert r.status_code == 204
    detail = client.get(r.headers["HX-Redirect"], headers=HTML)
    assert "Patient Ann Example created." in detail.text
    again = client.post("/patients/new", data={**good, "csrf_token": csrf}, headers=HTML)
    assert again.status_code == 409
    assert "P-77" in again.text


def test_unsafe_page_requests_need_the_csrf_token(
    client: TestClient, make_user: UserFactory
) -> None:
    _login(client, make_user(Role.NURSE))
    data = {"mrn": "P-1", "full_name": "A", "date_of_birth": "1980-01-01", "sex": "male"}
    r = client.post("/patients/new", data=data, headers=HTML)
    assert r.status_code == 403


def test_edit_with_a_stale_version_is_a_conflict(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Old Name")
    csrf = _login(client, make_user(Role.CLINICIAN))
    form = client.get(f"/patients/{patient.id}/edit", headers=HTML)
    assert 'name="version" value="1"' in form.text
    data = {
        "mrn": patient.mrn,
        "full_name": "New Name",
        "date_of_birth": "1970-01-01",
        "sex": "female",
        "version": "1",
        "csrf_token": csrf,
    }
    r = client.post(f"/patients/{patient.id}/edit", data=data, headers=HTML)
    assert "Changes saved." in r.text
    assert "New Name" in r.text
    stale = client.post(f"/patients/{patient.id}/edit", data=data, headers=HTMX)
    assert stale.status_code == 409
    assert "reload" in stale.text


def test_patient_lands_on_own_record_and_others_are_404(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    account = make_user(Role.PATIENT)
    own = make_patient("Pat Own", user=account)
    other = make_patient("Someone Else")
    _login(client, account)
    r = client.get("/", headers=HTML)
    assert str(r.url).endswith(f"/patients/{own.id}")
    assert "Pat Own" in r.text
    assert client.get(f"/patients/{other.id}", headers=HTML).status_code == 404
    assert client.get("/patients", headers=HTML).status_code == 403
    assert client.get(f"/patients/{own.id}/edit", headers=HTML).status_code == 403


def test_patient_enters_a_diary_day(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    account = make_user(Role.PATIENT)
    own = make_patient("Pat Diary", user=account)
    csrf = _login(client, account)
    page = client.get(f"/patients/{own.id}/diary", headers=HTML)
    assert page.status_code == 200
    for kind in NAMED_KINDS:  # every named side effect has its select, labelled in words
        assert f'name="se_{kind.value}"' in page.text
        assert SIDE_EFFECT_LABELS[kind] in page.text
    assert 'name="se_throat_cough"' not in page.text  # the legacy kind is not offered
    day = {"entry_date": "2026-01-10", "csrf_token": csrf}
    r = client.post(f"/patients/{own.id}/diary", data=day, headers=HTMX)
    assert r.status_code == 422
    assert "Choose a number from 0" in r.text
    bpi_part = {"bpi_worst": "7"}  # BPI started: every item is needed
    r = client.post(
        f"/patients/{own.id}/diary", data={**day, "pain_nrs": "5", **bpi_part}, headers=HTMX
    )
    assert r.status_code == 422
    assert 'id="e-bpi_mood"' in r.text
    full = {**day, "pain_nrs": "5", "pgic": "3", "se_voice": "mild", "se_headache": "severe",
            "se_heart_rate": "moderate", "se_application_site": "mild"}  # fmt: skip
    r = client.post(f"/patients/{own.id}/diary", data=full, headers=HTML)
    assert r.status_code == 200
    assert "is saved" in r.text
    recent = r.text.split('id="recent-h"')[1]
    assert "Palpitations or a change in heart rate" in recent
    assert "Skin tingling, pain or redness where the device is applied" in recent
    r = client.post(f"/patients/{own.id}/diary", data={**full, "pain_nrs": "4"}, headers=HTML)
    assert "is updated" in r.text
    assert "minimally improved" in r.text


def test_care_team_reads_but_does_not_write_a_diary(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Pat Read")
    csrf = _login(client, make_user(Role.NURSE))
    page = client.get(f"/patients/{patient.id}/diary", headers=HTML)
    assert page.status_code == 200
    assert "diary-form" not in page.text
    data = {"entry_date": "2026-01-10", "pain_nrs": "3", "csrf_token": csrf}
    assert client.post(f"/patients/{patient.id}/diary", data=data, headers=HTML).status_code == 403


def test_admin_creates_a_user_with_inline_errors(
    client: TestClient, make_user: UserFactory
) -> None:
    csrf = _login(client, make_user(Role.ADMIN))
    data = {"full_name": "New Nurse", "email": "not-an-email", "role": "nurse", "password": "x"}
    r = client.post("/admin/users", data={**data, "csrf_token": csrf}, headers=HTMX)
    assert r.status_code == 422
    assert 'id="e-email"' in r.text
    assert 'id="e-password"' in r.text
    data |= {"email": "new.nurse@example.org", "password": "a long enough password"}
    r = client.post("/admin/users", data={**data, "csrf_token": csrf}, headers=HTML)
    assert "User new.nurse@example.org (nurse) created." in r.text
    again = client.post("/admin/users", data={**data, "csrf_token": csrf}, headers=HTMX)
    assert again.status_code == 409
    assert "a long enough password" not in again.text


def test_only_an_admin_creates_users(client: TestClient, make_user: UserFactory) -> None:
    csrf = _login(client, make_user(Role.CLINICIAN))
    data = {"full_name": "X", "email": "x@example.org", "role": "admin", "password": "p" * 12}
    r = client.post("/admin/users", data={**data, "csrf_token": csrf}, headers=HTML)
    assert r.status_code == 403
