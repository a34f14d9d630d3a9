"""Fixtures for the clinic: a migrated database, a per-test rolled-back session, clients.

Every test that uses the database runs twice, on SQLite and on PostgreSQL (``[sqlite]``,
``[postgresql]``); the PostgreSQL runs are skipped unless ``OPENVNS_TEST_POSTGRES_URL`` names a
server (``.ci/run`` starts one on loopback). There a fresh database is created beside the one in
the URL for the session (the role needs CREATEDB) and dropped at the end.

One database is migrated (Alembic ``upgrade head``) per test session and backend. Each test runs
in an outer transaction on one connection; the test's :class:`~sqlalchemy.orm.Session` joins it
with ``join_transaction_mode="create_savepoint"``, so the app's commits and rollbacks act on
savepoints and the outer transaction is rolled back when the test ends.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import argon2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from openvns.clinic.app import create_app
from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role, TokenKind, User
from openvns.clinic.auth.security import make_password_hasher
from openvns.clinic.config import Settings
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import create_engine_for, get_session, transaction

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key"

UserFactory = Callable[..., User]
HeadersFactory = Callable[..., dict[str, str]]


#: A PostgreSQL server for the tests: ``postgresql+pg8000://user:pw@127.0.0.1:port/db``.
POSTGRES_URL_ENV = "OPENVNS_TEST_POSTGRES_URL"
NO_POSTGRES = f"{POSTGRES_URL_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)"

#: Creates an empty PostgreSQL database for a purpose and returns its URL.
PostgresDatabaseFactory = Callable[[str], str]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a PostgreSQL server, deselect the ``[postgresql]`` runs (one summary line, not a
    skip line per test)."""
    if os.environ.get(POSTGRES_URL_ENV):
        return
    postgres = [item for item in items if _backend(item) == "postgresql"]
    if postgres:
        config.stash[_DESELECTED] = len(postgres)
        config.hook.pytest_deselected(items=postgres)
        items[:] = [item for item in items if _backend(item) != "postgresql"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say why the PostgreSQL runs were left out."""
    count = terminalreporter.config.stash.get(_DESELECTED, 0)
    if count:
        terminalreporter.write_line(f"clinic: {count} PostgreSQL runs deselected: {NO_POSTGRES}")


_DESELECTED = pytest.StashKey[int]()


def _backend(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("database_url")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabaseFactory]:
    """Fresh PostgreSQL databases beside the one in ``OPENVNS_TEST_POSTGRES_URL``, dropped at
    the end of the session (skipped when it is unset)."""
    server = os.environ.get(POSTGRES_URL_ENV)
    if not server:
        pytest.skip(NO_POSTGRES)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create(purpose: str) -> str:
        name = f"openvns_{purpose}_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(server).set(database=name).render_as_string(hide_password=False)

    try:
        yield create
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head, shared by the session's tests: a SQLite file, or a fresh
    PostgreSQL database (skipped without ``OPENVNS_TEST_POSTGRES_URL``)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("clinic") / "clinic.sqlite3"
        url = f"sqlite:///{path}"
    else:
        factory: PostgresDatabaseFactory = request.getfixturevalue("postgres_database")
        url = factory("suite")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Test settings: fixed secret, cheapest argon2 parameters."""
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        argon2_parameters=argon2.profiles.CHEAPEST,
    )


@pytest.fixture(scope="session")
def hasher(settings: Settings) -> argon2.PasswordHasher:
    """The test password hasher."""
    return make_password_hasher(settings.argon2_parameters)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the shared test database."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in an outer transaction, rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """The test's session: its commits release savepoints inside the outer transaction."""
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    """The clinic app (shared; each test overrides its session)."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, db: Session) -> Iterator[TestClient]:
    """A client whose requests run in the test's session, one savepoint per request."""

    def test_session() -> Iterator[Session]:
        db.expire_all()  # load fresh, as a new session per request would
        with transaction(db):
            yield db

    app.dependency_overrides[get_session] = test_session
    try:
        yield TestClient(app, raise_server_exceptions=False)
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
def make_user(db: Session, hasher: argon2.PasswordHasher) -> UserFactory:
    """Create (and commit to the test's savepoint) a user of a role."""
    counter = iter(range(1, 10_000))

    def make(role: Role | str, email: str | None = None, password: str = PASSWORD) -> User:
        role = Role(role)
        email = email or f"{role.value}{next(counter)}@example.org"
        with transaction(db):
            user = auth_service.create_user(
                db,
                email=email,
                full_name=f"Test {role.value.title()}",
                role=role,
                password=password,
                hasher=hasher,
            )
        return user

    return make


@pytest.fixture
def token_for(db: Session, settings: Settings) -> Callable[[User], str]:
    """A bearer token for a user (issued directly through the service)."""

    def issue(user: User) -> str:
        with transaction(db):
            raw, _ = auth_service.issue_token(db, user, TokenKind.BEARER, settings.token_ttl)
        return raw

    return issue


@pytest.fixture
def headers_for(
    make_user: UserFactory, token_for: Callable[[User], str]
) -> Callable[[User], dict[str, str]]:
    """``Authorization`` headers for a user."""

    def headers(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user)}"}

    return headers


@pytest.fixture
def as_role(
    make_user: UserFactory, headers_for: Callable[[User], dict[str, str]]
) -> HeadersFactory:
    """Headers of a new user of ``role``."""

    def headers(role: Role | str) -> dict[str, str]:
        return headers_for(make_user(role))

    return headers
