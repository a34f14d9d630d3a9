"""Sign-in hardening (issue 12): no password hashing under the write lock, one verify per attempt,
lockout and per-address limits, the password policy, deactivation and token revocation, and a
private SQLite file."""

from __future__ import annotations

import re
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import argon2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openvns.cli.main import app as cli_app
from openvns.clinic.app import create_app
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth import service
from openvns.clinic.auth.models import AuthToken, Role
from openvns.clinic.config import Settings
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import (
    WRITE_TRANSACTION,
    create_engine_for,
    make_session_factory,
    transaction,
    write_transaction,
)
from openvns.clinic.errors import AuthenticationError
from tests.clinic.conftest import PASSWORD, SECRET, HeadersFactory, UserFactory

API = "/api/v1"
HTML = {"Accept": "text/html"}


class RecordingHasher(argon2.PasswordHasher):
    """The cheapest argon2 hasher, recording each ``hash`` and ``verify`` call (and running
    ``on_verify`` before each verify)."""

    def __init__(self, on_verify: Any = None) -> None:
        p = argon2.profiles.CHEAPEST
        super().__init__(
            time_cost=p.time_cost,
            memory_cost=p.memory_cost,
            parallelism=p.parallelism,
            hash_len=p.hash_len,
            salt_len=p.salt_len,
            type=p.type,
        )
        self.calls: list[str] = []
        self.on_verify = on_verify

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.calls.append("hash")
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.calls.append("verify")
        if self.on_verify is not None:
            self.on_verify()
        return super().verify(hash, password)


# --- 1. the password is verified without the write lock -----------------------------------------


@dataclass
class FileClinic:
    """An app on its own SQLite file, without the test-session override."""

    app: FastAPI
    client: TestClient
    path: Path
    email: str


@pytest.fixture
def file_clinic(tmp_path: Path) -> Iterator[FileClinic]:
    path = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    settings = Settings(
        database_url=url, secret_key=SECRET, argon2_parameters=argon2.profiles.CHEAPEST
    )
    app = create_app(settings)
    with make_session_factory(app.state.engine)() as s, transaction(s):
        service.create_user(
            s,
            email="c@example.org",
            full_name="C",
            role=Role.CLINICIAN,
            password=PASSWORD,
            hasher=app.state.password_hasher,
        )
    try:
        yield FileClinic(app, TestClient(app, raise_server_exceptions=False), path, "c@example.org")
    finally:
        app.state.engine.dispose()


def _write_lock_free(path: Path) -> bool:
    """Whether another connection could take SQLite's write lock right now."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()
    return True


def _page_login(client: TestClient, email: str, password: str) -> Any:
    token = client.get("/auth/login").json()["csrf_token"]
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/auth/login", data=data, follow_redirects=False)


@pytest.mark.parametrize("route", ["api", "page"])
def test_password_is_verified_without_the_write_lock(file_clinic: FileClinic, route: str) -> None:
    free: list[bool] = []
    hasher = RecordingHasher(on_verify=lambda: free.append(_write_lock_free(file_clinic.path)))
    file_clinic.app.state.password_hasher = hasher
    c, email = file_clinic.client, file_clinic.email
    for password, ok in ((PASSWORD, True), ("a wrong password here", False)):
        if route == "api":
            r = c.post(f"{API}/auth/token", json={"email": email, "password": password})
            assert r.status_code == (200 if ok else 401), r.text
        else:
            r = _page_login(c, email, password)
            assert r.status_code == (303 if ok else 401), r.text
    assert free == [True, True]


def test_admin_page_hashes_a_new_password_without_the_write_lock(file_clinic: FileClinic) -> None:
    """The admin page's user creation hashes the new password before its write transaction (as
    ``POST /api/v1/users`` does): the write lock is free while argon2 runs, and the user exists."""
    app, c = file_clinic.app, file_clinic.client
    with make_session_factory(app.state.engine)() as s, transaction(s):
        service.create_user(s, email="admin@example.org", full_name="A", role=Role.ADMIN,
                            password=PASSWORD, hasher=app.state.password_hasher)  # fmt: skip
    assert _page_login(c, "admin@example.org", PASSWORD).status_code == 303
    free: list[bool] = []

    class Hasher(RecordingHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            free.append(_write_lock_free(file_clinic.path))
            return super().hash(password, salt=salt)

    app.state.password_hasher = Hasher()
    page = c.get("/", headers={"Accept": "text/html"})
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    data = {"full_name": "New Nurse", "email": "new.nurse@example.org", "role": "nurse",
            "password": "a long enough password", "csrf_token": match.group(1)}  # fmt: skip
    r = c.post("/admin/users", data=data, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert "User new.nurse@example.org (nurse) created." in r.text
    assert free == [True]


@pytest.mark.parametrize("holder", ["another connection", "this process's write turn"])
def test_login_verifies_while_another_writer_holds_the_lock(
    file_clinic: FileClinic, holder: str
) -> None:
    """A login's password check waits for no writer: it runs while another writer holds the write
    lock (and releases it), and the token is stored afterwards."""
    release_writer: Any
    if holder == "another connection":
        conn = sqlite3.connect(file_clinic.path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")

        def release_writer() -> None:
            conn.execute("COMMIT")
            conn.close()
    else:
        session = make_session_factory(file_clinic.app.state.engine)()
        session.connection(execution_options={WRITE_TRANSACTION: True})
        release_writer = session.close
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            release_writer()

    hasher = RecordingHasher(on_verify=release)
    file_clinic.app.state.password_hasher = hasher
    try:
        body = {"email": file_clinic.email, "password": PASSWORD}
        r = file_clinic.client.post(f"{API}/auth/token", json=body)
    finally:
        release()
    assert hasher.calls == ["verify"]
    assert r.status_code == 200, r.text


def test_write_transaction_holds_the_lock_only_for_its_block(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        with make_session_factory(engine)() as s:
            s.execute(text("SELECT count(*) FROM t"))
            assert _write_lock_free(path)
            with write_transaction(s):
                assert not _write_lock_free(path)
                s.execute(text("INSERT INTO t VALUES (1)"))
            assert _write_lock_free(path)
            assert s.scalar(text("SELECT count(*) FROM t")) == 1
            s.add(AuditEntry(action="x", entity="y", entity_id=1))
            with pytest.raises(RuntimeError, match="inside it"), write_transaction(s):
                pass
    finally:
        engine.dispose()


# --- 2. the same hasher work for an unknown e-mail as for a wrong password ----------------------


def test_unknown_email_costs_what_a_wrong_password_costs(
    db: Session, make_user: UserFactory
) -> None:
    user = make_user(Role.NURSE)
    hasher = RecordingHasher()
    with pytest.raises(AuthenticationError):
        service.authenticate(db, "warm-up@example.org", "x", hasher)  # the one dummy hash
    calls: dict[str, list[str]] = {}
    for case, email in (("unknown", "nobody@example.org"), ("wrong", user.email)):
        for _ in range(2):
            hasher.calls.clear()
            with pytest.raises(AuthenticationError):
                service.authenticate(db, email, "not the password at all", hasher)
            calls.setdefault(case, []).extend(hasher.calls)
    assert calls["unknown"] == calls["wrong"] == ["verify", "verify"]


# --- 3. lockout and the per-address limit -------------------------------------------------------


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _throttle(app: FastAPI, clock: Clock, **limits: Any) -> Any:
    from openvns.clinic.auth.dependencies import get_login_throttle
    from openvns.clinic.auth.throttle import LoginThrottle

    values = {
        "max_failures": 3,
        "failure_window": timedelta(minutes=15),
        "lockout": timedelta(minutes=10),
        "attempts_per_minute": 100,
    }
    throttle = LoginThrottle(**(values | limits), clock=clock)
    app.dependency_overrides[get_login_throttle] = lambda: throttle
    return throttle


def _token(client: TestClient, email: str, password: str) -> Any:
    return client.post(f"{API}/auth/token", json={"email": email, "password": password})


def test_account_locks_after_failures_and_unknown_emails_alike(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    _throttle(app, clock)
    user = make_user(Role.CLINICIAN)
    answers = {}
    for email in (user.email, "nobody@example.org"):
        for _ in range(3):
            assert _token(client, email, "a wrong password here").status_code == 401
        locked = _token(client, email, PASSWORD)
        assert locked.status_code == 429, locked.text
        answers[email] = (locked.json(), locked.headers["retry-after"])
    assert answers[user.email] == answers["nobody@example.org"]
    assert answers[user.email][1] == str(10 * 60)


def test_lock_expires(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    _throttle(app, clock)
    user = make_user(Role.CLINICIAN)
    for _ in range(3):
        _token(client, user.email, "a wrong password here")
    clock.now += 9 * 60
    r = _token(client, user.email, PASSWORD)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "60"
    clock.now += 60
    assert _token(client, user.email, PASSWORD).status_code == 200


def test_failures_outside_the_window_do_not_lock(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    _throttle(app, clock)
    user = make_user(Role.CLINICIAN)
    for _ in range(2):
        _token(client, user.email, "a wrong password here")
    clock.now += 16 * 60
    _token(client, user.email, "a wrong password here")
    assert _token(client, user.email, PASSWORD).status_code == 200


def test_locked_account_is_refused_without_hashing(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    from openvns.clinic.auth.dependencies import get_hasher

    _throttle(app, clock)
    user = make_user(Role.CLINICIAN)
    hasher = RecordingHasher()
    app.dependency_overrides[get_hasher] = lambda: hasher
    for _ in range(3):
        _token(client, user.email, "a wrong password here")
    hasher.calls.clear()
    assert _token(client, user.email, PASSWORD).status_code == 429
    assert hasher.calls == []


def test_client_address_is_rate_limited(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    _throttle(app, clock, attempts_per_minute=5)
    user = make_user(Role.CLINICIAN)
    for i in range(5):
        assert _token(client, f"guess{i}@example.org", "a wrong password here").status_code == 401
    r = _token(client, user.email, PASSWORD)
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == "60"
    clock.now += 30
    assert _token(client, user.email, PASSWORD).status_code == 429
    clock.now += 30
    assert _token(client, user.email, PASSWORD).status_code == 200


def test_successful_sign_ins_do_not_use_up_the_address_limit(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    _throttle(app, clock, attempts_per_minute=3)
    user = make_user(Role.CLINICIAN)
    for _ in range(6):
        assert _token(client, user.email, PASSWORD).status_code == 200


def test_page_sign_in_is_throttled_too(
    app: FastAPI, client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    _throttle(app, clock)
    user = make_user(Role.CLINICIAN)
    for _ in range(3):
        assert _page_login(client, user.email, "a wrong password here").status_code == 401
    r = _page_login(client, user.email, PASSWORD)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "600"
    token = client.get("/auth/login", headers=HTML).cookies.get("openvns_login_csrf")
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token or ""}
    page = client.post("/auth/login", data=data, headers=HTML, follow_redirects=False)
    assert page.status_code == 429
    assert "Too many" in page.text


def test_throttle_forgets_old_entries(clock: Clock) -> None:
    from openvns.clinic.auth.throttle import LoginThrottle

    throttle = LoginThrottle(
        max_failures=3,
        failure_window=timedelta(minutes=1),
        lockout=timedelta(minutes=1),
        attempts_per_minute=10,
        clock=clock,
    )
    for i in range(50):
        throttle.admit(f"10.0.0.{i}", f"u{i}@example.org")
        throttle.failed(f"10.0.0.{i}", f"u{i}@example.org")
    assert throttle.tracked() > 0
    clock.now += 61
    throttle.sweep()
    assert throttle.tracked() == 0


def test_throttle_sweeps_as_it_grows(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    from openvns.clinic.auth import throttle as module

    monkeypatch.setattr(module, "_SWEEP_ABOVE", 10)
    throttle = module.LoginThrottle(
        max_failures=3,
        failure_window=timedelta(minutes=1),
        lockout=timedelta(minutes=1),
        attempts_per_minute=10,
        clock=clock,
    )
    for i in range(11):
        throttle.admit(f"10.0.0.{i}", "u@example.org")
    assert throttle.tracked() == 11
    clock.now += 61
    throttle.admit("10.0.1.1", "u@example.org")
    assert throttle.tracked() == 1


# --- 4. password policy -------------------------------------------------------------------------

WEAK = [
    ("short", "at least 12"),
    (" " * 12, "white space"),
    ("aaaaaaaaaaaa", "one repeated character"),
    ("password1234", "common"),
    ("Password1234", "common"),
    ("qwertyuiop123", "common"),
]


@pytest.mark.parametrize(("password", "rule"), WEAK)
def test_user_creation_refuses_weak_passwords(
    client: TestClient, as_role: HeadersFactory, password: str, rule: str
) -> None:
    body = {"email": "x@example.org", "full_name": "X", "role": "nurse", "password": password}
    r = client.post(f"{API}/users", json=body, headers=as_role(Role.ADMIN))
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"][-1] == "password"
    assert rule in error["msg"]
    assert error["input"] == "(hidden)"  # the refused password is not echoed back
    if password.strip():
        assert all(password not in str(v) for k, v in error.items() if k not in ("msg", "type"))


def test_no_password_is_echoed_in_a_422(client: TestClient, as_role: HeadersFactory) -> None:
    secret = "x" * 5000  # longer than any password the API takes
    r = client.post(f"{API}/auth/token", json={"email": "a@example.org", "password": secret})
    assert r.status_code == 422, r.text
    assert secret not in r.text
    body = {"current_password": secret, "new_password": "short"}
    r = client.post(f"{API}/auth/password", json=body, headers=as_role(Role.NURSE))
    assert r.status_code == 422, r.text
    assert secret not in r.text
    assert {e["input"] for e in r.json()["detail"]} == {"(hidden)"}


def test_password_change(client: TestClient, make_user: UserFactory) -> None:
    user = make_user(Role.NURSE)
    old = _token(client, user.email, PASSWORD).json()["access_token"]
    other = _token(client, user.email, PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {old}"}
    weak = {"current_password": PASSWORD, "new_password": "password1234"}
    r = client.post(f"{API}/auth/password", json=weak, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == "new_password"
    assert "password1234" not in r.text.replace(r.json()["detail"][0]["msg"], "")
    wrong = {"current_password": "not the password!", "new_password": "a new long passphrase"}
    assert client.post(f"{API}/auth/password", json=wrong, headers=headers).status_code == 401
    good = {"current_password": PASSWORD, "new_password": "a new long passphrase"}
    assert client.post(f"{API}/auth/password", json=good, headers=headers).status_code == 204
    assert _token(client, user.email, PASSWORD).status_code == 401
    assert _token(client, user.email, "a new long passphrase").status_code == 200
    # the other sessions end, the one that changed the password stays
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 200
    other_headers = {"Authorization": f"Bearer {other}"}
    assert client.get(f"{API}/auth/me", headers=other_headers).status_code == 401


@pytest.mark.parametrize(("password", "rule"), WEAK[1:4])
def test_cli_refuses_weak_passwords(tmp_path: Path, password: str, rule: str) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    args = ["clinic", "create-user", "--email", "n@example.org", "--role", "nurse"]
    args += ["--name", "N", "--password-stdin", "--database-url", url]
    result = CliRunner().invoke(cli_app, args, input=password + "\n")
    assert result.exit_code == 2, result.output
    assert "password" in result.output
    assert rule in result.output


def test_password_list_ships_with_its_source() -> None:
    from openvns.clinic.auth import passwords

    assert "password" in passwords.common_passwords()
    assert passwords.password_problem("P@ssw0rd-2024!") is not None
    assert passwords.password_problem(PASSWORD) is None
    assert "Source" in passwords.COMMON_PASSWORDS_SOURCE


# --- 5. deactivation and token revocation -------------------------------------------------------


def test_deactivated_user_cannot_sign_in_or_use_old_tokens(
    client: TestClient,
    db: Session,
    make_user: UserFactory,
    as_role: HeadersFactory,
) -> None:
    admin = as_role(Role.ADMIN)
    user = make_user(Role.CLINICIAN)
    token = _token(client, user.email, PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = client.post(f"{API}/users/{user.id}/deactivate", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401
    assert _token(client, user.email, PASSWORD).status_code == 401
    assert db.scalar(select(AuthToken).where(AuthToken.user_id == user.id)) is None
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == user.id)
    ).all()
    deactivation = [e for e in entries if e.action == "deactivate"]
    assert len(deactivation) == 1
    before, after = deactivation[0].before, deactivation[0].after
    assert before is not None
    assert before["active"] is True
    assert after is not None
    assert after["active"] is False
    assert "password_hash" not in after

    r = client.post(f"{API}/users/{user.id}/reactivate", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 401  # stays revoked
    assert _token(client, user.email, PASSWORD).status_code == 200


def test_page_session_ends_on_deactivation(
    client: TestClient, make_user: UserFactory, as_role: HeadersFactory
) -> None:
    admin = as_role(Role.ADMIN)
    user = make_user(Role.NURSE)
    assert _page_login(client, user.email, PASSWORD).status_code == 303
    assert client.get("/auth/session").status_code == 200
    assert client.post(f"{API}/users/{user.id}/deactivate", headers=admin).status_code == 200
    assert client.get("/auth/session").status_code == 401


def test_admin_revokes_a_users_tokens(
    client: TestClient, db: Session, make_user: UserFactory, as_role: HeadersFactory
) -> None:
    admin = as_role(Role.ADMIN)
    user = make_user(Role.CLINICIAN)
    tokens = [_token(client, user.email, PASSWORD).json()["access_token"] for _ in range(2)]
    r = client.delete(f"{API}/users/{user.id}/tokens", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": 2}
    for token in tokens:
        me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
    assert _token(client, user.email, PASSWORD).status_code == 200  # still active
    actions = db.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity == "user", AuditEntry.entity_id == user.id
        )
    ).all()
    assert "revoke_tokens" in actions


def test_account_administration_is_admin_only(
    client: TestClient, make_user: UserFactory, as_role: HeadersFactory
) -> None:
    user = make_user(Role.NURSE)
    clinician = as_role(Role.CLINICIAN)
    for method, path in (
        ("POST", f"/users/{user.id}/deactivate"),
        ("POST", f"/users/{user.id}/reactivate"),
        ("DELETE", f"/users/{user.id}/tokens"),
    ):
        assert client.request(method, f"{API}{path}", headers=clinician).status_code == 403
        admin = as_role(Role.ADMIN)
        missing = path.replace(str(user.id), "999999")
        assert client.request(method, f"{API}{missing}", headers=admin).status_code == 404


def test_admin_cannot_deactivate_themself(client: TestClient, make_user: UserFactory) -> None:
    admin = make_user(Role.ADMIN)
    token = _token(client, admin.email, PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = client.post(f"{API}/users/{admin.id}/deactivate", headers=headers)
    assert r.status_code == 409
    assert "own account" in r.json()["detail"]


def test_cli_deactivates_and_reactivates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    runner = CliRunner()
    base = ["--database-url", url]
    create = ["clinic", "create-user", "--email", "n@example.org", "--role", "nurse"]
    create += ["--name", "N", "--password-stdin", *base]
    created = runner.invoke(cli_app, create, input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    engine = create_engine_for(url)
    try:
        with make_session_factory(engine)() as s, transaction(s):
            user = service.find_user_by_email(s, "n@example.org")
            assert user is not None
            service.issue_token(s, user, service.TokenKind.BEARER, timedelta(hours=1))
        r = runner.invoke(cli_app, ["clinic", "deactivate-user", "n@example.org", *base])
        assert r.exit_code == 0, r.output
        assert "deactivated" in r.output
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT active FROM users")) == 0
            assert conn.scalar(text("SELECT count(*) FROM auth_tokens")) == 0
        r = runner.invoke(cli_app, ["clinic", "reactivate-user", "n@example.org", *base])
        assert r.exit_code == 0, r.output
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT active FROM users")) == 1
        r = runner.invoke(cli_app, ["clinic", "revoke-tokens", "nobody@example.org", *base])
        assert r.exit_code == 2
        assert "nobody@example.org" in r.output
    finally:
        engine.dispose()


# --- 6. the SQLite file is private --------------------------------------------------------------


def test_sqlite_files_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "clinic.sqlite3"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM t"))
            files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
            assert {p.name for p in files} >= {path.name, f"{path.name}-wal", f"{path.name}-shm"}
            for p in files:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    finally:
        engine.dispose()
