"""Signing secrets: usable only with the server's key, never in a log line."""

import logging

import pytest

from portal.db import write_transaction
from portal.models import Company, WebhookEndpoint
from portal.webhooks import endpoints, secrets


def test_the_stored_secret_is_sealed_and_opens_only_with_the_server_key(app, ctx):
    with write_transaction():
        company = Company.create(name="Acme", invoice_prefix="AC")
        endpoint, secret = endpoints.create_endpoint(company, url="https://hooks.example/in")
    stored = WebhookEndpoint.get_by_id(endpoint.id).secret_sealed
    assert secret.startswith("whsec_") and secret not in stored
    assert secret[6:] not in stored  # not even the random part
    assert secrets.unseal(stored) == secret
    app.config["SECRET_KEY"] = "another-key-" * 4
    with pytest.raises(ValueError, match="another PORTAL_SECRET_KEY"):
        secrets.unseal(stored)


def test_a_rolled_secret_replaces_the_old_one(ctx):
    with write_transaction():
        company = Company.create(name="Acme", invoice_prefix="AC")
        endpoint, first = endpoints.create_endpoint(company, url="https://hooks.example/in")
        second = endpoints.roll_secret(endpoint)
    assert second != first
    assert secrets.unseal(WebhookEndpoint.get_by_id(endpoint.id).secret_sealed) == second


def test_a_secret_never_reaches_a_log_line(caplog):
    secret = secrets.new_secret()
    with caplog.at_level(logging.INFO):
        logging.getLogger("portal.test").warning("registered %s", secret)
    assert secret not in caplog.text and "whsec_[redacted]" in caplog.text
