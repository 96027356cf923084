"""Folding: within one scope (a request, one subscription of a billing run) an object's
later updates ride on the event already written about it, so a receiver gets one event per
object and action. An endpoint that listens only to ``*.updated`` must still hear about
the update, and an event once on its way never changes."""

from datetime import timedelta

import pytest

from portal.db import write_transaction
from portal.models import Company, Customer, WebhookDelivery, WebhookEvent, utcnow
from portal.webhooks import delivery, endpoints, notify

WORKER = "test-worker"


@pytest.fixture
def company(app, ctx):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    with write_transaction():
        return Company.create(name="Acme Cloud", invoice_prefix="ACME")


def add_endpoint(company, url, events=None):
    with write_transaction():
        return endpoints.create_endpoint(company, url=url, events=events)[0]


def deliver() -> None:
    delivery.deliver_due(WORKER, now=utcnow() + timedelta(seconds=1))


def first_name(body: dict) -> str:
    return body["data"]["entity"]["first_name"]


def rename(customer, name: str, event_type: str = "identity.updated") -> None:
    customer.first_name = name
    customer.save()
    notify.customer(customer, event_type)


def test_an_update_folded_into_created_still_reaches_an_updated_only_endpoint(company, receivers):
    everything, updates_only = receivers(), receivers()
    add_endpoint(company, everything.url)
    add_endpoint(company, updates_only.url, events=["identity.updated"])
    with notify.scope(), write_transaction():
        customer = Customer.create(company=company, first_name="Ada", last_name="Byron")
        notify.customer(customer, "identity.created")
        rename(customer, "Ida")
        rename(customer, "Eda")
    deliver()
    (created,) = everything.bodies()
    assert (created["type"], first_name(created)) == ("identity.created", "Eda")
    (updated,) = updates_only.bodies()
    assert (updated["type"], first_name(updated)) == ("identity.updated", "Eda")
    assert WebhookEvent.select().count() == 2 and WebhookDelivery.select().count() == 2


def test_a_later_transaction_does_not_rewrite_an_event_already_sent(company, receiver):
    add_endpoint(company, receiver.url)
    with notify.scope():  # one request that commits twice, with a delivery pass between
        with write_transaction():
            customer = Customer.create(company=company, first_name="Ada", last_name="Byron")
            notify.customer(customer, "identity.created")
        deliver()
        with write_transaction():
            rename(customer, "Ida")
    deliver()
    assert [(b["type"], first_name(b)) for b in receiver.bodies()] == [
        ("identity.created", "Ada"),
        ("identity.updated", "Ida"),
    ]
