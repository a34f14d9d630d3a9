"""Engines, sessions and the per-request transaction.

SQLite is opened with ``PRAGMA foreign_keys=ON`` (off by default in SQLite), the WAL journal
(readers do not block the writer) and ``synchronous=FULL`` (a write is on disk before the commit
returns, so an acknowledged change survives a kill or a power cut). A request that may write
(any method but GET, HEAD and OPTIONS) begins with ``BEGIN IMMEDIATE``: it waits its turn for
the write lock (``busy_timeout``) up front, where a deferred transaction that read first and then
wanted to write while another request wrote would fail at once with "database is locked".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openvns.clinic.config import sqlite_path

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


class _SQLiteWriters:
    """Write transactions of one SQLite engine take turns in this process, first come first
    served: SQLite's own busy handler lets waiting writers sleep and retry (up to 100 ms at a
    time), which under concurrent writes gives long, unfair waits. The turn is taken before
    ``BEGIN IMMEDIATE`` and given back when the connection returns to the pool (after its
    commit or rollback). After ``_WRITE_WAIT_S`` a writer goes ahead without its turn and SQLite's
    ``busy_timeout`` decides, as between processes."""

    def __init__(self) -> None:
        self.turn = threading.Lock()

    def on_begin(self, connection: Connection) -> None:
        if not connection.get_execution_options().get(WRITE_TRANSACTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        if not connection.info.get(_HOLDS_WRITE_TURN) and self.turn.acquire(timeout=_WRITE_WAIT_S):
            connection.info[_HOLDS_WRITE_TURN] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_HOLDS_WRITE_TURN, False):
            self.turn.release()


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


def create_engine_for(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``database_url`` with the clinic's connection settings.

    Parameters
    ----------
    database_url
        SQLAlchemy URL. For a SQLite file the parent directory is created.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(database_url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        writers = _SQLiteWriters()
        event.listen(engine, "begin", writers.on_begin)
        event.listen(engine, "checkin", writers.on_checkin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
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


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session and one transaction per request.

    Use it with ``Depends(get_session, scope="function")`` (see :data:`SessionDep`) so that the
    commit happens before the response is sent: a failed commit is a 500, never a lost 2xx.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session, transaction(session):
        if request.method not in _READ_METHODS:
            session.connection(execution_options={WRITE_TRANSACTION: True})
        yield session


#: Annotated dependency for routers: the request's session, committed before the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
