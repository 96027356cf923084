"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL from the env),
the app in testing mode, and a two-company world with API keys."""

import os

import pytest
from support import Merchant

from portal import create_app
from portal.billing.gateway import SandboxGateway, get_gateway, set_gateway
from portal.cli.commands import init_schema
from portal.db import db, is_sqlite
from portal.models import MODELS

TEST_BASE_URL = "http://portal.test"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return _database_url(tmp_path_factory)


def _wipe() -> None:
    with db.connection_context():
        if is_sqlite():
            with db.atomic():
                for model in reversed(MODELS):
                    model.delete().execute()
        else:
            tables = ", ".join(f'"{m._meta.table_name}"' for m in MODELS)
            db.execute_sql(f"TRUNCATE {tables} CASCADE")


_schema_ready: set[str] = set()


def _ensure_schema(url: str) -> None:
    if url not in _schema_ready:
        init_schema()
        _schema_ready.add(url)


@pytest.fixture
def app(database_url):
    app = create_app(
        {
            "PORTAL_ENV": "testing",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_BASE_URL": TEST_BASE_URL,
            # Makes the test client send Host: portal.test (it does not restrict routing).
            "SERVER_NAME": "portal.test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            # Webhooks wait for the test to deliver them (tests of the wake-up turn it on).
            "PORTAL_WEBHOOKS_IMMEDIATE": False,
        }
    )
    _ensure_schema(database_url)
    _wipe()
    from portal.extensions import limiter

    with app.app_context():
        limiter.reset()
    yield app
    _wipe()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def merchant(client):
    return Merchant(client, "Acme Cloud")


@pytest.fixture
def other_merchant(client):
    return Merchant(client, "Globex")


@pytest.fixture
def gateway():
    """A fresh sandbox gateway for the test (what it charged and refunded starts empty)."""
    previous = get_gateway()
    fresh = SandboxGateway()
    set_gateway(fresh)
    yield fresh
    set_gateway(previous)
