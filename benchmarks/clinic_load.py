"""Benchmark: the clinic server under concurrent patients, on SQLite and PostgreSQL (loopback).

Starts the real server (``openvns clinic serve --workers N``, one process by default) on
127.0.0.1 at a free port over a fresh database, seeds one patient account and record per
simulated user, and runs ``--users`` threads (keep-alive HTTP clients) for at most
``--seconds`` and ``--max-requests`` requests in all. Each user in turn writes the next day's
pain diary entry (``POST /api/v1/patients/{id}/diary/pain``), reads their outcomes
(``GET /api/v1/patients/{id}/outcomes``) and opens their outcome page
(``GET /patients/{id}/outcomes``, HTML). The users sign in before the clock starts (at most
:data:`SIGN_IN_AT_ONCE` at a time: the sign-in throttle refuses more than 30 running or failed
attempts per address). Prints requests per second and p50/p95/p99 latency per endpoint and in
all, answers by status (500s apart from 429s), and the server's CPU time.

Beside the users, ``--flood`` anonymous clients (20 by default, 0 for none) loop wrong-password
sign-ins (``POST /api/v1/auth/token`` for unknown e-mails) from another loopback address,
:data:`FLOOD_ADDRESS`, so that the throttle's per-address limit answers them 429 without
touching the users' own address; their answers are counted by status.

Backends: SQLite always (a file in a temporary directory); PostgreSQL with ``--database-url``
(or ``OPENVNS_TEST_POSTGRES_URL``) naming a server where a fresh database may be created, else
with ``--local-postgres``, a throw-away cluster started here with Debian's ``initdb`` (as root
it runs as the ``postgres`` user) and removed afterwards. Nothing but 127.0.0.1 is contacted.

    .venv/bin/python benchmarks/clinic_load.py [--users 8] [--seconds 10] [--max-requests 20000]
        [--flood 20] [--workers 1] [--database-url postgresql+pg8000://…] [--local-postgres]
        [--no-sqlite] [--floor]

``--floor`` then runs the same users, without the flood, on ``GET /healthz`` (no work) and
``GET /api/v1/auth/me`` (the bearer token checked, nothing else) and prints their latencies: the
least any endpoint can answer in at that many closed-loop users on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import argon2
import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction
from openvns.clinic.patients import service as patient_service

PASSWORD = "load test password"
START_SECONDS = 60.0
ENDPOINTS = ("POST diary/pain", "GET api outcomes", "GET outcome page")
#: Users signing in at once before the clock starts.
SIGN_IN_AT_ONCE = 8
#: Seconds per floor endpoint (at most ``--seconds``).
FLOOR_SECONDS = 10.0
#: Loopback address the login flood comes from (Linux routes all of 127.0.0.0/8 to lo).
FLOOD_ADDRESS = "127.0.0.2"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise SystemExit(f"server did not start within {START_SECONDS:.0f} s")


@dataclass
class Server:
    """A running server: base URL and process id."""

    base: str
    pid: int


def _stat(pid: int | str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` and its live children (the workers of
    ``serve --workers``; Linux ``/proc``), 0 where unreadable."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(entry)
        if fields and (int(entry) == pid or int(fields[1]) == pid):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve(database_url: str, workdir: Path, workers: int = 1) -> Iterator[Server]:
    """``openvns clinic serve --workers N`` on 127.0.0.1 at a free port."""
    port = _free_port()
    log = workdir / f"server-{port}.log"
    env = {**os.environ, "OPENVNS_SECRET_KEY": secrets.token_hex(16)}
    command = [sys.executable, "-c", "from openvns.cli.main import app; app()", "clinic"]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database-url", database_url, "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/healthz", proc, log)
        yield Server(base, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed(database_url: str, users: int) -> list[tuple[str, int]]:
    """Migrate; one patient account and record per user. Returns (e-mail, patient id)."""
    upgrade(database_url)
    engine = create_engine_for(database_url)
    hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    seeded = []
    try:
        with make_session_factory(engine)() as session, transaction(session):
            nurse = auth_service.create_user(
                session,
                email="load.nurse@example.org",
                full_name="Load Nurse",
                role=Role.NURSE,
                password=PASSWORD,
                hasher=hasher,
            )
            for n in range(users):
                email = f"load.patient{n}@example.org"
                user = auth_service.create_user(
                    session,
                    email=email,
                    full_name=f"Load Patient {n}",
                    role=Role.PATIENT,
                    password=PASSWORD,
                    hasher=hasher,
                )
                values: dict[str, object] = {"mrn": f"LOAD-{n}", "full_name": f"Load Patient {n}"}
                values |= {"date_of_birth": date(1970, 1, 1), "sex": "female"}
                patient = patient_service.create_patient(
                    session, nurse, {**values, "user_id": user.id}
                )
                seeded.append((email, patient.id))
    finally:
        engine.dispose()
    return seeded


@dataclass
class Results:
    """Latencies (seconds) per endpoint, and failures."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    flood: Counter[int | str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: int = 0

    def take_ticket(self, limit: int) -> bool:
        with self.lock:
            if self.issued >= limit:
                return False
            self.issued += 1
            return True


def sign_in(base: str, email: str) -> str:
    """A bearer token for ``email``."""
    r = httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


def simulate_user(
    base: str, token: str, patient_id: int, args: argparse.Namespace, results: Results, t_end: float
) -> None:
    """One patient: diary entry, outcomes, outcome page, again, until time or tickets run out."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60.0, headers=headers) as client:
        day = date.today() - timedelta(days=1)
        step = 0
        while time.monotonic() < t_end and results.take_ticket(args.max_requests):
            endpoint = ENDPOINTS[step % len(ENDPOINTS)]
            start = time.perf_counter()
            status: int | str
            try:
                if endpoint == "POST diary/pain":
                    body = {"entry_date": day.isoformat(), "pain_nrs": (step // 3) % 11}
                    r = client.post(f"/api/v1/patients/{patient_id}/diary/pain", json=body)
                    day -= timedelta(days=1)
                    ok = r.status_code == 201
                elif endpoint == "GET api outcomes":
                    r = client.get(f"/api/v1/patients/{patient_id}/outcomes")
                    ok = r.status_code == 200
                else:
                    r = client.get(f"/patients/{patient_id}/outcomes")
                    ok = r.status_code == 200
                status, detail = r.status_code, r.text[:120]
            except httpx.TransportError as exc:
                ok, status, detail = False, type(exc).__name__, str(exc)[:120]
            elapsed = time.perf_counter() - start
            with results.lock:
                results.statuses[status] += 1
                if ok:
                    results.latencies[endpoint].append(elapsed)
                else:
                    results.errors.append(f"{endpoint}: {status} {detail}")
            step += 1


def flood_logins(base: str, n: int, results: Results, t_end: float) -> None:
    """One anonymous client looping wrong-password sign-ins from :data:`FLOOD_ADDRESS`."""
    transport = httpx.HTTPTransport(local_address=FLOOD_ADDRESS)
    body = {"email": f"flood{n}@example.org", "password": "not the password"}
    with httpx.Client(base_url=base, timeout=60.0, transport=transport) as client:
        while time.monotonic() < t_end:
            status: int | str
            try:
                status = client.post("/api/v1/auth/token", json=body).status_code
            except httpx.TransportError as exc:
                status = type(exc).__name__
            with results.lock:
                results.flood[status] += 1


def floor_user(base: str, token: str, path: str, latencies: list[float], t_end: float) -> None:
    """One user looping ``GET path`` (the floor: what the same users get from a request that
    does no work, ``/healthz``, or only checks the bearer token, ``/api/v1/auth/me``)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60.0, headers=headers) as client:
        while time.monotonic() < t_end:
            start = time.perf_counter()
            r = client.get(path)
            elapsed = time.perf_counter() - start
            if r.status_code == 200:
                latencies.append(elapsed)  # list.append is atomic


def run_floor(server: Server, tokens: list[str], seconds: float) -> None:
    """The same users, no flood, on requests that do (almost) nothing: prints their table."""
    print(f"  floor (the same users, no flood, {seconds:.0f} s each):")
    for label, path in (("GET /healthz", "/healthz"), ("GET auth/me", "/api/v1/auth/me")):
        latencies: list[float] = []
        cpu_start = cpu_seconds(server.pid)
        t_start = time.monotonic()
        threads = [
            threading.Thread(
                target=floor_user,
                args=(server.base, token, path, latencies, t_start + seconds),
                daemon=True,
            )
            for token in tokens
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 90)
        wall = time.monotonic() - t_start
        cpu = cpu_seconds(server.pid) - cpu_start
        _row(label, latencies, wall)
        if latencies:
            print(f"  {'':<18} server CPU {1000 * cpu / len(latencies):.2f} ms per request")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_backend(name: str, database_url: str, args: argparse.Namespace, workdir: Path) -> None:
    seeded = seed(database_url, args.users)
    results = Results()
    with serve(database_url, workdir, args.workers) as server:
        with ThreadPoolExecutor(SIGN_IN_AT_ONCE) as pool:
            tokens = list(pool.map(lambda seed: sign_in(server.base, seed[0]), seeded))
        cpu_start = cpu_seconds(server.pid)
        client_start = time.process_time()
        t_start = time.monotonic()
        t_end = t_start + args.seconds
        threads = [
            threading.Thread(
                target=simulate_user,
                args=(server.base, token, pid, args, results, t_end),
                daemon=True,
            )
            for token, (_, pid) in zip(tokens, seeded, strict=True)
        ]
        threads += [
            threading.Thread(
                target=flood_logins, args=(server.base, n, results, t_end), daemon=True
            )
            for n in range(args.flood)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 90)
        wall = time.monotonic() - t_start
        cpu = cpu_seconds(server.pid) - cpu_start
        client_cpu = time.process_time() - client_start
        _print_results(name, args, results, wall, cpu, client_cpu)
        if args.floor:
            run_floor(server, tokens, min(args.seconds, FLOOR_SECONDS))


def _print_results(
    name: str,
    args: argparse.Namespace,
    results: Results,
    wall: float,
    cpu: float,
    client_cpu: float,
) -> None:
    print(
        f"\n{name}: {args.users} users, {args.flood} flooding sign-in clients, "
        f"{args.workers} server worker(s), {wall:.1f} s,"
    )
    print(
        f"  {results.issued} user requests, server CPU {cpu:.1f} s ({100 * cpu / wall:.0f} %), "
        f"load generator CPU {client_cpu:.1f} s ({100 * client_cpu / wall:.0f} %)"
    )
    heads = ("requests", "req/s", "p50 ms", "p95 ms", "p99 ms")
    print(f"  {'endpoint':<18} " + " ".join(f"{h:>8}" for h in heads))
    everything: list[float] = []
    for endpoint in ENDPOINTS:
        values = results.latencies[endpoint]
        everything += values
        _row(endpoint, values, wall)
    _row("all", everything, wall)
    print(f"  user answers: {_statuses(results.statuses)}")
    if args.flood:
        print(f"  login flood answers: {_statuses(results.flood)}")
    if results.errors:
        print(f"  {len(results.errors)} failed user requests, e.g. {results.errors[0]}")


def _statuses(counts: Counter[int | str]) -> str:
    """``201: 10, 429: 3, 500: 0`` (500 always shown)."""
    shown = Counter(counts)
    shown[500] += 0
    return ", ".join(f"{k}: {v}" for k, v in sorted(shown.items(), key=lambda kv: str(kv[0])))


def _row(label: str, values: list[float], wall: float) -> None:
    if not values:
        print(f"  {label:<18} {0:>8}")
        return
    p50, p95, p99 = (1000 * _percentile(values, q) for q in (50, 95, 99))
    rate = len(values) / wall
    print(f"  {label:<18} {len(values):>8} {rate:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new database beside the one in ``server_url`` (the role needs CREATEDB), dropped after."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"openvns_load_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def local_postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (Debian's binaries); its server URL."""
    bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bindirs:
        raise SystemExit(
            "--local-postgres: no /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    bindir = Path(bindirs[-1])
    as_owner: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="openvns-load-pg."))
    password = secrets.token_hex(16)
    if os.geteuid() == 0:  # initdb refuses root
        as_owner = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    if as_owner:
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    data = workdir / "data"
    ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "openvns", f"--pwfile={pwfile}"]
        subprocess.run(
            [*as_owner, *initdb, "--auth=scram-sha-256", "--encoding=UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c max_connections=100"
        subprocess.run(
            [*ctl, "-l", str(workdir / "server.log"), "-w", "-o", options, "start"],
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql+pg8000://openvns:{password}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*ctl, "-m", "fast", "-w", "stop"], check=False, capture_output=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=8, help="concurrent simulated patients")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration per backend")
    parser.add_argument("--max-requests", type=int, default=20_000, help="requests per backend")
    parser.add_argument(
        "--flood", type=int, default=20, help=f"wrong-password clients from {FLOOD_ADDRESS}"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server worker processes (clinic serve --workers)"
    )
    parser.add_argument("--database-url", default=os.environ.get("OPENVNS_TEST_POSTGRES_URL"))
    parser.add_argument("--local-postgres", action="store_true", help="start a cluster here")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="then the same users on /healthz and /api/v1/auth/me (what no work costs)",
    )
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 0 < args.seconds <= 300 or not 0 <= args.flood <= 200:
        parser.error("--users 1..200, --seconds up to 300, --flood 0..200")
    if not 1 <= args.workers <= 16:
        parser.error("--workers 1..16")
    print(f"clinic load: {args.users} users x (diary entry, outcomes JSON, outcome page)")
    with tempfile.TemporaryDirectory(prefix="openvns-load.") as tmp:
        workdir = Path(tmp)
        if not args.no_sqlite:
            run_backend("SQLite", f"sqlite:///{workdir / 'load.sqlite3'}", args, workdir)
        with contextlib.ExitStack() as stack:
            server = args.database_url
            if server is None and args.local_postgres:
                server = stack.enter_context(local_postgres())
            if server is None:
                print("\nPostgreSQL: skipped (no --database-url, no --local-postgres)")
                return
            url = stack.enter_context(fresh_postgres_database(server))
            run_backend("PostgreSQL", url, args, workdir)


if __name__ == "__main__":
    main()
