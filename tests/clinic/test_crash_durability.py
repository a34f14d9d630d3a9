"""Kill the server mid-write: the database stays consistent and no acknowledged write is lost.

The real server (``openvns clinic serve``) runs as a subprocess on 127.0.0.1 at a free port,
over a fresh SQLite file (and a fresh PostgreSQL database when ``OPENVNS_TEST_POSTGRES_URL`` is
set). Writer threads create patients through the API and record every creation the server
acknowledged (201). The server is SIGKILLed while they write; then the database must open
consistent (SQLite ``PRAGMA integrity_check`` is ``ok``; Alembic at head), hold every
acknowledged patient, and hold each change and its audit row together or not at all. A restarted
server serves the same records. Bounded: writes stop after ``MAX_WRITES`` or ``WRITE_SECONDS``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import argon2
import httpx
from sqlalchemy import select, text

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role
from openvns.clinic.db.migrations import current_revision, head_revision, upgrade
from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction
from openvns.clinic.patients.models import Patient

PASSWORD = "crash test password"
WRITERS = 4
#: Bounds of the writing before the kill (it comes after KILL_AFTER acknowledged writes).
MAX_WRITES = 2_000
WRITE_SECONDS = 10.0
KILL_AFTER = 60
START_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(database_url: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``openvns clinic serve`` on 127.0.0.1 at a free port; killed at the end if still up."""
    port = _free_port()
    env = {**os.environ, "OPENVNS_SECRET_KEY": "crash-test-secret"}
    command = [sys.executable, "-c", "from openvns.cli.main import app; app()"]
    command += ["clinic", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database-url", database_url]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert proc.poll() is None, f"server exited:\n{log.read_text()}"
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server did not start:\n{log.read_text()}"
            time.sleep(0.05)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _seed_nurse(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine_for(database_url)
    try:
        hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
        with make_session_factory(engine)() as session, transaction(session):
            auth_service.create_user(
                session,
                email="crash.nurse@example.org",
                full_name="Crash Nurse",
                role=Role.NURSE,
                password=PASSWORD,
                hasher=hasher,
            )
    finally:
        engine.dispose()


def _token(base: str) -> str:
    body = {"email": "crash.nurse@example.org", "password": PASSWORD}
    r = httpx.post(f"{base}/api/v1/auth/token", json=body, timeout=10.0)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


class Writers:
    """Threads that create patients until the server goes away; what was acknowledged."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acknowledged: dict[str, int] = {}  # MRN -> id answered with 201
        self.cut_off = 0  # requests that died with the server
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(WRITERS)]

    def _write(self, writer: int) -> None:
        deadline = time.monotonic() + WRITE_SECONDS
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=10.0) as client:
            for i in range(MAX_WRITES // WRITERS):
                if self.stop.is_set() or time.monotonic() > deadline:
                    return
                mrn = f"CRASH-{writer}-{i}"
                body = {
                    "mrn": mrn,
                    "full_name": f"Crash Patient {writer} {i}",
                    "date_of_birth": "1970-01-01",
                    "sex": "female",
                    "diagnosis": "CRPS",
                }
                try:
                    r = client.post("/api/v1/patients", json=body)
                except httpx.TransportError:
                    with self.lock:
                        self.cut_off += 1
                    return
                assert r.status_code == 201, r.text
                with self.lock:
                    self.acknowledged[mrn] = r.json()["id"]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
            assert not thread.is_alive()


def _crash_and_check(database_url: str, tmp_path: Path) -> None:
    _seed_nurse(database_url)
    log = tmp_path / "server.log"
    with _server(database_url, log) as (proc, base):
        writers = Writers(base, _token(base))
        writers.start()
        deadline = time.monotonic() + WRITE_SECONDS
        while writers.count() < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # mid-stream: the writers are still posting
        proc.wait(timeout=10)
        writers.join()
    acknowledged = writers.acknowledged
    assert len(acknowledged) >= KILL_AFTER, f"too few writes before the kill:\n{log.read_text()}"

    # The database opens consistent and at the head revision.
    assert current_revision(database_url) == head_revision()
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        with make_session_factory(engine)() as session:
            patients = {p.mrn: p for p in session.scalars(select(Patient))}
            audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "patient"))
            created = [e for e in audit if e.action == "create"]
        # Every acknowledged write is there, with the id the server answered.
        missing = sorted(set(acknowledged) - set(patients))
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
        assert all(patients[mrn].id == pid for mrn, pid in acknowledged.items())
        # Nothing half-written: each patient has exactly one creation audit row, and each
        # creation audit row names a stored patient with what it stored.
        by_id = {p.id: p for p in patients.values()}
        assert sorted(e.entity_id for e in created) == sorted(by_id)
        for entry in created:
            assert entry.after is not None
            assert entry.after["mrn"] == by_id[entry.entity_id].mrn
        stored = len(patients)
    finally:
        engine.dispose()

    # A restarted server serves the same records.
    with _server(database_url, log) as (_, base):
        headers = {"Authorization": f"Bearer {_token(base)}"}
        r = httpx.get(f"{base}/api/v1/patients", params={"limit": 1}, headers=headers)
        assert r.status_code == 200
        assert r.json()["total"] == stored
    # Some writes were in flight or just done when the server died; none of them is required.
    assert stored >= len(acknowledged)


def test_sigkill_mid_write_sqlite(tmp_path: Path) -> None:
    _crash_and_check(f"sqlite:///{tmp_path / 'crash.sqlite3'}", tmp_path)


def test_sigkill_mid_write_postgresql(
    postgres_database: Callable[[str], str], tmp_path: Path
) -> None:
    _crash_and_check(postgres_database("crash"), tmp_path)
