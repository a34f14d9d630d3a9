"""Clinic settings: where the database is, the secret key, cookies, lifetimes, argon2.

Resolution order of the database URL: the explicit argument (``--database-url``), then the
environment variable ``OPENVNS_DATABASE_URL``, then a SQLite file in the user data directory
(``sqlite:///<user data dir>/openvns-clinic.sqlite3``). The secret key comes from
``OPENVNS_SECRET_KEY`` or, when unset, from a key file generated once next to the SQLite
database (or in the user data directory for other databases) with 0600 permissions.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import argon2
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

#: Environment variable holding the database URL.
DATABASE_URL_ENV = "OPENVNS_DATABASE_URL"
#: Environment variable holding the secret key.
SECRET_KEY_ENV = "OPENVNS_SECRET_KEY"
#: File name of the default SQLite database inside the user data directory.
DEFAULT_DB_NAME = "openvns-clinic.sqlite3"
#: File name of the generated secret key, next to the database.
SECRET_KEY_FILE = "openvns-clinic.secret"


def user_data_dir() -> Path:
    """Directory where the clinic keeps its default database and generated key."""
    import platformdirs

    return Path(platformdirs.user_data_dir("openvns", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything the clinic app needs to know at start-up.

    Parameters
    ----------
    database_url
        SQLAlchemy URL: ``sqlite:///path.sqlite3`` or ``postgresql+pg8000://user:pw@host/db``.
    secret_key
        Key for HMACs (CSRF tokens); keep it secret and stable across restarts.
    session_cookie
        Name of the page-session cookie.
    login_csrf_cookie
        Name of the cookie holding the login form's double-submit CSRF token.
    cookie_secure
        Send cookies over HTTPS only. Off by default because the default server listens on
        127.0.0.1 over plain HTTP; turn it on behind TLS.
    session_ttl
        Lifetime of a page session.
    token_ttl
        Lifetime of an API bearer token.
    argon2_parameters
        Password-hashing parameters; ``None`` uses argon2-cffi's defaults (RFC 9106 low-memory).
        Tests lower them with :data:`argon2.profiles.CHEAPEST`.
    max_body_bytes
        Largest request body accepted; a larger one is refused with 413 before it is parsed.
    login_max_failures
        Failed sign-ins for one e-mail within ``login_failure_window`` after which that account
        is locked for ``login_lockout`` (answered 429 with ``Retry-After``).
    login_failure_window, login_lockout
        Window counting failed sign-ins, and how long a locked account stays locked.
    login_attempts_per_minute
        Failed sign-in attempts one client address may make per minute (429 beyond; a
        successful sign-in gives its attempt back, so staff behind one address are not
        blocked by their own sign-ins).
    throttle_path
        Scratch file of the sign-in throttle shared by the worker processes of one server
        (``clinic serve --workers N`` sets it); ``None`` keeps the counters in this process.
    """

    database_url: str
    secret_key: str = field(repr=False)
    session_cookie: str = "openvns_session"
    login_csrf_cookie: str = "openvns_login_csrf"
    cookie_secure: bool = False
    session_ttl: timedelta = timedelta(hours=8)
    token_ttl: timedelta = timedelta(hours=12)
    argon2_parameters: argon2.Parameters | None = None
    max_body_bytes: int = 1_000_000
    login_max_failures: int = 10
    login_failure_window: timedelta = timedelta(minutes=15)
    login_lockout: timedelta = timedelta(minutes=15)
    login_attempts_per_minute: int = 30
    throttle_path: Path | None = None


def default_database_url() -> str:
    """``sqlite:///<user data dir>/openvns-clinic.sqlite3``."""
    return f"sqlite:///{user_data_dir() / DEFAULT_DB_NAME}"


def resolve_database_url(database_url: str | None = None) -> str:
    """Option, then ``OPENVNS_DATABASE_URL``, then the default SQLite file."""
    if database_url:
        return database_url
    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    return default_database_url()


def sqlite_path(database_url: str) -> Path | None:
    """Path of a file-backed SQLite database, or ``None`` for other databases and ``:memory:``."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _key_file(database_url: str) -> Path:
    db = sqlite_path(database_url)
    return (db.parent if db is not None else user_data_dir()) / SECRET_KEY_FILE


def load_or_create_secret_key(path: Path) -> str:
    """Read the key at ``path``, or write a new random one there with mode 0600."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    log.info("generated a new clinic secret key in %s", path)
    return key


def load_settings(database_url: str | None = None, secret_key: str | None = None) -> Settings:
    """Build :class:`Settings` from arguments, the environment and the defaults."""
    url = resolve_database_url(database_url)
    key = secret_key or os.environ.get(SECRET_KEY_ENV) or load_or_create_secret_key(_key_file(url))
    return Settings(database_url=url, secret_key=key)


#: Environment variables through which ``clinic serve --workers`` hands its settings to the
#: worker processes (with :data:`DATABASE_URL_ENV` and :data:`SECRET_KEY_ENV`).
COOKIE_SECURE_ENV = "OPENVNS_SECURE_COOKIES"
THROTTLE_PATH_ENV = "OPENVNS_CLINIC_THROTTLE_PATH"
_TRUE = frozenset({"1", "true", "yes", "on"})


def settings_to_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes :func:`settings_from_environment` rebuild ``settings``'s
    database, key, cookie security and shared throttle file in a worker process."""
    env = {
        DATABASE_URL_ENV: settings.database_url,
        SECRET_KEY_ENV: settings.secret_key,
        COOKIE_SECURE_ENV: "1" if settings.cookie_secure else "0",
    }
    if settings.throttle_path is not None:
        env[THROTTLE_PATH_ENV] = str(settings.throttle_path)
    return env


def settings_from_environment() -> Settings:
    """Settings of a worker process: :func:`load_settings` plus cookie security and the shared
    throttle file from the environment."""
    settings = load_settings()
    secure = os.environ.get(COOKIE_SECURE_ENV, "").strip().lower() in _TRUE
    throttle = os.environ.get(THROTTLE_PATH_ENV)
    return replace(
        settings, cookie_secure=secure, throttle_path=Path(throttle) if throttle else None
    )
