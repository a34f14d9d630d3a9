"""Passwords, bearer tokens, roles, and page sessions with CSRF."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import argon2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import AuthToken, Role, User
from openvns.clinic.auth.security import make_password_hasher
from openvns.clinic.config import Settings
from openvns.clinic.db.base import utcnow
from tests.clinic.conftest import PASSWORD, HeadersFactory, UserFactory

API = "/api/v1"
GENERIC = {"detail": "invalid credentials"}


def _login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    r = client.post(f"{API}/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    token: str = body["access_token"]
    return token


def test_password_is_stored_as_argon2id(make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    assert user.password_hash.startswith("$argon2id$v=19$")
    assert PASSWORD not in user.password_hash


def test_production_uses_argon2_cffi_defaults() -> None:
    assert Settings(database_url="sqlite://", secret_key="k").argon2_parameters is None
    hasher = make_password_hasher(None)
    default = argon2.PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )


def test_token_login_and_me(client: TestClient, make_user: UserFactory, db: Session) -> None:
    user = make_user(Role.CLINICIAN)
    token = _login(client, user.email.upper())  # e-mail is case-insensitive
    r = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["email"] == user.email
    assert r.json()["role"] == "clinician"
    assert "password_hash" not in r.json()
    stored = db.scalars(select(AuthToken.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "inactive"])
def test_login_failure_is_generic(
    client: TestClient, make_user: UserFactory, db: Session, case: str
) -> None:
    user = make_user(Role.CLINICIAN)
    email, password = user.email, PASSWORD
    if case == "wrong password":
        password = "not the password at all"
    elif case == "unknown email":
        email = "nobody@example.org"
    else:
        db.execute(update(User).where(User.id == user.id).values(active=False))
        db.commit()
    r = client.post(f"{API}/auth/token", json={"email": email, "password": password})
    assert r.status_code == 401
    assert r.json() == GENERIC
    assert r.headers["www-authenticate"] == "Bearer"


def test_missing_and_bad_tokens_are_401(client: TestClient) -> None:
    assert client.get(f"{API}/auth/me").status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get(f"{API}/auth/me", headers=bad).status_code == 401


def test_expired_token_is_rejected(client: TestClient, make_user: UserFactory, db: Session) -> None:
    user = make_user(Role.NURSE)
    token = _login(client, user.email)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 200
    past = utcnow() - timedelta(seconds=1)
    db.execute(update(AuthToken).where(AuthToken.user_id == user.id).values(expires_at=past))
    db.commit()
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401


def test_logout_revokes_the_token(client: TestClient, make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    token = _login(client, user.email)
    other = _login(client, user.email)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401
    still = {"Authorization": f"Bearer {other}"}
    assert client.get(f"{API}/auth/me", headers=still).status_code == 200


def test_admin_creates_users_who_can_sign_in(client: TestClient, as_role: HeadersFactory) -> None:
    admin = as_role(Role.ADMIN)
    body = {
        "email": "New.Nurse@Example.org",
        "full_name": "New Nurse",
        "role": "nurse",
        "password": "a long enough password",
    }
    r = client.post(f"{API}/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "new.nurse@example.org"
    _login(client, "new.nurse@example.org", "a long enough password")
    assert client.post(f"{API}/users", json=body, headers=admin).status_code == 409
    listed = client.get(f"{API}/users", headers=admin, params={"limit": 1})
    assert listed.status_code == 200
    assert listed.json()["total"] >= 2
    assert len(listed.json()["items"]) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("password", "short"), ("role", "surgeon"), ("email", "not-an-email"), ("extra", 1)],
)
def test_user_creation_validates(
    client: TestClient, as_role: HeadersFactory, field: str, value: object
) -> None:
    body = {
        "email": "x@example.org",
        "full_name": "X",
        "role": "nurse",
        "password": "a fine passphrase",
    }
    r = client.post(f"{API}/users", json={**body, field: value}, headers=as_role(Role.ADMIN))
    assert r.status_code == 422


@pytest.mark.parametrize("role", [Role.NURSE, Role.CLINICIAN, Role.PATIENT])
def test_only_admin_manages_users(client: TestClient, as_role: HeadersFactory, role: Role) -> None:
    body = {"email": "x@example.org", "full_name": "X", "role": "admin", "password": "p" * 12}
    headers = as_role(role)
    assert client.post(f"{API}/users", json=body, headers=headers).status_code == 403
    assert client.get(f"{API}/users", headers=headers).status_code == 403


# --- page sessions and CSRF -------------------------------------------------------------------


def _page_login(client: TestClient, email: str) -> str:
    """Sign in through the page form; returns the session's CSRF token."""
    csrf = client.get("/auth/login").json()["csrf_token"]
    r = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    token: str = client.get("/auth/session").json()["csrf_token"]
    return token


@pytest.mark.parametrize("csrf", [None, "", "forged"])
def test_login_form_requires_its_csrf_token(
    client: TestClient, make_user: UserFactory, csrf: str | None
) -> None:
    user = make_user(Role.NURSE)
    client.get("/auth/login")
    data = {"email": user.email, "password": PASSWORD}
    if csrf is not None:
        data["csrf_token"] = csrf
    r = client.post("/auth/login", data=data, follow_redirects=False)
    assert r.status_code == 403
    assert "openvns_session" not in client.cookies


def test_page_login_sets_a_hardened_cookie(client: TestClient, make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    csrf = client.get("/auth/login").json()["csrf_token"]
    data = {"email": user.email, "password": PASSWORD, "csrf_token": csrf}
    r = client.post("/auth/login", data=data, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "openvns_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert client.get("/auth/session").json()["user"]["email"] == user.email


def test_page_login_failure_is_generic(client: TestClient, make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    csrf = client.get("/auth/login").json()["csrf_token"]
    data = {"email": user.email, "password": "wrong password!", "csrf_token": csrf}
    r = client.post("/auth/login", data=data, follow_redirects=False)
    assert r.status_code == 401
    assert r.json() == GENERIC


def test_unsafe_cookie_requests_need_the_session_csrf_token(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user(Role.CLINICIAN)
    csrf = _page_login(client, user.email)
    body = {"mrn": "CSRF-1", "full_name": "A B", "date_of_birth": "1970-01-01", "sex": "female"}
    assert client.get(f"{API}/patients").status_code == 200  # safe: no token needed
    assert client.post(f"{API}/patients", json=body).status_code == 403
    forged = {"X-CSRF-Token": "0" * 64}
    assert client.post(f"{API}/patients", json=body, headers=forged).status_code == 403
    good = {"X-CSRF-Token": csrf}
    assert client.post(f"{API}/patients", json=body, headers=good).status_code == 201


def test_page_logout_needs_csrf_and_revokes_the_session(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user(Role.NURSE)
    csrf = _page_login(client, user.email)
    cookie = client.cookies["openvns_session"]
    bad = client.post("/auth/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert bad.status_code == 403
    r = client.post("/auth/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    # Replaying the old cookie does not work: the session is gone from the database.
    client.cookies.set("openvns_session", cookie)
    assert client.get("/auth/session").status_code == 401


def test_expired_session_is_rejected(
    client: TestClient, make_user: UserFactory, db: Session
) -> None:
    user = make_user(Role.NURSE)
    _page_login(client, user.email)
    past = utcnow() - timedelta(seconds=1)
    db.execute(update(AuthToken).where(AuthToken.user_id == user.id).values(expires_at=past))
    db.commit()
    assert client.get("/auth/session").status_code == 401


def test_bearer_requests_need_no_csrf(
    client: TestClient, headers_for: Callable[[User], dict[str, str]], make_user: UserFactory
) -> None:
    headers = headers_for(make_user(Role.NURSE))
    body = {"mrn": "B-1", "full_name": "A B", "date_of_birth": "1970-01-01", "sex": "male"}
    assert client.post(f"{API}/patients", json=body, headers=headers).status_code == 201
