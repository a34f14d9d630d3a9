"""The server under more concurrent requests than it has threads and connections (issue 12).

At 100 concurrent users the server stalled: requests waiting for a database connection or for
the write turn held every worker thread, so the request holding the turn could not get a thread
to run its route and give the turn back; it advanced only through the 5 s and 30 s timeouts and
most requests answered 500. These tests rebuild that structure without timings: more writers
than worker threads, every one of them needing a connection and the write turn, must all
complete.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
import argon2
import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from openvns.clinic.app import create_app
from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role, TokenKind
from openvns.clinic.config import Settings
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import (
    POOL_SIZE,
    SESSIONS,
    SLOW_SESSIONS,
    SessionDep,
    create_engine_for,
    make_session_factory,
    session_limits,
    transaction,
)
from openvns.clinic.patients import service as patient_service

#: Worker threads of the test server (anyio's default is 40): few, so that the writers below
#: outnumber them many times over.
WORKER_THREADS = 4
#: Concurrent writers: more than the worker threads and than the old pool (5 + 10).
WRITERS = 24
API = "/api/v1"


class _FewThreadsCountingArrivals:
    """ASGI wrapper: gives the server's event loop :data:`WORKER_THREADS` worker threads, and
    counts the HTTP requests that have arrived (``arrived`` is set once ``expected`` have)."""

    def __init__(self, app: ASGIApp, expected: int) -> None:
        self.app = app
        self.expected = expected
        self.count = 0
        self.arrived: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        if self.arrived is None:
            self.arrived = asyncio.Event()
        if scope["type"] == "http" and scope["path"] == "/probe":
            self.count += 1
            if self.count >= self.expected:
                self.arrived.set()
        await self.app(scope, receive, send)


@dataclass
class Served:
    """A clinic app under uvicorn with a ``POST /probe`` route that writes one row."""

    base: str
    path: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    path = tmp_path / "c.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    app = create_app(Settings(database_url=url, secret_key="k"))
    wrapper = _FewThreadsCountingArrivals(app, WRITERS)

    async def all_arrived(session: SessionDep) -> None:
        # After the session (and, for a write, the write turn) is taken, and without holding a
        # thread: wait until every writer has arrived, so that all of them are waiting for a
        # thread, a connection or the turn when the turn's holder needs a thread for its route.
        assert wrapper.arrived is not None
        await wrapper.arrived.wait()

    @app.post("/probe", status_code=201)
    def probe(n: int, session: SessionDep, _: None = Depends(all_arrived)) -> int:
        session.execute(text("INSERT INTO probe (n) VALUES (:n)"), {"n": n})
        return n

    with _uvicorn(wrapper) as base:
        try:
            yield Served(base, path)
        finally:
            app.state.engine.dispose()


@contextmanager
def _uvicorn(app: ASGIApp) -> Iterator[str]:
    """``app`` under uvicorn on 127.0.0.1 at a free port; its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="concurrency-uvicorn", daemon=True)
    thread.start()
    for _ in range(1000):  # bounded wait for start-up
        if server.started or not thread.is_alive():
            break
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_more_writers_than_worker_threads_all_complete(served: Served) -> None:
    """24 concurrent writes on 4 worker threads: every one answers 201 and its row is there.

    Before the fix the writers waiting for a connection or the write turn held all 4 threads,
    the turn's holder waited for a thread, and the waits ended in 500s ("database is locked",
    pool timeouts)."""
    answers: dict[int, int | str] = {}

    def write(n: int) -> None:
        try:
            r = httpx.post(f"{served.base}/probe", params={"n": n}, timeout=120.0)
            answers[n] = r.status_code
        except httpx.HTTPError as exc:  # a stalled server: reported, not hung
            answers[n] = repr(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == dict.fromkeys(range(WRITERS), 201)
    with sqlite3.connect(served.path) as conn:
        rows = sorted(n for (n,) in conn.execute("SELECT n FROM probe"))
    assert rows == list(range(WRITERS))


class _BlockingHasher(argon2.PasswordHasher):
    """Cheap hashes; ``verify`` waits until ``release`` is set (a sign-in hashing for ever)."""

    def __init__(self) -> None:
        super().__init__(**_cheapest())
        self.entered = threading.Event()
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.entered.set()
        assert self.release.wait(timeout=120), "never released"
        return super().verify(hash, password)


def _cheapest() -> dict[str, Any]:
    p = argon2.profiles.CHEAPEST
    return {"time_cost": p.time_cost, "memory_cost": p.memory_cost, "parallelism": p.parallelism,
            "hash_len": p.hash_len, "salt_len": p.salt_len}  # fmt: skip


def test_sign_ins_hashing_never_take_the_other_requests_places(tmp_path: Path) -> None:
    """While sign-ins fill their lane (each one hashing until released), other requests are
    admitted and answered. Before, sign-ins shared the one admission with every request, so
    enough of them hashing (a login flood) kept everyone else waiting."""
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, secret_key="k"))
    hasher = app.state.password_hasher = _BlockingHasher()
    wrapper = _FewThreadsCountingArrivals(app, expected=0)

    @app.get("/probe")
    def probe(session: SessionDep) -> int:
        return int(session.scalar(text("SELECT 1")) or 0)

    answers: list[int | str] = []

    def sign_in(n: int) -> None:
        body = {"email": f"flood{n}@example.org", "password": "not the password"}
        try:
            answers.append(
                httpx.post(f"{base}{API}/auth/token", json=body, timeout=120).status_code
            )
        except httpx.HTTPError as exc:
            answers.append(repr(exc))

    with _uvicorn(wrapper) as base:
        flood = [threading.Thread(target=sign_in, args=(n,)) for n in range(WORKER_THREADS)]
        try:
            for thread in flood:
                thread.start()
            assert hasher.entered.wait(timeout=60), "no sign-in reached the hasher"
            # One sign-in is hashing (its lane is full) and the others are waiting: the probe
            # is answered all the same.
            r = httpx.get(f"{base}/probe", timeout=30)
            assert (r.status_code, r.json()) == (200, 1)
        finally:
            hasher.release.set()
            for thread in flood:
                thread.join()
            app.state.engine.dispose()
    assert sorted(map(str, answers)) == ["401"] * WORKER_THREADS


def test_session_limits_are_below_the_worker_threads_and_within_the_pool(
    tmp_path: Path,
) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    try:
        assert session_limits(engine, 40) == (SESSIONS, SLOW_SESSIONS)
        assert SESSIONS + SLOW_SESSIONS <= POOL_SIZE
        assert session_limits(engine, 4) == (2, 1)  # a writer waiting never holds the last thread
        small = create_engine_for(f"sqlite:///{tmp_path / 's.sqlite3'}", pool_size=3)
        assert session_limits(small, 40) == (2, 1)  # an admitted request finds a connection
        small.dispose()
    finally:
        engine.dispose()


# --- diary writes take the write lock only around their insert ------------------------------


@dataclass
class DiaryClinic:
    """A file-backed clinic with one patient (bearer token) and their pain entry of yesterday."""

    app: FastAPI
    client: TestClient
    path: Path
    patient_id: int
    headers: dict[str, str]
    day: date


@pytest.fixture
def diary_clinic(tmp_path: Path) -> Iterator[DiaryClinic]:
    path = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    settings = Settings(
        database_url=url, secret_key="k", argon2_parameters=argon2.profiles.CHEAPEST
    )
    app = create_app(settings)
    hasher = app.state.password_hasher
    day = date.today() - timedelta(days=1)
    with make_session_factory(app.state.engine)() as s, transaction(s):
        nurse = auth_service.create_user(
            s, email="n@example.org", full_name="N", role=Role.NURSE,
            password="a long nurse password", hasher=hasher,
        )  # fmt: skip
        user = auth_service.create_user(
            s, email="p@example.org", full_name="P", role=Role.PATIENT,
            password="a long patient password", hasher=hasher,
        )  # fmt: skip
        values: dict[str, Any] = {"mrn": "M1", "full_name": "P", "sex": "female"}
        values |= {"date_of_birth": date(1970, 1, 1), "user_id": user.id}
        patient = patient_service.create_patient(s, nurse, values)
        raw, _ = auth_service.issue_token(s, user, TokenKind.BEARER, settings.token_ttl)
        patient_id = patient.id
    client = TestClient(app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {raw}"}
    body = {"entry_date": day.isoformat(), "pain_nrs": 5}
    r = client.post(f"{API}/patients/{patient_id}/diary/pain", json=body, headers=headers)
    assert r.status_code == 201, r.text
    try:
        yield DiaryClinic(app, client, path, patient_id, headers, day)
    finally:
        app.state.engine.dispose()


@pytest.fixture
def write_lock_held(diary_clinic: DiaryClinic) -> Iterator[None]:
    """Another connection holds SQLite's write lock (as a writer in another process would)."""
    conn = sqlite3.connect(diary_clinic.path, timeout=0, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.usefixtures("write_lock_held")
@pytest.mark.parametrize(("case", "expected"), [("duplicate date", 409), ("not their own", 404)])
def test_a_refused_diary_write_needs_no_write_lock(
    diary_clinic: DiaryClinic, case: str, expected: int
) -> None:
    """A duplicate entry (409) and another patient's diary (404) are answered from reads while
    another connection holds the write lock. Before, every diary POST took the write lock before
    its route ran and answered 500 ("database is locked") once the busy timeout ran out."""
    c = diary_clinic
    patient_id = c.patient_id if case == "duplicate date" else c.patient_id + 1
    body = {"entry_date": c.day.isoformat(), "pain_nrs": 3}
    r = c.client.post(f"{API}/patients/{patient_id}/diary/pain", json=body, headers=c.headers)
    assert r.status_code == expected, r.text
