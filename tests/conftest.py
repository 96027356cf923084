"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL from the env),
the app in testing mode, and a two-company world with API keys."""

import os

import pytest

from portal import create_app
from portal.cli import init_schema
from portal.db import db, is_sqlite
from portal.merchants import create_merchant
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
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    init_schema()
    _wipe()
    from portal.extensions import limiter

    with app.app_context():
        limiter.reset()
    yield app
    _wipe()


@pytest.fixture
def client(app):
    return app.test_client()


class Merchant:
    """A company with its keys, and shortcuts to call the API as that company."""

    def __init__(self, client, name):
        with db.connection_context():
            self.company, self.secret, self.publishable = create_merchant(
                name, f"owner@{name.lower().replace(' ', '')}.example", "correct horse battery"
            )
        self.client = client
        self.id = self.company.id

    def call(self, method, path, json=None, *, key=None, headers=None, **kwargs):
        headers = {"x-easy-api-key": key or self.secret, **(headers or {})}
        return self.client.open(
            f"/v1/api{path}", method=method, json=json, headers=headers, **kwargs
        )

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.call("PATCH", path, json, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def ok(self, method, path, json=None, status=None, **kwargs):
        """Call and assert success; return the envelope's data."""
        response = self.call(method, path, json, **kwargs)
        assert response.status_code < 300, response.get_json()
        if status is not None:
            assert response.status_code == status
        return response.get_json()["data"]


@pytest.fixture
def merchant(client):
    return Merchant(client, "Acme Cloud")


@pytest.fixture
def other_merchant(client):
    return Merchant(client, "Globex")
