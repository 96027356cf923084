"""Each portal action tells the merchant's endpoint once, with the object as the API returns
it: the cancel reason and the retention outcome ride along in ``data.portal``. Deliveries go
to a real HTTP receiver and are verified with the official client's verifier."""

from datetime import datetime

import easylabs
import pytest
from builders import add_payment_method
from webhook_receiver import Receiver

from portal.billing.runner import run_billing
from portal.db import db, write_transaction
from portal.webhooks import delivery, endpoints

PERCENT_3_MONTHS = {"percent_off": 20, "duration": "repeating", "duration_in_months": 3}


@pytest.fixture
def hooks(app, shop):
    """An endpoint of the shop listening to every event, and what it received."""
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    receiver = Receiver()
    with app.app_context(), db.connection_context(), write_transaction():
        _, secret = endpoints.create_endpoint(shop.merchant.company, url=receiver.url)
    receiver.secret = secret

    def received() -> list[dict]:
        with app.app_context(), db.connection_context():
            delivery.deliver_due("test")
        for headers, body in receiver.requests:
            signature = headers["x-easy-webhook-signature"]
            easylabs.Webhooks.construct_event(payload=body, signature=signature, secret=secret)
        events = receiver.events()
        receiver.requests.clear()
        return events

    receiver.received = received
    yield receiver
    receiver.close()


def of_kind(events: list[dict], prefix: str) -> list[dict]:
    return [e for e in events if e["type"].startswith(prefix)]


def sub_path(shop, action: str = "") -> str:
    return f"/subscriptions/{shop.sub}{action}"


def test_cancelling_at_period_end_sends_one_update_with_the_reason(portal, shop, hooks):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey", "Other"])
    hooks.received()
    portal.ok("POST", sub_path(shop, "/cancel"), {"reason": "Too pricey", "comment": "Costly"})
    events = hooks.received()
    assert [e["type"] for e in events] == ["subscription.updated"]
    data = events[0]["data"]
    assert data == shop.subscription() | {"portal": data["portal"]}
    assert data["cancel_at_period_end"] is True
    assert data["portal"] == {
        "action": "canceled",
        "cancellation_reason": "Too pricey",
        "comment": "Costly",
        "retention_outcome": "not_offered",
    }


def test_cancelling_now_after_an_offer_sends_one_deletion(portal, shop, hooks):
    shop.configure(cancellation_mode="immediately", retention_coupon_id=shop.coupon(percent_off=20))
    portal.ok("POST", sub_path(shop, "/cancel"), {})
    events = hooks.received()
    subscription_events = of_kind(events, "subscription.")
    assert [e["type"] for e in subscription_events] == ["subscription.deleted"]
    assert subscription_events[0]["data"]["status"] == "canceled"
    assert subscription_events[0]["data"]["portal"]["retention_outcome"] == "declined"


def test_accepting_the_retention_offer_sends_one_update(portal, shop, hooks):
    coupon = shop.coupon(**PERCENT_3_MONTHS)
    shop.configure(retention_coupon_id=coupon)
    portal.ok("POST", sub_path(shop, "/retention-offer"))
    events = hooks.received()
    assert [e["type"] for e in events] == ["subscription.updated"]
    assert events[0]["data"]["discount"]["coupon_id"] == coupon
    assert events[0]["data"]["portal"]["retention_outcome"] == "accepted"


def test_changing_quantity_sends_one_update_and_the_proration_invoice(portal, shop, hooks):
    shop.configure(allow_quantity_updates=True)
    preview = portal.ok("GET", sub_path(shop, "/preview?quantity=3"))
    body = {"quantity": 3, "expected_version": preview["subscription_version"]}
    portal.ok("POST", sub_path(shop, "/change"), body | {"preview_token": preview["preview_token"]})
    events = hooks.received()
    assert [e["type"] for e in of_kind(events, "subscription.")] == ["subscription.updated"]
    assert of_kind(events, "subscription.")[0]["data"]["items"][0]["quantity"] == 3
    invoice_types = [e["type"] for e in of_kind(events, "invoice.")]
    assert invoice_types == ["invoice.created", "invoice.finalized", "invoice.paid"]
    assert len({e["data"]["id"] for e in of_kind(events, "invoice.")}) == 1


def test_cards_added_made_default_and_removed_are_each_one_event(portal, shop, hooks):
    hooks.received()
    card = {"type": "PAYMENT_CARD", "token": "tok_amex"}
    added = portal.api("POST", "/payment-methods", card).get_json()["data"]
    assert [(e["type"], e["data"]["id"]) for e in hooks.received()] == [
        ("payment_instrument.created", added["id"])
    ]
    portal.ok("POST", f"/payment-methods/{added['id']}/default")
    events = hooks.received()
    assert [e["type"] for e in events] == ["payment_instrument.updated"]
    assert events[0]["data"]["is_default"] is True
    other = add_payment_method(shop.merchant, shop.customer, "tok_mastercard")["id"]
    hooks.received()
    portal.ok("DELETE", f"/payment-methods/{other}")
    assert [(e["type"], e["data"]["id"]) for e in hooks.received()] == [
        ("payment_instrument.disabled", other)
    ]


def test_editing_billing_details_sends_one_identity_update(portal, shop, hooks):
    body = {"first_name": "Ada", "city": "Berlin", "country": "DE"}
    response = portal.api("PATCH", "/billing-information", body)
    assert response.status_code == 200, response.get_json()
    events = hooks.received()
    assert [e["type"] for e in events] == ["identity.updated"]
    assert events[0]["data"] == shop.merchant.ok("GET", f"/customer/{shop.customer}")


def test_an_action_refused_sends_nothing(portal, shop, hooks):
    shop.configure(cancellations_enabled=False)
    hooks.received()
    assert portal.api("POST", sub_path(shop, "/cancel"), {}).status_code == 403
    assert hooks.received() == []


def test_a_renewal_sends_one_update_and_its_paid_invoice(app, shop, hooks, clock):
    hooks.received()
    clock.move_to(datetime(2026, 2, 1, 0, 0, 1))
    with app.app_context(), db.connection_context():
        assert run_billing().renewed == 1
    events = hooks.received()
    assert [e["type"] for e in events] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "subscription.updated",
    ]
    assert events[-1]["data"]["current_period_start"] == "2026-02-01T00:00:00.000Z"


def test_a_single_run_billing_pass_delivers_its_events_before_it_exits(app, shop, hooks, clock):
    hooks.received()
    clock.move_to(datetime(2026, 2, 1, 0, 0, 1))
    result = app.test_cli_runner().invoke(args=["run-billing"])
    assert result.exit_code == 0, result.output
    # No serving process may be polling: the command itself sent what it queued.
    assert hooks.types() == ["invoice.created", "invoice.finalized", "invoice.paid"] + [
        "subscription.updated"
    ]
