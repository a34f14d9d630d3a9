"""Several worker processes: ``clinic serve --workers``, the shared sign-in throttle, the writers'
turn between processes, and the early (tarpitted) refusal of a flooding address."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from openvns.cli.main import app as cli_app
from openvns.clinic.auth.dependencies import FLOOD_ANSWER_DELAY_S
from openvns.clinic.auth.shared_throttle import SharedLoginThrottle
from openvns.clinic.auth.signin import address_key
from openvns.clinic.auth.throttle import LoginThrottle, LoginThrottledError
from openvns.clinic.config import Settings, settings_from_environment, settings_to_environment
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import (
    WRITE_TRANSACTION,
    WRITERS_LOCK_SUFFIX,
    create_engine_for,
)

PASSWORD = "correct horse battery staple"
LIMITS = {
    "max_failures": 3,
    "failure_window": timedelta(minutes=15),
    "lockout": timedelta(minutes=15),
    "attempts_per_minute": 5,
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


# --- the shared throttle: two workers' instances on one file ------------------------------------
@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SharedLoginThrottle, SharedLoginThrottle, Clock]]:
    clock = Clock()
    path = tmp_path / "throttle.sqlite3"
    a = SharedLoginThrottle(path, clock=clock, **LIMITS)  # type: ignore[arg-type]
    b = SharedLoginThrottle(path, clock=clock, **LIMITS)  # type: ignore[arg-type]
    yield a, b, clock
    a.close()
    b.close()


def test_failures_in_two_workers_lock_the_account(pair: tuple[SharedLoginThrottle, ...]) -> None:
    a, b, clock = pair
    for throttle in (a, b, a):  # 3 failures, spread over the workers
        throttle.admit("10.0.0.1", "Nurse@Example.org")
        throttle.failed("10.0.0.1", "Nurse@Example.org")
    for throttle in (a, b):
        with pytest.raises(LoginThrottledError) as refused:
            throttle.admit("10.0.0.2", "nurse@example.org")  # any address, the right password
        assert refused.value.retry_after_s == 15 * 60
    clock.now += 15 * 60 + 1
    b.admit("10.0.0.2", "nurse@example.org")  # the lock has passed


def test_the_address_limit_is_shared_and_given_back_on_success(
    pair: tuple[SharedLoginThrottle, ...],
) -> None:
    a, b, clock = pair
    address = "10.0.0.9"
    for n in range(4):
        (a if n % 2 else b).admit(address, f"user{n}@example.org")
        (a if n % 2 else b).failed(address, f"user{n}@example.org")
    b.admit(address, "staff@example.org")
    b.succeeded(address, "staff@example.org")  # gives its attempt back
    assert a.address_retry_after(address) is None
    a.admit(address, "fifth@example.org")  # the 5th attempt that counts
    assert b.address_retry_after(address) == 60
    with pytest.raises(LoginThrottledError):
        b.admit(address, "sixth@example.org")
    clock.now += 61
    assert a.address_retry_after(address) is None
    a.admit(address, "later@example.org")


def test_unlock_and_sweep(pair: tuple[SharedLoginThrottle, ...]) -> None:
    a, b, clock = pair
    for _ in range(3):
        a.admit("10.0.0.1", "x@example.org")
        a.failed("10.0.0.1", "x@example.org")
    assert b.tracked() == 2  # the address's attempts, the e-mail's lock
    b.unlock("X@example.org")
    a.admit("10.0.0.3", "x@example.org")
    clock.now += 3600
    a.sweep()
    assert b.tracked() == 0


def test_in_memory_throttle_answers_the_early_check_alike() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock, **LIMITS)  # type: ignore[arg-type]
    for n in range(5):
        assert throttle.address_retry_after("10.0.0.1") is None
        throttle.admit("10.0.0.1", f"u{n}@example.org")
    assert throttle.address_retry_after("10.0.0.1") == 60
    assert throttle.address_retry_after("10.0.0.2") is None
    clock.now += 30
    assert throttle.address_retry_after("10.0.0.1") == 30


def test_settings_reach_the_workers_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}",
        secret_key="k" * 32,
        cookie_secure=True,
        throttle_path=tmp_path / "t.sqlite3",
    )
    for name, value in settings_to_environment(settings).items():
        monkeypatch.setenv(name, value)
    again = settings_from_environment()
    assert again.database_url == settings.database_url
    assert again.secret_key == settings.secret_key
    assert again.cookie_secure
    assert again.throttle_path == settings.throttle_path


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),  # the same /64: one client
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_the_limit_counts_an_ipv6_client_by_its_64(host: str, key: str) -> None:
    assert address_key(host) == key


def test_rotating_ipv6_addresses_share_one_limit() -> None:
    throttle = LoginThrottle(clock=Clock(), **LIMITS)  # type: ignore[arg-type]
    for n in range(5):
        throttle.admit(address_key(f"2001:db8::{n + 1:x}"), f"u{n}@example.org")
    with pytest.raises(LoginThrottledError):
        throttle.admit(address_key("2001:db8::ffff"), "next@example.org")


# --- the writers' turn between processes --------------------------------------------------------
def _hold_the_turn(lock_path: str, seconds: float, ready: Any) -> None:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ready.set()
    time.sleep(seconds)
    os.close(fd)


def test_a_writer_waits_for_another_process_turn(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{db}"
    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        lock = db.with_name(db.name + WRITERS_LOCK_SUFFIX)
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        holder = context.Process(target=_hold_the_turn, args=(str(lock), 0.6, ready))
        holder.start()
        assert ready.wait(30)
        started = time.monotonic()
        with engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_TRANSACTION: True})
            with conn.begin():
                conn.execute(text("INSERT INTO t VALUES (1)"))
        waited = time.monotonic() - started
        holder.join(30)
        assert waited >= 0.4, waited  # it waited for the other process's turn
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        # a reader never takes the turn
        fd = os.open(lock, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
        finally:
            os.close(fd)
    finally:
        engine.dispose()


def _write_rows(url: str, start: int, n: int) -> None:
    engine = create_engine_for(url)
    try:
        for i in range(start, start + n):
            with engine.connect() as conn:
                conn = conn.execution_options(**{WRITE_TRANSACTION: True})
                with conn.begin():
                    conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": i})
    finally:
        engine.dispose()


def test_writers_in_two_processes_all_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    engine = create_engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_write_rows, args=(url, k * 1000, 60)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT x) FROM t")).scalar() == 180
    engine.dispose()


# --- clinic serve --workers 2, end to end -------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    upgrade(url)
    create = ["clinic", "create-user", "--email", "nurse@example.org", "--role", "nurse"]
    create += ["--name", "N", "--password-stdin", "--database-url", url]
    result = CliRunner().invoke(cli_app, create, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    port = _free_port()
    command = [sys.executable, "-c", "from openvns.cli.main import app; app()", "clinic", "serve"]
    command += ["--port", str(port), "--database-url", url, "--workers", "2"]
    env = {**os.environ, "OPENVNS_SECRET_KEY": secrets.token_hex(16)}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)
    assert "Started parent process" in log.read_text()  # uvicorn's supervisor ran the workers


def _sign_in(base: str, email: str, password: str) -> httpx.Response:
    # a new connection each time: the kernel spreads them over the workers
    with httpx.Client(base_url=base, timeout=30) as client:
        return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_two_workers_share_the_lockout_and_the_address_limit(two_workers: str) -> None:
    base = two_workers
    settings = Settings(database_url="sqlite://", secret_key="-")
    with ThreadPoolExecutor(4) as pool:
        wrong = [
            pool.submit(_sign_in, base, "nurse@example.org", "wrong password guess")
            for _ in range(settings.login_max_failures)
        ]
        assert [f.result().status_code for f in wrong] == [401] * settings.login_max_failures
    locked = _sign_in(base, "nurse@example.org", PASSWORD)
    assert locked.status_code == 429, locked.text  # each worker alone would have seen ~half
    # the address's attempts: 10 so far; use up the rest with unknown e-mails
    rest = settings.login_attempts_per_minute - settings.login_max_failures
    with ThreadPoolExecutor(4) as pool:
        more = [
            pool.submit(_sign_in, base, f"nobody{n}@example.org", "wrong password guess")
            for n in range(rest)
        ]
        assert {f.result().status_code for f in more} == {401}
    started = time.monotonic()
    flood = _sign_in(base, "someone@example.org", "wrong password guess")
    took = time.monotonic() - started
    assert flood.status_code == 429
    assert int(flood.headers["Retry-After"]) >= 1
    assert took >= FLOOD_ANSWER_DELAY_S * 0.9  # the early refusal is tarpitted
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
