"""Engines, sessions and the per-request transaction.

SQLite is opened with ``PRAGMA foreign_keys=ON`` (off by default in SQLite), the WAL journal
(readers do not block the writer) and ``synchronous=FULL`` (a write is on disk before the commit
returns, so an acknowledged change survives a kill or a power cut). A request that may write
(any method but GET, HEAD and OPTIONS) begins with ``BEGIN IMMEDIATE``: it waits its turn for
the write lock (``busy_timeout``) up front, where a deferred transaction that read first and then
wanted to write while another request wrote would fail at once with "database is locked".

A route that does slow work before it writes (sign-in hashes a password for a quarter of a
second) is marked :func:`reads_first`: its request session starts as a plain read transaction,
and the route writes inside :func:`write_transaction`, which holds the write lock only for the
block. A new SQLite file is created with mode 0600 (its ``-wal`` and ``-shm`` files take the
database file's mode), so other users of the machine cannot read patient data.

**No request waits for what only a waiting request can free.** The server runs each sync route
and dependency on a shared pool of worker threads (anyio's, 40 by default). If every worker
thread were held by requests waiting for a database connection or for the write turn, the
request holding the turn could not get a thread to run its route and give the turn back: the
server would stall until the waits timed out (and answer 500). So :func:`get_session` admits a
bounded number of requests at a time (:func:`session_limits`), per engine and event loop,
*before* any thread is taken (the others wait on the event loop, first come first served, not
in a thread): fewer than the worker threads and no more than the engine's pooled connections
(:data:`POOL_SIZE`), in two lanes, so that sign-ins hashing passwords never take the places of
the other requests. An admitted request always
finds a connection, and at most ``limit - 1`` worker threads can wait for the write turn, so the
holder always finds a thread. The session's begin, commit, rollback and close run on threads of
the admitted requests' own (never the shared pool's).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from openvns.clinic.config import sqlite_path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: writers take turns within a process only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (see _SQLiteWriters.on_begin): the module's
    # own implicit transactions break SAVEPOINT and transactional DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


#: Execution option: begin the SQLite transaction with ``BEGIN IMMEDIATE`` (the write lock now).
WRITE_TRANSACTION = "openvns_write_transaction"
#: Request methods that never write.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


#: How long a write transaction waits for its turn (as ``busy_timeout``).
_WRITE_WAIT_S = 5.0
_HOLDS_WRITE_TURN = "openvns_holds_write_turn"
_LOCK_FD = "openvns_writers_lock_fd"
#: First and longest pause between tries of another process's write turn (seconds).
_FILE_TURN_FIRST_POLL_S = 0.0002
_FILE_TURN_POLL_S = 0.002
#: Suffix of the lock file beside a SQLite database that orders writers between processes.
WRITERS_LOCK_SUFFIX = ".writers"


class _SQLiteWriters:
    """Write transactions of one SQLite engine take turns: SQLite's own busy handler lets waiting
    writers sleep and retry (up to 100 ms at a time), which under concurrent writes gives long,
    unfair waits. The turn is taken before ``BEGIN IMMEDIATE`` and given back when the
    connection returns to the pool (after its commit or rollback).

    For a SQLite file the turn is an exclusive ``flock`` on ``<database>.writers`` beside it, one
    open file per pooled connection, so that writers in every process (the workers of ``clinic
    serve --workers``, a CLI command beside the server) and every thread take turns alike: a
    writer tries the lock and, while another holds it, tries again after a pause that grows from
    :data:`_FILE_TURN_FIRST_POLL_S` to :data:`_FILE_TURN_POLL_S` (no process can hand the turn
    from thread to thread while another process sleeps). Without a file (``:memory:``, or a
    system without ``flock``) the turn is a lock of this process, first come first served.
    After ``_WRITE_WAIT_S`` a writer goes ahead without its turn and SQLite's ``busy_timeout``
    decides."""

    def __init__(self, lock_path: Path | None = None) -> None:
        self.turn = threading.Lock()
        self._lock_path = lock_path if fcntl is not None else None

    def on_begin(self, connection: Connection) -> None:
        if not connection.get_execution_options().get(WRITE_TRANSACTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        info = connection.info
        if not info.get(_HOLDS_WRITE_TURN):
            if self._lock_path is not None:
                info[_HOLDS_WRITE_TURN] = self._take_file_turn(info)
            elif self.turn.acquire(timeout=_WRITE_WAIT_S):
                info[_HOLDS_WRITE_TURN] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if not record.info.pop(_HOLDS_WRITE_TURN, False):
            return
        if self._lock_path is not None:
            fcntl.flock(record.info[_LOCK_FD], fcntl.LOCK_UN)
        else:
            self.turn.release()

    def _take_file_turn(self, info: dict[Any, Any]) -> bool:
        """Take the file lock on this connection's own open file; ``False`` when
        ``_WRITE_WAIT_S`` passes first."""
        assert self._lock_path is not None
        fd = info.get(_LOCK_FD)
        if fd is None:
            fd = info[_LOCK_FD] = os.open(
                self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, SQLITE_FILE_MODE
            )
        deadline = time.monotonic() + _WRITE_WAIT_S
        pause = _FILE_TURN_FIRST_POLL_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(2 * pause, _FILE_TURN_POLL_S)

    def on_close(self, _dbapi_connection: Any, record: Any) -> None:
        fd = record.info.pop(_LOCK_FD, None)
        if fd is not None:
            os.close(fd)  # also gives back a turn still held


def _pg8000_integrity_error(context: ExceptionContext) -> BaseException | None:
    # pg8000 raises IntegrityError only for unique violations (23505) and ProgrammingError for
    # the rest of SQLSTATE class 23 (foreign key 23503, not null 23502, check 23514); make them
    # all IntegrityError, as every other driver does, so the app answers 409 on PostgreSQL too.
    orig = context.original_exception
    args = getattr(orig, "args", ())
    fields = args[0] if args and isinstance(args[0], dict) else {}
    if str(fields.get("C", "")).startswith("23") and not isinstance(
        context.sqlalchemy_exception, IntegrityError
    ):
        return IntegrityError(context.statement, context.parameters, orig)
    return None


#: Mode of a new SQLite database file: owner read and write only (SQLite gives its ``-wal``,
#: ``-shm`` and journal files the database file's mode).
SQLITE_FILE_MODE = 0o600


def _create_private_file(path: Path) -> None:
    """Create an empty SQLite file at ``path`` with mode 0600 (an empty file is an empty
    database); warn when an existing one can be read by other users."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "database file %s has mode %o: other users of this machine may read it; "
                "chmod 600 it (and its -wal and -shm files)",
                path,
                mode,
            )
        return
    os.close(fd)
    log.info("created database file %s with mode %o", path, SQLITE_FILE_MODE)


#: Pooled connections of an engine (file SQLite, PostgreSQL): at least as many as requests hold
#: a session at once (:func:`session_limits`), each with one connection.
POOL_SIZE = 20
#: Connections beyond :data:`POOL_SIZE` for users outside the request sessions (``/healthz``).
POOL_OVERFLOW = 10


def _pool_defaults(kwargs: dict[str, Any]) -> None:
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)


def create_engine_for(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``database_url`` with the clinic's connection settings.

    Parameters
    ----------
    database_url
        SQLAlchemy URL. For a SQLite file the parent directory is created, and a new file is
        created with mode 0600.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`; the pool of a SQLite file or a server
        holds :data:`POOL_SIZE` connections (and :data:`POOL_OVERFLOW` more) unless given.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(database_url)
        if path is not None:
            _create_private_file(path)
            _pool_defaults(kwargs)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        lock = None if path is None else path.with_name(path.name + WRITERS_LOCK_SUFFIX)
        writers = _SQLiteWriters(lock)
        event.listen(engine, "begin", writers.on_begin)
        event.listen(engine, "checkin", writers.on_checkin)
        event.listen(engine, "close", writers.on_close)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    _pool_defaults(kwargs)
    engine = create_engine(url, **kwargs)
    if url.get_driver_name() == "pg8000":
        event.listen(engine, "handle_error", _pg8000_integrity_error)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` that keep loaded values after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit ``session`` if the block succeeds, roll it back if it raises."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run the block in its own write transaction, committed at its end.

    The session's current (read) transaction is ended first; on SQLite the new one begins with
    ``BEGIN IMMEDIATE`` (after this process's write turn), so the write lock is held only for
    the block. Objects loaded before stay usable (sessions keep loaded values after commit);
    re-read what must not have changed meanwhile. Do the slow work (password hashing) before
    the block, never inside it.

    Raises
    ------
    RuntimeError
        The session holds changes made before the block (they belong inside it).
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("changes made before write_transaction(); make them inside it")
    session.commit()
    if isinstance(session.get_bind(), Engine):
        session.connection(execution_options={WRITE_TRANSACTION: True})
    with transaction(session):
        yield session


_READS_FIRST = "__openvns_reads_first__"
_SLOW = "__openvns_slow_before_write__"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


def reads_first(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route whose request session (:data:`SessionDep`) starts without the write lock,
    whatever its method: the route reads, does its slow work, and writes only inside
    :func:`write_transaction`. Sign-in uses it, so password hashing never holds the lock.

    Such requests are admitted in a lane of their own (:func:`session_limits`): a flood of
    sign-ins hashing passwords never takes the places of the other requests."""
    setattr(endpoint, _READS_FIRST, True)
    setattr(endpoint, _SLOW, True)
    return endpoint


def writes_briefly(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route that, like a :func:`reads_first` one, starts without the write lock and
    writes only inside :func:`write_transaction`, but does no slow work: it is admitted with
    the ordinary requests. Diary writes use it (the lock is held only around the insert)."""
    setattr(endpoint, _READS_FIRST, True)
    return endpoint


def _route_reads_first(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return bool(getattr(endpoint, _READS_FIRST, False))


def _route_slow(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return bool(getattr(endpoint, _SLOW, False))


class _SessionGate:
    """Admission of request sessions on one event loop: ``limit`` at a time (FIFO), and
    ``limit`` threads of their own for the session's begin, commit, rollback and close."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.admission = asyncio.Semaphore(limit)
        self.threads = anyio.CapacityLimiter(limit)

    async def run(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` on one of the admitted sessions' threads."""
        return await anyio.to_thread.run_sync(function, limiter=self.threads)


@dataclass(frozen=True)
class _Lanes:
    ordinary: _SessionGate
    slow: _SessionGate


_gates_lock = threading.Lock()
#: Per engine, per running event loop (a test client runs its own loop): the admission lanes.
_gates: weakref.WeakKeyDictionary[
    Engine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lanes]
] = weakref.WeakKeyDictionary()

#: Ordinary requests admitted at once (per engine and event loop). More would only share the
#: interpreter between more requests: with first come, first served admission the slowest
#: answers come sooner (at 32 users on SQLite p99 464 ms with 6 admitted, 1 043 ms with 20).
SESSIONS = 8
#: Requests of :func:`reads_first` routes (sign-in, password change) admitted at once.
SLOW_SESSIONS = 4


def session_limits(engine: Engine, worker_threads: int) -> tuple[int, int]:
    """How many ordinary and how many :func:`reads_first` requests may hold a session of
    ``engine`` at once. Together no more than its pooled connections (an admitted request never
    waits for one) and fewer than ``worker_threads`` (the requests waiting for the write turn
    never hold every worker thread), and at most :data:`SESSIONS` and :data:`SLOW_SESSIONS`."""
    pool = engine.pool
    connections = pool.size() if isinstance(pool, QueuePool) else worker_threads
    total = max(2, min(connections, worker_threads - 1))
    slow = max(1, min(SLOW_SESSIONS, total // 3))
    return max(1, min(SESSIONS, total - slow)), slow


def _lanes(engine: Engine) -> _Lanes:
    loop = asyncio.get_running_loop()
    with _gates_lock:
        per_loop = _gates.setdefault(engine, weakref.WeakKeyDictionary())
        lanes = per_loop.get(loop)
        if lanes is None:
            threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
            ordinary, slow = session_limits(engine, threads)
            lanes = per_loop[loop] = _Lanes(_SessionGate(ordinary), _SessionGate(slow))
        return lanes


async def get_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: one session and one transaction per request.

    Use it with ``Depends(get_session, scope="function")`` (see :data:`SessionDep`) so that the
    commit happens before the response is sent: a failed commit is a 500, never a lost 2xx.
    A request that may write takes the write lock at once, unless its route is marked
    :func:`reads_first`. The request first waits (on the event loop, holding no thread) until
    it is one of the requests admitted to the engine in its lane (:func:`session_limits`).
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    engine = factory.kw.get("bind")
    if isinstance(engine, Engine):
        lanes = _lanes(engine)
        gate = lanes.slow if _route_slow(request) else lanes.ordinary
    else:
        gate = _SessionGate(1)
    async with gate.admission:
        session = factory()
        try:
            if request.method not in _READ_METHODS and not _route_reads_first(request):
                options = {WRITE_TRANSACTION: True}
                await gate.run(functools.partial(session.connection, execution_options=options))
            yield session
            await gate.run(session.commit)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await gate.run(session.rollback)
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await gate.run(session.close)


#: Annotated dependency for routers: the request's session, committed before the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
