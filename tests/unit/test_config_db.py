"""Configuration and database binding: durable SQLite settings, enforced foreign keys,
refusing to start without a real secret in production, and no tracebacks on a 500."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import peewee
import pytest

from portal import create_app
from portal.config import ConfigError
from portal.db import db, is_sqlite, make_database
from portal.models import Customer

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Yp9vQe-7rTz2LmX8wN4bHc6JdF1sGa5uRo0iEy"


@pytest.fixture
def sqlite_database(app, tmp_path):
    """The app's database when it is SQLite; otherwise a temporary one built the same way,
    so the pragma checks run whichever database the suite uses."""
    if is_sqlite():
        yield db.obj
        return
    database = make_database(f"sqlite:///{tmp_path / 'pragmas.db'}")
    yield database
    database.close()


@pytest.mark.parametrize(
    "pragma, check",
    [
        ("journal_mode", lambda value: value == "wal"),
        ("synchronous", lambda value: value == 2),  # FULL
        ("foreign_keys", lambda value: value == 1),
        ("busy_timeout", lambda value: value >= 5000),
    ],
)
def test_sqlite_connections_use_durable_pragmas(sqlite_database, pragma, check):
    with sqlite_database.connection_context():
        value = sqlite_database.execute_sql(f"PRAGMA {pragma}").fetchone()[0]
    assert check(value), f"PRAGMA {pragma} = {value!r}"


def test_a_row_pointing_at_a_missing_company_is_refused(app):
    with db.connection_context():
        with pytest.raises(peewee.IntegrityError), db.atomic():
            Customer.create(company="no-such-company", first_name="Ada", last_name="Lovelace")
        assert Customer.select().count() == 0


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "instance"))
    return tmp_path / "instance"


WEAK_KEYS = [None, "secret", "changeme", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P"]  # last: 31 chars


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_production_refuses_a_missing_or_weak_secret_key(clean_env, monkeypatch, key):
    if key is not None:
        monkeypatch.setenv("PORTAL_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        create_app({"PORTAL_ENV": "production"})


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key, starts", [(None, False), ("changeme", False), (STRONG_KEY, True)])
def test_flask_command_exits_non_zero_without_a_real_production_key(tmp_path, key, starts):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_ENV="production",
        PORTAL_INSTANCE_DIR=str(tmp_path),
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
    )
    if key is not None:
        env["PORTAL_SECRET_KEY"] = key
    result = _flask(env, "init-db")
    assert (result.returncode == 0) is starts, result.stdout + result.stderr
    if not starts:
        assert "PORTAL_SECRET_KEY" in result.stdout + result.stderr


def test_development_generates_a_secret_key_once_and_reuses_it(clean_env, database_url):
    first = create_app({"PORTAL_ENV": "development", "PORTAL_DATABASE_URL": database_url})
    key_file = clean_env / "secret_key"
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = create_app({"PORTAL_ENV": "development", "PORTAL_DATABASE_URL": database_url})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


@pytest.mark.parametrize("path", ["/boom", "/v1/api/boom"])
def test_a_server_error_shows_no_traceback(app, path):
    def explode():
        raise RuntimeError("internal detail: password=hunter2")

    app.add_url_rule(path, "explode", explode)
    response = app.test_client().get(path, base_url=app.config["PORTAL_BASE_URL"])
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    for leak in ("Traceback", "hunter2", "RuntimeError", 'File "'):
        assert leak not in body


def _in_transaction(conn) -> bool:
    if is_sqlite():
        return conn.in_transaction
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    return conn.get_transaction_status() != TRANSACTION_STATUS_IDLE


def _peek_connection(app):
    """A route that reports the database connection it ran on and whether a transaction
    was open when it started, then leaves one open (a BEGIN no block closes)."""
    seen = []

    def peek():
        seen.append((db.connection(), _in_transaction(db.connection())))
        db.execute_sql("BEGIN IMMEDIATE" if is_sqlite() else "BEGIN")
        db.execute_sql("SELECT 1")
        return "ok"

    app.add_url_rule("/peek", "peek", peek)
    return seen


def test_no_transaction_survives_a_request_and_sqlite_keeps_its_connection(app):
    seen = _peek_connection(app)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/peek", base_url=app.config["PORTAL_BASE_URL"]).status_code == 200
    # Each request started with no transaction, though the one before left a BEGIN open.
    assert [opened for _conn, opened in seen] == [False, False, False]
    if is_sqlite():
        # One connection per worker thread: the pragmas ran once, not per request.
        assert len({id(conn) for conn, _ in seen}) == 1
        assert not db.connection().in_transaction
        # And another connection can write at once: no lock was left behind.
        other = make_database(
            app.config["PORTAL_DATABASE_URL"].replace("sqlite:///", "sqlite:///", 1)
        )
        other.execute_sql("BEGIN IMMEDIATE")
        other.execute_sql("ROLLBACK")
        other.close()
    else:
        assert db.is_closed()  # back in the pool
