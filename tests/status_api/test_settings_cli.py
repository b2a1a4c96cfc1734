"""Settings from a file and the environment; the ``iib-status-api`` script's one-line errors and migrate."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from status_api.settings import SettingsError, load_settings
from tests.status_api.server import SCRIPT


def test_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("IIB_MAX_PER_PAGE: 50\nIIB_WORKER_USERNAMES: [w1]\nLOGIN_DISABLED: true\n")
    settings = load_settings({"IIB_SETTINGS_FILE": str(config), "IIB_WORKER_USERNAMES": '["w2", "w3"]'})
    assert settings.IIB_MAX_PER_PAGE == 50
    assert settings.LOGIN_DISABLED is True
    assert settings.IIB_WORKER_USERNAMES == ["w2", "w3"]
    toml = tmp_path / "settings.toml"
    toml.write_text('SQLALCHEMY_DATABASE_URI = "postgresql://db/iib"\n')
    assert load_settings({"IIB_SETTINGS_FILE": str(toml)}).SQLALCHEMY_DATABASE_URI == "postgresql://db/iib"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOGIN_DISABLED": "maybe"}, "LOGIN_DISABLED must be true or false, not 'maybe'"),
        ({"IIB_MAX_PER_PAGE": "many"}, "IIB_MAX_PER_PAGE must be an integer, not 'many'"),
        ({"IIB_WORKER_USERNAMES": "[oops"}, "IIB_WORKER_USERNAMES must be JSON"),
        ({"IIB_WORKER_USERNAMES": "{}"}, "IIB_WORKER_USERNAMES must be a list"),
        ({"IIB_MAX_PER_PAGE": "0"}, "IIB_MAX_PER_PAGE must be at least 1"),
        (
            {"IIB_SETTINGS_FILE": "/nonexistent/iib.yaml"},
            "cannot read the settings file /nonexistent/iib.yaml",
        ),
    ],
)
def test_bad_settings_say_what_is_wrong(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert str(caught.value).startswith(message)


def test_unknown_option_in_file(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("IIB_MAX_PER_PAGES: 3\n")
    with pytest.raises(SettingsError, match=r"unknown option IIB_MAX_PER_PAGES in"):
        load_settings({"IIB_SETTINGS_FILE": str(config)})


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_reports_bad_settings_in_one_line() -> None:
    result = _run("migrate", LOGIN_DISABLED="maybe")
    assert result.returncode == 1
    assert result.stderr == "error: LOGIN_DISABLED must be true or false, not 'maybe'\n"
    serve = _run("--port", "1", LOGIN_DISABLED="maybe")
    assert serve.returncode == 1 and serve.stderr.startswith("error: LOGIN_DISABLED")


def test_cli_migrates(tmp_path: Path) -> None:
    database = tmp_path / "iib.db"
    result = _run("migrate", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master")}
    assert {"requests", "request_states", "images", "users", "batches", "alembic_version"} <= tables
    bad = _run("migrate", SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none")
    assert bad.returncode == 1 and bad.stderr.startswith("error: cannot migrate the database: ")
    assert bad.stderr.count("\n") == 1
