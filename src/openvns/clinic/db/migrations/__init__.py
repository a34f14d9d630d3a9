"""Alembic migrations shipped inside the package, run programmatically.

No ``alembic.ini`` is needed: :func:`alembic_config` points Alembic at this directory and passes
the database URL through ``Config.attributes``. ``env.py`` opens the engine with
:func:`openvns.clinic.db.session.create_engine_for`, so SQLite gets the same pragmas (and
transactional DDL) as the app.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from openvns.clinic.db.session import create_engine_for

log = logging.getLogger(__name__)

#: Directory holding ``env.py``, ``script.py.mako`` and ``versions/``.
SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for ``database_url`` without an ini file.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the database to migrate.
    connection
        An open connection to use instead of creating an engine (tests; one transaction).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.attributes["database_url"] = database_url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision`` (creating it if needed)."""
    log.info("upgrading clinic database to %s", revision)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database at ``database_url`` down to ``revision`` (``"base"``: empty)."""
    log.info("downgrading clinic database to %s", revision)
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision shipped with the package."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or ``None`` when it has never been migrated."""
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def revision(database_url: str, message: str, autogenerate: bool = True) -> None:
    """For developers: write a new revision into ``versions/`` (compared with the models)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)
