"""``openvns clinic``: serve the clinic, migrate its database, manage users.

``create-user`` applies the password policy (at least 12 characters, not all white space, not
one repeated character, not a common password); ``deactivate-user``, ``reactivate-user`` and
``revoke-tokens`` do what the admin API does, audited with no actor (the system).

The clinic's dependencies (FastAPI, SQLAlchemy, Alembic, argon2, uvicorn) come with the
``clinic`` extra and are imported inside the commands, so the rest of the CLI works without it.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from openvns.cli.common import console, fail, guarded

if TYPE_CHECKING:
    from openvns.clinic.config import Settings

app = typer.Typer(
    help="The pain clinic: a web app and JSON API over a SQLite or PostgreSQL database.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)

ROLES = ("clinician", "nurse", "patient", "admin")
#: Most worker processes ``clinic serve`` starts.
MAX_WORKERS = 64

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (sqlite:///clinic.sqlite3, postgresql+pg8000://user:pw@host/db); "
        "default: $OPENVNS_DATABASE_URL, else a SQLite file in the user data directory.",
        show_default=False,
    ),
]


#: Environment variable that turns on Secure cookies for ``clinic serve`` (1/true/yes/on).
SECURE_COOKIES_ENV = "OPENVNS_SECURE_COOKIES"


def _settings(database_url: str | None, *, cookie_secure: bool = False) -> Settings:
    try:
        from openvns.clinic.config import load_settings
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        fail(f"the clinic needs the 'clinic' extra: pip install 'openvns[clinic]' ({exc})")
    settings = load_settings(database_url=database_url)
    return replace(settings, cookie_secure=cookie_secure)


def _migrate(database_url: str, revision: str = "head") -> str | None:
    from openvns.clinic.db.migrations import current_revision, upgrade

    upgrade(database_url, revision)
    return current_revision(database_url)


def _safe_url(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


@app.command()
@guarded
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    database_url: DatabaseUrl = None,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            envvar=SECURE_COOKIES_ENV,
            help="Mark the session, sign-in and flash cookies Secure (sent over HTTPS only); "
            "turn on when the clinic is served behind TLS.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_WORKERS,
            help="Worker processes (one per CPU core is usual). They share the sign-in "
            "throttle and, on SQLite, take turns to write.",
        ),
    ] = 1,
) -> None:
    """Create or migrate the database, then serve the clinic (API under /api/v1)."""
    settings = _settings(database_url, cookie_secure=secure_cookies)
    if not secure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without --secure-cookies: cookies go over plain HTTP", host)
    revision = _migrate(settings.database_url)
    console.print(f"database {_safe_url(settings.database_url)} at revision {revision}")

    import uvicorn

    if workers == 1:
        from openvns.clinic.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    _serve_workers(settings, host, port, workers)


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor with ``workers`` processes, each building the app from the
    environment (:func:`openvns.clinic.app.create_app_from_environment`); the sign-in throttle
    lives in a scratch file in a fresh private directory, removed on exit."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    import uvicorn

    from openvns.clinic.config import settings_to_environment

    scratch = Path(tempfile.mkdtemp(prefix="openvns-clinic-"))  # mode 0700
    try:
        shared = replace(settings, throttle_path=scratch / "signin-throttle.sqlite3")
        os.environ.update(settings_to_environment(shared))
        uvicorn.run(
            "openvns.clinic.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@app.command()
@guarded
def migrate(
    revision: Annotated[str, typer.Option(help="Alembic revision to upgrade to.")] = "head",
    database_url: DatabaseUrl = None,
) -> None:
    """Create the database or upgrade it to REVISION (default: the newest)."""
    settings = _settings(database_url)
    current = _migrate(settings.database_url, revision)
    console.print(f"database {_safe_url(settings.database_url)} at revision {current}")


@app.command("create-user")
@guarded
def create_user(
    email: Annotated[str, typer.Option(help="Sign-in e-mail (unique).")],
    role: Annotated[str, typer.Option(help="clinician, nurse, patient or admin.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user (the database is migrated first). The password is prompted for."""
    if role not in ROLES:
        fail(f"role = {role!r} is not allowed; allowed: {', '.join(ROLES)}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = _settings(database_url)

    from openvns.clinic.auth import service
    from openvns.clinic.auth.schemas import UserCreate
    from openvns.clinic.auth.security import make_password_hasher
    from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction

    body = UserCreate.model_validate(
        {"email": email, "full_name": name, "role": role, "password": password}
    )
    _migrate(settings.database_url)
    hasher = make_password_hasher(settings.argon2_parameters)
    password_hash = hasher.hash(body.password)  # before the write transaction, not inside it
    engine = create_engine_for(settings.database_url)
    try:
        with make_session_factory(engine)() as session, transaction(session):
            user = service.create_user(
                session,
                email=body.email,
                full_name=body.full_name,
                role=body.role,
                password=body.password,
                hasher=hasher,
                password_hash=password_hash,
            )
            user_id, user_email, user_role = user.id, user.email, user.role
    finally:
        engine.dispose()
    console.print(f"created user {user_id} {user_email} ({user_role})")


UserEmail = Annotated[str, typer.Argument(help="The user's sign-in e-mail.", show_default=False)]


def _account_command(database_url: str | None, email: str, action: str) -> str:
    """Run ``action`` (deactivate, reactivate, revoke) on the user with ``email``; a summary."""
    settings = _settings(database_url)

    from openvns.clinic.auth import service
    from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction

    _migrate(settings.database_url)
    engine = create_engine_for(settings.database_url)
    try:
        with make_session_factory(engine)() as session, transaction(session):
            user = service.find_user_by_email(session, email)
            if user is None:
                fail(f"email = {email!r}: no user has this e-mail")
            if action == "revoke":
                revoked = service.revoke_user_tokens(session, user)
                return f"revoked {revoked} sessions and tokens of user {user.id} {user.email}"
            service.set_active(session, user, action == "reactivate")
            return f"{action}d user {user.id} {user.email}"
    finally:
        engine.dispose()


@app.command("deactivate-user")
@guarded
def deactivate_user(email: UserEmail, database_url: DatabaseUrl = None) -> None:
    """Deactivate a user: they cannot sign in, and all their sessions and tokens are revoked.

    A lockout after failed sign-ins lives in the server's memory: it ends by itself, when an
    admin reactivates the user through the API, or when the server restarts.
    """
    console.print(_account_command(database_url, email, "deactivate"))


@app.command("reactivate-user")
@guarded
def reactivate_user(email: UserEmail, database_url: DatabaseUrl = None) -> None:
    """Let a deactivated user sign in again (their old tokens stay revoked)."""
    console.print(_account_command(database_url, email, "reactivate"))


@app.command("revoke-tokens")
@guarded
def revoke_tokens(email: UserEmail, database_url: DatabaseUrl = None) -> None:
    """Revoke every page session and API token of a user (they stay active)."""
    console.print(_account_command(database_url, email, "revoke"))


@app.command()
@guarded
def demo(
    patients: Annotated[
        int, typer.Option("--patients", min=0, max=500, help="Virtual patients to create.")
    ] = 12,
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the simulator.")] = 0,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="OPENVNS_DEMO_PASSWORD",
            help="Password of every new demo account (at least 12 characters); default: a "
            "random one-time password per account, printed once.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a demo care team and virtual patients with simulated diaries (idempotent).

    The team is an admin, two clinicians and a nurse (e-mails @demo.openvns.example.org); each
    patient fibromyalgia#NNNN (MRN FIBROMYALGIA-NNNN) gets an account and 16 weeks of diary
    from the simulator, ending today. Existing accounts and patients are left as they are.
    """
    from openvns.clinic.auth.schemas import PASSWORD_MIN

    if password is not None and len(password) < PASSWORD_MIN:
        fail(f"--password must have at least {PASSWORD_MIN} characters")
    settings = _settings(database_url)

    from openvns.clinic.auth.security import make_password_hasher
    from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction
    from openvns.clinic.demo import seed_demo

    _migrate(settings.database_url)
    engine = create_engine_for(settings.database_url)
    try:
        with make_session_factory(engine)() as session, transaction(session):
            result = seed_demo(
                session,
                hasher=make_password_hasher(settings.argon2_parameters),
                n_patients=patients,
                seed=seed,
                password=password,
            )
    finally:
        engine.dispose()
    for email, secret in result.passwords.items():
        shown = "(the --password given)" if password is not None else secret
        console.print(f"created {email}  password: {shown}")
    for email in result.existing_users:
        console.print(f"exists  {email}")
    console.print(
        f"patients: {len(result.patients_created)} created, "
        f"{len(result.patients_existing)} already present"
    )
