"""``openvns clinic`` commands, settings resolution, and the core without the clinic extra."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openvns.cli.main import app
from openvns.clinic import config
from openvns.clinic.db.base import UTCDateTime
from openvns.clinic.db.migrations import current_revision, head_revision

runner = CliRunner()
PASSWORD = "a long enough password"


def test_migrate_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    result = runner.invoke(app, ["clinic", "migrate", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert str(head_revision()) in result.output
    assert current_revision(url) == head_revision()


def test_create_user_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    args = ["clinic", "create-user", "--email", "Admin@Example.org", "--role", "admin"]
    args += ["--name", "The Admin", "--password-stdin", "--database-url", url]
    result = runner.invoke(app, args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "admin@example.org (admin)" in result.output
    again = runner.invoke(app, args, input=PASSWORD + "\n")
    assert again.exit_code == 2
    assert "exists" in again.output


@pytest.mark.parametrize(
    ("role", "password", "message"),
    [("surgeon", PASSWORD, "role"), ("nurse", "short", "password")],
)
def test_create_user_rejects_bad_input(
    tmp_path: Path, role: str, password: str, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    args = ["clinic", "create-user", "--email", "n@example.org", "--role", role]
    args += ["--name", "N", "--password-stdin", "--database-url", url]
    result = runner.invoke(app, args, input=password + "\n")
    assert result.exit_code == 2
    assert message in result.output


def test_serve_migrates_then_runs_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = runner.invoke(app, ["clinic", "serve", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert (calls["host"], calls["port"]) == ("127.0.0.1", 8000)
    assert calls["app"].state.settings.database_url == url
    assert current_revision(url) == head_revision()


def test_database_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "user_data_dir", lambda: tmp_path)
    monkeypatch.delenv(config.DATABASE_URL_ENV, raising=False)
    assert config.resolve_database_url() == f"sqlite:///{tmp_path / config.DEFAULT_DB_NAME}"
    monkeypatch.setenv(config.DATABASE_URL_ENV, "postgresql+pg8000://u@h/db")
    assert config.resolve_database_url() == "postgresql+pg8000://u@h/db"
    assert config.resolve_database_url("sqlite:///x.sqlite3") == "sqlite:///x.sqlite3"


def test_secret_key_is_generated_once_with_0600(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(config.SECRET_KEY_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'db' / 'c.sqlite3'}"
    first = config.load_settings(database_url=url)
    key_file = tmp_path / "db" / config.SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert config.load_settings(database_url=url).secret_key == first.secret_key
    assert first.secret_key not in repr(first)
    monkeypatch.setenv(config.SECRET_KEY_ENV, "from-env")
    assert config.load_settings(database_url=url).secret_key == "from-env"


def test_timestamps_must_be_timezone_aware() -> None:
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())


def test_core_and_device_cli_work_without_the_clinic_extra() -> None:
    blocked = ["fastapi", "sqlalchemy", "alembic", "argon2", "uvicorn", "starlette", "itsdangerous"]
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "import openvns, openvns.device, openvns.trials\n"
        "from openvns.cli.main import app\n"
        "app(['device', 'models'], standalone_mode=False)\n"
    )
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
