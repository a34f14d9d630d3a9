"""Engines, sessions and the per-request transaction.

SQLite is opened with ``PRAGMA foreign_keys=ON`` (off by default in SQLite), the WAL journal
(readers do not block the writer) and ``synchronous=FULL`` (a write is on disk before the commit
returns, so an acknowledged change survives a kill or a power cut).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from openvns.clinic.config import sqlite_path

log = logging.getLogger(__name__)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (see _sqlite_on_begin): the module's
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


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


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
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
        yield session


#: Annotated dependency for routers: the request's session, committed before the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
